//! The clinic's ledger policy: who may do what with controlled substances, and the
//! values §8 leaves to the clinic or tags \[U\]/\[P\], each with the reference's value
//! (or, where it has none, a documented default) as `Default`.

use crate::calendar::ClinicCalendar;
use crate::role::Role;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A ledger task a role may be allowed (DEA-012 \[U\]: access limited to authorised
/// staff; DEA-007: waste witnessed by a second *authorised* member of staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerDuty {
    /// Record a receipt (DEA-003).
    Receive,
    /// Draw stock for an administration (DEA-004).
    Administer,
    /// Record waste (DEA-007) or breakage (DEA-009).
    Waste,
    /// Witness waste, breakage or on-site destruction (DEA-007, DEA-008, DEA-009).
    Witness,
    /// Transfer between locations, quarantine and release (DEA-008).
    Move,
    /// Take a count or an inventory (DEA-006) and note a discrepancy case.
    Count,
    /// Dispose of stock: reverse distributor or on-site destruction (DEA-008).
    Dispose,
    /// Record a theft or loss and its notifications (DEA-010, DEA-011).
    ReportLoss,
    /// Resolve a count discrepancy.
    ResolveCase,
    /// Correct an entry (a new entry that references it).
    Correct,
}

impl LedgerDuty {
    pub const ALL: [LedgerDuty; 10] = [
        LedgerDuty::Receive,
        LedgerDuty::Administer,
        LedgerDuty::Waste,
        LedgerDuty::Witness,
        LedgerDuty::Move,
        LedgerDuty::Count,
        LedgerDuty::Dispose,
        LedgerDuty::ReportLoss,
        LedgerDuty::ResolveCase,
        LedgerDuty::Correct,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerDuty::Receive => "receive",
            LedgerDuty::Administer => "administer",
            LedgerDuty::Waste => "waste",
            LedgerDuty::Witness => "witness",
            LedgerDuty::Move => "move",
            LedgerDuty::Count => "count",
            LedgerDuty::Dispose => "dispose",
            LedgerDuty::ReportLoss => "report_loss",
            LedgerDuty::ResolveCase => "resolve_case",
            LedgerDuty::Correct => "correct",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL.into_iter().find(|d| d.as_str() == raw)
    }
}

impl fmt::Display for LedgerDuty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy value that cannot be used; names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LedgerPolicyError(pub String);

/// Which roles may do each ledger duty (clinic policy). The front desk may do none: the
/// table refuses to grant it anything.
///
/// The reference names no roles (§8 says "authorised staff"), so the default is the
/// clinic's to change: nurses and prescribers handle stock (receive, administer, waste,
/// witness, move, count, correct); on-site destruction and reverse-distributor returns
/// and resolving a discrepancy are the prescriber's (the registrant's, DEA-001); a loss
/// report may be filed by a prescriber or the clinic admin (who handles the DEA
/// correspondence). Therapists and admins handle no stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyTable(BTreeMap<LedgerDuty, BTreeSet<Role>>);

impl DutyTable {
    /// A table from its grants; a duty not named is nobody's.
    pub fn new(grants: BTreeMap<LedgerDuty, BTreeSet<Role>>) -> Result<Self, LedgerPolicyError> {
        for (duty, roles) in &grants {
            if roles.contains(&Role::FrontDesk) {
                return Err(LedgerPolicyError(format!(
                    "ledger.duties.{duty}: the front desk handles no controlled substances"
                )));
            }
        }
        Ok(Self(grants))
    }

    pub fn allows(&self, role: Role, duty: LedgerDuty) -> bool {
        role != Role::FrontDesk && self.0.get(&duty).is_some_and(|r| r.contains(&role))
    }

    /// The roles allowed `duty`, in role order.
    pub fn roles(&self, duty: LedgerDuty) -> Vec<Role> {
        self.0.get(&duty).map(|r| r.iter().copied().collect()).unwrap_or_default()
    }
}

impl Default for DutyTable {
    fn default() -> Self {
        use LedgerDuty::*;
        use Role::*;
        let handlers = [Nurse, Prescriber];
        let mut grants = BTreeMap::new();
        for duty in [Receive, Administer, Waste, Witness, Move, Count, Correct] {
            grants.insert(duty, handlers.into_iter().collect());
        }
        grants.insert(Dispose, [Prescriber].into_iter().collect());
        grants.insert(ResolveCase, [Prescriber].into_iter().collect());
        grants.insert(ReportLoss, [Prescriber, Admin].into_iter().collect());
        Self(grants)
    }
}

/// How often the full inventory is due (DEA-006: biennial federally, at least every 2
/// years; some states, for example Iowa, annual: a jurisdiction setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryInterval {
    #[default]
    Biennial,
    Annual,
}

impl InventoryInterval {
    /// The last date the next full inventory may be taken, after one taken on `last`
    /// (DEA-006).
    pub fn next_due(self, last: Date) -> Date {
        let years = match self {
            InventoryInterval::Biennial => 2,
            InventoryInterval::Annual => 1,
        };
        last.checked_add(Span::new().years(years)).unwrap_or(Date::MAX)
    }
}

/// The clinic's ledger policy (`[ledger]` in the configuration, next step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPolicy {
    pub duties: DutyTable,
    /// Waste needs a witness (DEA-007 \[P\]: "best practice and most institutional or
    /// state policies"; the witness requirement varies by state). Default true.
    pub waste_witness: bool,
    /// Witnesses to an on-site destruction (DEA-008 \[U\]: two authorised employees, the
    /// exact 21 CFR 1317.95 wording not retrieved). Default 2; 1 to 3.
    pub destruction_witnesses: u8,
    /// How long an opened container may still be drawn from (its beyond-use time);
    /// `None` keeps it until its expiry. **Not in the clinical reference**: the default,
    /// 28 days, is the commonly used beyond-use time of an opened multi-dose vial and
    /// needs the medical director's sign-off; the manufacturer's labelling wins where it
    /// is shorter. 1 hour to 365 days.
    pub opened_beyond_use: Option<SignedDuration>,
    /// DEA-006: the full inventory's interval (jurisdiction setting).
    pub inventory_interval: InventoryInterval,
}

impl Default for LedgerPolicy {
    fn default() -> Self {
        Self {
            duties: DutyTable::default(),
            waste_witness: true,
            destruction_witnesses: 2,
            opened_beyond_use: Some(SignedDuration::from_hours(28 * 24)),
            inventory_interval: InventoryInterval::Biennial,
        }
    }
}

impl LedgerPolicy {
    /// Checks the values; the error names the setting.
    pub fn check(&self) -> Result<(), LedgerPolicyError> {
        if !(1..=3).contains(&self.destruction_witnesses) {
            return Err(LedgerPolicyError("ledger.destruction_witnesses must be 1, 2 or 3 (DEA-008: 2)".into()));
        }
        if let Some(d) = self.opened_beyond_use
            && (d < SignedDuration::from_hours(1) || d > SignedDuration::from_hours(365 * 24))
        {
            return Err(LedgerPolicyError("ledger.opened_beyond_use_hours must be between 1 and 8760".into()));
        }
        Ok(())
    }
}

/// Everything a ledger decision is judged against besides the container, the command
/// and the time: the policy, the clinic's time zone (expiry dates and deadlines are the
/// clinic's dates) and its calendar (business days, DEA-010).
#[derive(Debug, Clone)]
pub struct LedgerRules {
    pub policy: LedgerPolicy,
    pub tz: TimeZone,
    pub calendar: ClinicCalendar,
}

impl LedgerRules {
    /// The clinic's date at `now`.
    pub fn today(&self, now: Timestamp) -> Date {
        now.to_zoned(self.tz.clone()).date()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_default_table() {
        let t = DutyTable::default();
        for duty in LedgerDuty::ALL {
            assert!(!t.allows(Role::FrontDesk, duty), "{duty}");
            assert!(!t.allows(Role::Therapist, duty), "{duty}");
        }
        assert!(t.allows(Role::Nurse, LedgerDuty::Witness));
        assert!(t.allows(Role::Prescriber, LedgerDuty::Dispose));
        assert!(!t.allows(Role::Nurse, LedgerDuty::Dispose));
        assert!(t.allows(Role::Admin, LedgerDuty::ReportLoss));
        assert!(!t.allows(Role::Admin, LedgerDuty::Waste));
        assert_eq!(t.roles(LedgerDuty::Receive), [Role::Prescriber, Role::Nurse]);
        for d in LedgerDuty::ALL {
            assert_eq!(LedgerDuty::parse(d.as_str()), Some(d));
        }
    }

    #[test]
    fn the_front_desk_is_never_granted_a_duty() {
        let grants = [(LedgerDuty::Count, [Role::Nurse, Role::FrontDesk].into_iter().collect())].into_iter().collect();
        let e = DutyTable::new(grants).unwrap_err();
        assert!(e.0.contains("ledger.duties.count"), "{e}");
        let grants = [(LedgerDuty::Count, [Role::Therapist].into_iter().collect())].into_iter().collect();
        let t = DutyTable::new(grants).unwrap();
        assert!(t.allows(Role::Therapist, LedgerDuty::Count));
        assert!(!t.allows(Role::Nurse, LedgerDuty::Count), "a duty not named is nobody's");
    }

    #[test]
    fn policy_bounds() {
        assert!(LedgerPolicy::default().check().is_ok());
        let p = LedgerPolicy { destruction_witnesses: 0, ..LedgerPolicy::default() };
        assert!(p.check().unwrap_err().0.contains("destruction_witnesses"));
        let p = LedgerPolicy { opened_beyond_use: Some(SignedDuration::from_mins(59)), ..LedgerPolicy::default() };
        assert!(p.check().is_err());
        let p = LedgerPolicy { opened_beyond_use: None, ..LedgerPolicy::default() };
        assert!(p.check().is_ok());
    }

    #[test]
    fn inventories_fall_due_by_the_jurisdictions_interval() {
        assert_eq!(InventoryInterval::Biennial.next_due(date(2026, 3, 2)), date(2028, 3, 2));
        assert_eq!(InventoryInterval::Annual.next_due(date(2024, 2, 29)), date(2025, 2, 28));
    }
}
