//! The one integration-test binary: HTTP flows against a real server on port 0, on
//! both databases.

mod api;
mod measures;
