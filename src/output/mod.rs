//! Atomic output files: everything phm writes goes to a temporary file beside
//! the target and is renamed into place only when complete, so a failed or
//! interrupted run never leaves a half-written report or table behind.

pub mod names;
pub mod table;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::errors::Result as ParquetResult;
use datafusion::parquet::file::properties::{WriterProperties, DEFAULT_MAX_ROW_GROUP_ROW_COUNT};
use datafusion::parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

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
/// Columns are encoded and compressed in parallel (rayon), so writing a wide
/// table such as the 36-column features is not left to one core.
pub struct ParquetOut {
    writer: Option<ColumnParallelWriter>,
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
        let writer = ColumnParallelWriter::new(file, schema, properties).map_err(io::Error::other);
        let writer = match writer {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(e);
            }
        };
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
            .finish()
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

/// The parquet crate's `ArrowWriter`, with each row group's column chunks
/// encoded on the rayon pool (the pattern documented on `ArrowColumnWriter`).
/// Row groups hold `max_row_group_row_count` rows, as `ArrowWriter` would
/// split them; the bytes do not depend on the number of threads.
struct ColumnParallelWriter {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: datafusion::arrow::datatypes::SchemaRef,
    /// Column writers of the row group being filled (None until its first row).
    columns: Option<Vec<ArrowColumnWriter>>,
    rows_in_group: usize,
    max_rows: usize,
    row_groups: usize,
}

impl ColumnParallelWriter {
    fn new(
        file: File,
        schema: datafusion::arrow::datatypes::SchemaRef,
        properties: WriterProperties,
    ) -> ParquetResult<Self> {
        let max_rows = properties
            .max_row_group_row_count()
            .unwrap_or(DEFAULT_MAX_ROW_GROUP_ROW_COUNT)
            .max(1);
        // ArrowWriter sets up the file (schema, embedded Arrow schema, properties);
        // from there the row groups are ours.
        let (file, factory) = ArrowWriter::try_new(file, schema.clone(), Some(properties))?
            .into_serialized_writer()?;
        Ok(ColumnParallelWriter {
            file,
            factory,
            schema,
            columns: None,
            rows_in_group: 0,
            max_rows,
            row_groups: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> ParquetResult<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (batch.num_rows() - offset).min(self.max_rows - self.rows_in_group);
            self.write_slice(&batch.slice(offset, take))?;
            offset += take;
            if self.rows_in_group == self.max_rows {
                self.flush_row_group()?;
            }
        }
        Ok(())
    }

    fn write_slice(&mut self, slice: &RecordBatch) -> ParquetResult<()> {
        let mut leaves = Vec::with_capacity(slice.num_columns());
        for (field, column) in self.schema.fields().iter().zip(slice.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        let columns = match &mut self.columns {
            Some(c) => c,
            none => none.insert(self.factory.create_column_writers(self.row_groups)?),
        };
        columns
            .par_iter_mut()
            .zip(leaves.par_iter())
            .try_for_each(|(writer, leaf)| writer.write(leaf))?;
        self.rows_in_group += slice.num_rows();
        Ok(())
    }

    fn flush_row_group(&mut self) -> ParquetResult<()> {
        let Some(columns) = self.columns.take() else {
            return Ok(());
        };
        let chunks = columns
            .into_par_iter()
            .map(ArrowColumnWriter::close)
            .collect::<ParquetResult<Vec<_>>>()?;
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.rows_in_group = 0;
        self.row_groups += 1;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the file.
    fn finish(mut self) -> ParquetResult<File> {
        self.flush_row_group()?;
        self.file.into_inner()
    }
}

/// A folder of outputs (an extract) built in a hidden folder beside its
/// target and renamed into place by [`StagedDir::commit`]; dropped before
/// then, the hidden folder is removed, so a failed run leaves the target as
/// it was.
pub struct StagedDir {
    target: PathBuf,
    temp: PathBuf,
}

impl StagedDir {
    /// A fresh hidden folder beside `target`, named after it and this process.
    pub fn create(target: &Path, purpose: &str) -> io::Result<Self> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "out".into());
        let temp = parent.join(format!(".{name}.{purpose}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&temp);
        std::fs::create_dir_all(&temp)?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            temp,
        })
    }

    /// Where to write the folder's files meanwhile.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Replaces the target (removing what was there) with the staged folder.
    pub fn commit(self) -> io::Result<()> {
        if self.target.exists() {
            std::fs::remove_dir_all(&self.target)?;
        }
        std::fs::rename(&self.temp, &self.target)
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        // After a commit the hidden folder no longer exists.
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}

/// True when `dir` does not exist or is an empty folder: the outputs that
/// replace a whole folder refuse a full one unless told to.
pub fn is_absent_or_empty(dir: &Path) -> bool {
    !dir.exists()
        || std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false)
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(from: i64, rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("code", DataType::Utf8, true),
        ]));
        let ids: Vec<i64> = (from..from + rows as i64).collect();
        let codes: Vec<Option<String>> = ids
            .iter()
            .map(|i| (i % 7 != 0).then(|| format!("c{}", i % 13)))
            .collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ids)) as ArrayRef,
                Arc::new(StringArray::from(codes)) as ArrayRef,
            ],
        )
        .unwrap()
    }

    /// The column-parallel writer must write exactly what the parquet
    /// crate's ArrowWriter writes: same row groups, same bytes.
    #[test]
    fn the_parallel_writer_writes_the_same_bytes_as_arrow_writer() {
        let dir = tempfile::tempdir().unwrap();
        // Batches that straddle row-group boundaries (5 rows a group).
        let batches = [batch(0, 3), batch(3, 4), batch(7, 0), batch(7, 9)];
        let props = || {
            WriterProperties::builder()
                .set_max_row_group_row_count(Some(5))
                .build()
        };
        let ours = dir.path().join("ours.parquet");
        let mut out = ParquetOut::create_with(&ours, batches[0].schema(), props()).unwrap();
        for b in &batches {
            out.write(b).unwrap();
        }
        out.commit().unwrap();
        let theirs = dir.path().join("theirs.parquet");
        let mut w = ArrowWriter::try_new(
            File::create(&theirs).unwrap(),
            batches[0].schema(),
            Some(props()),
        )
        .unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.close().unwrap();
        assert_eq!(
            std::fs::read(&ours).unwrap(),
            std::fs::read(&theirs).unwrap()
        );
        let meta = datafusion::parquet::file::reader::SerializedFileReader::new(
            File::open(&ours).unwrap(),
        )
        .unwrap();
        use datafusion::parquet::file::reader::FileReader;
        let groups: Vec<i64> = meta
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, vec![5, 5, 5, 1]);
    }

    #[test]
    fn an_empty_table_is_a_valid_file_with_no_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        let out = ParquetOut::create(&path, batch(0, 0).schema()).unwrap();
        out.commit().unwrap();
        let reader = datafusion::parquet::file::reader::SerializedFileReader::new(
            File::open(&path).unwrap(),
        )
        .unwrap();
        use datafusion::parquet::file::reader::FileReader;
        assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
    }
}
