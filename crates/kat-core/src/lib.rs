//! The pure clinical core of kat.
//!
//! Everything here is plain, synchronous Rust: no IO, no async, no clock (the current
//! time is always passed in), no SQL and no HTTP. Boundaries (forms, JSON, CSV, CLI,
//! configuration) turn raw input into the types of this crate; once a value exists it
//! is valid. Rules that come from `shared/spec/clinical.md` name their spec ID.

pub mod access;
pub mod audit;
pub mod audit_chain;
pub mod calendar;
pub mod dosing;
pub mod eligibility;
pub mod field;
pub mod ids;
pub mod instruments;
pub mod ledger;
pub mod measures;
pub mod mfa;
pub mod monitoring;
pub mod page;
pub mod patient;
pub mod phi;
pub mod role;
pub mod sign_in;
pub mod therapy;
pub mod user;

pub use field::{FieldError, FieldErrors};
pub use phi::Phi;
