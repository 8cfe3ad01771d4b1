//! Throttling and lockout of sign-in (issue 12 item 3): after a few failed attempts an
//! account, or a client address, waits longer and longer before the next try, and after
//! more it is locked for a while (or until an admin unlocks it). Pure: the store keeps
//! the counts, time is passed in.
//!
//! Security policy, not a clinical rule: every number is configurable
//! (`[security.sign_in]`); the defaults follow common practice (OWASP ASVS 2.2.1 asks for
//! anti-automation, NIST SP 800-63B §5.2.2 for at most 100 consecutive failures before a
//! lock), they come from no clinical reference.

use jiff::{SignedDuration, Timestamp};

/// How sign-in failures are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInPolicy {
    /// Failures answered at once; after these each try waits.
    pub free_failures: u32,
    /// The first wait; each further failure doubles it, up to `max_delay`.
    pub first_delay: SignedDuration,
    pub max_delay: SignedDuration,
    /// Failures that lock the account or address.
    pub lock_after: u32,
    /// How long a lock lasts (an admin may lift it sooner).
    pub lock_for: SignedDuration,
    /// Failures older than this are forgotten.
    pub forget_after: SignedDuration,
    /// The window anonymous failures of one client address are audited in: the first of
    /// a window is an audit entry, the others are only counted ([`anonymous_window`]).
    pub anonymous_audit_window: SignedDuration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            first_delay: SignedDuration::from_secs(2),
            max_delay: SignedDuration::from_secs(60),
            lock_after: 10,
            lock_for: SignedDuration::from_mins(15),
            forget_after: SignedDuration::from_hours(24),
            anonymous_audit_window: SignedDuration::from_mins(15),
        }
    }
}

/// The failures counted for one account or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Timestamp,
    pub locked_until: Option<Timestamp>,
}

/// Whether a sign-in attempt may be judged now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Too soon after the last failure: try again at `until`.
    Wait {
        until: Timestamp,
    },
    /// Locked until `until`.
    Locked {
        until: Timestamp,
    },
}

impl Gate {
    /// When the next attempt may come, if not now.
    pub fn until(self) -> Option<Timestamp> {
        match self {
            Gate::Open => None,
            Gate::Wait { until } | Gate::Locked { until } => Some(until),
        }
    }
}

/// The failures still counted at `now` (none once forgotten or once a lock has passed).
fn live(f: Option<&Failures>, now: Timestamp, p: &SignInPolicy) -> Option<Failures> {
    let f = *f?;
    if let Some(until) = f.locked_until {
        return (now < until).then_some(f);
    }
    (now.duration_since(f.last_at) < p.forget_after).then_some(f)
}

/// The wait after `count` failures (none up to `free_failures`).
pub fn delay_after(count: u32, p: &SignInPolicy) -> SignedDuration {
    if count < p.free_failures.max(1) {
        return SignedDuration::ZERO;
    }
    let doublings = (count - p.free_failures.max(1)).min(30);
    let secs = p.first_delay.as_secs().saturating_mul(1i64 << doublings);
    SignedDuration::from_secs(secs).min(p.max_delay)
}

/// Whether an attempt at `now` may be judged, given the failures counted.
pub fn gate(f: Option<&Failures>, now: Timestamp, p: &SignInPolicy) -> Gate {
    let Some(f) = live(f, now, p) else { return Gate::Open };
    if let Some(until) = f.locked_until {
        return Gate::Locked { until };
    }
    let until = f.last_at + delay_after(f.count, p);
    if now < until { Gate::Wait { until } } else { Gate::Open }
}

/// The failures after one more at `now`; a lock is set when they reach `lock_after`.
pub fn after_failure(f: Option<&Failures>, now: Timestamp, p: &SignInPolicy) -> Failures {
    let count = live(f, now, p).map_or(0, |f| f.count) + 1;
    let locked_until = (count >= p.lock_after.max(1)).then(|| now + p.lock_for);
    Failures { count, last_at: now, locked_until }
}

/// The start of the window `at` falls in, windows of `p.anonymous_audit_window` counted
/// from the Unix epoch (so every kat process on one database agrees on them). A window
/// of less than a second is taken as one second.
pub fn anonymous_window(at: Timestamp, p: &SignInPolicy) -> Timestamp {
    let len = p.anonymous_audit_window.as_secs().max(1);
    let secs = at.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(len)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn anonymous_windows_start_on_their_boundary_and_hold_until_the_next() {
        let p = SignInPolicy::default();
        // 1_800_000_000 is a multiple of 900: a window starts there.
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        assert_eq!(anonymous_window(start, &p), start);
        assert_eq!(anonymous_window(start + SignedDuration::from_secs(899), &p), start);
        assert_eq!(
            anonymous_window(start + SignedDuration::from_secs(900), &p),
            start + SignedDuration::from_secs(900)
        );
        assert_eq!(anonymous_window(start - SignedDuration::from_secs(1), &p), start - SignedDuration::from_secs(900));
        let short = SignInPolicy { anonymous_audit_window: SignedDuration::ZERO, ..p };
        assert_eq!(
            anonymous_window(start + SignedDuration::from_millis(1500), &short),
            start + SignedDuration::from_secs(1)
        );
    }

    #[test]
    fn the_first_failures_are_free_then_each_waits_longer_up_to_the_cap() {
        let p = SignInPolicy::default();
        assert_eq!(delay_after(2, &p), SignedDuration::ZERO);
        assert_eq!(delay_after(3, &p), SignedDuration::from_secs(2));
        assert_eq!(delay_after(4, &p), SignedDuration::from_secs(4));
        assert_eq!(delay_after(7, &p), SignedDuration::from_secs(32));
        assert_eq!(delay_after(8, &p), SignedDuration::from_secs(60), "capped");
        assert_eq!(delay_after(1000, &p), SignedDuration::from_secs(60));
    }

    #[test]
    fn a_try_too_soon_waits_and_one_at_the_boundary_is_judged() {
        let p = SignInPolicy::default();
        let mut f = None;
        for i in 0..3 {
            assert_eq!(gate(f.as_ref(), t(i), &p), Gate::Open, "free failure {i}");
            f = Some(after_failure(f.as_ref(), t(i), &p));
        }
        // Three failures, the last at t(2): the next waits 2 s.
        assert_eq!(gate(f.as_ref(), t(3), &p), Gate::Wait { until: t(4) });
        assert_eq!(gate(f.as_ref(), t(4), &p), Gate::Open);
    }

    #[test]
    fn the_tenth_failure_locks_for_the_lock_time_then_the_slate_is_clean() {
        let p = SignInPolicy::default();
        let mut f = None;
        for i in 0..9 {
            f = Some(after_failure(f.as_ref(), t(i * 100), &p));
            assert_eq!(f.unwrap().locked_until, None, "failure {}", i + 1);
        }
        let locked = after_failure(f.as_ref(), t(900), &p);
        assert_eq!(locked.count, 10);
        let until = t(900) + SignedDuration::from_mins(15);
        assert_eq!(locked.locked_until, Some(until));
        assert_eq!(gate(Some(&locked), until - SignedDuration::from_secs(1), &p), Gate::Locked { until });
        assert_eq!(gate(Some(&locked), until, &p), Gate::Open, "the lock has passed");
        assert_eq!(after_failure(Some(&locked), until, &p).count, 1, "counting starts again");
    }

    #[test]
    fn old_failures_are_forgotten() {
        let p = SignInPolicy::default();
        let f = Failures { count: 8, last_at: t(0), locked_until: None };
        assert!(matches!(gate(Some(&f), t(10), &p), Gate::Wait { .. }));
        let day = t(0) + SignedDuration::from_hours(24);
        assert_eq!(gate(Some(&f), day, &p), Gate::Open);
        assert_eq!(after_failure(Some(&f), day, &p).count, 1);
    }
}
