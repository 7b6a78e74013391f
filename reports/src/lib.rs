//! Reports of simulator runs: CSV tables and pictures (timing diagrams in the style of
//! the patent's Fig 3 and Fig 4, line plots for sweeps), as PNG and SVG.
//!
//! The simulator knows nothing of files or plots; this crate reads its typed results.
//! Pictures use one embedded font (DejaVu Sans), so output does not depend on the
//! fonts a machine has, and the same run gives byte-identical CSV and SVG files.
//! Every file is written atomically (temp file + rename).

mod atomic;
mod csv_field;
pub mod diagram_rows;
mod error;
pub mod figure;
pub mod fonts;
pub mod lines;
pub mod names;
pub mod output;
pub mod space;
pub mod tables;
pub mod timing;
pub mod trace;
pub mod xml_text;

pub use atomic::{write_atomic, write_atomic_scratch};
pub use error::Error;
pub use tables::NamedRun;

/// `text` as a picture draws it (a title, a label, a legend, a tick): each control
/// character (a line feed or a tab from a file name, a swept value or a scenario name)
/// and each byte that is not UTF-8 written `\xHH`, as owm's messages show a name
/// ([`engine::shown::escaped`]), in PNG and SVG alike; as it is otherwise.
pub fn shown_text(text: &str) -> String {
    engine::shown::escaped(text.as_bytes(), |c| !c.is_control()).into_owned()
}

/// Encodes an RGB8 buffer as PNG.
pub(crate) fn png_bytes(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, Error> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, width, height, image::ColorType::Rgb8)
        .map_err(|e| Error::draw("PNG encoding", e))?;
    Ok(out)
}
