//! The reports crate's typed errors: every one names the file or the picture it was
//! about, so the CLI can print it as is.

use engine::shown::ShowName as _;
use std::path::PathBuf;

/// Everything writing or reading a report can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be created, written, renamed or read.
    #[error("{}: {source}", path.shown())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be written or parsed.
    #[error("{}: {source}", path.shown())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    /// A file had the wrong shape (merge of shard outputs).
    #[error("{}: {message}", path.shown())]
    Input { path: PathBuf, message: String },
    /// plotters failed to draw a picture.
    #[error("drawing {what}: {message}")]
    Draw { what: String, message: String },
    /// The embedded font could not be registered.
    #[error("embedded font: {0}")]
    Font(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            // The path is said once, plainly, by this error itself.
            source: engine::atomic::plain(source),
        }
    }

    pub(crate) fn draw(what: &str, e: impl std::fmt::Display) -> Self {
        Error::Draw {
            what: what.to_string(),
            message: e.to_string(),
        }
    }
}
