//! Demo measurement-based care: months of PHQ-9 and GAD-7 (and PCL-5 for one patient)
//! showing response, remission and relapse, measurement plans, and one open safety
//! alert. All synthetic.

use anyhow::{Result, anyhow};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kat_app::Ctx;
use kat_app::config::MeasuresConfig;
use kat_app::measures as uc;
use kat_core::ids::PatientId;
use kat_core::instruments::Instrument;
use kat_core::measures::PlanForm;
use kat_store::Store;

/// Answers summing to `total` with the last scored item (the PHQ-9 safety item) at
/// `last`; items filled from the first, each at most the item's maximum.
pub(crate) fn answers(instrument: Instrument, total: u8, last: u8) -> Vec<Option<String>> {
    let def = instrument.def();
    let scored: Vec<usize> = def.scored_items().map(|(i, _)| i).collect();
    let mut v = vec![None; def.items.len()];
    let mut left = total.saturating_sub(last);
    let n = scored.len();
    for (k, &i) in scored.iter().enumerate() {
        let max = def.items[i].answer.max();
        let a = if k == n - 1 { last } else { left.min(max) };
        if k != n - 1 {
            left -= a;
        }
        v[i] = Some(a.to_string());
    }
    v
}

/// (patient index, instrument, [(days ago, total)]).
type Series = (usize, Instrument, &'static [(i64, u8)]);

const SERIES: [Series; 7] = [
    // Avery: response and remission.
    (0, Instrument::Phq9, &[(120, 19), (113, 17), (106, 14), (99, 11), (85, 8), (71, 6), (57, 4), (29, 3), (8, 4)]),
    (0, Instrument::Gad7, &[(120, 15), (99, 11), (71, 7), (29, 4), (8, 3)]),
    // Marcus: response, then relapse (REL-003: two assessments ≥ 5 days apart).
    (1, Instrument::Phq9, &[(118, 22), (111, 18), (104, 13), (90, 10), (76, 9), (48, 13), (34, 15), (20, 17)]),
    (1, Instrument::Gad7, &[(118, 14), (90, 9), (48, 12), (20, 13)]),
    // Rosa: slow partial improvement; PTSD measured with the PCL-5.
    (2, Instrument::Phq9, &[(100, 16), (86, 15), (72, 13), (44, 12), (16, 10)]),
    (2, Instrument::Pcl5, &[(100, 54), (72, 47), (44, 41), (16, 36)]),
    (3, Instrument::Phq9, &[(40, 18), (26, 15)]),
];

fn day(now: Timestamp, tz: &TimeZone, days_ago: i64) -> Result<(Timestamp, Date)> {
    let t = now.checked_sub(SignedDuration::from_hours(24 * days_ago))?;
    Ok((t, t.to_zoned(tz.clone()).date()))
}

pub async fn seed(store: &dyn Store, ctx: &Ctx, tz: &TimeZone, patients: &[PatientId]) -> Result<()> {
    let cfg = MeasuresConfig::default();
    for (p, start) in [(0usize, 120i64), (1, 118), (2, 100), (3, 40)] {
        let (_, baseline) = day(ctx.now, tz, start)?;
        let doses: Vec<String> = [2, 5, 9, 12, 16, 19]
            .iter()
            .map(|d| day(ctx.now, tz, start - d).map(|(_, d)| d.to_string()))
            .collect::<Result<_>>()?;
        let (_, end) = day(ctx.now, tz, start - 21)?;
        let form = PlanForm {
            baseline: baseline.to_string(),
            dose_dates: doses.join(", "),
            end_of_induction: end.to_string(),
            include_pcl5: (p == 2).then(|| "on".into()),
        };
        uc::save_plan(store, ctx, patients[p], &form).await.map_err(|e| anyhow!("demo plan: {e}"))?;
    }
    for (p, instrument, points) in SERIES {
        for &(ago, total) in points {
            let (at, _) = day(ctx.now, tz, ago)?;
            uc::record_response(store, ctx, &cfg, patients[p], instrument, &answers(instrument, total, 0), Some(at))
                .await
                .map_err(|e| anyhow!("demo response: {e}"))?;
        }
    }
    // Sam answered item 9 "Several days" this morning: one open urgent alert.
    let (at, _) = day(ctx.now, tz, 0)?;
    uc::record_response(store, ctx, &cfg, patients[3], Instrument::Phq9, &answers(Instrument::Phq9, 16, 1), Some(at))
        .await
        .map_err(|e| anyhow!("demo alert response: {e}"))?;
    Ok(())
}
