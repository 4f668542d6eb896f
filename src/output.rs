//! Atomic output files: everything phm writes goes to a temporary file beside
//! the target and is renamed into place only when complete, so a failed or
//! interrupted run never leaves a half-written report or table behind.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

/// A file being written: dropped without [`AtomicFile::commit`], it vanishes.
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `target` (its folder must exist).
    pub fn create(target: &Path) -> io::Result<Self> {
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
        })?;
        let temp = target.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&temp)?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            file: Some(BufWriter::new(file)),
        })
    }

    /// The writer for the content.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("writer used after commit")
    }

    /// Flushes, syncs and renames into place; on any failure (a full disk
    /// shows up here, at the flush) the temporary file is removed.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("commit called once");
        let finished = file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&self.temp, &self.target));
        if finished.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        finished
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `target` atomically.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.writer().write_all(bytes)?;
    f.commit()
}

/// Writer properties phm uses for every Parquet file it writes: zstd (small
/// files to move around an ICB), statistics on, deterministic content.
pub fn parquet_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("level 1 is valid"),
        ))
        .set_max_row_group_row_count(Some(1 << 20))
        .build()
}

/// An atomic Parquet file written batch by batch: dropped without
/// [`ParquetOut::commit`] (an error, an interrupt), its temporary file is removed.
pub struct ParquetOut {
    writer: Option<ArrowWriter<File>>,
    temp: PathBuf,
    target: PathBuf,
}

impl ParquetOut {
    pub fn create(
        target: &Path,
        schema: datafusion::arrow::datatypes::SchemaRef,
    ) -> io::Result<Self> {
        Self::create_with(target, schema, parquet_properties())
    }

    /// As [`ParquetOut::create`], with other writer properties (a scratch file
    /// read back within the run wants small row groups and fast compression).
    pub fn create_with(
        target: &Path,
        schema: datafusion::arrow::datatypes::SchemaRef,
        properties: WriterProperties,
    ) -> io::Result<Self> {
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
        })?;
        let temp = target.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&temp)?;
        let writer =
            ArrowWriter::try_new(file, schema, Some(properties)).map_err(io::Error::other)?;
        Ok(ParquetOut {
            writer: Some(writer),
            temp,
            target: target.to_path_buf(),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.write(batch).map_err(io::Error::other),
            None => Err(io::Error::other("write after commit")),
        }
    }

    /// Finishes the file and renames it into place.
    pub fn commit(mut self) -> io::Result<()> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| io::Error::other("commit called twice"))?;
        let result = writer
            .into_inner()
            .map_err(io::Error::other)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&self.temp, &self.target));
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }

    /// Abandons the file, removing the temporary.
    pub fn abort(self) {}
}

impl Drop for ParquetOut {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes all batches to `target` atomically as one Parquet file.
pub fn write_parquet(
    target: &Path,
    schema: datafusion::arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
) -> io::Result<()> {
    let mut out = ParquetOut::create(target, schema)?;
    for b in batches {
        if let Err(e) = out.write(b) {
            out.abort();
            return Err(e);
        }
    }
    out.commit()
}
