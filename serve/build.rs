//! Embeds the identity of the plugin's sources (`owm-build-id`), reported as the
//! plugin's version for `owm serve` to compare with its own.
fn main() {
    let dir =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    owm_build_id::emit(dir.parent().expect("serve/ lies in the workspace"));
}
