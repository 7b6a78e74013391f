//! Embeds the identity of the nbdkit plugin's sources (`owm-build-id`), which
//! `owm serve` requires of the plugin it runs.
fn main() {
    let root =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    owm_build_id::emit(&root);
}
