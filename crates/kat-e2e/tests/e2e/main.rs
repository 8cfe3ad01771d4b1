//! Real-browser journeys through kat in headless Chromium. Run with
//! `KAT_E2E=1 cargo test -p kat-e2e -- --test-threads=1`; without `KAT_E2E=1` every
//! test prints a skip notice. The browsers take turns whatever `--test-threads` says.
//! Screenshots land in `target/e2e-screenshots/<test>-<step>.png`.

mod access;
mod api;
mod dose_day;
mod dosing;
mod floor;
mod intake;
mod layout;
mod measures;
mod patients;
mod session_page;
mod sign_in;
mod support;
mod therapy;
