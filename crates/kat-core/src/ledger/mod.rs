//! The controlled-substance ledger (Schedule III; clinical.md §8, issue 13). This first
//! part holds its vocabulary: exact quantities, the registrant and its counterparties,
//! products and the clinic's ledger policy.

pub mod policy;
pub mod product;
pub mod quantity;
pub mod registrant;

pub use policy::{DutyTable, InventoryInterval, LedgerDuty, LedgerPolicy, LedgerRules};
pub use product::{DosageForm, LedgerProduct, Ndc, RemsChannel, RemsSource, Substance};
pub use quantity::{MgQty, Quantity, StockUnit, Strength};
pub use registrant::{Address, Counterparty, DeaNumber, LocationKind, Registration, StorageLocation};
