//! The controlled-substance ledger's repository (`LedgerRepo`; schema `0024_ledger.sql`):
//! entries appended after the chain's head row (one row read and held, whatever the
//! ledger's length), each with the balances it records, and the current state of
//! containers, cases and losses beside them.

use crate::SqlTx;
use crate::dialect::{Conn, SqlRow, get, sql};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{ContainerId, LedgerEntryId};
use kat_core::ledger::chain::GENESIS;
use kat_core::ledger::{
    CaseRef, ChainedEntry, Container, Discrepancy, LedgerEntry, LedgerProduct, LossStatus, Registration,
    StorageLocation, link,
};
use kat_store::ledger::{
    ContainerFilter, LedgerRepo, LogLine, ledger_from_json as from_json, ledger_json as json, micros_column,
};
use kat_store::{StoreError, StoreResult};

const ENTRY_COLUMNS: &str = "seq, content, prev_hash, hash";

fn entry_from_row(row: &impl SqlRow) -> StoreResult<ChainedEntry> {
    let content: String = get(row, "content")?;
    Ok(ChainedEntry {
        seq: get(row, "seq")?,
        entry: from_json::<LedgerEntry>("ledger entry", &content)?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

/// A container row: its state, checked against the balance column the database guards.
fn container_from_row(row: &impl SqlRow) -> StoreResult<Container> {
    let content: String = get(row, "content")?;
    let c: Container = from_json("ledger container", &content)?;
    let on_hand: i64 = get(row, "on_hand")?;
    if micros_column(c.on_hand())? != on_hand {
        return Err(StoreError::Corrupt(format!("container {}: its balance column disagrees with its state", c.id())));
    }
    Ok(c)
}

fn loss_from_row(row: &impl SqlRow) -> StoreResult<LossStatus> {
    Ok(LossStatus {
        loss: get(row, "entry_id")?,
        discovered_at: get(row, "discovered_at")?,
        reportable: get(row, "reportable")?,
        dea_notified: get(row, "dea_notified")?,
        form106_filed: get(row, "form106_filed")?,
    })
}

const LOSS_COLUMNS: &str = "entry_id, discovered_at, reportable, dea_notified, form106_filed";

impl<C: Conn> SqlTx<C> {
    async fn read_head(&mut self, lock: &'static str) -> StoreResult<Option<(i64, String)>> {
        let row =
            self.conn.fetch_one(sql(format!("SELECT seq, hash FROM ledger_chain_head WHERE id = 1{lock}"))).await?;
        let seq: Option<i64> = get(&row, "seq")?;
        let hash: Option<String> = get(&row, "hash")?;
        Ok(seq.zip(hash))
    }
}

#[async_trait]
impl<C: Conn> LedgerRepo for SqlTx<C> {
    async fn ledger_registrant(&mut self) -> StoreResult<Option<Registration>> {
        let row = self.conn.fetch_optional(sql("SELECT content FROM ledger_registrant WHERE id = 1")).await?;
        row.map(|r| from_json("registrant", &get::<String, _>(&r, "content")?)).transpose()
    }

    async fn put_ledger_registrant(&mut self, r: &Registration, at: Timestamp) -> StoreResult<()> {
        let q = sql("INSERT INTO ledger_registrant (id, dea, content, updated_at) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET dea = excluded.dea, content = excluded.content, \
                     updated_at = excluded.updated_at")
        .bind(r.dea.as_str())
        .bind(json(r))
        .bind(at);
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn insert_storage_location(&mut self, l: &StorageLocation, at: Timestamp) -> StoreResult<()> {
        let q = sql("INSERT INTO ledger_locations (id, name, content, created_at) VALUES ($1, $2, $3, $4)")
            .bind(l.id)
            .bind(l.name.as_str())
            .bind(json(l))
            .bind(at);
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn storage_locations(&mut self) -> StoreResult<Vec<StorageLocation>> {
        let rows = self.conn.fetch_all(sql("SELECT content FROM ledger_locations ORDER BY name, id")).await?;
        rows.iter().map(|r| from_json("storage location", &get::<String, _>(r, "content")?)).collect()
    }

    async fn put_ledger_product(&mut self, p: &LedgerProduct) -> StoreResult<()> {
        let q = sql("INSERT INTO ledger_products (ndc, name, content) VALUES ($1, $2, $3) \
                     ON CONFLICT (ndc) DO UPDATE SET name = excluded.name, content = excluded.content")
        .bind(p.ndc().digits())
        .bind(p.name().as_str())
        .bind(json(p));
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn ledger_products(&mut self) -> StoreResult<Vec<LedgerProduct>> {
        let rows = self.conn.fetch_all(sql("SELECT content FROM ledger_products ORDER BY name, ndc")).await?;
        rows.iter().map(|r| from_json("ledger product", &get::<String, _>(r, "content")?)).collect()
    }

    async fn hold_ledger_head(&mut self) -> StoreResult<Option<(i64, String)>> {
        self.read_head(C::FOR_UPDATE).await
    }

    async fn ledger_head(&mut self) -> StoreResult<Option<(i64, String)>> {
        self.read_head("").await
    }

    async fn append_ledger_entry(
        &mut self,
        entry: &LedgerEntry,
        containers: &[Container],
    ) -> StoreResult<ChainedEntry> {
        let head = self.read_head(C::FOR_UPDATE).await?;
        let (seq, prev) = match head {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        let chained = link(&prev, seq, entry.clone());
        let q = sql("INSERT INTO ledger_entries (seq, id, at, kind, by_user, content, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(seq)
        .bind(entry.id)
        .bind(entry.at)
        .bind(entry.kind.name())
        .bind(entry.by.user)
        .bind(json(entry))
        .bind(&chained.prev_hash)
        .bind(&chained.hash);
        self.conn.execute(q).await?;
        for c in containers {
            let q = sql("INSERT INTO ledger_containers \
                         (id, receipt_id, ndc, lot, expiry, location_id, status, ended, on_hand, content, last_seq) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                         ON CONFLICT (id) DO UPDATE SET location_id = excluded.location_id, \
                         status = excluded.status, ended = excluded.ended, on_hand = excluded.on_hand, \
                         content = excluded.content, last_seq = excluded.last_seq")
            .bind(c.id())
            .bind(c.receipt())
            .bind(c.product().ndc().digits())
            .bind(c.lot().as_str())
            .bind(c.expiry())
            .bind(c.location())
            .bind(c.state().as_str())
            .bind(c.ended().is_some())
            .bind(micros_column(c.on_hand())?)
            .bind(json(c))
            .bind(seq);
            self.conn.execute(q).await?;
        }
        for b in &entry.after {
            let q = sql("INSERT INTO ledger_balances (container_id, seq, on_hand) VALUES ($1, $2, $3)")
                .bind(b.container)
                .bind(seq)
                .bind(micros_column(b.on_hand)?);
            self.conn.execute(q).await?;
        }
        let q = sql("UPDATE ledger_chain_head SET seq = $1, hash = $2 WHERE id = 1").bind(seq).bind(&chained.hash);
        self.conn.execute(q).await?;
        Ok(chained)
    }

    async fn ledger_container(&mut self, id: ContainerId) -> StoreResult<Option<Container>> {
        let row = self
            .conn
            .fetch_optional(sql("SELECT content, on_hand FROM ledger_containers WHERE id = $1").bind(id))
            .await?;
        row.as_ref().map(container_from_row).transpose()
    }

    async fn ledger_containers(
        &mut self,
        filter: &ContainerFilter,
        after: Option<ContainerId>,
        limit: u32,
    ) -> StoreResult<Vec<Container>> {
        let mut q = sql("SELECT content, on_hand FROM ledger_containers WHERE TRUE");
        if let Some(l) = filter.location {
            q.push(" AND location_id = ").push_bind(l);
        }
        if let Some(n) = &filter.ndc {
            q.push(" AND ndc = ").push_bind(n.digits().to_string());
        }
        if !filter.include_ended {
            q.push(" AND ended = FALSE");
        }
        if let Some(a) = after {
            q.push(" AND id > ").push_bind(a);
        }
        q.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
        self.conn.fetch_all(q).await?.iter().map(container_from_row).collect()
    }

    async fn container_log(&mut self, id: ContainerId, after_seq: i64, limit: u32) -> StoreResult<Vec<LogLine>> {
        let q = sql("SELECT e.seq, e.content, e.prev_hash, e.hash, b.on_hand FROM ledger_balances b \
                     JOIN ledger_entries e ON e.seq = b.seq \
                     WHERE b.container_id = $1 AND b.seq > $2 ORDER BY b.seq LIMIT $3")
        .bind(id)
        .bind(after_seq)
        .bind(i64::from(limit));
        let rows = self.conn.fetch_all(q).await?;
        rows.iter()
            .map(|r| {
                let entry = entry_from_row(r)?;
                let on_hand: i64 = get(r, "on_hand")?;
                let recorded = entry.entry.after.iter().find(|b| b.container == id).map(|b| b.on_hand);
                match recorded {
                    Some(q) if micros_column(q)? == on_hand => Ok(LogLine { entry, on_hand: q }),
                    _ => Err(StoreError::Corrupt(format!(
                        "ledger entry {}: its balance row for container {id} disagrees with the entry",
                        entry.seq
                    ))),
                }
            })
            .collect()
    }

    async fn ledger_entries_between(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        kind: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChainedEntry>> {
        let mut q = sql(format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE at >= $1 AND at < $2 AND seq > $3"))
            .bind(from)
            .bind(to)
            .bind(after_seq);
        if let Some(k) = kind {
            q.push(" AND kind = ").push_bind(k);
        }
        q.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
        self.conn.fetch_all(q).await?.iter().map(entry_from_row).collect()
    }

    async fn ledger_chain_page(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        let q = sql(format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(after_seq)
            .bind(i64::from(limit));
        self.conn.fetch_all(q).await?.iter().map(entry_from_row).collect()
    }

    async fn ledger_entry(&mut self, id: LedgerEntryId) -> StoreResult<Option<ChainedEntry>> {
        let q = sql(format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.as_ref().map(entry_from_row).transpose()
    }

    async fn put_ledger_case(&mut self, case: &Discrepancy) -> StoreResult<()> {
        let q = sql("INSERT INTO ledger_cases (count_id, container_id, opened_at, resolved_at, content) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (count_id, container_id) DO UPDATE SET resolved_at = excluded.resolved_at, \
                     content = excluded.content")
        .bind(case.case.count)
        .bind(case.case.container)
        .bind(case.opened_at)
        .bind(case.resolution.as_ref().map(|r| r.at))
        .bind(json(case));
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn ledger_case(&mut self, case: CaseRef) -> StoreResult<Option<Discrepancy>> {
        let q = sql("SELECT content FROM ledger_cases WHERE count_id = $1 AND container_id = $2")
            .bind(case.count)
            .bind(case.container);
        let row = self.conn.fetch_optional(q).await?;
        row.map(|r| from_json("discrepancy case", &get::<String, _>(&r, "content")?)).transpose()
    }

    async fn open_ledger_cases(&mut self) -> StoreResult<Vec<Discrepancy>> {
        let q = sql("SELECT content FROM ledger_cases WHERE resolved_at IS NULL \
                     ORDER BY opened_at, count_id, container_id");
        let rows = self.conn.fetch_all(q).await?;
        rows.iter().map(|r| from_json("discrepancy case", &get::<String, _>(r, "content")?)).collect()
    }

    async fn put_ledger_loss(&mut self, loss: &LossStatus) -> StoreResult<()> {
        let q = sql("INSERT INTO ledger_losses (entry_id, discovered_at, reportable, dea_notified, form106_filed) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (entry_id) DO UPDATE SET dea_notified = excluded.dea_notified, \
                     form106_filed = excluded.form106_filed")
        .bind(loss.loss)
        .bind(loss.discovered_at)
        .bind(loss.reportable)
        .bind(loss.dea_notified)
        .bind(loss.form106_filed);
        self.conn.execute(q).await?;
        Ok(())
    }

    async fn ledger_loss(&mut self, id: LedgerEntryId) -> StoreResult<Option<LossStatus>> {
        let q = sql(format!("SELECT {LOSS_COLUMNS} FROM ledger_losses WHERE entry_id = $1")).bind(id);
        self.conn.fetch_optional(q).await?.as_ref().map(loss_from_row).transpose()
    }

    async fn open_ledger_losses(&mut self) -> StoreResult<Vec<LossStatus>> {
        let q = sql(format!(
            "SELECT {LOSS_COLUMNS} FROM ledger_losses WHERE form106_filed IS NULL AND reportable = TRUE \
             ORDER BY discovered_at, entry_id"
        ));
        self.conn.fetch_all(q).await?.iter().map(loss_from_row).collect()
    }
}
