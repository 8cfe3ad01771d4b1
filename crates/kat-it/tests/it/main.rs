//! The one integration-test binary: HTTP flows against a real server on port 0, on
//! both databases.

mod access;
mod api;
mod audit;
mod auth;
mod bench;
mod cli;
mod course;
mod credentials;
mod dose_day;
mod dose_order;
mod dosing;
mod dosing_policy;
mod dosing_rems_api;
mod dosing_state;
mod health;
mod intake;
mod ledger;
mod lists;
mod live;
mod measures;
mod mfa;
mod pages;
mod reauth;
mod session_page;
mod sessions;
mod snapshots;
mod support;
mod therapy;
mod throttle;
mod tidy;
mod timeline;
mod today;
mod transport;
