//! The one integration-test binary: HTTP flows against a real server on port 0, on
//! both databases.

mod api;
mod audit;
mod auth;
mod cli;
mod dosing;
mod dosing_rems_api;
mod dosing_policy;
mod health;
mod pages;
mod sessions;
mod support;
mod therapy;
mod tidy;
mod intake;
mod live;
mod course;
mod dose_order;
mod measures;
mod timeline;
