//! Unit tests of the draft's rooms.

use super::*;
use crate::build::propose_parts;
use crate::grammar::{Splitter, chinese_number, last_year_of, rubric_id, short_text};
use crate::toml_out::{n, q};

#[test]
fn parts_are_proposed_from_the_title_and_notes_only() {
    let (parts, why) = propose_parts("2023年全县安全生产季度考核细则", "");
    assert_eq!(parts.len(), 4);
    assert_eq!(
        (parts[1].from.as_str(), parts[1].to.as_str()),
        ("04-01", "06-30")
    );
    assert!(why.is_some_and(|w| w.contains("四个季度")));
    let (parts, _) = propose_parts(
        "细则",
        "半年考核与年度考核相结合，上半年占40%，下半年占60%。",
    );
    assert_eq!(
        parts.iter().map(|p| p.weight.as_str()).collect::<Vec<_>>(),
        ["40", "60"]
    );
    assert!(
        propose_parts("2023年细则", "每季度召开一次会议的，得2分")
            .0
            .is_empty()
    );
    let mut d = Draft {
        title: "2023年全县安全生产季度考核细则".into(),
        ..Draft::default()
    };
    (d.parts, d.parts_review) = propose_parts(&d.title, "");
    let toml = d.to_toml();
    assert_eq!(toml.matches("[[parts]]").count(), 4, "{toml}");
    assert!(
        toml.contains("code = \"q1\"\nname = \"第一季度\"\nfrom = \"01-01\"\nto = \"03-31\"\nweight = 1\nreview = "),
        "{toml}"
    );
    assert_eq!(d.pending(), 1, "one question for the proposal");
}

#[test]
fn a_short_name_ends_at_a_clause_boundary_and_an_id_comes_from_the_title() {
    let s = "（3）重大事故隐患未按期整改销号的，视情扣1-3分。";
    assert_eq!(
        short_text(s, s.find("扣").unwrap()),
        "重大事故隐患未按期整改销号"
    );
    let s = "领导班子成员未开展检查的，每少1人次扣0.5分。";
    assert_eq!(
        short_text(s, s.find("扣").unwrap()),
        "领导班子成员未开展检查"
    );
    let s = "未制定年度执法检查计划的，扣2分。";
    assert_eq!(
        short_text(s, s.find("扣").unwrap()),
        "未制定年度执法检查计划"
    );
    assert_eq!(
        rubric_id("2023年青山县安全生产工作考核细则", 2023),
        "青山县安全生产工作考核细则-2023"
    );
    assert_eq!(rubric_id("", 2023), "draft-2023");
    assert_eq!(
        last_year_of("上年度", "年度执法检查企业数").as_deref(),
        Some("上年度执法检查企业数")
    );
    assert_eq!(last_year_of("苏州市平均水平", "录入数"), None);
}

#[test]
fn chinese_numbers() {
    assert_eq!(chinese_number("两"), Some(2));
    assert_eq!(chinese_number("十"), Some(10));
    assert_eq!(chinese_number("十二"), Some(12));
    assert_eq!(chinese_number("三十"), Some(30));
    assert_eq!(chinese_number("8"), Some(8));
    assert_eq!(chinese_number("零"), None);
}

#[test]
fn toml_strings_and_numbers() {
    assert_eq!(q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    assert_eq!(n("0.2"), "0.2");
    assert_eq!(n("15"), "15");
    assert_eq!(n("007"), "7");
    assert_eq!(n("1.2.3"), "\"1.2.3\"");
}

#[test]
fn a_sentence_becomes_rules() {
    let mut metrics = Vec::new();
    let mut s = Splitter {
        subject: None,
        metrics: &mut metrics,
    };
    let mut left = Vec::new();
    let rules = s.split(
        "未制定清单的，扣2分，班子成员每少1个扣0.2分。年度隐患总录入数低于苏州市平均水平的，扣0.3分；低于去年录入总量的，扣0.2分。视情况酌情处理",
        "2",
        "20",
        &mut left,
    );
    let kinds: Vec<&str> = rules.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        ["fixed", "per_count", "metric_below", "metric_below"]
    );
    assert_eq!(rules[1].source, "班子成员每少1个扣0.2分。");
    assert_eq!(rules[2].metric, rules[3].metric, "the subject carries over");
    assert_eq!(left, ["视情况酌情处理"]);
}
