//! Proposals end to end through the `phm` binary on hand-built extracts
//! (rules.md §4–5): capacity from the CSV and defaults, the review round trip,
//! and clear errors for bad capacity and decisions files.

use std::path::Path;
use std::process::Command;

use crate::common::*;

pub(crate) const T: &str = "2024-03-31";

fn phm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// PCN U1: 130 high-need patients (ids 1..=130): core20 + lonely + social_needs
/// = 7 points; ids divisible by 10 are also carers (8 points). PCN U2: 5
/// high-need patients (ids 201..=205) and 20 others.
fn extract(dir: &Path) {
    let mut x = Extract::default().with_default_imd();
    for id in 1..=130 {
        let mut p = Patient::new(id);
        p.pcn = "U1";
        p.lsoa = Some("E01000001");
        x.patients.push(p);
        x.events.push((id, code("loneliness"), "2024-01-01", None));
        x.events
            .push((id, code("social_needs"), "2024-01-01", None));
        if id % 10 == 0 {
            x.events.push((id, code("carer"), "2010-01-01", None));
        }
    }
    for id in 201..=225 {
        let mut p = Patient::new(id);
        p.pcn = "U2";
        p.practice = "P00002";
        if id <= 205 {
            p.lsoa = Some("E01000002");
            x.events.push((id, code("loneliness"), "2024-01-01", None));
            x.events
                .push((id, code("social_needs"), "2024-01-01", None));
        }
        x.patients.push(p);
    }
    x.write(dir);
}

pub(crate) fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let mut rows = vec![r.headers().unwrap().iter().map(String::from).collect()];
    for rec in r.records() {
        rows.push(rec.unwrap().iter().map(String::from).collect());
    }
    rows
}

pub(crate) fn dirs() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    extract(&ex);
    let out = dir.path().join("out");
    (dir, ex.display().to_string(), out.display().to_string())
}

#[test]
fn capacity_from_csv_and_defaults_with_contract_columns() {
    let (dir, ex, out) = dirs();
    let cap = dir.path().join("capacity.csv");
    // U1: 1.15 FTE -> floor(1.15 × 200 × 0.3) = 69 (exact decimal); U2 missing -> default 2.0 -> 120.
    std::fs::write(&cap, "pcn_code,link_worker_fte\nU1,1.15\n").unwrap();
    let (code, stdout, err) = phm(&[
        "propose",
        "--quiet",
        "--extract",
        &ex,
        "--as-of",
        T,
        "--capacity",
        cap.to_str().unwrap(),
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("default"),
        "the summary says U2 used the default FTE: {stdout}"
    );
    let c = read_csv(&Path::new(&out).join("capacity.csv"));
    assert_eq!(
        c[0],
        [
            "pcn_code",
            "registered",
            "adults",
            "eligible",
            "high_need",
            "link_worker_fte",
            "capacity",
            "proposed",
            "waiting",
            "coverage",
            "fte_needed",
            "sp_referred_12m",
            "sp_referred_per_1000",
            "target_per_1000"
        ]
    );
    // U1: 130 high need, capacity 69 -> 69 proposed, 61 waiting; coverage 69/130;
    // fte_needed = ceil(130 / 60 × 10) / 10 = ceil(21.67) / 10 = 2.2.
    assert_eq!(
        c[1],
        [
            "U1",
            "130",
            "130",
            "130",
            "130",
            "1.15",
            "69",
            "69",
            "61",
            &format!("{}", 69.0 / 130.0),
            "2.2",
            "0",
            "0",
            "16"
        ]
    );
    // U2: fewer high-need (5) than capacity (120): all proposed; 5/60 -> 0.1 FTE.
    assert_eq!(
        c[2],
        ["U2", "25", "25", "25", "5", "2", "120", "5", "0", "1", "0.1", "0", "0", "16"]
    );
    let p = read_csv(&Path::new(&out).join("proposals.csv"));
    assert_eq!(
        p[0],
        [
            "pcn_code",
            "patient_id",
            "practice_code",
            "segment",
            "need_score",
            "need_reasons",
            "rank",
            "status"
        ]
    );
    // The 13 carers (8 points) rank first, by patient_id; then the 7-point patients by id.
    assert_eq!(p[1][1], "10");
    assert_eq!(p[1][5], "core20+2; lonely+3; social_needs+2; carer+1");
    assert_eq!(p[13][1], "130");
    assert_eq!((p[14][1].as_str(), p[14][6].as_str()), ("1", "14"));
    assert_eq!(p[69][7], "proposed");
    assert_eq!(p[70][7], "waiting");
    let s = read_csv(&Path::new(&out).join("segments.csv"));
    assert_eq!(s.len(), 1 + 2 * 6, "six segments per PCN, zeros included");
    assert_eq!(s[2], ["U1", "lonely_isolated", "130", "69", "61"]);
    assert_eq!(s[1], ["U1", "hfu_social", "0", "0", "0"]);
}

#[test]
fn review_round_trip_fills_excluded_places_from_the_waiting_list() {
    let (_dir, ex, out) = dirs();
    let (code, _, err) = phm(&[
        "propose",
        "--quiet",
        "--extract",
        &ex,
        "--as-of",
        T,
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    // Default capacity 120 for U1: ranks 1..120 proposed, 121..130 waiting.
    let list_path = Path::new(&out).join("lists/U1.csv");
    let mut list = read_csv(&list_path);
    let header = list[0].clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let excluded: Vec<String> = [1usize, 2, 3]
        .iter()
        .map(|r| list[*r][col("patient_id")].clone())
        .collect();
    let first_waiting: Vec<String> = (121..=123)
        .map(|r| list[r][col("patient_id")].clone())
        .collect();
    for (r, row) in list.iter_mut().enumerate().skip(1) {
        row[col("decision")] = if r <= 3 {
            "exclude".into()
        } else if r <= 10 {
            "accept".into()
        } else {
            String::new()
        };
        if r <= 3 {
            row[col("reason")] = "in hospice care, not appropriate".into();
        }
    }
    let returned = Path::new(&out).join("U1-returned.csv");
    let mut w = csv::Writer::from_path(&returned).unwrap();
    for r in &list {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    let (code, stdout, err) = phm(&[
        "review",
        "--decisions",
        returned.to_str().unwrap(),
        "--proposal",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("3 excluded") && stdout.contains("7 accepted"),
        "{stdout}"
    );
    let (code, stdout, err) = phm(&[
        "propose",
        "--quiet",
        "--extract",
        &ex,
        "--as-of",
        T,
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("3 excluded"), "{stdout}");
    let p = read_csv(&Path::new(&out).join("proposals.csv"));
    let status = |id: &str| p.iter().find(|r| r[1] == id).map(|r| r[7].clone());
    for id in &excluded {
        assert_eq!(status(id), None, "excluded patient {id} left out");
    }
    for id in &first_waiting {
        assert_eq!(
            status(id).as_deref(),
            Some("proposed"),
            "waiting patient {id} now proposed"
        );
    }
    let proposed_u1 = p
        .iter()
        .filter(|r| r[0] == "U1" && r[7] == "proposed")
        .count();
    assert_eq!(proposed_u1, 120);
    // The old list is now stale.
    let (code, _, err) = phm(&[
        "review",
        "--decisions",
        returned.to_str().unwrap(),
        "--proposal",
        &out,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("another or an older proposal"), "{err}");
}

#[test]
fn bad_decisions_files_are_clear_errors() {
    let (_dir, ex, out) = dirs();
    assert_eq!(
        phm(&[
            "propose",
            "--quiet",
            "--extract",
            &ex,
            "--as-of",
            T,
            "--out",
            &out
        ])
        .0,
        0
    );
    let list = read_csv(&Path::new(&out).join("lists/U2.csv"));
    let header = list[0].join(",");
    let proposal_id = &list[1][11];
    // The evidence columns between proposal_id and the lead's two, left empty.
    let ev = ",".repeat(list[0].len() - 14);
    let bad = Path::new(&out).join("bad.csv");
    // Unknown id, changed score, unknown decision.
    std::fs::write(
        &bad,
        format!("{header}\nU2,999,P00002,lonely_isolated,7,x,1,proposed,50-54,F,2,{proposal_id},{ev}exclude,\nU2,201,P00002,lonely_isolated,9,x,1,proposed,50-54,F,2,{proposal_id},{ev}accept,\nU2,202,P00002,lonely_isolated,7,x,2,proposed,50-54,F,2,{proposal_id},{ev}maybe,\n"),
    )
    .unwrap();
    let (code, _, err) = phm(&[
        "review",
        "--decisions",
        bad.to_str().unwrap(),
        "--proposal",
        &out,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 2: patient_id 999 is not in the proposal"),
        "{err}"
    );
    assert!(
        err.contains("line 3: need_score for patient 201 was changed"),
        "{err}"
    );
    assert!(err.contains("line 4: decision `maybe`"), "{err}");
    assert!(
        !Path::new(&out).join("decisions.csv").exists(),
        "nothing recorded on error"
    );
}

#[test]
fn capacity_csv_naming_a_pcn_with_nobody_registered_warns_and_goes_on() {
    // rules.md §4: an ICB-wide capacity file may list PCNs this extract has
    // nobody registered in (U9): no row for it, a warning naming it, exit 0.
    let (dir, ex, out) = dirs();
    let cap = dir.path().join("capacity.csv");
    std::fs::write(&cap, "pcn_code,link_worker_fte\nU1,1\nU9,2\n").unwrap();
    let (code, _, err) = phm(&[
        "propose",
        "--extract",
        &ex,
        "--as-of",
        T,
        "--capacity",
        cap.to_str().unwrap(),
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning") && err.contains("U9") && err.contains("nobody registered"),
        "{err}"
    );
    let capacity = csv_maps(&Path::new(&out).join("capacity.csv"));
    assert!(capacity.iter().all(|r| r["pcn_code"] != "U9"));
    // U1's own FTE from the file is used: floor(1 × 200 × 0.3) = 60.
    let u1 = capacity.iter().find(|r| r["pcn_code"] == "U1").unwrap();
    assert_eq!(
        (u1["link_worker_fte"].as_str(), u1["capacity"].as_str()),
        ("1", "60")
    );
}
