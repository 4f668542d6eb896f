//! Golden files: the sample data's stable, aggregated outputs of `phm demo`,
//! byte for byte. They guard against unintended change (a refactor, a
//! dependency update); they are not evidence of correctness, which the
//! hand-worked tests give. After an intended change:
//! `UPDATE_GOLDEN=1 bash scripts/test.sh golden::` rewrites them, and the
//! `git diff` of `tests/golden/` is the change to review.

use std::path::{Path, PathBuf};

use crate::common::sample_demo;

/// The outputs kept, relative to the demo's `--out`: the aggregate CSVs
/// (no patient rows), each deterministic for a given extract and rules.
const FILES: &[&str] = &[
    "cohorts.csv",
    "attrition.csv",
    "proposals/capacity.csv",
    "proposals/segments.csv",
    "inequalities/inequalities.csv",
    "inequalities/sii.csv",
    "inequalities/gap.csv",
    "report/icb/pcn_summary.csv",
    "report/icb/segments.csv",
    "report/icb/pyramid.csv",
    "report/icb/need_scores.csv",
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sample")
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (n, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  golden: {w}\n  now:    {g}", n + 1);
        }
    }
    format!(
        "{} lines golden, {} now",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn the_sample_datas_outputs_equal_the_golden_files() {
    let demo = sample_demo();
    let golden = golden_dir();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut differences = Vec::new();
    for file in FILES {
        let now = std::fs::read_to_string(demo.join(file))
            .unwrap_or_else(|e| panic!("the demo did not write {file}: {e}"));
        let path = golden.join(file);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &now).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == now => {}
            Ok(want) => differences.push(format!("{file}: {}", first_difference(&want, &now))),
            Err(_) => {
                differences.push(format!("{file}: no golden file (run with UPDATE_GOLDEN=1)"))
            }
        }
    }
    assert!(
        differences.is_empty(),
        "outputs differ from tests/golden/sample (UPDATE_GOLDEN=1 rewrites them if intended):\n{}",
        differences.join("\n")
    );
}

#[test]
fn every_golden_file_is_one_the_test_checks() {
    // A stale golden file (an output renamed or dropped) would otherwise sit
    // there unchecked.
    let golden = golden_dir();
    let mut stale = Vec::new();
    let mut stack = vec![golden.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(&golden)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                if !FILES.contains(&rel.as_str()) {
                    stale.push(rel);
                }
            }
        }
    }
    assert!(stale.is_empty(), "golden files no test reads: {stale:?}");
}
