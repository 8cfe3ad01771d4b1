//! Dosing: units, routes, the protocol library, dosing weight, dose arithmetic, route
//! limits and titration (clinical.md §2).
//!
//! Everything here is pure. A dose goes through three steps, each of which a person can
//! see: [`weight::dosing_weight`] chooses the weight under the clinic's basis
//! (DOSE-IV-005), [`calc::calculate`] turns an order into mg, mg/kg, volumes and a pump
//! rate (DOSE-IV-004, DOSE-GEN-002), and [`limits::check_dose`] judges the result
//! against the route limits and the clinic's [`limits::DosingPolicy`].

pub mod calc;
pub mod course;
pub mod limits;
pub mod order;
pub mod plan_schedule;
pub mod protocol;
pub mod route;
pub mod rule;
pub mod schedule;
pub mod session;
pub mod titration;
pub mod units;
pub mod weight;

pub use calc::{CalcError, Diluent, Dilution, DoseCalculation, DoseOrder, InfusionSettings, Preparation, calculate};
pub use limits::{
    CheckLevel, DoseCheck, DoseRequest, DoseReview, DosingPolicy, EsketamineCourse, EsketamineIndication, Setting,
    check_dose, check_next_device, next_device_earliest,
};
pub use plan_schedule::{NoFixedFrequency, plan_dates};
pub use protocol::{DoseForm, Evidence, LIBRARY, Protocol, ProtocolId};
pub use route::Route;
pub use rule::RuleId;
pub use titration::{DoseAmount, Efficacy, TitrationAction, TitrationSuggestion, Tolerability, suggest_next_dose};
pub use units::{Kg, Mg, MgPerKg, MgPerMl, Minutes, Ml, MlPerHour, Ucum, UnitError};
pub use weight::{Bmi, DosingWeight, HeightCm, WeightBasis, WeightMeasurement, WeightPolicy, dosing_weight};
