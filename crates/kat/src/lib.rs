//! The `kat` binary as a library: configuration, opening the database, starting the
//! server (over HTTPS too), the demo clinic, the operator commands and `kat bench`. `main.rs` only parses the
//! command line; the integration tests call these functions directly.

pub mod backup;
pub mod bench;
pub mod clinic_policy;
pub mod commands;
pub mod demo;
mod demo_therapy;
pub mod item_text;
pub mod score;
pub mod server;
pub mod settings;
pub mod storage;
pub mod tls;
