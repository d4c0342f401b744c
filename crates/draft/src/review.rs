//! The review of a draft rubric as a form: the draft's TOML read into items a clerk reads and
//! corrects (the rubric's heading, each metric, category, section and rule with its fields and
//! original sentence, each review mark as a question, each unclassified clause), and the clerk's
//! answers applied back to the TOML. The TOML stays the rubric's one form; this module only reads
//! and edits it, and the core's loader still decides whether the result is a rubric.
//!
//! It must not know HTTP or pages, and it does not validate: what a value means is the core's.

use serde::Serialize;
use toml::{Table, Value};

/// One editable field of an item.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Field {
    /// The field's path in the TOML: `categories.0.rules.3.points`.
    pub path: String,
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    /// A number field (`points`, `max`, …).
    pub number: bool,
}

/// What an item is.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Rubric,
    Metric,
    Part,
    Category,
    Section,
    Rule,
    Unclassified,
}

/// One thing the clerk reviews.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Item {
    /// The item's path in the TOML (`categories.0.rules.3`; `rubric` for the heading).
    pub path: String,
    pub level: Level,
    /// What people call it: "条款 1.3", "指标「检查企业数」", "方面 1 责任落实".
    pub label: String,
    pub fields: Vec<Field>,
    /// The document's own sentence (rules) or text (unclassified clauses).
    pub source: Option<String>,
    /// The question the draft asks about this item, if any.
    pub review: Option<String>,
}

/// A clerk's answer to one question or field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// A field's new value.
    Set { path: String, value: String },
    /// The item's question answered: its review mark removed.
    Accept { path: String },
    /// An unclassified clause left out of the rubric.
    Drop { path: String },
}

/// Keys whose values are numbers in a rubric file.
const NUMBERS: [&str; 9] = [
    "year",
    "total",
    "max_total",
    "max",
    "min",
    "points",
    "weight",
    "max_count",
    "step",
];

/// The fields a form shows, per level, with their labels; a rule's number fields only where its
/// kind uses them (or the draft wrote them).
const RUBRIC_FIELDS: [(&str, &str); 4] = [
    ("title", "标题"),
    ("id", "细则代码"),
    ("year", "年度"),
    ("issuer", "发文单位"),
];
const METRIC_FIELDS: [(&str, &str); 2] = [("name", "指标名称"), ("code", "指标代码")];
const PART_FIELDS: [(&str, &str); 5] = [
    ("name", "名称"),
    ("code", "代码"),
    ("from", "开始（月-日）"),
    ("to", "结束（月-日）"),
    ("weight", "权重"),
];
const CATEGORY_FIELDS: [(&str, &str); 3] = [("code", "编号"), ("name", "名称"), ("max", "满分")];
const RULE_FIELDS: [(&str, &str); 7] = [
    ("code", "编号"),
    ("text", "条款"),
    ("kind", "计分方式"),
    ("points", "分值"),
    ("min", "最低分"),
    ("max", "最高分"),
    ("max_count", "全年至多次数"),
];

/// What went wrong reading or editing a draft, in Chinese.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    #[error("草稿不是有效的 TOML：{0}")]
    Toml(String),
    #[error("找不到草稿中的「{0}」")]
    NoSuchPath(String),
    #[error("「{label}」应填数字，「{value}」不是数字")]
    NotANumber { label: String, value: String },
}

/// The draft's items in the order of the document: heading, metrics, then each category with its
/// rules and sections (and theirs), then the unclassified clauses.
pub fn items(toml_text: &str) -> Result<Vec<Item>, ReviewError> {
    let doc: Table = toml_text
        .parse()
        .map_err(|e: toml::de::Error| ReviewError::Toml(e.message().to_owned()))?;
    let mut out = Vec::new();
    if let Some(Value::Table(r)) = doc.get("rubric") {
        out.push(item(r, "rubric", Level::Rubric, &RUBRIC_FIELDS));
    }
    for (i, m) in tables(&doc, "metrics") {
        out.push(item(
            m,
            &format!("metrics.{i}"),
            Level::Metric,
            &METRIC_FIELDS,
        ));
    }
    for (i, p) in tables(&doc, "parts") {
        out.push(item(p, &format!("parts.{i}"), Level::Part, &PART_FIELDS));
    }
    for (c, cat) in tables(&doc, "categories") {
        let path = format!("categories.{c}");
        out.push(item(cat, &path, Level::Category, &CATEGORY_FIELDS));
        rules(cat, &path, &mut out);
        for (s, sec) in tables(cat, "sections") {
            let sp = format!("{path}.sections.{s}");
            out.push(item(sec, &sp, Level::Section, &CATEGORY_FIELDS));
            rules(sec, &sp, &mut out);
        }
    }
    for (i, u) in tables(&doc, "unclassified") {
        let mut it = item(u, &format!("unclassified.{i}"), Level::Unclassified, &[]);
        it.source = text(u, "text").or_else(|| text(u, "source"));
        out.push(it);
    }
    Ok(out)
}

fn rules(container: &Table, path: &str, out: &mut Vec<Item>) {
    for (r, rule) in tables(container, "rules") {
        let rp = format!("{path}.rules.{r}");
        let mut it = item(rule, &rp, Level::Rule, &RULE_FIELDS);
        let kind = text(rule, "kind").unwrap_or_default();
        it.fields.retain(|f| match f.key {
            "points" => !f.value.is_empty() || uses_points(&kind),
            "min" => !f.value.is_empty() || kind == "range",
            "max" => !f.value.is_empty() || matches!(kind.as_str(), "range" | "assessed"),
            "max_count" => !f.value.is_empty(),
            _ => true,
        });
        it.source = text(rule, "source");
        out.push(it);
    }
}

fn uses_points(kind: &str) -> bool {
    matches!(
        kind,
        "fixed" | "per_count" | "metric_below" | "metric_step" | ""
    )
}

fn tables<'a>(t: &'a Table, key: &str) -> impl Iterator<Item = (usize, &'a Table)> {
    t.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| v.as_table().map(|t| (i, t)))
}

fn text(t: &Table, key: &str) -> Option<String> {
    t.get(key).map(shown)
}

/// A value as a form shows it.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn item(t: &Table, path: &str, level: Level, fields: &[(&'static str, &'static str)]) -> Item {
    let get = |k: &str| text(t, k).unwrap_or_default();
    let label = match level {
        Level::Rubric => "细则".to_owned(),
        Level::Metric => format!("指标「{}」", get("name")),
        Level::Part => format!("分期「{}」", get("name")),
        Level::Category => format!("方面 {} {}", get("code"), get("name")),
        Level::Section => format!("小节 {} {}", get("code"), get("name")),
        Level::Rule => format!("条款 {}", get("code")),
        Level::Unclassified => {
            let n = path
                .rsplit('.')
                .next()
                .and_then(|i| i.parse::<usize>().ok());
            format!("未归类的第 {} 段", n.map_or(0, |i| i + 1))
        }
    };
    Item {
        path: path.to_owned(),
        level,
        label,
        fields: fields
            .iter()
            .map(|(key, label)| Field {
                path: format!("{path}.{key}"),
                key,
                label,
                value: text(t, key).unwrap_or_default(),
                number: NUMBERS.contains(key),
            })
            .collect(),
        source: None,
        review: text(t, "review"),
    }
}

/// The draft with the clerk's answers applied: fields set (numbers as numbers; an emptied number
/// removed), answered questions' review marks removed, dropped clauses left out. Nothing is
/// checked beyond the form of a number: the core's loader judges the result.
pub fn apply(toml_text: &str, edits: &[Edit]) -> Result<String, ReviewError> {
    let mut doc: Table = toml_text
        .parse()
        .map_err(|e: toml::de::Error| ReviewError::Toml(e.message().to_owned()))?;
    let mut drops: Vec<(String, usize)> = Vec::new();
    for e in edits {
        match e {
            Edit::Set { path, value } => set(&mut doc, path, value)?,
            Edit::Accept { path } => {
                if let Some(t) = table_at(&mut doc, path) {
                    t.remove("review");
                }
            }
            Edit::Drop { path } => {
                let (array, index) = path
                    .rsplit_once('.')
                    .and_then(|(a, i)| Some((a.to_owned(), i.parse::<usize>().ok()?)))
                    .ok_or_else(|| ReviewError::NoSuchPath(path.clone()))?;
                drops.push((array, index));
            }
        }
    }
    // Later entries first, so that the earlier indexes still hold.
    drops.sort_by_key(|d| std::cmp::Reverse(d.1));
    for (array, index) in drops {
        if let Some(Value::Array(a)) = value_at(&mut doc, &array)
            && index < a.len()
        {
            a.remove(index);
        }
    }
    if doc
        .get("unclassified")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        doc.remove("unclassified");
    }
    toml::to_string(&doc).map_err(|e| ReviewError::Toml(e.to_string()))
}

fn set(doc: &mut Table, path: &str, value: &str) -> Result<(), ReviewError> {
    let (parent, key) = path
        .rsplit_once('.')
        .ok_or_else(|| ReviewError::NoSuchPath(path.to_owned()))?;
    let t = table_at(doc, parent).ok_or_else(|| ReviewError::NoSuchPath(path.to_owned()))?;
    let value = value.trim();
    if !NUMBERS.contains(&key) {
        t.insert(key.to_owned(), Value::String(value.to_owned()));
        return Ok(());
    }
    if value.is_empty() {
        t.remove(key);
        return Ok(());
    }
    let number = if let Ok(i) = value.parse::<i64>() {
        Value::Integer(i)
    } else if lvzhi_core::Points::parse(value).is_ok() {
        // A rubric's points have at most two decimals, which a float keeps exactly as written.
        Value::Float(value.parse::<f64>().unwrap_or_default())
    } else {
        let fields: &[(&str, &str)] = if parent.contains(".rules.") {
            &RULE_FIELDS
        } else if parent.starts_with("parts") {
            &PART_FIELDS
        } else if parent.starts_with("categories") {
            &CATEGORY_FIELDS
        } else {
            &RUBRIC_FIELDS
        };
        let label = fields
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, l)| l);
        return Err(ReviewError::NotANumber {
            label: label.to_owned(),
            value: value.to_owned(),
        });
    };
    t.insert(key.to_owned(), number);
    Ok(())
}

fn value_at<'a>(doc: &'a mut Table, path: &str) -> Option<&'a mut Value> {
    let mut parts = path.split('.');
    let mut v = doc.get_mut(parts.next()?)?;
    for p in parts {
        v = match v {
            Value::Table(t) => t.get_mut(p)?,
            Value::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn table_at<'a>(doc: &'a mut Table, path: &str) -> Option<&'a mut Table> {
    value_at(doc, path).and_then(Value::as_table_mut)
}

/// A loader's key (`categories[2].rules[0].points`) as a form field's path
/// (`categories.2.rules.0.points`), so that a message stands at its field.
pub fn field_path(key: &str) -> String {
    key.replace("].", ".").replace('[', ".").replace(']', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAFT: &str = r#"
[rubric]
id = "draft-2023"
year = 2023
title = "2023年某县考核细则"

[[metrics]]
code = "m1"
name = "检查企业数"
review = "请确认指标名称"

[[categories]]
code = "1"
name = "责任落实"
max = 20

[[categories.rules]]
code = "1.1"
kind = "per_count"
points = 0.5
text = "每少1人次"
source = "（1）每少1人次扣0.5分。"
review = "请核对"

[[unclassified]]
text = "其他情况视情扣分。"
"#;

    #[test]
    fn a_draft_reads_as_items_with_their_questions_and_sentences() {
        let items = items(DRAFT).expect("items");
        let levels: Vec<Level> = items.iter().map(|i| i.level).collect();
        assert_eq!(
            levels,
            [
                Level::Rubric,
                Level::Metric,
                Level::Category,
                Level::Rule,
                Level::Unclassified
            ]
        );
        let rule = &items[3];
        assert_eq!(rule.path, "categories.0.rules.0");
        assert_eq!(rule.review.as_deref(), Some("请核对"));
        assert_eq!(rule.source.as_deref(), Some("（1）每少1人次扣0.5分。"));
        let points = rule
            .fields
            .iter()
            .find(|f| f.key == "points")
            .expect("points");
        assert_eq!((points.value.as_str(), points.number), ("0.5", true));
        assert!(
            rule.fields.iter().all(|f| f.key != "min"),
            "per_count has no min"
        );
        assert_eq!(items[4].source.as_deref(), Some("其他情况视情扣分。"));
    }

    #[test]
    fn answers_apply_to_the_toml_and_nothing_else_changes() {
        let out = apply(
            DRAFT,
            &[
                Edit::Set {
                    path: "metrics.0.name".into(),
                    value: "年度执法检查企业数".into(),
                },
                Edit::Set {
                    path: "categories.0.rules.0.points".into(),
                    value: "0.25".into(),
                },
                Edit::Accept {
                    path: "categories.0.rules.0".into(),
                },
                Edit::Drop {
                    path: "unclassified.0".into(),
                },
            ],
        )
        .expect("applied");
        let again = items(&out).expect("items");
        assert_eq!(again.len(), 4, "the clause is gone: {out}");
        assert_eq!(again[1].fields[0].value, "年度执法检查企业数");
        assert_eq!(
            again[1].review.as_deref(),
            Some("请确认指标名称"),
            "not answered"
        );
        assert_eq!(again[3].review, None);
        assert!(out.contains("points = 0.25"), "{out}");
        assert!(
            out.contains("source = \"（1）每少1人次扣0.5分。\""),
            "{out}"
        );
    }

    #[test]
    fn a_number_field_refuses_text_and_a_path_must_exist() {
        let e = apply(
            DRAFT,
            &[Edit::Set {
                path: "categories.0.max".into(),
                value: "二十".into(),
            }],
        )
        .expect_err("not a number");
        assert_eq!(e.to_string(), "「满分」应填数字，「二十」不是数字");
        let e = apply(
            DRAFT,
            &[Edit::Set {
                path: "categories.7.name".into(),
                value: "x".into(),
            }],
        )
        .expect_err("no such path");
        assert!(matches!(e, ReviewError::NoSuchPath(_)));
        assert!(matches!(items("[rubric"), Err(ReviewError::Toml(_))));
    }

    #[test]
    fn proposed_parts_are_items_with_their_question() {
        let text = format!(
            "{DRAFT}\n[[parts]]\ncode = \"q1\"\nname = \"第一季度\"\nfrom = \"01-01\"\nto = \"03-31\"\nweight = 1\nreview = \"请核对分期\"\n"
        );
        let all = items(&text).expect("items");
        let part = all
            .iter()
            .find(|i| i.level == Level::Part)
            .expect("the part");
        assert_eq!(part.label, "分期「第一季度」");
        assert_eq!(part.review.as_deref(), Some("请核对分期"));
        let keys: Vec<&str> = part.fields.iter().map(|f| f.key).collect();
        assert_eq!(keys, ["name", "code", "from", "to", "weight"]);
        let out = apply(
            &text,
            &[
                Edit::Set {
                    path: "parts.0.weight".into(),
                    value: "2".into(),
                },
                Edit::Accept {
                    path: "parts.0".into(),
                },
            ],
        )
        .expect("applied");
        let part = items(&out)
            .expect("items")
            .into_iter()
            .find(|i| i.level == Level::Part)
            .expect("the part");
        assert_eq!((part.review, part.fields[4].value.as_str()), (None, "2"));
    }

    #[test]
    fn a_loader_key_is_a_field_path() {
        assert_eq!(
            field_path("categories[2].rules[0].points"),
            "categories.2.rules.0.points"
        );
        assert_eq!(field_path("metrics[0].review"), "metrics.0.review");
        assert_eq!(field_path("rubric.year"), "rubric.year");
    }
}
