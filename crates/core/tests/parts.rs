//! Parts of a year (`offices-and-periods.md` §3): `[[parts]]` and a veto's `scope` load, and every
//! wrong part is refused with its line and key; the year made from its parts gives the contract's
//! four worked examples exactly (quarters scored by the core from their own ledgers); and the
//! weighted mean agrees with an independent reference in decimal arithmetic, rounding included.

use lvzhi_core::year::{PartTotal, mean_of, roll_up};
use lvzhi_core::{LedgerBuilder, Points, RecordFields, Roster, Rubric, ScoreSheets, score};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

/// A county's quarterly rubric: one category of 100, 0.25 a time for a shortcoming, a
/// part-scope veto, a year-scope veto ("瞒报……全年一票否决"), bands 90/80/60/0.
fn quarterly(parts: &str) -> String {
    format!(
        r#"
[rubric]
id = "county-quarterly-2023"
year = 2023
title = "2023年青山县安全生产季度考核细则"
total = 100

[[classes]]
code = "T"
name = "镇（街道）"
weight = 100

[[grades]]
name = "优秀"
min = 90
[[grades]]
name = "良好"
min = 80
[[grades]]
name = "合格"
min = 60
[[grades]]
name = "不合格"
min = 0

{parts}

[[categories]]
code = "1"
name = "安全生产工作"
max = 100

[[categories.rules]]
code = "1.1"
kind = "per_count"
points = 0.25
text = "工作任务未完成，每项"

[[categories.rules]]
code = "1.2"
kind = "veto"
text = "发生较大生产安全事故"

[[categories.rules]]
code = "1.3"
kind = "veto"
scope = "year"
text = "瞒报生产安全事故"

[[units]]
name = "城东街道"
class = "T"

[[units]]
name = "城西街道"
class = "T"
"#
    )
}

const QUARTERS: &str = r#"
[[parts]]
code = "q1"
name = "第一季度"
from = "01-01"
to = "03-31"
weight = 1

[[parts]]
code = "q2"
name = "第二季度"
from = "04-01"
to = "06-30"
weight = 1

[[parts]]
code = "q3"
name = "第三季度"
from = "07-01"
to = "09-30"
weight = 1

[[parts]]
code = "q4"
name = "第四季度"
from = "10-01"
to = "12-31"
weight = 1
"#;

const HALVES: &str = r#"
[[parts]]
code = "h1"
name = "上半年"
from = "01-01"
to = "06-30"
weight = 40

[[parts]]
code = "h2"
name = "下半年"
from = "07-01"
to = "12-31"
weight = 60
"#;

fn rubric(text: &str) -> Rubric {
    Rubric::from_toml(text).unwrap_or_else(|e| panic!("rubric: {e}"))
}

/// One part's sheets: for each unit, its shortcomings (0.25 each) and the vetoes it recorded.
fn part(r: &Rubric, units: &[(&str, u32, &[&str])]) -> ScoreSheets {
    let mut roster = Roster::default();
    for (i, u) in r.roster.iter().enumerate() {
        roster
            .add(r, i as u64 + 2, &u.name, &r.classes[u.class].code, "")
            .expect("roster");
    }
    let mut b = LedgerBuilder::new(r, roster);
    let mut row = 0;
    for (unit, shortcomings, vetoes) in units {
        let count = shortcomings.to_string();
        let rules = std::iter::once(("1.1", count.as_str())).filter(|_| *shortcomings > 0);
        for (rule, count) in rules.chain(vetoes.iter().map(|v| (*v, ""))) {
            row += 1;
            b.add_record(
                row,
                &RecordFields {
                    unit: unit.as_bytes(),
                    rule: rule.as_bytes(),
                    count: count.as_bytes(),
                    points: b"",
                    date: b"",
                },
            )
            .unwrap_or_else(|e| panic!("{unit} {rule}: {e}"));
        }
    }
    score(r, &b.finish()).expect("score")
}

/// Shortcomings (0.25 each) that leave a quarter at `total`.
fn short_of(total: &str) -> u32 {
    let lost = Points::whole(100) - Points::parse(total).expect("total");
    u32::try_from(lost.hundredths() / 25).expect("a multiple of 0.25")
}

#[test]
fn parts_and_a_veto_scope_load() {
    let r = rubric(&quarterly(QUARTERS));
    assert_eq!(r.parts.len(), 4);
    assert_eq!(r.parts[1].code, "q2");
    assert_eq!(r.parts[1].dates_text(), "04-01 至 06-30");
    assert!(r.parts[1].contains(2023, 91) && !r.parts[1].contains(2023, 90));
    assert!(!r.rules[1].year_scope && r.rules[2].year_scope);
    assert!(rubric(&quarterly("")).parts.is_empty());
    // `rubric show --json` carries the parts and each veto's scope.
    let doc = serde_json::to_value(lvzhi_core::contract::RubricDoc::new(&r)).expect("json");
    assert_eq!(
        doc["parts"][3],
        serde_json::json!({"code": "q4", "name": "第四季度", "from": "10-01", "to": "12-31", "weight": "1"})
    );
    let rules = &doc["categories"][0]["rules"];
    assert_eq!(
        (
            rules[1]["scope"].as_str(),
            rules[2]["scope"].as_str(),
            rules[0].get("scope")
        ),
        (Some("part"), Some("year"), None)
    );
}

#[test]
fn a_wrong_part_is_refused_with_its_line_and_key() {
    let cases = [
        (
            QUARTERS.replacen("code = \"q2\"", "code = \"q1\"", 1),
            "parts[1].code",
            "代码「q1」重复",
        ),
        (
            QUARTERS
                .replacen("to = \"03-31\"", "to = \"01-31\"", 1)
                .replacen("from = \"01-01\"", "from = \"02-01\"", 1),
            "parts[0].to",
            "结束日 01-31 早于开始日 02-01",
        ),
        (
            QUARTERS.replacen("weight = 1", "weight = 0", 1),
            "parts[0].weight",
            "权重须大于 0",
        ),
        (
            QUARTERS.replacen("weight = 1", "weight = -1", 1),
            "parts[0].weight",
            "不能为负数",
        ),
        (
            QUARTERS.replacen("to = \"03-31\"", "to = \"02-29\"", 1),
            "parts[0].to",
            "「02-29」不是 2023 年中的日期",
        ),
        (
            QUARTERS.replacen("from = \"04-01\"", "from = \"13-01\"", 1),
            "parts[1].from",
            "不是 2023 年中的日期",
        ),
    ];
    for (parts, key, message) in cases {
        let text = quarterly(&parts);
        let errors = Rubric::from_toml(&text).expect_err(key).0;
        let e = errors
            .iter()
            .find(|e| e.key == key)
            .unwrap_or_else(|| panic!("{key}: {errors:?}"));
        assert!(e.message.contains(message), "{key}: {}", e.message);
        assert!(e.line > 0, "{key} names its line");
    }
    let scoped =
        quarterly(QUARTERS).replacen("points = 0.25\n", "points = 0.25\nscope = \"year\"\n", 1);
    let errors = Rubric::from_toml(&scoped)
        .expect_err("scope on a per_count")
        .0;
    assert!(
        errors
            .iter()
            .any(|e| e.key == "categories[0].rules[0].scope"
                && e.message.contains("只有一票否决条款")),
        "{errors:?}"
    );
}

/// The contract's worked examples, each quarter scored from its own ledger.
#[test]
fn the_year_of_the_worked_examples() {
    let r = rubric(&quarterly(QUARTERS));
    let totals = [
        ["99.75", "94.00", "95.00", "89.25"],
        ["63.25", "79.75", "53.00", "78.50"],
    ];
    let quarters: Vec<ScoreSheets> = (0..4)
        .map(|q| {
            part(
                &r,
                &[
                    ("城东街道", short_of(totals[0][q]), &[]),
                    ("城西街道", short_of(totals[1][q]), &[]),
                ],
            )
        })
        .collect();
    let parts: Vec<(usize, &ScoreSheets)> = quarters.iter().enumerate().collect();
    let year = roll_up(&r, &parts);
    let east = year.by_name("城东街道").expect("east");
    assert_eq!(east.total.to_fixed2(), "94.50");
    assert_eq!(r.grades[east.grade.expect("band")].name, "优秀");
    assert_eq!(
        east.working(&r),
        "（1 × 99.75 + 1 × 94.00 + 1 × 95.00 + 1 × 89.25）÷ 4 = 94.50"
    );
    let west = year.by_name("城西街道").expect("west");
    assert_eq!(
        west.total.to_fixed2(),
        "68.63",
        "274.50 / 4 = 68.625, half up"
    );
    assert_eq!(r.grades[west.grade.expect("band")].name, "合格");
    assert_eq!((east.rank, west.rank), (1, 2));
    assert_eq!(east.converted.to_fixed2(), "94.50");

    // A year-scope veto in the second quarter: the year is 0.00, vetoed, 不合格, whatever else.
    let mut q = quarters.clone();
    q[1] = part(
        &r,
        &[
            ("城东街道", short_of("94.00"), &["1.3"]),
            ("城西街道", 0, &[]),
        ],
    );
    let parts: Vec<(usize, &ScoreSheets)> = q.iter().enumerate().collect();
    let year = roll_up(&r, &parts);
    let east = year.by_name("城东街道").expect("east");
    assert_eq!(east.total, Points::ZERO);
    assert_eq!(east.veto.map(|v| v.part), Some(1));
    assert_eq!(r.grades[east.grade.expect("band")].name, "不合格");
    assert!(east.working(&r).contains("第二季度条款 1.3 全年一票否决"));
    // A part-scope veto makes only its quarter 0.00, which enters the mean.
    q[1] = part(&r, &[("城东街道", 0, &["1.2"]), ("城西街道", 0, &[])]);
    let parts: Vec<(usize, &ScoreSheets)> = q.iter().enumerate().collect();
    let year = roll_up(&r, &parts);
    let east = year.by_name("城东街道").expect("east");
    assert!(east.veto.is_none());
    // (99.75 + 0 + 95.00 + 89.25) / 4 = 71.00
    assert_eq!(east.total.to_fixed2(), "71.00");

    // Halves weighted 40 and 60.
    let r = rubric(&quarterly(HALVES));
    let halves = [
        part(
            &r,
            &[("城东街道", short_of("92.00"), &[]), ("城西街道", 0, &[])],
        ),
        part(
            &r,
            &[("城东街道", short_of("85.50"), &[]), ("城西街道", 0, &[])],
        ),
    ];
    let parts: Vec<(usize, &ScoreSheets)> = halves.iter().enumerate().collect();
    let year = roll_up(&r, &parts);
    let east = year.by_name("城东街道").expect("east");
    assert_eq!(east.total.to_fixed2(), "88.10");
    assert_eq!(r.grades[east.grade.expect("band")].name, "良好");
    assert_eq!(
        east.parts,
        [
            PartTotal {
                part: 0,
                total: Points::parse("92").expect("p")
            },
            PartTotal {
                part: 1,
                total: Points::parse("85.5").expect("p")
            }
        ]
    );
}

/// The reference: Σ w × t ÷ Σ w in `rust_decimal`, rounded half away from zero.
fn reference(pairs: &[(i64, i64)], decimals: u32) -> Decimal {
    let (mut n, mut d) = (Decimal::ZERO, Decimal::ZERO);
    for (w, t) in pairs {
        let w = Decimal::new(*w, 2);
        n += w * Decimal::new(*t, 2);
        d += w;
    }
    (n / d).round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

proptest! {
    #[test]
    fn the_weighted_mean_is_exact(
        pairs in prop::collection::vec((1i64..=10_000, 0i64..=10_000), 1..=8),
        decimals in 0u32..=2,
    ) {
        let points: Vec<(Points, Points)> = pairs
            .iter()
            .map(|(w, t)| (Points::from_hundredths(*w), Points::from_hundredths(*t)))
            .collect();
        let ours = mean_of(&points, decimals).to_decimal();
        prop_assert_eq!(ours, reference(&pairs, decimals));
    }
}
