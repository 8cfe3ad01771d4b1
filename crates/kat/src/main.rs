//! `kat`: the command line. Everything it does lives in the `kat` library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kat::commands;
use kat::settings::{Overrides, Settings};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "kat", version, about = "A clinical platform for ketamine-assisted therapy programs")]
struct Cli {
    /// Configuration file (default: ./kat.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Default)]
struct DbArgs {
    /// Directory of the embedded SQLite database.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL (or sqlite://PATH).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

/// HTTPS served by kat itself.
#[derive(clap::Args, Clone, Default)]
struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the clinic's server (HTTPS with --tls-cert and --tls-key).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        db: DbArgs,
        /// Allow creating a new, empty clinic database where one does not exist yet.
        #[arg(long)]
        init: bool,
        /// Start even when a trigger keeping the audit log append-only is missing (for
        /// recovery only; the start is logged and audited).
        #[arg(long)]
        allow_missing_audit_guards: bool,
    },
    /// Run a demo clinic with synthetic patients (reset at every start).
    Demo {
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a consistent copy of the SQLite database (safe while serving), 0600;
    /// age-encrypted with --encrypt-to. SQLite only: for PostgreSQL use pg_dump.
    Backup {
        /// The new backup file.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Encrypt the backup to this age X25519 recipient (age1…, as age-keygen prints);
        /// repeat for several (any one of their identities decrypts it).
        #[arg(long, value_name = "RECIPIENT")]
        encrypt_to: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Restore a `kat backup` into an empty place (SQLite only: for PostgreSQL use
    /// pg_restore). The copy is checked before it takes its place: SQLite's integrity
    /// check, then the audit log's hash chain as `kat audit verify` walks it; exits 1
    /// naming what is wrong.
    Restore {
        /// The backup file (plain, or age-encrypted).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The age identity file that decrypts an encrypted backup (AGE-SECRET-KEY-1…).
        #[arg(long, value_name = "KEYFILE")]
        identity: Option<PathBuf>,
        /// Replace an existing database (stop kat first).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Score a CSV of PHQ-9, GAD-7 or PCL-5 answers (columns id, q1…qN) to standard
    /// output. Exits 1 when a row had an invalid value (every row is still written).
    Score {
        /// phq9, gad7 or pcl5.
        #[arg(long)]
        instrument: String,
        /// PCL-5 probable-PTSD cut-off (31 to 33).
        #[arg(long, default_value_t = 33)]
        pcl5_cutoff: u8,
        /// The CSV file (`-` for standard input).
        file: PathBuf,
    },
    /// Measure kat against this machine's limits on a synthetic clinic (scratch
    /// databases only; see BENCHMARKS.md).
    Bench {
        /// Also measure on this PostgreSQL server (a scratch database is created and dropped).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Clinic sizes in patients (default 200,2000).
        #[arg(long, value_delimiter = ',', value_name = "N,N")]
        sizes: Option<Vec<usize>>,
        /// Seconds per load level (default 5).
        #[arg(long, value_name = "N")]
        seconds: Option<f64>,
        /// Background vitals per second during the alarm latency (default 1000).
        #[arg(long, value_name = "N")]
        background_rate: Option<f64>,
        /// Tiny sizes and short runs (a smoke test; the numbers mean nothing).
        #[arg(long)]
        quick: bool,
        /// Also write the results as Markdown tables to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check the audit log's hash chain, or print its head.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The controlled-substance ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Show the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a staff account; the password is asked for twice without echo on a terminal,
    /// else read from the first line of standard input.
    Add {
        name: String,
        /// admin, prescriber, nurse, therapist or front_desk.
        #[arg(long)]
        role: String,
        /// The person's full name, as shown on pages.
        #[arg(long)]
        display_name: Option<String>,
        /// Mark the account as the clinic's medical director (may override hard stops).
        #[arg(long)]
        medical_director: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account (it can no longer sign in or use tokens).
    Disable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled account.
    Enable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a temporary password for a staff account (asked for like `user add`'s); the
    /// account must change it at its next sign-in, and its sign-ins end now.
    ResetPassword {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lift a sign-in lock on an account (too many failed sign-ins).
    Unlock {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Turn off an account's two-step sign-in (a lost phone, or the last admin locked
    /// out): its secret and recovery codes are removed and its sign-ins end; it enrols
    /// again at its next sign-in if its role must.
    ResetMfa {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new bearer token for the account NAME (created as an API client if it
    /// does not exist).
    Create {
        name: String,
        /// Role of a new API-client account (default front_desk).
        #[arg(long)]
        role: Option<String>,
        /// A label to recognise the token by.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by id, or every token of an account by its name.
    Revoke {
        id_or_name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List tokens.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Walk the ledger's hash chain and recompute every container's balance; exits 1
    /// naming the first broken link or inconsistent entry.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole log's hash chain; exits 1 naming the first broken link.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the chain's head (sequence number and hash), to keep a copy elsewhere: a
    /// log rewritten since no longer ends at it.
    Head {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Print {
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the documented example configuration.
    Example,
}

fn settings(config: &Option<PathBuf>, bind: Option<String>, db: DbArgs) -> Result<Settings> {
    settings_tls(config, bind, TlsArgs::default(), db)
}

fn settings_tls(config: &Option<PathBuf>, bind: Option<String>, tls: TlsArgs, db: DbArgs) -> Result<Settings> {
    Settings::load(&Overrides {
        config: config.clone(),
        bind,
        tls_cert: tls.tls_cert,
        tls_key: tls.tls_key,
        data_dir: db.data_dir,
        database_url: db.database_url,
    })
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if settings.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { bind, tls, db, init, allow_missing_audit_guards } => {
            let s = settings_tls(&cli.config, bind, tls, db)?;
            init_logging(&s);
            commands::serve(&s, init, allow_missing_audit_guards).await
        }
        Command::Demo { bind, tls, mut db } => {
            // The demo keeps its data apart from a real clinic's default directory.
            if db.data_dir.is_none() && db.database_url.is_none() && std::env::var_os("KAT_DATA_DIR").is_none() {
                db.data_dir = Some(PathBuf::from("./kat-demo-data"));
            }
            let s = settings_tls(&cli.config, bind, tls, db)?;
            init_logging(&s);
            commands::demo(&s).await
        }
        Command::User { command } => match command {
            UserCommand::Add { name, role, display_name, medical_director, db } => {
                let s = settings(&cli.config, None, db)?;
                let password = commands::read_new_password(&name)?;
                commands::user_add_with_password(&s, &name, &role, display_name.as_deref(), &password).await?;
                if medical_director {
                    commands::user_set_medical_director(
                        &s,
                        &name,
                        true,
                        "named medical director when the account was made (kat user add --medical-director)",
                    )
                    .await?;
                }
                Ok(())
            }
            UserCommand::List { db } => commands::user_list(&settings(&cli.config, None, db)?).await,
            UserCommand::Disable { name, db } => {
                commands::user_set_active(&settings(&cli.config, None, db)?, &name, false).await
            }
            UserCommand::Enable { name, db } => {
                commands::user_set_active(&settings(&cli.config, None, db)?, &name, true).await
            }
            UserCommand::ResetPassword { name, db } => {
                let s = settings(&cli.config, None, db)?;
                let password = commands::read_new_password(&name)?;
                commands::user_reset_password_with(&s, &name, &password).await
            }
            UserCommand::Unlock { name, db } => commands::user_unlock(&settings(&cli.config, None, db)?, &name).await,
            UserCommand::ResetMfa { name, db } => {
                commands::user_reset_mfa(&settings(&cli.config, None, db)?, &name).await
            }
        },
        Command::Token { command } => match command {
            TokenCommand::Create { name, role, label, db } => {
                commands::token_create(&settings(&cli.config, None, db)?, &name, role.as_deref(), label.as_deref())
                    .await
            }
            TokenCommand::Revoke { id_or_name, db } => {
                commands::token_revoke(&settings(&cli.config, None, db)?, &id_or_name).await
            }
            TokenCommand::List { db } => commands::token_list(&settings(&cli.config, None, db)?).await,
        },
        Command::Ledger { command } => match command {
            LedgerCommand::Verify { db } => commands::ledger_verify(&settings(&cli.config, None, db)?).await,
        },
        Command::Audit { command } => match command {
            AuditCommand::Verify { db } => commands::audit_verify(&settings(&cli.config, None, db)?).await,
            AuditCommand::Head { db } => commands::audit_head(&settings(&cli.config, None, db)?).await,
        },
        Command::Backup { to, encrypt_to, db } => {
            commands::backup(&settings(&cli.config, None, db)?, &to, &encrypt_to).await
        }
        Command::Restore { from, identity, force, db } => {
            commands::restore(&settings(&cli.config, None, db)?, &from, identity.as_deref(), force).await
        }
        Command::Score { instrument, pcl5_cutoff, file } => {
            let instrument = kat::score::instrument_named(&instrument)?;
            let stdout = std::io::stdout().lock();
            let summary = if file.as_os_str() == "-" {
                kat::score::score_csv(instrument, pcl5_cutoff, std::io::stdin().lock(), stdout)?
            } else {
                let f = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
                kat::score::score_csv(instrument, pcl5_cutoff, f, stdout)?
            };
            if summary.invalid > 0 {
                eprintln!("{} of {} rows had invalid values and were not scored", summary.invalid, summary.rows);
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Bench { database_url, sizes, seconds, background_rate, quick, out } => {
            // The in-process server's log (its errors behind a failed request) only when
            // asked for: KAT_LOG=error.
            if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("KAT_LOG") {
                tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
            }
            let options = kat::bench::Options { database_url, sizes, seconds, quick, out, background_rate };
            kat::bench::run(&options).await.map(|_| ())
        }
        Command::Config { command } => match command {
            ConfigCommand::Print { bind, db } => commands::config_print(&settings(&cli.config, bind, db)?),
            ConfigCommand::Example => {
                print!("{}", kat::settings::EXAMPLE);
                Ok(())
            }
        },
    }
}
