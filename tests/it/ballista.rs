//! Apache Ballista (issue 7): a local cluster of one scheduler and two
//! executors, started by `scripts/ballista-local.sh`, runs `phm features` and
//! `phm inequalities` on a generated extract whose tables are split into
//! several files; the results must equal the local engine's. Built only with
//! `--features ballista` (CI runs it).

use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2025-03-31";

/// Stops the cluster however the test ends.
struct Cluster {
    port: u16,
    dir: PathBuf,
}

impl Cluster {
    fn start(dir: &Path) -> Self {
        // A port per test process, so parallel CI jobs on one machine do not meet.
        let port = 40_000 + (std::process::id() % 2_000) as u16 * 10;
        let out = script(dir, "start", port);
        assert!(
            out.status.success(),
            "cluster did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("ballista://127.0.0.1:{port}")
        );
        Cluster {
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn url(&self) -> String {
        format!("ballista://127.0.0.1:{}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = script(&self.dir, "stop", self.port);
    }
}

fn script(dir: &Path, command: &str, port: u16) -> std::process::Output {
    Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ballista-local.sh"))
        .args([command, &port.to_string()])
        .env("PHM", env!("CARGO_BIN_EXE_phm"))
        .env("PHM_CLUSTER_DIR", dir)
        .output()
        .unwrap()
}

#[test]
fn features_and_inequalities_on_a_ballista_cluster_equal_the_local_engine() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ballista");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let extract = work.join("extract");
    let ex = extract.to_str().unwrap();
    // 300,000 patients: each table split into 3 files.
    let (code, _, err) = crate::common::phm(&[
        "generate",
        "--quiet",
        "--patients",
        "300000",
        "--seed",
        "11",
        "--as-of",
        AS_OF,
        "--out",
        ex,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(extract.join("events").is_dir(), "tables should be split");

    let cluster = Cluster::start(&work.join("cluster"));
    let run = |engine: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--quiet",
            "--extract",
            ex,
            "--as-of",
            AS_OF,
            "--engine",
            engine,
        ]);
        let (code, _, err) = crate::common::phm(&all);
        assert_eq!(code, 0, "{engine} {args:?}: {err}");
    };
    let url = cluster.url();
    for (engine, name) in [("local", "local"), (url.as_str(), "ballista")] {
        let f = work.join(format!("{name}.parquet"));
        run(engine, &["features", "--out", f.to_str().unwrap()]);
        let d = work.join(format!("{name}-inequalities"));
        run(engine, &["inequalities", "--out", d.to_str().unwrap()]);
    }

    // The cluster really ran the work: both executors wrote shuffle files.
    for e in ["executor1", "executor2"] {
        let n = crate::common::files(&work.join("cluster").join(e)).len();
        assert!(n > 0, "{e} ran no task");
    }

    let local = crate::common::read_parquet(&work.join("local.parquet"));
    let remote = crate::common::read_parquet(&work.join("ballista.parquet"));
    assert_eq!(local.schema(), remote.schema());
    assert!(local.num_rows() > 200_000, "{} rows", local.num_rows());
    assert_eq!(local.num_rows(), remote.num_rows());
    for (i, field) in local.schema().fields().iter().enumerate() {
        assert_eq!(
            local.column(i).as_ref(),
            remote.column(i).as_ref(),
            "column {} differs",
            field.name()
        );
    }
    for file in ["inequalities.csv", "sii.csv", "gap.csv"] {
        let a = std::fs::read(work.join("local-inequalities").join(file)).unwrap();
        let b = std::fs::read(work.join("ballista-inequalities").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the local engine and Ballista"
        );
    }
}

#[test]
fn an_unreachable_scheduler_or_a_bad_engine_url_is_a_clear_error() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ballista-bad-engine");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let extract = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/extract");
    for (engine, needles) in [
        // Port 1 on loopback: nothing listens there.
        (
            "ballista://127.0.0.1:1",
            vec![
                "cannot reach the Ballista scheduler",
                "ballista://127.0.0.1:1",
            ],
        ),
        (
            "http://127.0.0.1:50050",
            vec!["expected `local` or ballista://HOST:PORT"],
        ),
    ] {
        let out = work.join("features.parquet");
        let (code, _, err) = crate::common::phm(&[
            "features",
            "--quiet",
            "--extract",
            extract.to_str().unwrap(),
            "--engine",
            engine,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{engine}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for n in needles {
            assert!(err.contains(n), "{engine}: `{n}` not in {err}");
        }
        assert_eq!(
            std::fs::read_dir(&work).unwrap().count(),
            0,
            "output left behind"
        );
    }
}
