//! `kat bench`: measures kat against the physical limits of the machine it runs on, in
//! one run, on SQLite (always) and on PostgreSQL (when a server URL is given).
//!
//! For each database it builds a synthetic clinic on a fresh scratch database (a
//! temporary SQLite file; a `kat_bench_<random>` database dropped afterwards), starts
//! the server in-process on 127.0.0.1:0 and measures through HTTP:
//! - vitals ingest at 1, 8 and 32 clients beside the raw single-row insert limit
//!   (the store's own connection settings) and the HTTP ceiling (`GET /healthz`);
//! - the cost of one vital in a session holding few readings and one holding many;
//! - alarm → floor board latency over the board's server-sent-event stream, with a
//!   background load of normal vitals on the open sessions;
//! - patient search, the patient page (measures chart), the timeline, the worklists,
//!   the REMS list and the floor board at each clinic size.
//!
//! Every loop is bounded in count and time and only talks to 127.0.0.1. Targets (issue
//! 10) are judged here and printed, never asserted in tests. `BENCHMARKS.md` explains
//! each figure.

mod load;
mod seed;

use crate::server;
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId};
use kat_store::Store;
use kat_store_postgres::PostgresStore;
use kat_store_postgres::bench::ScratchDatabase;
use kat_store_sqlite::{OpenMode, SqliteStore};
use kat_web::clock::SystemClock;
use kat_web::config::WebConfig;
use load::{Background, Call, Run, closed_loop};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The targets of issue 10 (benchmark targets, not clinical values).
mod target {
    /// Ingest at 8 clients, as a share of the raw single-row insert limit.
    pub const INGEST_VS_RAW: f64 = 0.5;
    /// SQLite ingest p99 at 8 clients, ms.
    pub const INGEST_P99_MS: f64 = 50.0;
    /// Cost of a vital at the large session ÷ at the small one.
    pub const COST_RATIO: f64 = 1.5;
    /// Alarm → floor board p99, ms, with this background load (vitals/s).
    pub const ALARM_P99_MS: f64 = 20.0;
    pub const ALARM_BACKGROUND: f64 = 1000.0;
    /// Worklist p50 at the largest size, ms.
    pub const WORKLIST_P50_MS: f64 = 20.0;
    /// "Flat": largest size ÷ smallest, the same bound as the cost per vital.
    pub const FLAT_RATIO: f64 = 1.5;
}

/// What `kat bench` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A PostgreSQL server (admin URL) to measure too.
    pub database_url: Option<String>,
    /// Clinic sizes (patients), ascending; default 200 and 2,000.
    pub sizes: Option<Vec<usize>>,
    /// Seconds per load level; default 5.
    pub seconds: Option<f64>,
    /// Tiny sizes and short durations (seconds in total), for the smoke test.
    pub quick: bool,
    /// Also write the results as Markdown to this file.
    pub out: Option<PathBuf>,
    /// Background vitals per second during the alarm latency; default 1,000.
    pub background_rate: Option<f64>,
}

/// The bounds of one run, from the options.
#[derive(Debug, Clone)]
struct Plan {
    sizes: Vec<usize>,
    level_time: Duration,
    levels: [usize; 3],
    max_calls: u64,
    sessions: usize,
    small_readings: u64,
    large_readings: u64,
    cost_samples: usize,
    fill_time: Duration,
    alarm_samples: usize,
    alarm_wait: Duration,
    background_rate: f64,
    background_workers: usize,
    list_requests: u64,
    list_time: Duration,
}

impl Plan {
    fn new(o: &Options) -> Result<Self> {
        let mut p = if o.quick {
            Plan {
                sizes: vec![3, 6],
                level_time: Duration::from_millis(300),
                levels: [1, 8, 32],
                max_calls: 100_000,
                sessions: 3,
                small_readings: 5,
                large_readings: 20,
                cost_samples: 5,
                fill_time: Duration::from_secs(60),
                alarm_samples: 3,
                alarm_wait: Duration::from_secs(10),
                background_rate: 50.0,
                background_workers: 2,
                list_requests: 3,
                list_time: Duration::from_secs(10),
            }
        } else {
            Plan {
                sizes: vec![200, 2000],
                level_time: Duration::from_secs(5),
                levels: [1, 8, 32],
                max_calls: 2_000_000,
                sessions: 30,
                small_readings: 50,
                large_readings: 2000,
                cost_samples: 40,
                fill_time: Duration::from_secs(600),
                alarm_samples: 40,
                alarm_wait: Duration::from_secs(10),
                background_rate: target::ALARM_BACKGROUND,
                background_workers: 16,
                list_requests: 30,
                list_time: Duration::from_secs(60),
            }
        };
        if let Some(sizes) = &o.sizes {
            let mut sizes = sizes.clone();
            sizes.sort_unstable();
            sizes.dedup();
            if sizes.is_empty() || sizes[0] == 0 {
                bail!("--sizes: give one or more clinic sizes above 0, e.g. 200,2000");
            }
            p.sizes = sizes;
        }
        if let Some(s) = o.seconds {
            if !(s.is_finite() && s > 0.0 && s <= 600.0) {
                bail!("--seconds: between 0 and 600");
            }
            p.level_time = Duration::from_secs_f64(s);
        }
        if let Some(r) = o.background_rate {
            if !(r.is_finite() && (1.0..=100_000.0).contains(&r)) {
                bail!("--background-rate: between 1 and 100,000 vitals per second");
            }
            p.background_rate = r;
        }
        p.sessions = p.sessions.min(p.sizes[0]);
        Ok(p)
    }
}

/// One measured figure, its limit and its target.
#[derive(Debug, Clone)]
pub struct Figure {
    pub section: &'static str,
    pub name: String,
    /// What was measured, in words and numbers.
    pub measured: String,
    /// The limit it is set against, and the ratio.
    pub limit: String,
    /// The target (empty when the issue sets none for this figure).
    pub target: String,
    pub met: Option<bool>,
    /// Every number behind the figure (each must be finite and above zero).
    pub numbers: Vec<f64>,
    /// Failed requests while measuring it.
    pub errors: u64,
    /// The first failure, in words (status and the start of the answer), if any.
    pub first_error: Option<String>,
}

/// The figures of one database.
#[derive(Debug, Clone)]
pub struct DatabaseReport {
    pub database: &'static str,
    pub figures: Vec<Figure>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub header: String,
    pub databases: Vec<DatabaseReport>,
}

/// Runs the whole bench, prints the results and writes `--out`.
pub async fn run(o: &Options) -> Result<Report> {
    let plan = Plan::new(o)?;
    let mut databases = vec![measure_database(None, &plan).await.context("SQLite")?];
    if let Some(url) = &o.database_url {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("--database-url: a postgres:// URL of a server kat bench may create a scratch database on");
        }
        databases.push(measure_database(Some(url), &plan).await.context("PostgreSQL")?);
    }
    let header = format!(
        "kat {} bench, {} build, {} CPU(s), sizes {:?}, {:.1} s per load level, {} open sessions{}",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug (not comparable: use --release)" } else { "release" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        plan.sizes,
        plan.level_time.as_secs_f64(),
        plan.sessions,
        if o.quick { ", --quick" } else { "" },
    );
    let report = Report { header, databases };
    print!("{}", report.text());
    if let Some(out) = &o.out {
        std::fs::write(out, report.markdown()).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("results written to {}", out.display());
    }
    Ok(report)
}

/// A fresh database, the server on it, every measurement, then everything removed.
async fn measure_database(pg_admin: Option<&str>, plan: &Plan) -> Result<DatabaseReport> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let (store, scratch): (Arc<dyn Store>, Option<ScratchDatabase>) = match pg_admin {
        None => {
            let store = SqliteStore::open(&dir.path().join("kat.db"), OpenMode::CreateIfMissing).await?;
            (Arc::new(store), None)
        }
        Some(admin) => {
            let scratch = ScratchDatabase::create(admin).await.context("creating the scratch database")?;
            match PostgresStore::connect(scratch.url()).await {
                Ok(store) => (Arc::new(store), Some(scratch)),
                Err(e) => {
                    let _ = scratch.drop_database().await;
                    return Err(e).context("connecting to the scratch database");
                }
            }
        }
    };
    let database = if pg_admin.is_some() { "PostgreSQL" } else { "SQLite" };
    eprintln!("\n== {database} ==");
    let result = with_server(database, plan, store.clone(), dir.path(), scratch.as_ref().map(|s| s.url())).await;
    store.close().await;
    if let Some(scratch) = scratch {
        let name = scratch.name().to_string();
        scratch.drop_database().await.with_context(|| format!("dropping the scratch database {name}"))?;
    }
    Ok(DatabaseReport { database, figures: result? })
}

async fn with_server(
    database: &'static str,
    plan: &Plan,
    store: Arc<dyn Store>,
    dir: &Path,
    pg_url: Option<&str>,
) -> Result<Vec<Figure>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1:0")?;
    let running = server::start(listener, store.clone(), WebConfig::default(), Arc::new(SystemClock))?;
    let base = format!("http://{}", running.addr);
    let bench = Bench::new(database, plan.clone(), store, base).await;
    let result = match bench {
        Ok(b) => b.all(dir, pg_url).await,
        Err(e) => Err(e),
    };
    running.stop().await?;
    result
}

/// Lists measured at each size: (name, whether it is a worklist, a note on what the
/// synthetic clinic gives it to show).
const LISTS: [(&str, bool, &str); 7] = [
    ("patient search", false, "a family name 1 in 35 patients share"),
    ("patient page with measures chart", false, ""),
    ("timeline", false, ""),
    ("measures worklist", true, ""),
    ("therapy worklist", true, ""),
    ("REMS list", true, "half the open sessions are Spravato, a form each"),
    ("floor board", false, ""),
];

struct Bench {
    database: &'static str,
    plan: Plan,
    store: Arc<dyn Store>,
    base: String,
    tz: TimeZone,
    staff: seed::Staff,
    api: reqwest::Client,
    web: reqwest::Client,
    patients: Vec<(PatientId, TreatmentPlanId)>,
    sessions: Vec<DosingSessionId>,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {msg} ({elapsed}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A normal reading (no alarm under the default policy) from a bench monitor.
fn normal_vitals() -> Value {
    json!({"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 98, "respiratory_rate": 14,
           "device_id": "bench-monitor"})
}

/// A reading that raises an ALM-001 SpO2 alarm.
fn alarming_vitals() -> Value {
    json!({"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 85, "respiratory_rate": 14,
           "device_id": "bench-monitor"})
}

/// A POST with a bearer token that must answer `expect`.
fn post_call(client: &reqwest::Client, url: String, token: &str, body: &Value, expect: u16) -> Call {
    let req = client.post(url).bearer_auth(token).json(body);
    Box::pin(async move {
        let r = req.send().await.map_err(|e| e.to_string())?;
        let s = r.status().as_u16();
        let text = r.text().await.map_err(|e| e.to_string())?;
        if s == expect { Ok(()) } else { Err(format!("status {s}: {}", text.chars().take(200).collect::<String>())) }
    })
}

/// A GET that must answer 200 (the body is read in full).
fn get_call(client: &reqwest::Client, url: String) -> Call {
    let req = client.get(url);
    Box::pin(async move {
        let r = req.send().await.map_err(|e| e.to_string())?;
        let s = r.status().as_u16();
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        if s == 200 { Ok(()) } else { Err(format!("status {s} ({} bytes)", body.len())) }
    })
}

impl Bench {
    async fn new(database: &'static str, plan: Plan, store: Arc<dyn Store>, base: String) -> Result<Self> {
        let tz = TimeZone::UTC;
        let staff = seed::staff(store.as_ref(), Timestamp::now(), &tz).await?;
        let api = reqwest::Client::builder().build().context("HTTP client")?;
        let web = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("HTTP client")?;
        let r = web
            .post(format!("{base}/login"))
            .header("origin", &base)
            .form(&[("username", seed::NURSE), ("password", seed::NURSE_PASSWORD), ("next", "/")])
            .send()
            .await
            .context("signing in")?;
        if !r.status().is_redirection() {
            bail!("the bench nurse could not sign in (status {})", r.status());
        }
        Ok(Self { database, plan, store, base, tz, staff, api, web, patients: Vec::new(), sessions: Vec::new() })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn vitals_url(&self, s: DosingSessionId) -> String {
        self.url(&format!("/api/v1/sessions/{s}/vitals"))
    }

    async fn all(mut self, dir: &Path, pg_url: Option<&str>) -> Result<Vec<Figure>> {
        let mut lists = Vec::new();
        for &size in &self.plan.sizes.clone() {
            self.grow(size).await?;
            lists.push((size, self.lists().await?));
        }
        let alarm = self.alarm_latency().await?;
        let mut figures = self.ingest(dir, pg_url).await?;
        figures.push(self.cost_per_vital().await?);
        figures.push(alarm);
        figures.extend(list_figures(&lists, &figures));
        Ok(figures)
    }

    /// Adds patients up to `size`; the first `plan.sessions` get a session in progress.
    async fn grow(&mut self, size: usize) -> Result<()> {
        let from = self.patients.len();
        let new_sessions = if self.sessions.is_empty() { self.plan.sessions } else { 0 };
        let pb = bar((size.saturating_sub(from) + new_sessions) as u64, "clinic");
        pb.set_message(format!("{} patients", size));
        let parallel = if self.database == "SQLite" { 1 } else { 4 };
        let tick = || pb.inc(1);
        let added = seed::patients(&self.store, &self.staff, &self.tz, from, size, parallel, &tick).await?;
        self.patients.extend(added);
        for i in 0..new_sessions {
            let (p, plan) = self.patients[i];
            self.sessions.push(seed::session(self.store.as_ref(), &self.staff, &self.tz, i, p, plan).await?);
            pb.inc(1);
        }
        pb.finish_and_clear();
        eprintln!("clinic: {} patients, {} sessions in progress", self.patients.len(), self.sessions.len());
        Ok(())
    }

    /// Each list page K times, one after the other, as the signed-in nurse.
    async fn lists(&self) -> Result<Vec<Run>> {
        let p = self.patients[0].0;
        let paths = [
            format!("/patients?q={}", seed::family_name(0)),
            format!("/patients/{p}"),
            format!("/patients/{p}/timeline"),
            "/measures/worklist".to_string(),
            "/worklist".to_string(),
            "/rems".to_string(),
            "/floor".to_string(),
        ];
        let mut runs = Vec::new();
        for ((name, _, _), path) in LISTS.iter().zip(paths) {
            let pb = spinner(format!("{name} at {} patients", self.patients.len()));
            let (web, url) = (self.web.clone(), self.url(&path));
            let run =
                closed_loop(1, self.plan.list_time, self.plan.list_requests, move |_| get_call(&web, url.clone()))
                    .await;
            pb.finish_and_clear();
            runs.push(run);
        }
        Ok(runs)
    }

    /// Raw inserts, healthz and vitals ingest at each level.
    async fn ingest(&self, dir: &Path, pg_url: Option<&str>) -> Result<Vec<Figure>> {
        let plan = &self.plan;
        let content = normal_vitals().to_string();
        // The raw limit: one connection on SQLite (one writer); 1 and 8 on PostgreSQL.
        let mut raw: Vec<(usize, Run)> = Vec::new();
        match pg_url {
            None => {
                let r = Arc::new(kat_store_sqlite::bench::RawInserts::create(&dir.join("raw.db"), 1).await?);
                let pb = spinner("raw SQLite inserts".into());
                let (rr, c) = (r.clone(), content.clone());
                let run = closed_loop(1, plan.level_time, plan.max_calls, move |_| {
                    let (r, c) = (rr.clone(), c.clone());
                    Box::pin(async move { r.insert_one(uuid::Uuid::now_v7(), &c).await.map_err(|e| e.to_string()) })
                })
                .await;
                pb.finish_and_clear();
                raw.push((1, run));
                if let Ok(r) = Arc::try_unwrap(r) {
                    r.close().await;
                }
            }
            Some(url) => {
                let r = Arc::new(kat_store_postgres::bench::RawInserts::create(url, 8).await?);
                for conns in [1usize, 8] {
                    let pb = spinner(format!("raw PostgreSQL inserts, {conns} connection(s)"));
                    let (rr, c) = (r.clone(), content.clone());
                    let run = closed_loop(conns, plan.level_time, plan.max_calls, move |_| {
                        let (r, c) = (rr.clone(), c.clone());
                        Box::pin(async move { r.insert_one(uuid::Uuid::now_v7(), &c).await.map_err(|e| e.to_string()) })
                    })
                    .await;
                    pb.finish_and_clear();
                    raw.push((conns, run));
                }
                if let Ok(r) = Arc::try_unwrap(r) {
                    r.close().await;
                }
            }
        }
        let mut health = Vec::new();
        for &c in &plan.levels {
            let pb = spinner(format!("GET /healthz, {c} clients"));
            let (api, url) = (self.api.clone(), self.url("/healthz"));
            health
                .push((c, closed_loop(c, plan.level_time, plan.max_calls, move |_| get_call(&api, url.clone())).await));
            pb.finish_and_clear();
        }
        let mut ingest = Vec::new();
        for &c in &plan.levels {
            let pb = spinner(format!("vitals ingest, {c} clients"));
            let (api, token, body) = (self.api.clone(), self.staff.nurse_token.clone(), normal_vitals());
            let urls: Vec<String> = self.sessions.iter().map(|s| self.vitals_url(*s)).collect();
            let run = closed_loop(c, plan.level_time, plan.max_calls, move |n| {
                post_call(&api, urls[n as usize % urls.len()].clone(), &token, &body, 201)
            })
            .await;
            pb.finish_and_clear();
            ingest.push((c, run));
        }
        Ok(ingest_figures(self.database, &raw, &health, &ingest))
    }

    /// The median cost of one vital in a session holding few readings and in one
    /// holding many (filled first through the API), measured alternately.
    async fn cost_per_vital(&mut self) -> Result<Figure> {
        let plan = self.plan.clone();
        let from = self.patients.len();
        // Four more patients, of whom the two with even numbers have IV plans: the two
        // sessions differ only in their readings, not in their route.
        let added = seed::patients(&self.store, &self.staff, &self.tz, from, from + 4, 1, &|| {}).await?;
        self.patients.extend(added.iter().copied());
        let mut sessions = Vec::new();
        for (i, (p, pl)) in added.into_iter().enumerate().map(|(k, v)| (from + k, v)).filter(|(i, _)| i % 2 == 0) {
            sessions.push(seed::session(self.store.as_ref(), &self.staff, &self.tz, i, p, pl).await?);
        }
        let token = self.staff.nurse_token.clone();
        let mut filled = Vec::new();
        for (s, n) in sessions.iter().zip([plan.small_readings, plan.large_readings]) {
            let pb = bar(n, "readings");
            let (api, url, token, body, pbc) =
                (self.api.clone(), self.vitals_url(*s), token.clone(), normal_vitals(), pb.clone());
            let run = closed_loop(1, plan.fill_time, n, move |_| {
                pbc.inc(1);
                post_call(&api, url.clone(), &token, &body, 201)
            })
            .await;
            pb.finish_and_clear();
            filled.push(run.ok());
        }
        let (mut small, mut large, mut errors, mut first_error) = (Vec::new(), Vec::new(), 0u64, None::<String>);
        let pb = spinner("cost per vital".into());
        for _ in 0..plan.cost_samples {
            for (s, out) in sessions.iter().zip([&mut small, &mut large]) {
                let t = Instant::now();
                match post_call(&self.api, self.vitals_url(*s), &token, &normal_vitals(), 201).await {
                    Ok(()) => out.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        pb.finish_and_clear();
        let (small, large) = (Run::from_samples(small, 0, None), Run::from_samples(large, 0, None));
        let (a, b) = (small.pct_ms(50.0), large.pct_ms(50.0));
        let ratio = if a > 0.0 { b / a } else { f64::NAN };
        let met = ratio <= target::COST_RATIO;
        Ok(Figure {
            section: "cost per vital",
            name: format!("vital at {} ÷ at {} readings", thousands(filled[1] as f64), filled[0]),
            measured: format!("p50 {} at {}, {} at {} readings", ms(a), filled[0], ms(b), thousands(filled[1] as f64)),
            limit: format!("ratio {ratio:.2}"),
            target: format!("≤ {} at {} readings", target::COST_RATIO, thousands(plan.large_readings as f64)),
            met: Some(met && filled[1] >= plan.large_readings),
            numbers: vec![a, b, ratio, filled[0] as f64, filled[1] as f64],
            errors,
            first_error,
        })
    }

    /// Alarm → floor board: the time from posting an alarming vital until the floor
    /// board's event stream delivers the fragment that shows the alarm (the session's
    /// `tile`, or the whole board's `update`), with normal vitals posted to the open
    /// sessions in the background.
    async fn alarm_latency(&self) -> Result<Figure> {
        let plan = &self.plan;
        let response = self.web.get(self.url("/floor/stream")).send().await.context("opening /floor/stream")?;
        if response.status() != 200 {
            bail!("/floor/stream answered {}", response.status());
        }
        let (mut events, reader) = load::read_events(response);
        tokio::time::timeout(plan.alarm_wait, events.recv())
            .await
            .context("no first update from /floor/stream")?
            .context("/floor/stream ended")?;
        let urls: Vec<String> = self.sessions.iter().map(|s| self.vitals_url(*s)).collect();
        let (api, token, body) = (self.api.clone(), self.staff.nurse_token.clone(), normal_vitals());
        let max_background =
            (plan.background_rate * (plan.alarm_wait.as_secs_f64() * plan.alarm_samples as f64 + 5.0)) as u64;
        let background = Background::start(plan.background_workers, plan.background_rate, max_background, move |n| {
            post_call(&api, urls[n as usize % urls.len()].clone(), &token, &body, 201)
        });
        // Let the background load settle.
        tokio::time::sleep(Duration::from_millis(if plan.alarm_samples > 5 { 1000 } else { 100 })).await;
        let pb = bar(plan.alarm_samples as u64, "alarms");
        let (mut lat, mut errors, mut first_error) = (Vec::new(), 0u64, None::<String>);
        for k in 0..plan.alarm_samples {
            pb.inc(1);
            let s = self.sessions[k % self.sessions.len()];
            while events.try_recv().is_ok() {}
            let t0 = Instant::now();
            let sent = self
                .api
                .post(self.vitals_url(s))
                .bearer_auth(&self.staff.nurse_token)
                .json(&alarming_vitals())
                .send()
                .await;
            let alarm = match sent {
                Ok(r) if r.status() == 201 => {
                    r.json::<Value>().await.ok().and_then(|v| v["alarms"][0]["id"].as_str().map(String::from))
                }
                Ok(r) => {
                    first_error.get_or_insert(format!("alarming vital: status {}", r.status()));
                    None
                }
                Err(e) => {
                    first_error.get_or_insert(e.to_string());
                    None
                }
            };
            let Some(alarm) = alarm else {
                errors += 1;
                first_error.get_or_insert("the alarming vital raised no alarm".into());
                continue;
            };
            let marker = format!("/session-alarms/{alarm}/acknowledge");
            let deadline = tokio::time::Instant::from_std(t0 + plan.alarm_wait);
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Some(ev)) if matches!(ev.name.as_str(), "tile" | "update") && ev.data.contains(&marker) => {
                        lat.push(ev.at.saturating_duration_since(t0));
                        break;
                    }
                    Ok(Some(ev)) if ev.name == "expired" => bail!("the floor board stream ended (signed out)"),
                    Ok(Some(_)) => {}
                    Ok(None) => bail!("the floor board stream ended"),
                    Err(_) => {
                        errors += 1;
                        first_error.get_or_insert("no update showing the alarm in time".into());
                        break;
                    }
                }
            }
            let ack = self
                .api
                .post(self.url(&format!("/api/v1/session-alarms/{alarm}/acknowledge")))
                .bearer_auth(&self.staff.nurse_token)
                .json(&json!({"action": "kat bench: reading checked, probe repositioned"}))
                .send()
                .await;
            if !ack.is_ok_and(|r| r.status() == 200) {
                errors += 1;
            }
        }
        pb.finish_and_clear();
        let (rate, bg_errors) = background.stop().await;
        reader.abort();
        let run = Run::from_samples(lat, errors + bg_errors, first_error);
        let (p50, p99) = (run.pct_ms(50.0), run.pct_ms(99.0));
        let loaded = rate >= target::ALARM_BACKGROUND;
        Ok(Figure {
            section: "alarm → floor board",
            name: format!("alarm → floor board, {} sessions", self.sessions.len()),
            measured: format!(
                "p50 {}, p99 {} over {} alarms; background {} vitals/s",
                ms(p50),
                ms(p99),
                run.ok(),
                thousands(rate)
            ),
            limit: if loaded {
                format!("background at the asked {} vitals/s", thousands(plan.background_rate))
            } else {
                format!(
                    "background reached {} of {} vitals/s asked: the server's ingest limit under the live board",
                    thousands(rate),
                    thousands(plan.background_rate)
                )
            },
            target: format!("p99 < {} ms at ≥ {} vitals/s", target::ALARM_P99_MS, thousands(target::ALARM_BACKGROUND)),
            met: Some(p99 < target::ALARM_P99_MS && loaded),
            numbers: vec![p50, p99, rate],
            errors: run.errors,
            first_error: run.first_error.clone(),
        })
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{} ms", thousands(v))
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// A whole number with thousands separators.
fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

fn latency(run: &Run) -> String {
    format!("p50 {}, p99 {}", ms(run.pct_ms(50.0)), ms(run.pct_ms(99.0)))
}

fn ingest_figures(
    database: &'static str,
    raw: &[(usize, Run)],
    health: &[(usize, Run)],
    ingest: &[(usize, Run)],
) -> Vec<Figure> {
    let mut out = Vec::new();
    for (c, r) in raw {
        out.push(Figure {
            section: "ingest",
            name: format!("raw single-row inserts, {c} connection(s)"),
            measured: format!("{} tx/s ({})", thousands(r.rate()), latency(r)),
            limit: format!("{database}, one transaction per row, a scratch table"),
            target: String::new(),
            met: None,
            numbers: vec![r.rate(), r.pct_ms(50.0), r.pct_ms(99.0)],
            errors: r.errors,
            first_error: r.first_error.clone(),
        });
    }
    for (c, r) in health {
        out.push(Figure {
            section: "ingest",
            name: format!("GET /healthz, {c} clients"),
            measured: format!("{} req/s ({})", thousands(r.rate()), latency(r)),
            limit: "the HTTP ceiling".into(),
            target: String::new(),
            met: None,
            numbers: vec![r.rate(), r.pct_ms(50.0), r.pct_ms(99.0)],
            errors: r.errors,
            first_error: r.first_error.clone(),
        });
    }
    for (c, r) in ingest {
        // The raw run with the closest number of connections at or below the clients.
        let (rc, raw_run) = raw.iter().rfind(|(rc, _)| rc <= c).or(raw.first()).expect("a raw run");
        let (_, h) = health.iter().find(|(hc, _)| hc == c).expect("healthz at each level");
        let (vs_raw, vs_http) = (r.rate() / raw_run.rate(), r.rate() / h.rate());
        let p99 = r.pct_ms(99.0);
        let (target, met) = match (*c, database) {
            (8, "SQLite") => (
                format!("≥ {} × raw and p99 < {} ms", target::INGEST_VS_RAW, target::INGEST_P99_MS),
                Some(vs_raw >= target::INGEST_VS_RAW && p99 < target::INGEST_P99_MS),
            ),
            (8, _) => (format!("≥ {} × raw", target::INGEST_VS_RAW), Some(vs_raw >= target::INGEST_VS_RAW)),
            _ => (String::new(), None),
        };
        out.push(Figure {
            section: "ingest",
            name: format!("vitals ingest, {c} clients"),
            measured: format!("{} req/s ({})", thousands(r.rate()), latency(r)),
            limit: format!(
                "{database} raw limit {} tx/s ({rc} conn.) → {vs_raw:.2}; healthz {} req/s → {vs_http:.2}",
                thousands(raw_run.rate()),
                thousands(h.rate())
            ),
            target,
            met,
            numbers: vec![r.rate(), r.pct_ms(50.0), p99, vs_raw, vs_http],
            errors: r.errors,
            first_error: r.first_error.clone(),
        });
    }
    out
}

/// One figure per list: p50/p99 at each size and the ratio of the largest to the
/// smallest, beside the HTTP floor (healthz at one client).
fn list_figures(lists: &[(usize, Vec<Run>)], others: &[Figure]) -> Vec<Figure> {
    let floor_ms = others
        .iter()
        .find(|f| f.name == "GET /healthz, 1 clients")
        .and_then(|f| f.numbers.get(1).copied())
        .unwrap_or(f64::NAN);
    let mut out = Vec::new();
    let (Some((small_n, small)), Some((large_n, large))) = (lists.first(), lists.last()) else {
        return out;
    };
    for (i, (name, worklist, note)) in LISTS.iter().enumerate() {
        let at = |runs: &Vec<Run>| (runs[i].pct_ms(50.0), runs[i].pct_ms(99.0));
        let ((s50, s99), (l50, l99)) = (at(small), at(large));
        let ratio = l50 / s50;
        let mut measured: Vec<String> =
            lists.iter().map(|(n, runs)| format!("{n}: {}", latency(&runs[i]))).collect::<Vec<_>>();
        measured.push(format!("{} requests each", large[i].ok()));
        if !note.is_empty() {
            measured.push(note.to_string());
        }
        let flat = lists.len() < 2 || ratio <= target::FLAT_RATIO;
        let (target, met) = if *worklist {
            (
                format!("p50 < {} ms at {large_n}, flat (≤ {}×)", target::WORKLIST_P50_MS, target::FLAT_RATIO),
                Some(l50 < target::WORKLIST_P50_MS && flat),
            )
        } else {
            (format!("flat (≤ {}×)", target::FLAT_RATIO), Some(flat))
        };
        let mut numbers = vec![s50, s99, l50, l99, ratio];
        numbers.extend(lists.iter().map(|(_, runs)| runs[i].ok() as f64));
        out.push(Figure {
            section: "lists",
            name: name.to_string(),
            measured: measured.join("; "),
            limit: format!("{large_n} ÷ {small_n} patients: {ratio:.2} (p50); HTTP floor {}", ms(floor_ms)),
            target,
            met,
            numbers,
            errors: lists.iter().map(|(_, runs)| runs[i].errors).sum(),
            first_error: lists.iter().find_map(|(_, runs)| runs[i].first_error.clone()),
        });
    }
    out
}

impl Report {
    /// Every figure of every database.
    pub fn figures(&self) -> impl Iterator<Item = (&'static str, &Figure)> {
        self.databases.iter().flat_map(|d| d.figures.iter().map(move |f| (d.database, f)))
    }

    fn verdict(f: &Figure) -> &'static str {
        match f.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "",
        }
    }

    /// The plain-text report printed to standard output.
    pub fn text(&self) -> String {
        let mut s = format!("\n{}\n", self.header);
        for d in &self.databases {
            let _ = writeln!(s, "\n## {}", d.database);
            let mut section = "";
            for f in &d.figures {
                if f.section != section {
                    section = f.section;
                    let _ = writeln!(s, "\n### {section}");
                }
                let _ = writeln!(s, "{}: {}", f.name, f.measured);
                let _ = writeln!(s, "    vs {}", f.limit);
                if !f.target.is_empty() {
                    let _ = writeln!(s, "    target {}: {}", f.target, Self::verdict(f));
                }
                if f.errors > 0 {
                    let _ = writeln!(s, "    {} failed requests", f.errors);
                }
            }
        }
        s
    }

    /// The results as Markdown tables, one per database.
    pub fn markdown(&self) -> String {
        let cell = |t: &str| t.replace('|', "\\|");
        let mut s = format!("{}\n", self.header);
        for d in &self.databases {
            let _ = writeln!(s, "\n### {}\n", d.database);
            let _ = writeln!(s, "| figure | measured | against | target | |");
            let _ = writeln!(s, "|---|---|---|---|---|");
            for f in &d.figures {
                let errors = if f.errors > 0 { format!(" ({} failed)", f.errors) } else { String::new() };
                let _ = writeln!(
                    s,
                    "| {} | {}{errors} | {} | {} | {} |",
                    cell(&f.name),
                    cell(&f.measured),
                    cell(&f.limit),
                    cell(&f.target),
                    Self::verdict(f)
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(16456.2), "16,456");
        assert_eq!(thousands(679.0), "679");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(ms(1410.0), "1,410 ms");
        assert_eq!(ms(2.25), "2.2 ms");
        assert_eq!(ms(0.04), "0.04 ms");
    }

    #[test]
    fn options_are_checked() {
        assert!(Plan::new(&Options { sizes: Some(vec![0]), ..Options::default() }).is_err());
        assert!(Plan::new(&Options { seconds: Some(-1.0), ..Options::default() }).is_err());
        let p = Plan::new(&Options { sizes: Some(vec![20, 10, 10]), ..Options::default() }).unwrap();
        assert_eq!(p.sizes, vec![10, 20]);
        assert_eq!(p.sessions, 10, "no more sessions than patients");
        let q = Plan::new(&Options { quick: true, ..Options::default() }).unwrap();
        assert!(q.level_time < Duration::from_secs(1));
    }
}
