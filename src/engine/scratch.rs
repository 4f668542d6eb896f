//! Temporary files of a run (the scored features, codelists for a cluster),
//! kept beside the spill files and removed when the run ends, fails or is
//! interrupted.

use std::path::{Path, PathBuf};

/// Temporary files a run keeps beside its spill files, removed when the
/// pipeline is dropped (end of the run, an error, or Ctrl-C).
pub(crate) struct ScratchFiles {
    dir: PathBuf,
    files: std::sync::Mutex<Vec<PathBuf>>,
}

impl ScratchFiles {
    pub(crate) fn new(dir: Option<&Path>) -> Self {
        ScratchFiles {
            dir: dir
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir),
            files: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A new file name, unique in this process (several pipelines may run at
    /// once, as in the tests) and across processes (the pid).
    pub(crate) fn next_path(&self, stem: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let path = self
            .dir
            .join(format!(".phm-{stem}-{}-{n}.parquet", std::process::id()));
        files.push(path.clone());
        path
    }
}

impl Drop for ScratchFiles {
    fn drop(&mut self) {
        let files = self.files.get_mut().unwrap_or_else(|e| e.into_inner());
        for f in files.iter() {
            let _ = std::fs::remove_file(f);
        }
    }
}
