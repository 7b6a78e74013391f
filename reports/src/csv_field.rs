//! One csv cell as the csv writer writes it, for the files formatted row by row
//! straight into their output (`trace.csv`, `extra_space.csv`) rather than through
//! [`csv::Writer`] with a `String` per cell.

/// `cell` as the csv writer writes it in a record of several cells (its
/// `QuoteStyle::Necessary`, RFC 4180 section 2): quoted when it holds a comma, a quote,
/// CR or LF, its quotes doubled; otherwise as it is. The differential tests
/// `encoded_rows_are_the_csv_writers` (trace) and `streamed_space_csv_is_the_csv_writers`
/// (space) check it against the csv writer.
pub(crate) fn csv_field(cell: &str) -> Vec<u8> {
    if !cell
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        return cell.as_bytes().to_vec();
    }
    let mut bytes = Vec::with_capacity(cell.len() + 2);
    bytes.push(b'"');
    for b in cell.bytes() {
        if b == b'"' {
            bytes.push(b'"');
        }
        bytes.push(b);
    }
    bytes.push(b'"');
    bytes
}
