//! The synthetic generator: deterministic for a seed, and writing the exact
//! contract (the generated extract passes `phm validate`).

use crate::common::d;
use phm::rules::RuleSet;
use phm::tools::generate::{generate, GenerateConfig};

fn config(out: std::path::PathBuf, seed: u64) -> GenerateConfig {
    GenerateConfig {
        patients: 140_000, // more than one part: tables are written as folders of files
        seed,
        as_of: d("2025-03-31"),
        pcns: None,
        icbs: 2,
        out,
        after_t_share: 0.0,
        force: false,
    }
}

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.push((
            entry.strip_prefix(dir).unwrap().display().to_string(),
            std::fs::read(&entry).unwrap(),
        ));
    }
    out.sort();
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn same_seed_gives_identical_files_and_a_valid_extract() {
    let lists = RuleSet::defaults().codelists().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let c = dir.path().join("c");
    let sa = generate(&config(a.clone(), 11), &lists, &|_| {}, &Default::default()).unwrap();
    generate(&config(b.clone(), 11), &lists, &|_| {}, &Default::default()).unwrap();
    generate(&config(c.clone(), 12), &lists, &|_| {}, &Default::default()).unwrap();
    assert!(
        a.join("events").is_dir(),
        "large extracts are split into part files"
    );
    assert_eq!(files(&a), files(&b), "same seed, same bytes");
    assert_ne!(files(&a), files(&c), "another seed, other data");
    assert_eq!(sa.rows.patients, 140_000);
    // Two ICBs, ~40k-patient PCNs except the small-extract rule (6 PCNs under 240k).
    assert_eq!(sa.pcn_sizes.len(), 6);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_phm"))
        .args(["validate", "--quiet", "--extract"])
        .arg(&a)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_existing_output_folder_is_not_overwritten_without_force() {
    let lists = RuleSet::defaults().codelists().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let mut cfg = config(dir.path().to_path_buf(), 1);
    cfg.patients = 100;
    let err = generate(&cfg, &lists, &|_| {}, &Default::default())
        .err()
        .expect("refuses")
        .to_string();
    assert!(err.contains("--force"), "{err}");
    assert!(dir.path().join("keep.txt").exists());
}
