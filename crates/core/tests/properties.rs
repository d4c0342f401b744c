//! Properties of `score` over random ledgers of the 2022 rubric: the result does not depend on record
//! order; every total is Σ(max − capped deduction) unless vetoed; caps hold; ranks agree with converted
//! scores; the conversion agrees with decimal arithmetic rounded half away from zero.

use lvzhi_core::contract::ResultsDoc;
use lvzhi_core::rubric::CategoryMode;
use lvzhi_core::{LedgerBuilder, Points, RecordFields, Roster, Rubric, score};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

fn rubric() -> Rubric {
    Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("shipped rubric")
}

fn roster(r: &Rubric) -> Roster {
    let mut roster = Roster::default();
    for (i, u) in r.roster.iter().enumerate() {
        let tags = if i % 5 == 0 { "专委会" } else { "" };
        roster
            .add(r, i as u64 + 2, &u.name, &r.classes[u.class].code, tags)
            .expect("roster row");
    }
    roster
}

/// A raw row: unit, rule, count, points in hundredths, day of year.
type Row = (usize, usize, u32, i64, u16);

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (0usize..41, 0usize..49, 1u32..6, 0i64..1100, 1u16..366),
        0..400,
    )
}

fn assessments() -> impl Strategy<Value = Vec<(usize, usize, i64)>> {
    prop::collection::vec((0usize..41, 0usize..8, 0i64..=500), 0..60)
}

fn metrics() -> impl Strategy<Value = Vec<(usize, usize, i64)>> {
    prop::collection::vec((0usize..41, 0usize..3, 0i64..400), 0..120)
}

/// Builds a ledger from the rows the rubric accepts (refused rows are skipped, as a user would fix them).
fn build(
    r: &Rubric,
    rows: &[Row],
    ass: &[(usize, usize, i64)],
    met: &[(usize, usize, i64)],
) -> lvzhi_core::Ledger {
    let mut b = LedgerBuilder::new(r, roster(r));
    for (i, &(u, rule, count, points, day)) in rows.iter().enumerate() {
        let unit = r.roster[u].name.as_bytes();
        let code = r.rules[rule].code.as_bytes();
        let count = count.to_string();
        let points = Points::from_hundredths(points).to_string();
        let date = lvzhi_core::Date::from_ordinal(2022, day)
            .expect("day")
            .to_string();
        for (c, p) in [("", ""), (count.as_str(), ""), ("", points.as_str())] {
            let f = RecordFields {
                unit,
                rule: code,
                count: c.as_bytes(),
                points: p.as_bytes(),
                date: date.as_bytes(),
            };
            if b.add_record(i as u64, &f).is_ok() {
                break;
            }
        }
    }
    for (i, &(u, a, s)) in ass.iter().enumerate() {
        let _ = b.add_assessment(
            i as u64,
            &r.roster[u].name,
            "3.4.1",
            &format!("第{}督导组", a + 1),
            &Points::from_hundredths(s).to_string(),
        );
    }
    let names = [
        "hazard_entries",
        "hazard_entries_suzhou_avg",
        "hazard_entries_last_year",
    ];
    for (i, &(u, m, v)) in met.iter().enumerate() {
        let _ = b.add_metric(i as u64, &r.roster[u].name, names[m], &v.to_string());
    }
    b.finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn order_does_not_matter(rows in rows(), ass in assessments(), met in metrics(), seed in any::<u64>()) {
        let r = rubric();
        let first = build(&r, &rows, &ass, &met);
        // The rows the rubric accepted form a valid set: every permutation of it must be accepted whole
        // and score the same.
        let accepted: Vec<Row> = first.records().map(|x| rows[x.id as usize]).collect();
        let mut shuffled: Vec<Row> = accepted.iter().rev().copied().collect();
        if !shuffled.is_empty() {
            let k = (seed as usize) % shuffled.len();
            shuffled.rotate_left(k);
        }
        let mut ass2: Vec<_> = first.assessments().map(|x| ass[x.id as usize]).collect();
        ass2.reverse();
        let mut met2: Vec<_> = first.metrics().map(|x| met[x.id as usize]).collect();
        let half = met2.len() / 2;
        met2.rotate_left(half);
        let again = build(&r, &shuffled, &ass2, &met2);
        prop_assert_eq!(again.record_count(), accepted.len());
        prop_assert_eq!(again.assessments().count(), first.assessments().count());
        let a = score(&r, &first).expect("score");
        let b = score(&r, &again).expect("score");
        prop_assert_eq!(ResultsDoc::new(&r, &a), ResultsDoc::new(&r, &b));
        for (x, y) in a.sheets.iter().zip(&b.sheets) {
            prop_assert_eq!(x.subtotal, y.subtotal);
            prop_assert_eq!(x.incomplete.clone(), y.incomplete.clone());
        }
    }

    #[test]
    fn totals_caps_and_ranks(rows in rows(), ass in assessments(), met in metrics()) {
        let r = rubric();
        let sheets = score(&r, &build(&r, &rows, &ass, &met)).expect("score");
        prop_assert_eq!(sheets.sheets.len(), 41);
        for s in &sheets.sheets {
            let mut sum = Points::ZERO;
            for c in &s.categories {
                prop_assert_eq!(c.mode, CategoryMode::Deduct);
                let sections: Points = c.sections.iter().map(|x| x.deducted).sum();
                let lines: Points = c.lines.iter().map(|l| l.points).sum();
                prop_assert_eq!(c.raw, sections + lines);
                prop_assert_eq!(c.deducted, c.raw.min(c.max));
                prop_assert_eq!(c.score, c.max - c.deducted);
                prop_assert!(c.score >= Points::ZERO && c.score <= c.max);
                for sec in &c.sections {
                    let l: Points = sec.lines.iter().map(|l| l.points).sum();
                    prop_assert_eq!(sec.deducted, l.min(sec.max));
                    prop_assert_eq!(sec.absorbed, l - sec.deducted);
                }
                sum += c.score;
            }
            if s.veto.is_some() {
                prop_assert_eq!(s.total, Points::ZERO);
                prop_assert!(s.lowest_grade.is_some());
            } else {
                prop_assert_eq!(s.total, sum);
            }
            // Conversion against decimal arithmetic.
            let w = Decimal::new(r.classes[s.class].weight.hundredths(), 2);
            let t = Decimal::new(s.total.hundredths(), 2);
            let want = (t * w / Decimal::from(100))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(Decimal::new(s.converted.hundredths(), 2), want);
            // Rank: one more than the units of the class with a strictly higher converted score.
            let higher = sheets
                .sheets
                .iter()
                .filter(|o| o.class == s.class && o.converted > s.converted)
                .count();
            prop_assert_eq!(s.rank as usize, higher + 1);
        }
        // Grouped by class, each group in rank order, ties in roster order.
        for w in sheets.sheets.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            prop_assert!(a.class < b.class || (a.class == b.class && (a.rank < b.rank || (a.rank == b.rank && a.unit < b.unit))));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// A ledger changed one record at a time, and scored one unit at a time, is the ledger built
    /// at once and scored whole: what a write that costs its unit relies on.
    #[test]
    fn unit_by_unit_equals_whole(rows in rows(), ass in assessments(), met in metrics(), cut in 0usize..400) {
        let r = rubric();
        let whole = build(&r, &rows, &ass, &met);
        let want = score(&r, &whole).expect("score");
        // Start from the scores and metric values only, then add the accepted records one by one.
        let mut step = build(&r, &[], &ass, &met);
        let mut sheets = score(&r, &step).expect("score");
        let accepted: Vec<lvzhi_core::Record> = whole.records().copied().collect();
        let mut by_id: Vec<lvzhi_core::Record> = accepted.clone();
        by_id.sort_by_key(|x| x.id);
        for rec in &by_id {
            step.add_record(&r, *rec).expect("a record of a valid ledger is admitted");
            sheets.replace(lvzhi_core::score_unit(&r, &step, rec.unit as usize).expect("unit"));
        }
        prop_assert_eq!(ResultsDoc::new(&r, &sheets), ResultsDoc::new(&r, &want));
        // Taking records away (a revocation) equals never having had them.
        if !by_id.is_empty() {
            let gone = by_id[cut % by_id.len()];
            step.remove_records(gone.unit as usize, &[gone.id]);
            sheets.replace(lvzhi_core::score_unit(&r, &step, gone.unit as usize).expect("unit"));
            let again = score(&r, &whole.filtered(|x| x.id != gone.id)).expect("score");
            prop_assert_eq!(ResultsDoc::new(&r, &sheets), ResultsDoc::new(&r, &again));
        }
        // A record the unit's book refuses is refused alone, and changes nothing.
        for rec in &by_id {
            if r.rules[rec.rule as usize].kind.once_a_year() {
                let twice = lvzhi_core::Record { id: 10_000, ..*rec };
                if step.book(rec.unit as usize).records().iter().any(|x| x.rule == rec.rule) {
                    prop_assert!(step.admits(&r, &twice, &[]).is_err());
                    prop_assert!(step.admits(&r, &twice, &step.book(rec.unit as usize).records().iter().filter(|x| x.rule == rec.rule).map(|x| x.id).collect::<Vec<_>>()).is_ok()
                        || !r.rules[rec.rule as usize].excludes.is_empty());
                }
                break;
            }
        }
    }
}
