//! `phm explain` as text for people (JSON is the serde form of the same
//! structs): the score and its reasons first, then each flag and count with
//! the records behind it, then every features column.

use std::fmt::Write;

use super::{CountTrace, Explanation, FlagTrace, WindowSpan};

/// At most this many rows are listed per count column (the count itself is
/// always given); `--json` lists every row.
const DATES_SHOWN: usize = 12;

fn window_text(w: &WindowSpan) -> String {
    match &w.after {
        None => format!("ever, up to {}", w.until),
        Some(after) => format!("window {}: after {after}, up to {}", w.name, w.until),
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// One patient's explanation as lines of text.
pub fn text(e: &Explanation) -> String {
    let mut out = String::new();
    let reg = &e.registration;
    let dates = format!(
        "registered_from {}, registered_to {}, death_date {}",
        reg.registered_from.as_deref().unwrap_or("null"),
        reg.registered_to.as_deref().unwrap_or("null"),
        reg.death_date.as_deref().unwrap_or("null")
    );
    if !e.registered {
        let _ = writeln!(
            out,
            "patient {}: not registered at T, so not in the features table ({dates})",
            e.patient_id
        );
        return out;
    }
    let value = |column: &str| feature_text(e, column);
    let _ = writeln!(
        out,
        "patient {}: practice {}, PCN {}; registered at T ({dates})",
        e.patient_id,
        value("practice_code"),
        value("pcn_code")
    );
    let reasons = if e.score_components.is_empty() {
        "no component scores".to_string()
    } else {
        e.score_components
            .iter()
            .map(|c| format!("{}+{}", c.name, c.points))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let _ = writeln!(
        out,
        "  need_score {} (high need from {} when eligible; eligible {}, high_need {}): {reasons}",
        value("need_score"),
        e.high_need_score,
        value("eligible"),
        value("high_need")
    );
    let _ = writeln!(out, "  flags, with the records behind them:");
    for f in &e.flags {
        flag_text(&mut out, f);
    }
    let _ = writeln!(out, "  counts, with the rows counted:");
    for c in &e.counts {
        count_text(&mut out, c);
    }
    let _ = writeln!(out, "  features row:");
    for f in &e.features {
        let _ = writeln!(out, "    {:<26} {}", f.column, value_text(&f.value));
    }
    out
}

/// The value of one column of the patient's features row, as text.
fn feature_text(e: &Explanation, column: &str) -> String {
    e.features
        .iter()
        .find(|f| f.column == column)
        .map(|f| value_text(&f.value))
        .unwrap_or_default()
}

/// One flag and the records behind it, newest first: a list's first record
/// is its latest. A column of several lists shows each list's latest record
/// and how many more.
fn flag_text(out: &mut String, f: &FlagTrace) {
    let _ = writeln!(
        out,
        "    {} = {}  ({}; {})",
        f.column,
        value_text(&f.value),
        f.codelists.join(", "),
        window_text(&f.window)
    );
    let mut shown: Vec<(&str, usize)> = Vec::new();
    for r in &f.records {
        if f.codelists.len() > 1 {
            match shown.iter_mut().find(|(list, _)| *list == r.codelist) {
                Some((_, more)) => {
                    *more += 1;
                    continue;
                }
                None => shown.push((r.codelist.as_str(), 0)),
            }
        }
        let _ = writeln!(
            out,
            "      {}  {}  {}  [{}]",
            r.date, r.code, r.term, r.codelist
        );
    }
    let earlier: Vec<String> = shown
        .iter()
        .filter(|(_, more)| *more > 0)
        .map(|(list, more)| format!("{list} {more}"))
        .collect();
    if !earlier.is_empty() {
        let _ = writeln!(
            out,
            "      (and earlier records: {}; --json lists them)",
            earlier.join(", ")
        );
    }
}

/// One count, its condition and the first dates of the rows counted.
fn count_text(out: &mut String, c: &CountTrace) {
    let condition = if c.condition.trim().is_empty() {
        "every row".to_string()
    } else {
        c.condition.clone()
    };
    let _ = writeln!(
        out,
        "    {} = {}  ({} where {condition}; {})",
        c.column,
        value_text(&c.value),
        c.table,
        window_text(&c.window)
    );
    if c.dates.is_empty() {
        return;
    }
    let shown: Vec<&str> = c
        .dates
        .iter()
        .take(DATES_SHOWN)
        .map(String::as_str)
        .collect();
    let more = c.dates.len().saturating_sub(DATES_SHOWN);
    let tail = if more > 0 {
        format!(" … and {more} more")
    } else {
        String::new()
    };
    let _ = writeln!(out, "      {}{tail}", shown.join(", "));
}
