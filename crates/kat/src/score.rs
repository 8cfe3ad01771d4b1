//! `kat score`: batch scoring of a CSV file with the same core code that scores
//! answers given on a page or over the API.
//!
//! Input: a header with an optional `id` column and item columns `q1`…`qN` (values;
//! empty means unanswered). Output: one row per input row with at least
//! `id,total,severity,complete,flags,error` (PCL-5 adds the cluster sums and the
//! provisional-diagnosis rule). A row with an invalid value is not scored; its `error`
//! names the column and the value. Every row is written either way.

use anyhow::{Context, Result, bail};
use kat_core::instruments::catalog::Instrument;
use kat_core::instruments::pcl5::Pcl5Cutoff;
use kat_core::instruments::response::{Response, ResponseErrorReason, Score, ScoringPolicy};
use std::io::{Read, Write};

/// The instruments the batch command scores, by their command-line names.
pub fn instrument_named(name: &str) -> Result<Instrument> {
    Ok(match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "phq9" => Instrument::Phq9,
        "gad7" => Instrument::Gad7,
        "pcl5" => Instrument::Pcl5,
        other => bail!("--instrument: `{other}` is not one of phq9, gad7, pcl5"),
    })
}

/// What a run found: rows written and rows refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    pub invalid: usize,
}

/// Scores every row of `input` and writes the result CSV to `output`.
pub fn score_csv(instrument: Instrument, pcl5_cutoff: u8, input: impl Read, output: impl Write) -> Result<Summary> {
    let cutoff = Pcl5Cutoff::new(pcl5_cutoff).map_err(|e| anyhow::anyhow!("--pcl5-cutoff: {e}"))?;
    let policy = ScoringPolicy { pcl5_cutoff: cutoff, ..ScoringPolicy::default() };
    let def = instrument.def();
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let id_col = column("id");
    // Every item the instrument has may be given; the scored ones must be.
    let mut item_cols = Vec::new();
    for (i, item) in def.items.iter().enumerate() {
        let name = format!("q{}", i + 1);
        match column(&name) {
            Some(c) => item_cols.push(Some(c)),
            None if item.required => {
                bail!("the header has no column `{name}` ({} item {})", def.abbreviation, item.label)
            }
            None => item_cols.push(None),
        }
    }
    while item_cols.last() == Some(&None) {
        item_cols.pop();
    }

    let mut writer = csv::Writer::from_writer(output);
    let mut header = vec!["id", "total", "severity", "complete", "flags", "error"];
    if instrument == Instrument::Pcl5 {
        header.extend(["cluster_b", "cluster_c", "cluster_d", "cluster_e", "provisional_ptsd"]);
    }
    writer.write_record(&header)?;

    let mut summary = Summary { rows: 0, invalid: 0 };
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("reading CSV row {}", n + 2))?;
        summary.rows += 1;
        let id = id_col.and_then(|c| record.get(c)).unwrap_or("").to_string();
        let raw: Vec<Option<&str>> =
            item_cols.iter().map(|c| c.and_then(|c| record.get(c)).filter(|v| !v.is_empty())).collect();
        let mut row = vec![id];
        match Response::parse(instrument, &raw) {
            Ok(response) => {
                let score = response.score(&policy);
                let complete = score.completeness().is_complete();
                row.push(score.total().map(|t| t.to_string()).unwrap_or_default());
                row.push(if complete { score.band().unwrap_or("").to_string() } else { String::new() });
                row.push(complete.to_string());
                row.push(score.flags().iter().map(|f| f.as_str()).collect::<Vec<_>>().join(";"));
                row.push(String::new());
                if let Score::Pcl5(p) = &score {
                    for cluster in &p.clusters {
                        row.push(cluster.map(|c| c.sum.to_string()).unwrap_or_default());
                    }
                    row.push(p.provisional_diagnosis.map(|d| d.to_string()).unwrap_or_default());
                }
            }
            Err(errors) => {
                summary.invalid += 1;
                let message = errors
                    .iter()
                    .map(|e| {
                        let col = e
                            .item
                            .and_then(|label| def.items.iter().position(|i| i.label == label))
                            .map(|i| format!("q{}", i + 1))
                            .unwrap_or_else(|| "row".into());
                        let reason = match &e.reason {
                            ResponseErrorReason::NotAnInteger => "is not a whole number".to_string(),
                            other => other.to_string(),
                        };
                        format!("{col}={}: {reason}", e.value.as_deref().unwrap_or(""))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                row.extend([String::new(), String::new(), "false".into(), String::new(), message]);
                if instrument == Instrument::Pcl5 {
                    row.extend(std::iter::repeat_n(String::new(), 5));
                }
            }
        }
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(instrument: &str, csv: &str) -> (String, Summary) {
        let mut out = Vec::new();
        let s = score_csv(instrument_named(instrument).unwrap(), 33, csv.as_bytes(), &mut out).unwrap();
        (String::from_utf8(out).unwrap(), s)
    }

    #[test]
    fn phq9_rows_are_scored_banded_and_flagged() {
        let (out, s) = run(
            "phq9",
            "id,q1,q2,q3,q4,q5,q6,q7,q8,q9\n\
             a,1,1,1,1,1,0,0,0,0\n\
             b,3,3,3,3,3,3,3,3,1\n\
             c,1,1,1,1,1,1,1,1,\n",
        );
        assert_eq!(s, Summary { rows: 3, invalid: 0 });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "id,total,severity,complete,flags,error");
        assert_eq!(lines[1], "a,5,mild,true,,");
        assert_eq!(lines[2], "b,25,severe,true,suicidal_ideation,");
        assert_eq!(lines[3], "c,,,false,safety_item_missing,");
    }

    #[test]
    fn an_invalid_value_names_its_column_and_the_other_rows_still_come_out() {
        let (out, s) = run("gad7", "q1,q2,q3,q4,q5,q6,q7\n0,0,0,0,0,0,0\n0,4,0,x,0,0,0\n");
        assert_eq!(s, Summary { rows: 2, invalid: 1 });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], ",0,minimal,true,,");
        assert!(lines[2].contains("q2=4: must be between 0 and 3"), "{}", lines[2]);
        assert!(lines[2].contains("q4=x: is not a whole number"), "{}", lines[2]);
    }

    #[test]
    fn pcl5_has_clusters_and_the_cutoff_is_configurable() {
        let header = (1..=20).map(|i| format!("q{i}")).collect::<Vec<_>>().join(",");
        // 20 items of 2 (moderately) = 40: probable PTSD; every item endorsed.
        let twos = vec!["2"; 20].join(",");
        let (out, _) = run("pcl5", &format!("{header}\n{twos}\n"));
        let row = out.lines().nth(1).unwrap();
        assert_eq!(row, ",40,probable_ptsd,true,,,10,4,14,12,true");
        // 32 at cut-off 33 is below; at 31 it is probable.
        let mut values = vec!["2"; 16];
        values.extend(vec!["0"; 4]);
        let line = values.join(",");
        let mut out = Vec::new();
        score_csv(Instrument::Pcl5, 31, format!("{header}\n{line}\n").as_bytes(), &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().lines().nth(1).unwrap().contains(",32,probable_ptsd,"));
        let (out, _) = run("pcl5", &format!("{header}\n{line}\n"));
        assert!(out.lines().nth(1).unwrap().contains(",32,below_cutoff,"));
    }

    #[test]
    fn a_missing_item_column_is_refused_up_front() {
        let mut out = Vec::new();
        let err = score_csv(Instrument::Phq9, 33, "q1,q2\n1,1\n".as_bytes(), &mut out).unwrap_err();
        assert!(err.to_string().contains("q3"), "{err}");
        assert!(instrument_named("madrs").is_err());
        assert!(score_csv(Instrument::Pcl5, 34, "".as_bytes(), &mut Vec::new()).is_err());
    }
}
