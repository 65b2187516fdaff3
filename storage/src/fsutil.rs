//! Small durable-file helpers.

use std::fs::File;
use std::path::Path;

use crate::error::{io_at, Result};

/// fsyncs the directory holding `path`, so a rename or create in it is durable.
pub fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}
