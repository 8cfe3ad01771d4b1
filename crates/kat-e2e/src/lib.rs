//! The browser-test harness: a chromedriver child process per test, a headless Chromium
//! session with a profile of its own, screenshots under `target/e2e-screenshots`, and
//! a lock so that only one browser runs at a time (CI machines have two cores).
//!
//! The tests run only when `KAT_E2E=1`; without it each test prints a loud skip notice
//! and returns. With it, a missing chromedriver or Chromium is a failure, not a skip.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;
pub use kat_it::{Db, Options, TestApp, password_of, spawn_app};

/// How long to wait for a page element or a condition before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// One browser at a time, across all tests of the binary (each `#[tokio::test]` has a
/// runtime of its own; a tokio mutex works across them and does not poison on panic).
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Whether the browser tests are asked for (`KAT_E2E=1`).
pub fn enabled() -> bool {
    std::env::var("KAT_E2E").is_ok_and(|v| v == "1")
}

/// Prints the skip notice straight to the process's stderr: `eprintln!` output of a
/// passing test is captured by the test harness and never shown.
pub fn skip_notice(test: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "*** SKIPPED e2e: set KAT_E2E=1 *** ({test})");
}

/// Returns from the test with a loud notice unless `KAT_E2E=1`.
#[macro_export]
macro_rules! e2e_or_skip {
    () => {
        if !$crate::enabled() {
            $crate::skip_notice(module_path!());
            return;
        }
    };
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<target>/e2e-screenshots`, where `<target>` is `CARGO_TARGET_DIR` when set, else
/// the workspace's `target`.
pub fn screenshot_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { workspace_root().join(dir) }
        }
        _ => workspace_root().join("target"),
    };
    target.join("e2e-screenshots")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local addr").port()
}

/// A headless Chromium driven through its own chromedriver. Dropping it kills
/// chromedriver (and the browser, which shares its process group).
pub struct Browser {
    pub client: Client,
    test: String,
    driver: Child,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// Waits for its turn, then starts chromedriver and a fresh browser session.
    /// `test` names the screenshots.
    pub async fn start(test: &str) -> Browser {
        let turn = ONE_BROWSER.lock().await;
        let driver_path = std::env::var("KAT_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("KAT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            Path::new(&driver_path).exists(),
            "KAT_E2E=1 but chromedriver is not at {driver_path}: install Debian's chromium-driver or set KAT_CHROMEDRIVER"
        );
        assert!(
            Path::new(&chromium).exists(),
            "KAT_E2E=1 but Chromium is not at {chromium}: install Debian's chromium or set KAT_CHROMIUM"
        );
        let port = free_port();
        let mut cmd = Command::new(&driver_path);
        cmd.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        // A process group of its own, so that the browser it starts dies with it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut driver = cmd.spawn().unwrap_or_else(|e| panic!("start {driver_path}: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited early: {status}");
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer on port {port} within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,900".into(),
            "--lang=en-US".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": chromium, "args": args }));
        let client = match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&base)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                kill_group(&mut driver);
                panic!("could not start a Chromium session ({chromium}): {e}");
            }
        };
        Browser { client, test: test.to_string(), driver, _profile: profile, _turn: turn }
    }

    /// Ends the browser session politely (the drop kills what remains).
    pub async fn finish(self) {
        let _ = self.client.clone().close().await;
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("current url").path().to_string()
    }

    /// Waits for an element matching the CSS selector.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) => panic!("no element {css:?} on {} within {WAIT:?}: {e}", self.url_string().await),
        }
    }

    async fn url_string(&self) -> String {
        self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// The visible text of the page body. While the page is being replaced (a form
    /// submitted, a live update) the body found may go stale before its text is read:
    /// read it again.
    pub async fn body_text(&self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css("body")).await {
                Ok(b) => match b.text().await {
                    Ok(t) => return t,
                    Err(e) if Instant::now() > deadline => panic!("body text: {e}"),
                    Err(_) => {}
                },
                Err(e) if Instant::now() > deadline => panic!("no body: {e}"),
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Polls until the page's visible text contains `what`.
    pub async fn wait_for_text(&self, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let body = self.client.find(Locator::Css("body")).await;
            if let Ok(b) = body
                && let Ok(t) = b.text().await
                && t.contains(what)
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what:?} did not appear on {} within {WAIT:?}; the page says:\n{}",
                    self.url_string().await,
                    self.body_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until the path of the current URL is `path`.
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.path().await == path {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "expected to reach {path}, still on {}; the page says:\n{}",
                    self.url_string().await,
                    self.body_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Saves a PNG as `<target>/e2e-screenshots/<test>-<step>.png` and returns its path.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{}-{step}.png", self.test));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Signs in through the login form and waits to leave the login page; when the
    /// account is enrolled in two-step sign-in, types its code (see
    /// [`TestApp::next_code`]).
    pub async fn login(&self, app: &TestApp, username: &str) {
        self.goto(&app.url("/login")).await;
        self.fill("#username", username).await;
        self.fill("#password", &kat_it::password_of(username)).await;
        self.click("form[action='/login'] button[type=submit]").await;
        let deadline = Instant::now() + WAIT;
        while self.path().await == "/login" {
            if Instant::now() > deadline {
                panic!("sign-in as {username} did not leave the login page:\n{}", self.body_text().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if self.path().await == "/login/code" {
            let code = app.sign_in_code(username).await;
            self.fill("#code", &code).await;
            self.click("form[action='/login/code'] button[type=submit]").await;
            while self.path().await == "/login/code" {
                if Instant::now() > deadline {
                    panic!("the code of {username} was not accepted:\n{}", self.body_text().await);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn kill_group(child: &mut Child) {
    // Negative pid: the whole process group (chromedriver and the browser it started).
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{}", child.id()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}
