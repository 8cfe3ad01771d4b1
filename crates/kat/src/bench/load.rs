//! The load harness: closed-loop clients for a bounded time and count, latency
//! percentiles, a paced background load, and a reader of server-sent events.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub type Call = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What one bounded run measured.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Latencies of the successful calls, sorted.
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

impl Run {
    pub fn ok(&self) -> u64 {
        self.latencies.len() as u64
    }

    /// Successful calls per second.
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.ok() as f64 / s } else { 0.0 }
    }

    /// The `p`-th percentile latency in milliseconds (nearest rank); 0 with no sample.
    pub fn pct_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }

    pub fn from_samples(mut latencies: Vec<Duration>, errors: u64, first_error: Option<String>) -> Self {
        latencies.sort();
        let elapsed = latencies.iter().sum();
        Self { latencies, errors, first_error, elapsed }
    }
}

/// The `p`-th percentile (0–100, nearest rank) of sorted latencies, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// Runs `clients` concurrent clients, each calling `call(n)` back to back (`n` counts the
/// calls of all clients), until `duration` has passed or `max_calls` were started.
pub async fn closed_loop<F>(clients: usize, duration: Duration, max_calls: u64, call: F) -> Run
where
    F: Fn(u64) -> Call + Send + Sync + 'static,
{
    let call = Arc::new(call);
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let (call, counter) = (call.clone(), counter.clone());
        set.spawn(async move {
            let mut lat = Vec::new();
            let (mut errors, mut first) = (0u64, None);
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= max_calls {
                    break;
                }
                let t = Instant::now();
                match call(n).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first.get_or_insert(e);
                    }
                }
            }
            (lat, errors, first)
        });
    }
    let mut run = Run::default();
    while let Some(r) = set.join_next().await {
        match r {
            Ok((lat, errors, first)) => {
                run.latencies.extend(lat);
                run.errors += errors;
                if run.first_error.is_none() {
                    run.first_error = first;
                }
            }
            Err(e) => {
                run.errors += 1;
                run.first_error.get_or_insert(e.to_string());
            }
        }
    }
    run.elapsed = start.elapsed();
    run.latencies.sort();
    run
}

/// A background load at about `rate` calls per second over `workers` clients (as fast
/// as the server takes them when it cannot keep up), at most `max_calls`, until stopped.
pub struct Background {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    started: Instant,
    tasks: tokio::task::JoinSet<()>,
}

impl Background {
    pub fn start<F>(workers: usize, rate: f64, max_calls: u64, call: F) -> Self
    where
        F: Fn(u64) -> Call + Send + Sync + 'static,
    {
        let call = Arc::new(call);
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let counter = Arc::new(AtomicU64::new(0));
        let period = Duration::from_secs_f64(workers.max(1) as f64 / rate.max(1.0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers.max(1) {
            let (call, stop, sent, errors, counter) =
                (call.clone(), stop.clone(), sent.clone(), errors.clone(), counter.clone());
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    if n >= max_calls || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match call(n).await {
                        Ok(()) => sent.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
        Self { stop, sent, errors, started: Instant::now(), tasks }
    }

    /// Stops the load and waits for the calls in flight; returns (calls per second
    /// achieved, errors).
    pub async fn stop(mut self) -> (f64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let elapsed = self.started.elapsed().as_secs_f64();
        while self.tasks.join_next().await.is_some() {}
        let sent = self.sent.load(Ordering::Relaxed) as f64;
        (if elapsed > 0.0 { sent / elapsed } else { 0.0 }, self.errors.load(Ordering::Relaxed))
    }
}

/// One server-sent event: when it arrived, its name and its data.
pub struct Event {
    pub at: Instant,
    pub name: String,
    pub data: String,
}

/// Reads a `text/event-stream` response in the background, timestamping each named
/// event as its last byte arrives. Ends when the stream does or the receiver is dropped.
pub fn read_events(mut response: reqwest::Response) -> (mpsc::UnboundedReceiver<Event>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if !name.is_empty() && tx.send(Event { at, name, data: data.join("\n") }).is_err() {
                    return;
                }
            }
        }
    });
    (rx, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&v, 50.0), 50.0);
        assert_eq!(percentile_ms(&v, 99.0), 99.0);
        assert_eq!(percentile_ms(&v, 100.0), 100.0);
        assert_eq!(percentile_ms(&[Duration::from_millis(7)], 99.0), 7.0);
        assert_eq!(percentile_ms(&[], 50.0), 0.0);
    }

    #[tokio::test]
    async fn a_closed_loop_stops_at_its_count_and_counts_errors() {
        let run = closed_loop(4, Duration::from_secs(5), 10, |n| {
            Box::pin(async move { if n % 5 == 0 { Err(format!("call {n}")) } else { Ok(()) } })
        })
        .await;
        assert_eq!(run.ok() + run.errors, 10);
        assert_eq!(run.errors, 2);
        assert!(run.elapsed < Duration::from_secs(5));
    }
}
