//! Running the HTTP server (HTTPS when given a certificate): bind, serve until SIGTERM
//! or Ctrl-C, drain, close the database.

use anyhow::{Context, Result};
use kat_store::Store;
use kat_web::clock::{Clock, SystemClock};
use kat_web::config::WebConfig;
use kat_web::{AppState, router};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A server running in the background (used by tests and by `serve`).
pub struct Running {
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(self) -> Result<()> {
        let _ = self.shutdown.send(());
        self.handle.await.context("server task")?.context("server")?;
        Ok(())
    }
}

/// Starts serving plain HTTP on an already-bound listener.
pub fn start(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: WebConfig,
    clock: Arc<dyn Clock>,
) -> Result<Running> {
    start_with(listener, None, store, config, clock)
}

/// Starts serving on an already-bound listener: HTTPS with `tls` (a rustls
/// configuration, [`crate::tls::server_config`]), else plain HTTP. Serving TLS itself,
/// kat knows every request came over HTTPS: the session cookie is `Secure` and
/// `__Host-` prefixed, and responses carry HSTS.
pub fn start_with(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    store: Arc<dyn Store>,
    mut config: WebConfig,
    clock: Arc<dyn Clock>,
) -> Result<Running> {
    let addr = listener.local_addr()?;
    config.serves_tls = tls.is_some();
    let state = AppState::new(store, config, clock);
    spawn_session_sweeper(state.clone());
    // On PostgreSQL, the live screens' events cross to the other kat processes.
    kat_web::live::spawn_relay(&state.live, state.store.clone());
    let live = state.live.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Live screens never disconnect by themselves: their streams are ended first so the
    // graceful shutdown does not wait on them.
    let handle = match tls {
        None => tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                    live.close();
                })
                .await
        }),
        Some(tls) => {
            let shutdown = axum_server::Handle::new();
            let on_signal = shutdown.clone();
            tokio::spawn(async move {
                let _ = rx.await;
                live.close();
                on_signal.graceful_shutdown(None);
            });
            let acceptor =
                axum_server::tls_rustls::RustlsAcceptor::new(axum_server::tls_rustls::RustlsConfig::from_config(tls));
            tokio::spawn(
                axum_server::Server::<SocketAddr>::from_listener(listener)
                    .acceptor(acceptor)
                    .handle(shutdown)
                    .serve(app),
            )
        }
    };
    Ok(Running { addr, shutdown: tx, handle })
}

/// Removes timed-out sessions and half-done sign-ins every few minutes, so the tables do
/// not grow.
fn spawn_session_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            let now = state.clock.now();
            if let Err(e) = kat_app::auth::sweep_sessions(
                state.store.as_ref(),
                now,
                state.config.idle_timeout,
                state.config.absolute_timeout,
            )
            .await
            {
                tracing::warn!(error = %e, "session sweep failed");
            }
            if let Err(e) = kat_app::mfa::sweep_challenges(state.store.as_ref(), now).await {
                tracing::warn!(error = %e, "sign-in challenge sweep failed");
            }
        }
    });
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Serves until a shutdown signal, then drains and closes the database so every
/// acknowledged write is on disk. With `tls`, over HTTPS.
pub async fn serve_until_signal(
    bind: &str,
    tls: Option<Arc<rustls::ServerConfig>>,
    store: Arc<dyn Store>,
    config: WebConfig,
) -> Result<()> {
    let listener = TcpListener::bind(bind).await.with_context(|| format!("binding {bind}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let running = start_with(listener, tls, store.clone(), config, Arc::new(SystemClock))?;
    eprintln!("kat is listening on {scheme}://{}", running.addr);
    shutdown_signal().await;
    eprintln!("shutting down: finishing requests in flight…");
    running.stop().await?;
    store.close().await;
    eprintln!("stopped cleanly");
    Ok(())
}
