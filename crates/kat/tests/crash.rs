//! kill -9 under write load (issue 12 item 10), with the real binary, on both databases:
//! writers register patients over the API and keep the ids the server acknowledged
//! (201); the server is killed with SIGKILL in the middle of the load and started again,
//! five times; every acknowledged patient must be there after each restart, and the
//! audit log's hash chain must still verify at the end. Bounded: five cycles of about a
//! second of writes each.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KAT: &str = env!("CARGO_BIN_EXE_kat");
const CYCLES: usize = 5;
const WRITERS: usize = 4;

fn kat(db: &[OsString], args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(KAT)
        .args(args)
        .args(db)
        .env_remove("KAT_DATABASE_URL")
        .env_remove("KAT_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kat");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().expect("kat output")
}

/// `kat serve` on `db`, once it listens: the process and its base URL. Its log is
/// drained in the background (a full pipe would stall the server).
fn serve(db: &[OsString]) -> (Child, String) {
    let mut child = Command::new(KAT)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(db)
        .env_remove("KAT_DATABASE_URL")
        .env_remove("KAT_DATA_DIR")
        .env("KAT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kat serve");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut seen = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(base) = line.trim().strip_prefix("kat is listening on ") {
            let base = base.to_string();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, base);
        }
        seen.push_str(&line);
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("kat serve did not start: {seen}");
}

/// A family name for write `n` (letters only, as names are).
fn name_for(mut n: usize) -> String {
    let mut s = String::from("Crash");
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return s;
        }
    }
}

#[derive(Default)]
struct Load {
    /// (patient id, family name) of every write the server acknowledged.
    acked: Vec<(String, String)>,
    /// Answers other than 201 (a server that is up must not refuse these writes).
    refused: Vec<String>,
}

/// Writers posting patients until the server goes away; returns once all have stopped.
async fn write_until_killed(base: &str, token: &str, next: Arc<Mutex<usize>>, load: Arc<Mutex<Load>>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (client, base, token, next, load) =
            (client.clone(), base.to_string(), token.to_string(), next.clone(), load.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let family = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    name_for(*n)
                };
                let sent = client
                    .post(format!("{base}/api/v1/patients"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({
                        "given_name": "Kay", "family_name": family,
                        "birth_date": "1980-01-02", "sex_at_birth": "female"
                    }))
                    .send()
                    .await;
                let Ok(response) = sent else { return }; // the server is gone
                let status = response.status();
                let Ok(body) = response.json::<serde_json::Value>().await else { return };
                let mut load = load.lock().unwrap();
                if status == 201 {
                    load.acked.push((body["id"].as_str().expect("an id").to_string(), family));
                } else {
                    load.refused.push(format!("{status}: {body}"));
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
}

/// Every acknowledged write is there, as it was written.
async fn check_present(base: &str, token: &str, acked: &[(String, String)]) {
    let client = reqwest::Client::new();
    for (id, family) in acked {
        let r = client.get(format!("{base}/api/v1/patients/{id}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged patient {id} ({family}) is missing after kill -9");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["family_name"], family.as_str(), "{body}");
    }
}

fn kill_9_cycles(db: Vec<OsString>) {
    let started = Instant::now();
    let token = kat(&db, &["token", "create", "crash-writer"], None);
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let next = Arc::new(Mutex::new(0usize));
    let load = Arc::new(Mutex::new(Load::default()));
    let (mut server, mut base) = serve(&db);
    for cycle in 0..CYCLES {
        let before = load.lock().unwrap().acked.len();
        let writing = {
            let (base, token, next, load) = (base.clone(), token.clone(), next.clone(), load.clone());
            rt.spawn(async move { write_until_killed(&base, &token, next, load).await })
        };
        // Kill once writes are flowing, at a different moment in each cycle.
        let waiting = Instant::now();
        while load.lock().unwrap().acked.len() < before + 20 {
            assert!(waiting.elapsed() < Duration::from_secs(20), "no write acknowledged in cycle {cycle}");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(150 + 170 * cycle as u64));
        server.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
        let status = server.wait().unwrap();
        assert!(!status.success(), "killed, not stopped: {status:?}");
        rt.block_on(writing).unwrap();

        (server, base) = serve(&db);
        let load = load.lock().unwrap();
        assert!(load.refused.is_empty(), "writes refused while the server was up: {:?}", load.refused);
        eprintln!(
            "cycle {}: {} writes acknowledged before kill -9 ({} in all); checking them after the restart",
            cycle + 1,
            load.acked.len() - before,
            load.acked.len()
        );
        rt.block_on(check_present(&base, &token, &load.acked[before..]));
    }
    // Every acknowledged write of every cycle, once more after the last restart.
    let acked = load.lock().unwrap().acked.clone();
    rt.block_on(check_present(&base, &token, &acked));
    let term = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(term.success());
    assert!(server.wait().unwrap().success(), "the last server stops cleanly");

    let verify = kat(&db, &["audit", "verify"], None);
    let said = format!("{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    assert!(verify.status.success() && said.contains("audit log intact"), "{said}");
    eprintln!("{} acknowledged writes survived {CYCLES} kill -9s in {:?}; {said}", acked.len(), started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(90), "bounded: {:?}", started.elapsed());
}

#[test]
fn kill_9_under_write_load_loses_no_acknowledged_write_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clinic");
    std::fs::create_dir(&data).unwrap();
    kill_9_cycles(vec!["--data-dir".into(), data.into_os_string()]);
}

#[test]
fn kill_9_under_write_load_loses_no_acknowledged_write_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(kat_store_postgres::testing::fresh_database()) else {
        eprintln!("*** SKIPPED on PostgreSQL: no database server ***");
        return;
    };
    kill_9_cycles(vec!["--database-url".into(), db.url().into()]);
    drop(db);
}
