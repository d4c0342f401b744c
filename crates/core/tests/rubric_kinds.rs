//! The constructs of `rubric-kinds.md` beyond 2022: grade bands, earn categories, the bonus with a
//! `max_total`, and metric steps. The contract's worked example is scored to its table; a veto forces
//! the last band; steps floor and cap; the explanation says what each line did; the rubric and results
//! JSON carry the contract's fields; every validation names its line and key; and a property test
//! checks scoring against an independent reference written here with decimal arithmetic.

use std::collections::HashMap;

use lvzhi_core::contract::{ResultsDoc, RubricDoc};
use lvzhi_core::score::{LineDetail, UnitSheet};
use lvzhi_core::{Ledger, LedgerBuilder, Points, RecordFields, Roster, Rubric, score};
use proptest::prelude::*;
use rust_decimal::Decimal;

const WORKED: &str = include_str!("kinds/worked.toml");

fn rubric(text: &str) -> Rubric {
    Rubric::from_toml(text).unwrap_or_else(|e| panic!("rubric: {e}"))
}

fn roster(r: &Rubric) -> Roster {
    let mut roster = Roster::default();
    for (i, u) in r.roster.iter().enumerate() {
        roster
            .add(r, i as u64 + 2, &u.name, &r.classes[u.class].code, "")
            .expect("roster row");
    }
    roster
}

/// One unit's data: records (rule, count, points), assessments (group, score), metrics.
#[derive(Default, Clone, Debug)]
struct Data {
    records: Vec<(&'static str, u32, &'static str)>,
    scores: Vec<(String, String)>,
    metrics: Vec<(&'static str, String)>,
}

fn ledger(r: &Rubric, units: &[(&str, Data)]) -> Ledger {
    let mut b = LedgerBuilder::new(r, roster(r));
    let mut row = 0u64;
    for (unit, d) in units {
        for (rule, count, points) in &d.records {
            row += 1;
            let count = count.to_string();
            b.add_record(
                row,
                &RecordFields {
                    unit: unit.as_bytes(),
                    rule: rule.as_bytes(),
                    count: count.as_bytes(),
                    points: points.as_bytes(),
                    date: b"2023-05-01",
                },
            )
            .unwrap_or_else(|e| panic!("{unit} {rule}: {e}"));
        }
        for (group, score) in &d.scores {
            row += 1;
            b.add_assessment(row, unit, "4.3", group, score)
                .unwrap_or_else(|e| panic!("{unit} 4.3: {e}"));
        }
        for (metric, value) in &d.metrics {
            row += 1;
            b.add_metric(row, unit, metric, value)
                .unwrap_or_else(|e| panic!("{unit} {metric}: {e}"));
        }
    }
    b.finish()
}

fn worked_unit() -> Data {
    Data {
        records: vec![
            ("1.2", 2, ""),
            ("2.1", 1, ""),
            ("2.2", 1, "8"),
            ("2.3", 4, ""),
            ("2.4", 1, ""),
            ("2.5", 1, "6"),
            ("4.2", 1, ""),
            ("5.1", 1, ""),
            ("5.2", 1, ""),
            ("5.3", 1, ""),
        ],
        scores: vec![
            ("第一督导组".into(), "9".into()),
            ("第二督导组".into(), "8".into()),
            ("第三督导组".into(), "8.5".into()),
        ],
        metrics: vec![
            ("accidents", "3".into()),
            ("accidents_last_year", "2".into()),
            ("deaths", "1".into()),
            ("deaths_last_year", "1".into()),
            ("inspections", "12".into()),
            ("inspections_plan", "10".into()),
        ],
    }
}

fn category_scores(r: &Rubric, s: &UnitSheet) -> Vec<(String, String)> {
    s.categories
        .iter()
        .map(|c| (r.categories[c.category].code.clone(), c.score.to_fixed2()))
        .collect()
}

#[test]
fn the_worked_example_of_the_contract_scores_to_its_table() {
    let r = rubric(WORKED);
    let l = ledger(&r, &[("县应急管理局", worked_unit())]);
    let sheets = score(&r, &l).expect("score");
    let s = sheets.by_name("县应急管理局").expect("sheet");
    assert_eq!(
        category_scores(&r, s),
        [
            ("1", "19.00"),
            ("2", "30.00"),
            ("3", "28.00"),
            ("4", "16.50"),
            ("5", "5.00")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(s.total.to_fixed2(), "98.50");
    assert_eq!(
        s.converted.to_fixed2(),
        "98.50",
        "weight 100 ÷ 100: the total"
    );
    assert_eq!(s.grade_name(&r), Some("优秀"));
    assert_eq!(
        s.grade_reason(&r).as_deref(),
        Some("总分 98.50，达到优秀（≥ 90）")
    );
    // The bonus category added 6 and kept 5; the earn category earned all 30.
    let bonus = s.categories.iter().find(|c| c.category == 4).expect("5");
    assert_eq!(
        (bonus.raw.to_fixed2(), bonus.score.to_fixed2()),
        ("6.00".into(), "5.00".into())
    );
    let earn = s.categories.iter().find(|c| c.category == 1).expect("2");
    assert_eq!(earn.lost(), Points::ZERO);
    // Each computed line says its arithmetic.
    let c3 = s.categories.iter().find(|c| c.category == 2).expect("3");
    let step = c3
        .lines
        .iter()
        .find(|l| r.rules[l.rule].code == "3.1")
        .expect("3.1 applied");
    assert!(matches!(step.detail, LineDetail::Steps { steps: 1, .. }));
    assert_eq!(
        step.working(&r).as_deref(),
        Some("事故起数 3，上年事故起数 2，多 1；每多扣 2：1 × 2 = 2")
    );
    assert!(
        c3.lines.iter().all(|l| r.rules[l.rule].code != "3.2"),
        "deaths equal to last year cost nothing"
    );
    let c4 = s.categories.iter().find(|c| c.category == 3).expect("4");
    let assessed = c4
        .lines
        .iter()
        .find(|l| r.rules[l.rule].code == "4.3")
        .expect("4.3");
    assert_eq!(
        assessed.working(&r).as_deref(),
        Some("督导组平均 8.5，满分 10：扣 10 − 8.5 = 1.5")
    );
    // The results JSON carries the grade and the earned points.
    let doc = serde_json::to_value(ResultsDoc::new(&r, &sheets)).expect("json");
    let unit = &doc["results"][0];
    assert_eq!(unit["unit"], "县应急管理局");
    assert_eq!(unit["grade"], "优秀");
    assert_eq!(unit["total"], "98.50");
    assert_eq!(unit["categories"][1]["earned"], "30");
    assert_eq!(unit["categories"][1]["deducted"], "0");
    assert_eq!(unit["categories"][4]["added"], "5");
}

#[test]
fn a_veto_forces_the_last_band_and_steps_floor_and_cap() {
    let r = rubric(WORKED);
    let mut vetoed = worked_unit();
    vetoed.records.push(("3.3", 1, ""));
    let steps = Data {
        records: vec![],
        scores: vec![],
        metrics: vec![
            ("accidents", "9".into()),
            ("accidents_last_year", "2".into()),
            ("deaths", "3".into()),
            ("deaths_last_year", "1".into()),
        ],
    };
    let l = ledger(&r, &[("县住建局", vetoed), ("县交通运输局", steps)]);
    let sheets = score(&r, &l).expect("score");
    let v = sheets.by_name("县住建局").expect("sheet");
    assert_eq!(v.total, Points::ZERO);
    assert_eq!(
        v.subtotal.to_fixed2(),
        "98.50",
        "the subtotal stands; the veto zeroes the total"
    );
    assert_eq!(v.grade_name(&r), Some("不合格"));
    let reason = v.grade_reason(&r).expect("reason");
    assert!(
        reason.contains("一票否决")
            && reason.contains("3.3")
            && reason.ends_with("等次直接确定为不合格"),
        "{reason}"
    );

    let t = sheets.by_name("县交通运输局").expect("sheet");
    // 7 more accidents: 7 × 2 = 14, capped at the rule's 10; 2 more deaths: 2 × 5 = 10.
    let c3 = t.categories.iter().find(|c| c.category == 2).expect("3");
    let a = c3
        .lines
        .iter()
        .find(|l| r.rules[l.rule].code == "3.1")
        .expect("3.1");
    assert_eq!(a.points, Points::whole(10));
    assert!(
        matches!(a.detail, LineDetail::Steps { steps: 7, capped, .. } if capped == Points::whole(4))
    );
    assert_eq!(
        a.working(&r).as_deref(),
        Some("事故起数 9，上年事故起数 2，多 7；每多扣 2：7 × 2 = 14，本条最多扣 10，计 10")
    );
    assert_eq!(c3.score, Points::whole(10));
    // Nothing earned is 0, not incomplete; the missing inspections and scores are incomplete.
    let incomplete: Vec<&str> = t
        .incomplete
        .iter()
        .map(|i| r.rules[i.rule].code.as_str())
        .collect();
    assert_eq!(incomplete, ["4.1", "4.3"]);
    assert_eq!(t.total.to_fixed2(), "50.00", "20 + 0 + 10 + 20 + 0");
    assert_eq!(t.grade_name(&r), Some("不合格"));
    assert_eq!(
        t.grade_reason(&r).as_deref(),
        Some("总分 50.00，低于合格的下限 60，为不合格")
    );
    // The third unit has no data at all: 70 (deductions only lose what is recorded), 合格.
    let e = sheets.by_name("县应急管理局").expect("sheet");
    assert_eq!(e.total.to_fixed2(), "70.00");
    assert_eq!(e.grade_name(&r), Some("合格"));
}

#[test]
fn a_kind_of_assessment_is_read_trimmed_and_shown() {
    let plain = rubric(WORKED);
    assert_eq!(plain.kind, None);
    let doc = serde_json::to_value(RubricDoc::new(&plain)).expect("json");
    assert!(doc.get("kind").is_none(), "no kind, no key: {doc}");
    let named =
        rubric(&WORKED.replacen("total = 100", "kind = \" 县级部门考核 \"\ntotal = 100", 1));
    assert_eq!(named.kind.as_deref(), Some("县级部门考核"));
    let doc = serde_json::to_value(RubricDoc::new(&named)).expect("json");
    assert_eq!(doc["kind"], "县级部门考核");
}

#[test]
fn max_total_caps_the_total_after_the_bonus() {
    let text = WORKED.replace("total = 100\n", "total = 100\nmax_total = 100\n");
    let r = rubric(&text);
    assert_eq!(r.max_total, Some(Points::whole(100)));
    let mut full = worked_unit();
    full.records
        .retain(|(rule, _, _)| !["1.2", "4.2"].contains(rule));
    full.scores = vec![("第一督导组".into(), "10".into())];
    full.metrics[0].1 = "2".into();
    let l = ledger(&r, &[("县应急管理局", full)]);
    let sheets = score(&r, &l).expect("score");
    let s = sheets.by_name("县应急管理局").expect("sheet");
    assert_eq!(s.subtotal.to_fixed2(), "105.00", "100 and a bonus of 5");
    assert_eq!(s.over_max, Points::whole(5));
    assert_eq!(s.total.to_fixed2(), "100.00");
    // Without max_total the bonus carries the total past 100.
    let r2 = rubric(WORKED);
    let mut full2 = worked_unit();
    full2
        .records
        .retain(|(rule, _, _)| !["1.2", "4.2"].contains(rule));
    full2.scores = vec![("第一督导组".into(), "10".into())];
    full2.metrics[0].1 = "2".into();
    let l2 = ledger(&r2, &[("县应急管理局", full2)]);
    assert_eq!(
        score(&r2, &l2).expect("score").sheets[0].total.to_fixed2(),
        "105.00"
    );
}

#[test]
fn records_of_computed_rules_and_earn_counts_beyond_the_maximum_are_refused() {
    let r = rubric(WORKED);
    let mut b = LedgerBuilder::new(&r, roster(&r));
    let f = |rule: &'static str, count: &'static str| RecordFields {
        unit: "县住建局".as_bytes(),
        rule: rule.as_bytes(),
        count: count.as_bytes(),
        points: b"",
        date: b"2023-03-01",
    };
    let e = b
        .add_record(1, &f("3.1", "1"))
        .expect_err("a metric step is computed");
    assert!(e.to_string().contains("3.1"), "{e}");
    let e = b
        .add_record(2, &f("2.3", "5"))
        .expect_err("at most 4 a year");
    assert!(e.to_string().contains('4'), "{e}");
    assert!(b.add_record(3, &f("2.3", "4")).is_ok());
    let e = b
        .add_metric(4, "县住建局", "no_such_metric", "1")
        .expect_err("undeclared metric");
    assert!(e.to_string().contains("no_such_metric"), "{e}");
}

#[test]
fn rubric_show_json_carries_the_contract_fields() {
    let r = rubric(&WORKED.replace("total = 100\n", "total = 100\nmax_total = 100\n"));
    let doc = serde_json::to_value(RubricDoc::new(&r)).expect("json");
    assert_eq!(doc["max_total"], "100");
    assert_eq!(
        doc["grades"],
        serde_json::json!([{"name": "优秀", "min": "90"}, {"name": "良好", "min": "80"},
                           {"name": "合格", "min": "60"}, {"name": "不合格", "min": "0"}])
    );
    assert_eq!(doc["categories"][1]["mode"], "earn");
    assert_eq!(doc["categories"][4]["mode"], "bonus");
    let step = &doc["categories"][2]["rules"][0];
    assert_eq!(step["kind"], "metric_step");
    assert_eq!(step["metric"], "accidents");
    assert_eq!(step["reference"], "accidents_last_year");
    assert_eq!(step["direction"], "above");
    assert_eq!(step["step"], "1");
    assert_eq!(step["points"], "2");
    assert_eq!(step["max"], "10");
    // A rubric without bands says so with an empty list.
    let r2022 = rubric(lvzhi_core::RUBRIC_2022);
    let d = serde_json::to_value(RubricDoc::new(&r2022)).expect("json");
    assert_eq!(d["grades"], serde_json::json!([]));
    assert!(d.get("max_total").is_none());
    // And 2022 results carry `"grade": null`.
    let l = LedgerBuilder::new(&r2022, {
        let mut ro = Roster::default();
        for (i, u) in r2022.roster.iter().enumerate() {
            ro.add(&r2022, i as u64, &u.name, &r2022.classes[u.class].code, "")
                .expect("roster");
        }
        ro
    })
    .finish();
    let res = serde_json::to_value(ResultsDoc::new(&r2022, &score(&r2022, &l).expect("score")))
        .expect("json");
    assert_eq!(res["results"][0]["grade"], serde_json::Value::Null);
}

#[test]
fn terms_speak_the_category_s_verb() {
    let r = rubric(WORKED);
    let terms = |code: &str| r.terms(r.rule_by_code(code).expect(code));
    assert_eq!(terms("1.2"), "每次扣 0.5 分");
    assert_eq!(terms("2.3"), "每次得 2 分，全年至多 4 次");
    assert_eq!(terms("5.1"), "每次加 3 分");
    assert_eq!(terms("3.1"), "比上年事故起数每多 1 扣 2 分，最多扣 10 分");
    assert_eq!(terms("4.3"), "督导组打分，满分 10，扣 满分−平均分");
    assert_eq!(
        r.kind_label(r.rule_by_code("2.3").expect("2.3")),
        "按次得分"
    );
    assert_eq!(
        r.grades_text(),
        "优秀 ≥ 90；良好 ≥ 80；合格 ≥ 60；不合格 < 60"
    );
}

/// Each validation of the new constructs: (what to change, line, key, words of the message).
#[test]
fn every_new_validation_names_its_line_and_key() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // bands out of order
        (
            "name = \"良好\"\nmin = 80",
            "name = \"良好\"\nmin = 95",
            "grades[1].min",
            "从高到低",
        ),
        // last band not 0
        (
            "name = \"不合格\"\nmin = 0",
            "name = \"不合格\"\nmin = 10",
            "grades[3].min",
            "须为 0",
        ),
        // duplicate band
        (
            "name = \"良好\"\nmin = 80",
            "name = \"优秀\"\nmin = 80",
            "grades[1].name",
            "重复",
        ),
        // unknown mode
        (
            "mode = \"earn\"",
            "mode = \"gain\"",
            "categories[1].mode",
            "deduct、earn、bonus、flags",
        ),
        // metric_below cannot earn
        (
            "code = \"2.1\"\nkind = \"fixed\"\npoints = 4",
            "code = \"2.1\"\nkind = \"metric_below\"\nmetric = \"deaths\"\nreference = \"deaths_last_year\"\npoints = 4",
            "categories[1].rules[0].kind",
            "得分制",
        ),
        // direction missing
        (
            "direction = \"above\"\npoints = 2\nmax = 10",
            "points = 2\nmax = 10",
            "categories[2].rules[0].direction",
            "above 或 below",
        ),
        // direction unknown
        (
            "direction = \"above\"\npoints = 2\nmax = 10",
            "direction = \"over\"\npoints = 2\nmax = 10",
            "categories[2].rules[0].direction",
            "未知的比较方向",
        ),
        // step zero
        (
            "direction = \"above\"\npoints = 2\nmax = 10",
            "direction = \"above\"\nstep = 0\npoints = 2\nmax = 10",
            "categories[2].rules[0].step",
            "大于 0",
        ),
        // cap below a step's points
        (
            "direction = \"above\"\npoints = 2\nmax = 10",
            "direction = \"above\"\npoints = 2\nmax = 1",
            "categories[2].rules[0].max",
            "小于每级扣分",
        ),
        // undeclared metric
        (
            "metric = \"accidents\"\nreference",
            "metric = \"accident\"\nreference",
            "categories[2].rules[0].metric",
            "未在 [[metrics]] 中声明",
        ),
        // the total counts earn categories
        ("total = 100", "total = 70", "rubric.total", "得分制"),
        // max_total zero
        (
            "total = 100",
            "total = 100\nmax_total = 0",
            "rubric.max_total",
            "大于 0",
        ),
        // a kind of assessment that is blank
        (
            "total = 100",
            "kind = \"  \"\ntotal = 100",
            "rubric.kind",
            "考核类别",
        ),
        // a kind of assessment beyond its length
        (
            "total = 100",
            "kind = \"县级部门安全生产工作考核县级部门安全生产工作考核县级部门安全生产工作考核县级部门等\"\ntotal = 100",
            "rubric.kind",
            "40 个字",
        ),
        // a key the kind does not use
        (
            "direction = \"above\"\npoints = 2\nmax = 10",
            "direction = \"above\"\npoints = 2\nmax = 10\nmax_count = 3",
            "categories[2].rules[0].max_count",
            "不使用",
        ),
    ];
    for (from, to, key, words) in cases {
        assert!(WORKED.contains(from), "the base has {from:?}");
        let text = WORKED.replacen(from, to, 1);
        let errors = Rubric::from_toml(&text).expect_err(key).0;
        let hit = errors
            .iter()
            .find(|e| e.key == *key)
            .unwrap_or_else(|| panic!("{key}: expected an error there, got {errors:?}"));
        assert!(hit.message.contains(words), "{key}: {}", hit.message);
        assert!(hit.line > 0, "{key}: a line");
    }
}

// ---------------------------------------------------------------------------------------------
// An independent reference: the contract's semantics in decimal arithmetic, written from
// rubric-kinds.md and rules-2022.md without the engine's types.

#[derive(Clone, Debug)]
struct Unit {
    counts: HashMap<&'static str, u32>,
    given: HashMap<&'static str, Decimal>,
    scores: Vec<Decimal>,
    metrics: HashMap<&'static str, Decimal>,
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn reference(u: &Unit) -> (Decimal, &'static str) {
    let c = |k: &str| Decimal::from(*u.counts.get(k).unwrap_or(&0));
    let once = |k: &str, p: &str| {
        if c(k) > Decimal::ZERO {
            dec(p)
        } else {
            Decimal::ZERO
        }
    };
    let cat1 = dec("20") - (once("1.1", "5") + c("1.2") * dec("0.5")).min(dec("20"));
    let earned = once("2.1", "4")
        + u.given.get("2.2").copied().unwrap_or_default()
        + c("2.3") * dec("2")
        + once("2.4", "4")
        + u.given.get("2.5").copied().unwrap_or_default();
    let cat2 = earned.min(dec("30"));
    let step = |m: &str, r: &str, p: &str, cap: Option<&str>| -> Decimal {
        match (u.metrics.get(m), u.metrics.get(r)) {
            (Some(v), Some(rv)) if v > rv => {
                let d = (v - rv).floor() * dec(p);
                cap.map_or(d, |c| d.min(dec(c)))
            }
            _ => Decimal::ZERO,
        }
    };
    let cat3 = dec("30")
        - (step("accidents", "accidents_last_year", "2", Some("10"))
            + step("deaths", "deaths_last_year", "5", None))
        .min(dec("30"));
    let below = match (
        u.metrics.get("inspections"),
        u.metrics.get("inspections_plan"),
    ) {
        (Some(v), Some(p)) if v < p => dec("3"),
        _ => Decimal::ZERO,
    };
    let assessed = if u.scores.is_empty() {
        Decimal::ZERO
    } else {
        let mean = (u.scores.iter().sum::<Decimal>() / Decimal::from(u.scores.len()))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        dec("10") - mean
    };
    let cat4 = dec("20") - (below + c("4.2") * dec("2") + assessed).min(dec("20"));
    let cat5 = (c("5.1") * dec("3") + c("5.2") * dec("2") + c("5.3")).min(dec("5"));
    let vetoed = c("3.3") + c("3.4") > Decimal::ZERO;
    let total = if vetoed {
        Decimal::ZERO
    } else {
        cat1 + cat2 + cat3 + cat4 + cat5
    };
    let grade = if vetoed || total < dec("60") {
        "不合格"
    } else if total >= dec("90") {
        "优秀"
    } else if total >= dec("80") {
        "良好"
    } else {
        "合格"
    };
    (total, grade)
}

fn unit_strategy() -> impl Strategy<Value = Unit> {
    (
        prop::collection::vec(0u32..6, 12),
        (0u32..=800, prop::bool::ANY),
        prop::collection::vec(0i64..=1000, 0..4),
        prop::collection::vec(prop::option::of(0i64..40), 6),
    )
        .prop_map(|(counts, (range, full), scores, metrics)| {
            let codes = [
                "1.1", "1.2", "2.1", "2.3", "2.4", "3.3", "3.4", "4.2", "5.1", "5.2", "5.3", "2.2",
            ];
            let mut c = HashMap::new();
            let mut given = HashMap::new();
            for (code, n) in codes.iter().zip(counts) {
                let n = match *code {
                    "1.1" | "2.1" | "2.4" | "3.3" | "3.4" | "2.2" => n.min(1),
                    "2.3" => n.min(4),
                    _ => n,
                };
                if n > 0 {
                    c.insert(*code, n);
                }
            }
            if c.remove("2.2").is_some() {
                given.insert("2.2", Decimal::new(i64::from(range), 2));
            }
            given.insert("2.5", if full { dec("6") } else { dec("3") });
            let names = [
                "accidents",
                "accidents_last_year",
                "deaths",
                "deaths_last_year",
                "inspections",
                "inspections_plan",
            ];
            let metrics = names
                .iter()
                .zip(metrics)
                .filter_map(|(n, v)| v.map(|v| (*n, Decimal::from(v))))
                .collect();
            Unit {
                counts: c,
                given,
                scores: scores.into_iter().map(|s| Decimal::new(s, 2)).collect(),
                metrics,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn scoring_agrees_with_the_reference(u in unit_strategy()) {
        let r = rubric(WORKED);
        let mut b = LedgerBuilder::new(&r, roster(&r));
        let mut row = 0;
        let unit = "县应急管理局";
        for (code, n) in &u.counts {
            row += 1;
            let count = n.to_string();
            b.add_record(row, &RecordFields { unit: unit.as_bytes(), rule: code.as_bytes(),
                count: count.as_bytes(), points: b"", date: b"2023-06-01" }).expect("record");
        }
        for (code, p) in &u.given {
            row += 1;
            let p = p.to_string();
            b.add_record(row, &RecordFields { unit: unit.as_bytes(), rule: code.as_bytes(),
                count: b"", points: p.as_bytes(), date: b"2023-06-01" }).expect("given");
        }
        for (i, s) in u.scores.iter().enumerate() {
            row += 1;
            b.add_assessment(row, unit, "4.3", &format!("第{}组", i + 1), &s.to_string()).expect("score");
        }
        for (m, v) in &u.metrics {
            row += 1;
            b.add_metric(row, unit, m, &v.to_string()).expect("metric");
        }
        let sheets = score(&r, &b.finish()).expect("score");
        let s = sheets.by_name(unit).expect("sheet");
        let (total, grade) = reference(&u);
        prop_assert_eq!(s.total.to_decimal(), total);
        prop_assert_eq!(s.grade_name(&r), Some(grade));
    }
}
