//! Browser journeys (run with KAT_E2E=1).

mod intake;
