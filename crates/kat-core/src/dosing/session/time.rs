//! When an entry may be dated (issue 11 item 2): an administration not before the gate
//! was passed, a reading or rating not before the session was opened, nothing further in
//! the future than a clock-skew allowance; an entry dated well before it is recorded is a
//! late entry, which the record shows as such.

use super::error::{Refusal, SessionError};
use crate::dosing::units::Minutes;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Clinic policy on entry times. **The clinical reference gives no number for either
/// value**: both are clinic policy, and the defaults below are kat's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionTimePolicy {
    /// How far in the future (by the server's clock) an entry may be dated: monitors,
    /// tablets and servers disagree by seconds to a minute. Default 2 minutes (clinic
    /// policy; the spec has none). Anything later is refused.
    pub future_skew: Minutes,
    /// An entry dated more than this before it is recorded is a late entry (charted
    /// after the fact); it is accepted and flagged with who recorded it and when.
    /// Default 10 minutes (clinic policy; the spec has none).
    pub late_after: Minutes,
}

impl Default for SessionTimePolicy {
    fn default() -> Self {
        Self { future_skew: Minutes::new(2), late_after: Minutes::new(10) }
    }
}

/// An entry charted after the fact: dated `at`, recorded at `recorded_at`. The caller
/// stores it with who recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateEntry {
    pub at: Timestamp,
    pub recorded_at: Timestamp,
}

impl LateEntry {
    /// How long after the event it was recorded.
    pub fn delay(&self) -> SignedDuration {
        self.recorded_at.duration_since(self.at)
    }
}

impl SessionTimePolicy {
    /// The latest time an entry recorded at `now` may carry.
    pub fn latest_allowed(&self, now: Timestamp) -> Timestamp {
        now.checked_add(self.future_skew.as_duration()).unwrap_or(Timestamp::MAX)
    }

    /// Checks that `at` is not before `not_before` (what `what` names in the message)
    /// nor beyond the skew allowance after `now`, and says whether it is a late entry.
    pub(super) fn check(
        &self,
        at: Timestamp,
        now: Timestamp,
        not_before: Timestamp,
        what: &str,
    ) -> Result<Option<LateEntry>, SessionError> {
        if at < not_before {
            return Err(SessionError::new(
                "at",
                None,
                Refusal::TooEarly,
                format!("{at} is before {what} ({not_before})."),
            ));
        }
        let latest = self.latest_allowed(now);
        if at > latest {
            return Err(SessionError::new(
                "at",
                None,
                Refusal::InFuture,
                format!("{at} is in the future (at most {} ahead of the clock is allowed).", self.future_skew),
            ));
        }
        let late = now.duration_since(at) > self.late_after.as_duration();
        Ok(late.then_some(LateEntry { at, recorded_at: now }))
    }
}
