//! Choosing and opening the database.

use crate::settings::{DEFAULT_DATA_DIR, Settings};
use anyhow::{Context, Result, bail};
use kat_store::Store;
use kat_store_postgres::PostgresStore;
use kat_store_sqlite::{Durability, OpenMode, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the clinic's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        let url = settings.database_url.trim();
        if url.is_empty() {
            return Ok(Location::Sqlite(settings.data_dir.join("kat.db")));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_string()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        bail!("database_url: expected postgres://… or sqlite://PATH, got `{}`", crate::settings::redact_url(url))
    }

    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("SQLite at {}", p.display()),
            Location::Postgres(u) => format!("PostgreSQL at {}", crate::settings::redact_url(u)),
        }
    }
}

/// Whether a missing SQLite file may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Open only an existing database.
    Never,
    /// Create a new clinic where it is safe: the default data directory, an empty
    /// directory, or anywhere when the operator said `--init`.
    WhenSafe { init: bool },
}

fn is_default_dir(dir: &Path) -> bool {
    dir == Path::new(DEFAULT_DATA_DIR) || dir == Path::new("kat-data")
}

/// Decides whether to create a missing SQLite file at `db`, refusing when the path
/// looks like a typo for an existing deployment (a directory that exists and holds
/// other files but no `kat.db`, or a directory that does not exist and is not the
/// default).
pub fn may_create(db: &Path, create: Create) -> Result<bool> {
    if db.exists() {
        return Ok(false);
    }
    let Create::WhenSafe { init } = create else {
        bail!("no kat database at {}; check the path", db.display());
    };
    if init {
        return Ok(true);
    }
    let dir = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        if is_default_dir(dir) {
            return Ok(true);
        }
        bail!(
            "{} does not exist. If this is a new clinic, create the directory first (mkdir -p {}) \
             or pass --init; otherwise check the path for a typo",
            dir.display(),
            dir.display()
        );
    }
    let has_other_files =
        std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.next().is_some();
    if has_other_files {
        bail!(
            "{} holds files but no kat.db. Refusing to create an empty clinic next to them: \
             check the path for a typo, or pass --init to start a new clinic there",
            dir.display()
        );
    }
    Ok(true)
}

/// Creates the data directory (and missing parents) for the owner alone (0700 on Unix);
/// a directory that exists is left as it is.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Opens the clinic's database, applying pending migrations; a SQLite commit is synced
/// to disk ([`Durability::Full`]).
pub async fn open(location: &Location, create: Create) -> Result<Arc<dyn Store>> {
    open_with(location, create, Durability::default()).await
}

/// [`open`] with the clinic's `sqlite_synchronous` choice (SQLite only).
pub async fn open_with(location: &Location, create: Create, durability: Durability) -> Result<Arc<dyn Store>> {
    match location {
        Location::Sqlite(db) => {
            let mode = if may_create(db, create)? {
                if let Some(dir) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                    create_private_dir(dir)?;
                }
                OpenMode::CreateIfMissing
            } else {
                OpenMode::MustExist
            };
            let store = SqliteStore::open_with(db, mode, durability)
                .await
                .with_context(|| format!("opening SQLite database {}", db.display()))?;
            Ok(Arc::new(store))
        }
        Location::Postgres(url) => {
            let store =
                PostgresStore::connect(url).await.with_context(|| format!("connecting to {}", location.describe()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The SQLite store itself, for commands only SQLite has (`backup`).
pub async fn open_sqlite(db: &Path) -> Result<SqliteStore> {
    SqliteStore::open(db, OpenMode::MustExist)
        .await
        .with_context(|| format!("opening SQLite database {}", db.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let typo = tmp.path().join("kat-dtaa").join("kat.db");
        let err = may_create(&typo, Create::WhenSafe { init: false }).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(may_create(&typo, Create::WhenSafe { init: true }).unwrap());
    }

    #[test]
    fn a_directory_with_other_files_is_refused_but_an_empty_one_is_fine() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("kat.db");
        assert!(may_create(&db, Create::WhenSafe { init: false }).unwrap());
        std::fs::write(tmp.path().join("kat.db.bak"), b"x").unwrap();
        assert!(may_create(&db, Create::WhenSafe { init: false }).is_err());
        assert!(may_create(&db, Create::Never).is_err());
    }

    #[test]
    fn locations_come_from_the_url_or_the_data_dir() {
        let mut s = Settings::default();
        assert_eq!(Location::from_settings(&s).unwrap(), Location::Sqlite(PathBuf::from("./kat-data/kat.db")));
        s.database_url = "postgres://u@h/db".into();
        assert!(matches!(Location::from_settings(&s).unwrap(), Location::Postgres(_)));
        s.database_url = "sqlite:///tmp/x.db".into();
        assert_eq!(Location::from_settings(&s).unwrap(), Location::Sqlite(PathBuf::from("/tmp/x.db")));
        s.database_url = "mysql://x".into();
        assert!(Location::from_settings(&s).is_err());
    }
}
