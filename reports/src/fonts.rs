//! The one font every picture uses: DejaVu Sans, embedded in the binary, so a machine
//! with no system fonts draws the same PNG, and text widths used for layout (and so
//! the SVG bytes) never depend on what is installed.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::Error;

/// The family name pictures use. "sans-serif" so an SVG viewer without DejaVu still
/// picks a close font.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font once per process.
pub fn ensure() -> Result<(), Error> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "DejaVu Sans regular".to_string())?;
        register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "DejaVu Sans bold".to_string())
    })
    .clone()
    .map_err(Error::Font)
}
