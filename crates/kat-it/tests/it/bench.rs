//! `kat bench --quick`: every figure is measured (finite, above zero, no failed request)
//! and printed, on SQLite and, when a PostgreSQL server is given to the tests, on
//! PostgreSQL in the same run. No speed is asserted here: the targets live in the bench.

use kat::bench::{Options, run};
use kat_store_postgres::testing::DEFAULT_ADMIN_URL;

/// The PostgreSQL server the test command gives, if any.
fn postgres() -> Option<String> {
    match std::env::var("KAT_TEST_PG_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("KAT_REQUIRE_PG").is_ok_and(|v| v == "1") => Some(DEFAULT_ADMIN_URL.to_string()),
        Err(_) => {
            eprintln!("*** kat bench smoke test: PostgreSQL leg SKIPPED (set KAT_TEST_PG_URL) ***");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_quick_measures_and_prints_every_figure() {
    // The in-process server's errors (what lies behind a failed request's 500) reach
    // the test's output; the other tests' logs are not changed by it (errors only).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
        .with_test_writer()
        .try_init();
    let out = tempfile::NamedTempFile::new().unwrap();
    let pg = postgres();
    let options =
        Options { database_url: pg.clone(), quick: true, out: Some(out.path().to_path_buf()), ..Options::default() };
    let report = run(&options).await.expect("kat bench --quick");

    let expected: Vec<&str> = if pg.is_some() { vec!["SQLite", "PostgreSQL"] } else { vec!["SQLite"] };
    assert_eq!(report.databases.iter().map(|d| d.database).collect::<Vec<_>>(), expected);
    let text = report.text();
    let markdown = std::fs::read_to_string(out.path()).unwrap();
    for d in &report.databases {
        let names: Vec<&str> = d.figures.iter().map(|f| f.name.as_str()).collect();
        let mut wanted: Vec<String> = vec![
            "raw single-row inserts, 1 connection(s)".into(),
            "patient search".into(),
            "patient page with measures chart".into(),
            "timeline".into(),
            "measures worklist".into(),
            "therapy worklist".into(),
            "REMS list".into(),
            "floor board".into(),
        ];
        for c in [1, 8, 32] {
            wanted.push(format!("GET /healthz, {c} clients"));
            wanted.push(format!("vitals ingest, {c} clients"));
        }
        if d.database == "PostgreSQL" {
            wanted.push("raw single-row inserts, 8 connection(s)".into());
        }
        for w in &wanted {
            assert!(names.contains(&w.as_str()), "{}: no figure `{w}` in {names:?}", d.database);
        }
        assert!(names.iter().any(|n| n.starts_with("vital at ")), "{}: cost per vital", d.database);
        assert!(names.iter().any(|n| n.starts_with("alarm → floor board")), "{}: alarm latency", d.database);
        for f in &d.figures {
            assert!(!f.numbers.is_empty(), "{} {}: no number", d.database, f.name);
            for n in &f.numbers {
                assert!(n.is_finite() && *n > 0.0, "{} {}: {n} in {:?}", d.database, f.name, f.numbers);
            }
            assert_eq!(f.errors, 0, "{} {}: failed requests, the first: {:?}", d.database, f.name, f.first_error);
            assert!(text.contains(&f.name) && text.contains(&f.measured), "{} {}: not printed", d.database, f.name);
            assert!(markdown.contains(&f.name), "{} {}: not in the Markdown", d.database, f.name);
            if !f.target.is_empty() {
                assert!(f.met.is_some(), "{} {}: a target is judged", d.database, f.name);
            }
        }
    }
}
