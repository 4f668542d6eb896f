//! The one checked way phm reads columns out of a query result. The SQL that
//! produces them (`features.sql`, `reports/*.sql`) is an analyst's to edit, so
//! a column may be missing or of another type; each accessor checks the
//! column by name and type and returns an error naming the query's file and
//! the column, where an unchecked `as_primitive` would panic. Integer columns
//! of any width widen to Int64, and any string encoding reads as text.

use datafusion::arrow::array::{Array, AsArray, BooleanArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;

use crate::rules::RulesError;

/// A query result's batch and where its SQL came from, for messages.
pub struct Columns<'a> {
    batch: &'a RecordBatch,
    origin: &'a str,
}

impl<'a> Columns<'a> {
    pub fn new(batch: &'a RecordBatch, origin: &'a str) -> Self {
        Columns { batch, origin }
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&self, name: &str, expected: &'static str) -> Result<&'a dyn Array, RulesError> {
        self.batch
            .column_by_name(name)
            .map(|c| c.as_ref())
            .ok_or_else(|| RulesError::Column {
                file: self.origin.to_string(),
                column: name.to_string(),
                found: "no such column".into(),
                expected,
            })
    }

    fn wrong(&self, name: &str, found: &DataType, expected: &'static str) -> RulesError {
        RulesError::Column {
            file: self.origin.to_string(),
            column: name.to_string(),
            found: format!("type {found}"),
            expected,
        }
    }

    /// A text column (Utf8, LargeUtf8, Utf8View or a dictionary of them).
    pub fn text(&self, name: &str) -> Result<StringArray, RulesError> {
        const WANT: &str = "text (Utf8)";
        let c = self.column(name, WANT)?;
        let is_text =
            |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        let ok = match c.data_type() {
            DataType::Dictionary(_, v) => is_text(v),
            t => is_text(t),
        };
        if !ok {
            return Err(self.wrong(name, c.data_type(), WANT));
        }
        let utf8 = cast(c, &DataType::Utf8).map_err(|_| self.wrong(name, c.data_type(), WANT))?;
        Ok(utf8.as_string::<i32>().clone())
    }

    /// An integer column of any width, as Int64.
    pub fn int(&self, name: &str) -> Result<Int64Array, RulesError> {
        const WANT: &str = "an integer";
        let c = self.column(name, WANT)?;
        let ok = matches!(
            c.data_type(),
            DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
        );
        if !ok {
            return Err(self.wrong(name, c.data_type(), WANT));
        }
        let wide = cast(c, &DataType::Int64).map_err(|_| self.wrong(name, c.data_type(), WANT))?;
        Ok(wide
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .clone())
    }

    /// A Boolean column.
    pub fn bool(&self, name: &str) -> Result<BooleanArray, RulesError> {
        const WANT: &str = "Boolean";
        let c = self.column(name, WANT)?;
        c.as_boolean_opt()
            .cloned()
            .ok_or_else(|| self.wrong(name, c.data_type(), WANT))
    }
}

/// Row `r` of an integer column, None when null.
pub fn int_at(a: &Int64Array, r: usize) -> Option<i64> {
    a.is_valid(r).then(|| a.value(r))
}

/// Row `r` of a Boolean column; null reads as false (SQL's "not known to be true").
pub fn bool_at(a: &BooleanArray, r: usize) -> bool {
    a.is_valid(r) && a.value(r)
}

/// Row `r` of a text column, None when null.
pub fn text_at(a: &StringArray, r: usize) -> Option<&str> {
    a.is_valid(r).then(|| a.value(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, Int8Array};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("code", DataType::Utf8, true),
                Field::new("n", DataType::Int32, true),
                Field::new("small", DataType::Int8, true),
                Field::new("flag", DataType::Boolean, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec![Some("U1"), None])),
                Arc::new(Int32Array::from(vec![Some(3), None])),
                Arc::new(Int8Array::from(vec![1, 2])),
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn checked_columns_read_and_widen() {
        let b = batch();
        let c = Columns::new(&b, "reports/x.sql");
        let code = c.text("code").unwrap();
        assert_eq!((text_at(&code, 0), text_at(&code, 1)), (Some("U1"), None));
        let n = c.int("n").unwrap();
        assert_eq!((int_at(&n, 0), int_at(&n, 1)), (Some(3), None));
        assert_eq!(int_at(&c.int("small").unwrap(), 1), Some(2));
        let f = c.bool("flag").unwrap();
        assert!(bool_at(&f, 0) && !bool_at(&f, 1));
    }

    #[test]
    fn a_missing_or_mistyped_column_names_file_and_column() {
        let b = batch();
        let c = Columns::new(&b, "reports/x.sql");
        let e = c.int("code").unwrap_err().to_string();
        assert!(
            e.contains("reports/x.sql") && e.contains("`code`") && e.contains("Utf8"),
            "{e}"
        );
        let e = c.text("n").unwrap_err().to_string();
        assert!(e.contains("`n`") && e.contains("Int32"), "{e}");
        let e = c.bool("nope").unwrap_err().to_string();
        assert!(e.contains("`nope`") && e.contains("no such column"), "{e}");
        assert_eq!(
            crate::error::PhmError::from(c.bool("n").unwrap_err()).exit_code(),
            2
        );
    }
}
