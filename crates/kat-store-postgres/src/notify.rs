//! Events across processes: `NOTIFY` and `LISTEN` on [`kat_store::EVENTS_CHANNEL`]
//! ([`kat_store::Store::notify`], [`kat_store::Store::listen`]).

use super::map_err;
use async_trait::async_trait;
use kat_store::{EVENTS_CHANNEL, Listener, StoreError, StoreResult};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

pub(super) async fn notify(pool: &PgPool, payload: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(EVENTS_CHANNEL).bind(payload).execute(pool).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn listen(pool: &PgPool) -> StoreResult<Box<dyn Listener>> {
    // One connection of the pool, held while listening; sqlx reconnects it after a loss.
    let mut listener = PgListener::connect_with(pool).await.map_err(map_err)?;
    listener.listen(EVENTS_CHANNEL).await.map_err(map_err)?;
    Ok(Box::new(PgEvents { listener: Some(listener) }))
}

struct PgEvents {
    /// `None` once the pool closed: the connection is given back so that closing the
    /// store does not wait for this listener.
    listener: Option<PgListener>,
}

#[async_trait]
impl Listener for PgEvents {
    async fn recv(&mut self) -> StoreResult<String> {
        let Some(listener) = self.listener.as_mut() else {
            return Err(StoreError::Unavailable("the store is closed".into()));
        };
        match listener.recv().await {
            Ok(n) => Ok(n.payload().to_string()),
            Err(sqlx::Error::PoolClosed) => {
                self.listener = None;
                Err(StoreError::Unavailable("the store is closed".into()))
            }
            Err(e) => Err(map_err(e)),
        }
    }
}
