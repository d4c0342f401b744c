//! Every validation of the rubric loader, each naming its line and key: a minimal valid rubric is
//! changed in one place per case, and the case says which line, key and message must come back.

use lvzhi_core::Rubric;

const BASE: &str = r#"[rubric]
id = "t"
year = 2023
title = "测试"
total = 30

[[classes]]
code = "A"
weight = 3

[[metrics]]
code = "m"

[[metrics]]
code = "avg"

[[categories]]
code = "1"
max = 20

[[categories.rules]]
code = "1.1"
kind = "fixed"
points = 2
excludes = ["1.2"]
text = "甲"

[[categories.rules]]
code = "1.2"
kind = "per_count"
points = 0.2
max_count = 5
text = "乙"

[[categories.rules]]
code = "1.3"
kind = "metric_below"
points = 0.3
metric = "m"
reference = "avg"
text = "丙"

[[categories]]
code = "2"
max = 10

[[categories.sections]]
code = "2.1"
max = 5

[[categories.sections.rules]]
code = "2.1.1"
kind = "range"
min = 1
max = 3
text = "丁"

[[categories.sections]]
code = "2.2"
max = 5

[[categories.sections.rules]]
code = "2.2.1"
kind = "assessed"
max = 5
text = "戊"

[[units]]
name = "甲局"
class = "A"
"#;

/// (what, text to find, replacement, line, key, message fragment)
const CASES: &[(&str, &str, &str, usize, &str, &str)] = &[
    (
        "TOML syntax",
        "title = \"测试\"",
        "title = 测试",
        4,
        "(文件)",
        "TOML 格式错误",
    ),
    (
        "unknown key",
        "max_count = 5",
        "max_cont = 5",
        32,
        "(文件)",
        "max_cont",
    ),
    (
        "total does not add up",
        "total = 30",
        "total = 100",
        5,
        "rubric.total",
        "不一致",
    ),
    (
        "three decimals",
        "points = 0.2",
        "points = 0.125",
        31,
        "categories[0].rules[1].points",
        "最多两位小数",
    ),
    (
        "three decimals as text",
        "points = 0.2",
        "points = \"0.205\"",
        31,
        "categories[0].rules[1].points",
        "最多两位小数",
    ),
    (
        "negative points",
        "points = 2",
        "points = -2",
        24,
        "categories[0].rules[0].points",
        "不能为负数",
    ),
    (
        "duplicate rule code",
        "code = \"1.2\"",
        "code = \"1.1\"",
        29,
        "categories[0].rules[1].code",
        "重复",
    ),
    (
        "excludes unknown",
        "excludes = [\"1.2\"]",
        "excludes = [\"9.9\"]",
        25,
        "categories[0].rules[0].excludes",
        "不存在",
    ),
    (
        "excludes itself",
        "excludes = [\"1.2\"]",
        "excludes = [\"1.1\"]",
        25,
        "categories[0].rules[0].excludes",
        "自身",
    ),
    (
        "unknown kind",
        "kind = \"fixed\"",
        "kind = \"bonus\"",
        23,
        "categories[0].rules[0].kind",
        "未知的条款类型",
    ),
    (
        "key for another kind",
        "max_count = 5",
        "max_count = 5\nmin = 1",
        33,
        "categories[0].rules[1].min",
        "per_count 类条款不使用 min",
    ),
    (
        "points above the cap",
        "points = 2",
        "points = 21",
        24,
        "categories[0].rules[0].points",
        "超过所在方面或节的满分 20",
    ),
    (
        "metric not declared",
        "reference = \"avg\"",
        "reference = \"avgx\"",
        40,
        "categories[0].rules[2].reference",
        "未在 [[metrics]] 中声明",
    ),
    (
        "sections do not add up",
        "code = \"2.2\"\nmax = 5",
        "code = \"2.2\"\nmax = 4",
        45,
        "categories[1].max",
        "各节满分之和 9",
    ),
    (
        "range min above max",
        "min = 1",
        "min = 4",
        54,
        "categories[1].sections[0].rules[0].min",
        "下限 4 大于上限 3",
    ),
    (
        "assessed above section",
        "kind = \"assessed\"\nmax = 5",
        "kind = \"assessed\"\nmax = 6",
        65,
        "categories[1].sections[1].rules[0].max",
        "超过",
    ),
    (
        "unknown class of a unit",
        "class = \"A\"\n",
        "class = \"C\"\n",
        70,
        "units[0].class",
        "未知类别「C」",
    ),
    (
        "missing text",
        "text = \"乙\"",
        "text = \"\"",
        29,
        "categories[0].rules[1].text",
        "缺少条款内容",
    ),
    (
        "max_count zero",
        "max_count = 5",
        "max_count = 0",
        32,
        "categories[0].rules[1].max_count",
        "不小于 1",
    ),
    (
        "fixed without points",
        "points = 2\n",
        "\n",
        22,
        "categories[0].rules[0].points",
        "须给出 points",
    ),
    (
        "bad rounding",
        "[[classes]]",
        "[conversion]\ndivisor = 100\nrounding = \"bankers\"\n\n[[classes]]",
        9,
        "conversion.rounding",
        "half_up",
    ),
    (
        "duplicate class",
        "[[metrics]]\ncode = \"m\"",
        "[[classes]]\ncode = \"A\"\nweight = 2\n\n[[metrics]]\ncode = \"m\"",
        12,
        "classes[1].code",
        "重复",
    ),
    (
        "zero weight",
        "weight = 3",
        "weight = 0",
        9,
        "classes[0].weight",
        "不能为 0",
    ),
    (
        "flags category with points",
        "code = \"2\"\nmax = 10",
        "code = \"2\"\nmax = 10\nmode = \"flags\"",
        45,
        "categories[1].max",
        "flags",
    ),
];

#[test]
fn the_base_rubric_is_valid() {
    let r = Rubric::from_toml(BASE).expect("base is valid");
    assert_eq!(r.rules.len(), 5);
    // Exclusion is symmetric once loaded.
    assert_eq!(r.rules[1].excludes, vec![0]);
}

#[test]
fn every_error_names_its_line_and_key() {
    let mut failures = Vec::new();
    for &(what, find, replace, line, key, msg) in CASES {
        assert!(BASE.contains(find), "{what}: `{find}` not in the base");
        let text = BASE.replacen(find, replace, 1);
        match Rubric::from_toml(&text) {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(errs) => {
                let hit = errs
                    .0
                    .iter()
                    .any(|e| e.line == line && e.key == key && e.message.contains(msg));
                if !hit {
                    failures.push(format!(
                        "{what}: want line {line} key `{key}` `{msg}`, got:\n  {errs}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_errors_are_reported_at_once() {
    let text = BASE.replacen("points = 2", "points = 2.001", 1).replacen(
        "class = \"A\"\n",
        "class = \"Z\"\n",
        1,
    );
    let errs = Rubric::from_toml(&text).expect_err("two errors");
    assert_eq!(errs.0.len(), 2, "{errs}");
    assert!(
        errs.to_string()
            .starts_with("第 24 行，键 `categories[0].rules[0].points`"),
        "{errs}"
    );
}
