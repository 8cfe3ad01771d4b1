//! The data of the DEA forms the ledger feeds, assembled from its entries for printing:
//! Form 106 for a theft or loss (DEA-011) and Form 41 for on-site destruction (DEA-008),
//! and the worklist's expired stock still in use.

use super::book::Book;
use super::container::{Container, ContainerState};
use super::entry::{DisposalMethod, EntryKind, LedgerEntry, Staff};
use super::loss::LossKind;
use super::product::{DosageForm, Ndc};
use super::quantity::{Quantity, Strength};
use super::registrant::Registration;
use crate::dosing::session::{Reason, ShortText};
use crate::ids::ContainerId;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

/// One product line of a form: what the container held and how much the form is about
/// (the amount in force, after any correction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormItem {
    pub container: ContainerId,
    pub ndc: Ndc,
    pub name: ShortText,
    pub strength: Strength,
    pub form: DosageForm,
    pub container_size: Quantity,
    pub lot: ShortText,
    pub quantity: Quantity,
}

fn item(c: &Container, quantity: Quantity) -> FormItem {
    FormItem {
        container: c.id(),
        ndc: c.product().ndc().clone(),
        name: c.product().name().clone(),
        strength: c.product().strength(),
        form: c.product().form(),
        container_size: c.size(),
        lot: c.lot().clone(),
        quantity,
    }
}

/// DEA Form 106's data (DEA-011; the full field list is \[U\]): registrant, discovery,
/// type, police, items with NDC, explanation and corrective measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Form106 {
    pub registrant: Registration,
    pub discovered_at: Timestamp,
    pub kind: LossKind,
    pub police_notified: bool,
    pub police_report: Option<ShortText>,
    pub items: Vec<FormItem>,
    pub explanation: Reason,
    pub corrective_measures: Option<Reason>,
}

/// The Form 106 data of a loss entry, from the book its containers are in; `None` when
/// the entry is not a loss or names a container the book lacks.
pub fn form106(registrant: &Registration, loss: &LedgerEntry, book: &Book) -> Option<Form106> {
    let EntryKind::Loss(l) = &loss.kind else { return None };
    let items = l
        .items
        .iter()
        .map(|i| book.container(i.container).map(|c| item(c, c.amount_in_force(loss.id, i.amount))))
        .collect::<Option<Vec<_>>>()?;
    Some(Form106 {
        registrant: registrant.clone(),
        discovered_at: l.report.discovered_at,
        kind: l.report.kind.clone(),
        police_notified: l.report.police.is_some(),
        police_report: l.report.police.clone(),
        items,
        explanation: l.report.explanation.clone(),
        corrective_measures: l.report.corrective_measures.clone(),
    })
}

/// DEA Form 41's data for an on-site destruction (DEA-008): registrant, date, method,
/// the item and both witnesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Form41 {
    pub registrant: Registration,
    pub destroyed_at: Timestamp,
    pub destroyed_by: Staff,
    pub method: ShortText,
    pub witnesses: Vec<Staff>,
    pub items: Vec<FormItem>,
}

/// The Form 41 data of an on-site destruction; `None` for another entry, a
/// reverse-distributor return (the distributor files its own), or a container the book
/// lacks.
pub fn form41(registrant: &Registration, disposal: &LedgerEntry, book: &Book) -> Option<Form41> {
    let EntryKind::Disposal(d) = &disposal.kind else { return None };
    let DisposalMethod::OnSite { method } = &d.method else { return None };
    let c = book.container(d.container)?;
    Some(Form41 {
        registrant: registrant.clone(),
        destroyed_at: disposal.at,
        destroyed_by: disposal.by.clone(),
        method: method.clone(),
        witnesses: d.witnesses.clone(),
        items: vec![item(c, d.amount)],
    })
}

/// Containers past their expiry on `today` that are still on hand and not quarantined:
/// to quarantine and dispose of (DEA-008), for the worklist.
pub fn expired_in_stock(book: &Book, today: Date) -> Vec<ContainerId> {
    book.containers()
        .filter(|c| {
            c.is_expired(today)
                && matches!(c.state(), ContainerState::InStock | ContainerState::Open | ContainerState::InTransit)
        })
        .map(|c| c.id())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::super::*;
    use super::*;
    use crate::role::Role;
    use jiff::civil::date;

    fn registration() -> Registration {
        Registration {
            dea: DeaNumber::parse("FM0000050").unwrap(),
            name: text("Calm Harbor Clinic"),
            address: Address::parse("2 Main St").unwrap(),
            state_license: None,
        }
    }

    #[test]
    fn form_106_lists_each_item_with_its_ndc() {
        let mut l = Ledger::with_vials();
        let stock = l.book.stock();
        let cmd = LossCommand {
            entry: l.id(),
            by: prescriber(),
            report: LossReport {
                discovered_at: now(),
                kind: LossKind::Theft,
                significant: true,
                police: None,
                explanation: reason("safe forced"),
                corrective_measures: Some(reason("new lock")),
            },
            items: vec![
                LossItem { container: cid(1), amount: ml("10") },
                LossItem { container: cid(2), amount: ml("10") },
            ],
        };
        let loss = l.keep(report_loss(&stock, cmd, &rules(), now())).entry;
        let f = form106(&registration(), &loss, &l.book).unwrap();
        assert_eq!(f.items.len(), 2);
        assert_eq!(f.items[0].ndc.to_string(), "42023-0113-10");
        assert_eq!(f.items[0].quantity, ml("10"));
        assert!(!f.police_notified);
        assert!(form106(&registration(), &l.entries[0], &l.book).is_none(), "not a loss");
    }

    #[test]
    fn form_41_for_on_site_destruction_only() {
        let mut l = Ledger::with_vials();
        let cmd = DisposeCommand {
            entry: l.id(),
            by: prescriber(),
            method: DisposalMethod::OnSite { method: text("digestion") },
            witnesses: vec![nurse(), nurse2()],
        };
        let d = l.keep(dispose(&l.c(cid(1)), cmd, &rules(), now())).entry;
        let f = form41(&registration(), &d, &l.book).unwrap();
        assert_eq!((f.witnesses.len(), f.items[0].quantity), (2, ml("10")));
        assert_eq!(f.destroyed_by.role, Role::Prescriber);
        let cmd = DisposeCommand {
            entry: l.id(),
            by: prescriber(),
            method: DisposalMethod::ReverseDistributor { distributor: supplier(), reference: text("RD-1") },
            witnesses: vec![],
        };
        let d = l.keep(dispose(&l.c(cid(2)), cmd, &rules(), now())).entry;
        assert!(form41(&registration(), &d, &l.book).is_none());
    }

    #[test]
    fn expired_stock_not_yet_quarantined_is_listed() {
        let mut l = Ledger::with_vials();
        assert!(expired_in_stock(&l.book, date(2026, 6, 30)).is_empty(), "on its expiry date");
        assert_eq!(expired_in_stock(&l.book, date(2026, 7, 1)), [cid(1), cid(2)]);
        let cmd = QuarantineCommand { entry: l.id(), by: nurse(), reason: QuarantineReason::Expired, note: None };
        l.ok(quarantine(&l.c(cid(1)), cmd, &rules(), at(2026, 7, 1, 9, 0)));
        assert_eq!(expired_in_stock(&l.book, date(2026, 7, 1)), [cid(2)]);
    }
}
