//! The real binary: first admin from the command line, a token, a write over the API,
//! then SIGTERM. The server must stop cleanly and the acknowledged write must be on
//! disk.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const KAT: &str = env!("CARGO_BIN_EXE_kat");

fn kat(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(KAT)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("KAT_DATABASE_URL")
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

#[test]
fn sigterm_stops_the_server_without_losing_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clinic");
    std::fs::create_dir(&data).unwrap();

    let added = kat(&data, &["user", "add", "boss", "--role", "admin"], Some("a long admin passphrase\n"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let token = kat(&data, &["token", "create", "intake-script"], None);
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("kat_t_"), "{token}");

    let mut server = Command::new(KAT)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("KAT_DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start server");
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.trim().strip_prefix("kat is listening on ") {
            addr = Some(rest.to_string());
            break;
        }
        line.clear();
    }
    let base = addr.expect("server announced its address");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/patients"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "given_name": "Ada", "family_name": "Quinn",
                "birth_date": "1984-03-07", "sex_at_birth": "female"
            }))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 201);
    // A one-time link's token is in its path: the request log names the route template
    // instead (issue: live tokens were written to the request log).
    let secret = "3f9a0c".repeat(10);
    rt.block_on(async {
        let http = reqwest::Client::new();
        http.get(format!("{base}/r/{secret}")).send().await.unwrap();
        http.get(format!("{base}/no-such-page/{secret}")).send().await.unwrap();
    });

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let exit = server.wait().unwrap();
    assert!(exit.success(), "exit {exit:?}; stderr: {rest}");
    assert!(rest.contains("stopped cleanly"), "{rest}");
    assert!(rest.contains("/r/{token}"), "the route template is logged: {rest}");
    assert!(rest.contains("/no-such-page/{…}"), "an unmatched path is logged without its values: {rest}");
    assert!(!rest.contains(&secret), "no token in the log: {rest}");

    // The write is in the database file after the process is gone.
    let count = rt.block_on(async {
        use kat_store::Store;
        let store = kat_store_sqlite::SqliteStore::open(&data.join("kat.db"), kat_store_sqlite::OpenMode::MustExist)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.count_patients().await.unwrap()
    });
    assert_eq!(count, 1);
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn serve_refuses_a_mistyped_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(KAT)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("kat-dtaa"))
        .env_remove("KAT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!dir.path().join("kat-dtaa").exists());
}

#[test]
fn score_exits_1_after_writing_every_row_when_a_value_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("phq.csv");
    std::fs::write(&csv, "id,q1,q2,q3,q4,q5,q6,q7,q8,q9\np1,0,0,0,0,0,0,0,0,0\np2,0,9,0,0,0,0,0,0,0\n").unwrap();
    let out = Command::new(KAT).args(["score", "--instrument", "phq9"]).arg(&csv).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.contains("p1,0,minimal,true,,"), "{stdout}");
    assert!(stdout.contains("q2=9"), "{stdout}");
}

/// `kat user add` and `kat user reset-password` read the password from a pipe (the first
/// line), as scripts use them; on a terminal they ask twice without echo instead.
#[test]
fn account_commands_read_a_piped_password_and_refuse_a_guessable_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clinic");
    std::fs::create_dir(&data).unwrap();
    let weak = kat(&data, &["user", "add", "boss", "--role", "admin"], Some("password1234\n"));
    assert!(!weak.status.success());
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("password") && stderr.contains("too easy to guess"), "{stderr}");
    let added = kat(&data, &["user", "add", "boss", "--role", "admin"], Some("a long admin passphrase\n"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let reset = kat(&data, &["user", "reset-password", "boss"], Some("violet harbour quill\n"));
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    assert!(String::from_utf8_lossy(&reset.stdout).contains("must be changed at the next sign-in"));
    let none = kat(&data, &["user", "reset-password", "boss"], Some(""));
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no password"));
}

/// Starts `kat serve` with `args` and returns it with the address it announced (the
/// whole line after "kat is listening on "); its standard error is drained in the
/// background from then on.
fn start_server(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    let mut server = Command::new(KAT)
        .arg("serve")
        .args(args)
        .env_remove("KAT_DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start server");
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    let mut seen = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.trim().strip_prefix("kat is listening on ") {
            let addr = rest.to_string();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (server, addr);
        }
        seen.push_str(&line);
        line.clear();
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("the server did not start: {seen}");
}

/// One HTTP/1.1 request over TLS to 127.0.0.1:`port`, trusting only `root` for the name
/// `localhost`; the response's status line and headers.
fn https_request(port: u16, root: &[u8], request: &str) -> (String, Vec<(String, String)>) {
    use std::io::Read;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(root.to_vec())).unwrap();
    #[allow(deprecated)] // the ring provider, as the server's
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request.as_bytes()).expect("TLS handshake and request");
    tls.flush().unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the end of the headers (the body is not needed).
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).expect("response");
        assert!(n > 0, "connection closed before the headers: {}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

/// `kat serve --tls-cert --tls-key` serves HTTPS itself: a client that trusts the
/// clinic's certificate signs in, and the answer carries HSTS and a `Secure`,
/// `__Host-` session cookie. A missing or unreadable file stops the start, named.
#[test]
fn serve_over_https_with_its_own_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clinic");
    std::fs::create_dir(&data).unwrap();
    let added = kat(&data, &["user", "add", "nina", "--role", "nurse"], Some("nina harbour violet quill\n"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();

    // A missing key file, and a certificate without its key, are refused by name.
    let missing = dir.path().join("no-such-key.pem");
    let out = Command::new(KAT)
        .args(["serve", "--bind", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&missing)
        .arg("--data-dir")
        .arg(&data)
        .env_remove("KAT_DATABASE_URL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("tls_key") && err.contains("no-such-key.pem"), "{err}");
    let out = Command::new(KAT)
        .args(["serve", "--bind", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--data-dir")
        .arg(&data)
        .env_remove("KAT_DATABASE_URL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("tls_key is not"), "{err}");

    let (mut server, addr) = start_server(&[
        "--bind".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--tls-cert".as_ref(),
        cert.as_os_str(),
        "--tls-key".as_ref(),
        key.as_os_str(),
        "--data-dir".as_ref(),
        data.as_os_str(),
    ]);
    let port: u16 = addr.strip_prefix("https://127.0.0.1:").expect("announced as https").parse().unwrap();
    let body = "username=nina&password=nina+harbour+violet+quill&next=%2F";
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: https://localhost:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, headers) = https_request(port, made.cert.der(), &request);
    let header = |name: &str| headers.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    assert!(status.starts_with("HTTP/1.1 303"), "signed in: {status} {headers:?}");
    assert_eq!(header("strict-transport-security"), ["max-age=31536000"], "{headers:?}");
    let cookies = header("set-cookie");
    let session = cookies.iter().find(|c| c.starts_with("__Host-kat_session=")).expect("a __Host- session cookie");
    assert!(session.contains("; Secure") && session.contains("Path=/") && !session.contains("Domain"), "{session}");
    assert!(!cookies.iter().any(|c| c.starts_with("kat_session=")), "{cookies:?}");
    // Every answer carries HSTS, not only the sign-in's.
    let (status, headers) = https_request(
        port,
        made.cert.der(),
        &format!("GET /login HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"),
    );
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(headers.iter().any(|(k, v)| k == "strict-transport-security" && v == "max-age=31536000"));

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    assert!(server.wait().unwrap().success());
}
