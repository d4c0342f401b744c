//! The draft builder: a document's rows and notes into a proposed rubric (categories, sections,
//! rules, classes, grades, parts, roster), with what a person must still decide. It reads no file
//! and writes no TOML.

use crate::Document;
use crate::grammar::{
    BONUS_DECLARED, CLASS_LIST, CLASS_WEIGHT, DECIMALS, EARN_DECLARED, HALF_WEIGHTS, HALF_YEARLY,
    ITEM_SECTION, MAX_TOTAL, QUARTERLY, ROSTER_ANY, SECTION, Splitter, TOTAL, YEAR, flat,
    grades_of, max_of, name_and_max, renumber, rubric_id, verb_of,
};

/// A proposed rule, with what a person must still decide about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftRule {
    pub code: String,
    /// `fixed`, `per_count`, `range`, `assessed`, `metric_below`, `veto` or `lowest_grade`.
    pub kind: &'static str,
    pub points: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub max_count: Option<u32>,
    pub assessors: Option<u32>,
    pub metric: Option<String>,
    pub reference: Option<String>,
    /// `above` or `below`, for a `metric_step` rule.
    pub direction: Option<&'static str>,
    /// The step of a `metric_step` rule where it is not 1.
    pub step: Option<String>,
    /// `year` for a veto the whole year ("全年实行一票否决") in a year made of parts.
    pub scope: Option<&'static str>,
    pub text: String,
    /// The document's exact sentence.
    pub source: String,
    /// Why a person must look at it; empty when every number was read with certainty.
    pub review: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftSection {
    pub code: String,
    pub name: String,
    pub max: String,
    pub rules: Vec<DraftRule>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftCategory {
    pub code: String,
    pub name: String,
    pub max: String,
    /// `deduct` (default), `earn` (得分制), `bonus` (加分项) or `flags` (a 减分项 row with no points).
    pub mode: &'static str,
    pub review: Vec<String>,
    pub rules: Vec<DraftRule>,
    pub sections: Vec<DraftSection>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub total: String,
    pub decimals: u32,
    /// (code, name, weight).
    pub classes: Vec<(String, String, String)>,
    /// (code, name): the metrics `metric_below` rules compare.
    pub metrics: Vec<(String, String)>,
    pub categories: Vec<DraftCategory>,
    /// (name, class code).
    pub units: Vec<(String, String)>,
    /// The grade bands from the notes, highest first: (name, min).
    pub grades: Vec<(String, String)>,
    /// The cap of the total after the bonus ("总分最高不超过100分").
    pub max_total: Option<String>,
    /// (category code, sentence, why).
    pub unclassified: Vec<(String, String, String)>,
    pub review: Vec<String>,
    /// The parts of the year the title or notes speak of (quarters, halves), proposed for review.
    pub parts: Vec<DraftPart>,
    /// Why the parts were proposed, the question a person answers.
    pub parts_review: Option<String>,
}

/// A proposed part of the year.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftPart {
    pub code: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub weight: String,
}

/// The parts a document's title and notes speak of: "上半年占40%，下半年占60%" (halves with those
/// weights), "季度考核" (four quarters of equal weight), "半年考核" (two halves of equal weight).
/// Sentences inside the rules ("每季度召开…") are not read here.
pub(crate) fn propose_parts(title: &str, notes: &str) -> (Vec<DraftPart>, Option<String>) {
    let text = format!("{title}\n{notes}");
    let part = |code: &str, name: &str, from: &str, to: &str, weight: &str| DraftPart {
        code: code.into(),
        name: name.into(),
        from: from.into(),
        to: to.into(),
        weight: weight.into(),
    };
    let halves = |w1: &str, w2: &str| {
        vec![
            part("h1", "上半年", "01-01", "06-30", w1),
            part("h2", "下半年", "07-01", "12-31", w2),
        ]
    };
    if let Some(c) = HALF_WEIGHTS.captures(&text) {
        let (w1, w2) = (
            c.get(1).map_or("1", |m| m.as_str()),
            c.get(2).map_or("1", |m| m.as_str()),
        );
        return (
            halves(w1, w2),
            Some(format!(
                "文件写明上半年占 {w1}%、下半年占 {w2}%：已拟两期，请核对日期和权重"
            )),
        );
    }
    if QUARTERLY.is_match(&text) {
        return (
            vec![
                part("q1", "第一季度", "01-01", "03-31", "1"),
                part("q2", "第二季度", "04-01", "06-30", "1"),
                part("q3", "第三季度", "07-01", "09-30", "1"),
                part("q4", "第四季度", "10-01", "12-31", "1"),
            ],
            Some("文件提到季度考核：已拟四个季度等权分期（年度得分为各季度得分的平均值），请核对期次、日期和权重".into()),
        );
    }
    if HALF_YEARLY.is_match(&text) {
        return (
            halves("1", "1"),
            Some("文件提到半年考核：已拟上、下半年等权两期，请核对日期和权重".into()),
        );
    }
    (Vec::new(), None)
}

impl Draft {
    /// Every proposed rule, in document order.
    pub fn rules(&self) -> Vec<&DraftRule> {
        let mut out = Vec::new();
        for c in &self.categories {
            out.extend(c.rules.iter());
            for s in &c.sections {
                out.extend(s.rules.iter());
            }
        }
        out
    }

    /// The codes of the rules a person must still look at (they carry a review mark).
    pub fn reviewed_codes(&self) -> Vec<String> {
        self.rules()
            .iter()
            .filter(|r| !r.review.is_empty())
            .map(|r| r.code.clone())
            .collect()
    }

    /// Items waiting for a person.
    pub fn pending(&self) -> usize {
        usize::from(self.parts_review.is_some())
            + self.review.len()
            + self.metrics.len()
            + self.unclassified.len()
            + self
                .categories
                .iter()
                .map(|c| usize::from(!c.review.is_empty()))
                .sum::<usize>()
            + self.rules().iter().filter(|r| !r.review.is_empty()).count()
    }
}

/// Proposes a rubric from a document.
pub fn draft(doc: &Document) -> Draft {
    let mut d = Draft {
        title: flat(&doc.title).trim().to_owned(),
        decimals: 2,
        ..Draft::default()
    };
    let notes = flat(&doc.notes);
    d.year = YEAR
        .captures(&d.title)
        .or_else(|| YEAR.captures(&notes))
        .and_then(|c| c.get(1)?.as_str().parse().ok())
        .unwrap_or(0);
    if d.year == 0 {
        d.review
            .push("未在标题或备注中找到年度，请填写 year".into());
    }
    d.id = rubric_id(&d.title, d.year);
    (d.parts, d.parts_review) = propose_parts(&d.title, &notes);
    if d.title.is_empty() {
        d.review
            .push("未找到标题（含“细则”的一行），请填写 title".into());
    }
    // The notes: classes, total, decimals, roster.
    for c in CLASS_WEIGHT.captures_iter(&notes) {
        let (Some(code), Some(w)) = (c.get(1), c.get(3)) else {
            continue;
        };
        if d.classes.iter().all(|x| x.0 != code.as_str()) {
            let noun = c.get(2).map_or("部门", |m| m.as_str());
            d.classes.push((
                code.as_str().to_owned(),
                format!("{}类{noun}", code.as_str()),
                w.as_str().to_owned(),
            ));
        }
    }
    if let Some(c) = DECIMALS.captures(&notes) {
        d.decimals = match c.get(1).map_or("", |m| m.as_str()) {
            "一" | "1" => 1,
            "零" | "0" => 0,
            _ => 2,
        };
    }
    d.grades = grades_of(&notes);
    d.max_total = MAX_TOTAL
        .captures(&notes)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    let mut metrics = Vec::new();
    let mut sum = 0i64;
    let mut leftovers: Vec<(String, Vec<String>)> = Vec::new();
    for row in &doc.rows {
        // A row with an item starts a category; one without (a merged first-level cell) continues
        // the category above it.
        if !row.item.trim().is_empty() || d.categories.is_empty() {
            let code = if !row.seq.trim().is_empty()
                && row.seq.trim().chars().all(|c| c.is_ascii_digit())
            {
                row.seq.trim().to_owned()
            } else {
                (d.categories.len() + 1).to_string()
            };
            let (name, in_item) = name_and_max(&flat(&row.item));
            let own = if row.sub.trim().is_empty() {
                max_of(&row.max)
            } else {
                None
            };
            let bonus_words = row.item.contains("加分") || row.max.contains('加');
            d.categories.push(DraftCategory {
                code,
                name,
                max: in_item.clone().or(own.clone()).unwrap_or_default(),
                mode: if bonus_words { "bonus" } else { "deduct" },
                ..DraftCategory::default()
            });
            leftovers.push((String::new(), Vec::new()));
        }
        let Some(cat) = d.categories.last_mut() else {
            continue;
        };
        let mut body = flat(&row.detail);
        if EARN_DECLARED.is_match(&body) {
            cat.mode = "earn";
            body = EARN_DECLARED.replace_all(&body, "").into_owned();
        }
        if BONUS_DECLARED.is_match(&body) {
            cat.mode = "bonus";
            body = BONUS_DECLARED.replace_all(&body, "").into_owned();
        }
        let mut splitter = Splitter {
            subject: None,
            metrics: &mut metrics,
        };
        let (_, leftover) = leftovers.last_mut().expect("one per category");
        if row.sub.trim().is_empty() {
            // Sections named inside the text: "…方面（15分）：…" as in 2022, or numbered items with
            // a maximum of their own ("1.安全生产责任制（2分）：…").
            let mut headers: Vec<(usize, &str, &str)> = SECTION
                .captures_iter(&body)
                .filter_map(|c| Some((c.get(0)?.start(), c.get(1)?.as_str(), c.get(2)?.as_str())))
                .collect();
            headers.extend(
                ITEM_SECTION.captures_iter(&body).filter_map(|c| {
                    Some((c.get(1)?.start(), c.get(2)?.as_str(), c.get(3)?.as_str()))
                }),
            );
            headers.sort_by_key(|h| h.0);
            headers.dedup_by_key(|h| h.0);
            let first = headers.first().map_or(body.len(), |h| h.0);
            let n = cat.rules.len();
            let mut rules = splitter.split(&body[..first], &cat.code, &cat.max, leftover);
            renumber(&mut rules, &cat.code, n);
            cat.rules.extend(rules);
            for (i, &(start, name, max)) in headers.iter().enumerate() {
                let end = headers.get(i + 1).map_or(body.len(), |h| h.0);
                let sec_code = format!("{}.{}", cat.code, cat.sections.len() + 1);
                let rules = splitter.split(&body[start..end], &sec_code, max, leftover);
                cat.sections.push(DraftSection {
                    code: sec_code,
                    name: name.trim().to_owned(),
                    max: max.to_owned(),
                    rules,
                });
            }
        } else {
            // A second-level row: a section with its own maximum.
            let (sname, in_sub) = name_and_max(&flat(&row.sub));
            let smax = max_of(&row.max).or(in_sub).unwrap_or_default();
            let sec_code = format!("{}.{}", cat.code, cat.sections.len() + 1);
            let rules = splitter.split(&body, &sec_code, &smax, leftover);
            if smax.is_empty() {
                cat.review.push(format!("未找到「{sname}」的分值"));
            }
            cat.sections.push(DraftSection {
                code: sec_code,
                name: sname,
                max: smax,
                rules,
            });
        }
    }
    for (cat, (_, leftover)) in d.categories.iter_mut().zip(leftovers) {
        let all: Vec<&DraftRule> = cat
            .rules
            .iter()
            .chain(cat.sections.iter().flat_map(|s| s.rules.iter()))
            .collect();
        let only_flags = !all.is_empty()
            && all
                .iter()
                .all(|r| matches!(r.kind, "veto" | "lowest_grade"));
        // A category whose every scoring phrase earns (得N分) is 得分制 even where it does not say so.
        let verbs: Vec<char> = all.iter().filter_map(|r| verb_of(&r.source)).collect();
        if cat.mode == "deduct" && !verbs.is_empty() {
            if verbs.iter().all(|v| *v == '得') {
                cat.mode = "earn";
            } else if verbs.iter().all(|v| *v == '加') {
                cat.mode = "bonus";
            }
        }
        if cat.max.is_empty() {
            if only_flags {
                cat.mode = "flags";
                cat.max = "0".into();
            } else if !cat.sections.is_empty() {
                let sec: i64 = cat
                    .sections
                    .iter()
                    .map(|s| {
                        lvzhi_core::Points::parse(&s.max).map_or(0, lvzhi_core::Points::hundredths)
                    })
                    .sum();
                cat.max = lvzhi_core::Points::from_hundredths(sec).to_string();
                cat.review.push(format!(
                    "方面「{}」的分值未写明，暂按各小节分值之和 {} 填写",
                    cat.name, cat.max
                ));
            } else {
                cat.max = "0".into();
                cat.review
                    .push(format!("未找到方面「{}」的分值（如“（20分）”）", cat.name));
            }
        }
        if matches!(cat.mode, "deduct" | "earn") {
            sum += lvzhi_core::Points::parse(&cat.max).map_or(0, lvzhi_core::Points::hundredths);
        }
        for text in leftover {
            d.unclassified.push((
                cat.code.clone(),
                text,
                "未找到计分方式（如“扣N分”“每1例扣N分”“扣1-10分”“得N分”“加N分”）".into(),
            ));
        }
        if !cat.sections.is_empty() {
            let sec: i64 = cat
                .sections
                .iter()
                .map(|s| {
                    lvzhi_core::Points::parse(&s.max).map_or(0, lvzhi_core::Points::hundredths)
                })
                .sum();
            let cmax =
                lvzhi_core::Points::parse(&cat.max).map_or(0, lvzhi_core::Points::hundredths);
            if sec != cmax && !cat.rules.is_empty() && sec < cmax {
                // Loose rules beside sections: the sections may be less than the whole.
            } else if sec != cmax {
                cat.review.push(format!(
                    "各小节分值之和（{}）与方面分值（{}）不一致",
                    lvzhi_core::Points::from_hundredths(sec),
                    cat.max
                ));
            }
        }
    }
    d.metrics = metrics;
    let total = TOTAL
        .captures(&notes)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    let summed = lvzhi_core::Points::from_hundredths(sum).to_string();
    if let Some(t) = total {
        if lvzhi_core::Points::parse(&t).map_or(0, lvzhi_core::Points::hundredths) != sum {
            d.review.push(format!(
                "备注中的总分（{t}）与各方面分值之和（{summed}）不一致"
            ));
        }
        d.total = t;
    } else {
        d.review.push(format!(
            "备注中没有找到总分，暂按各方面分值之和（{summed}）填写"
        ));
        d.total = summed;
    }
    if d.classes.is_empty() {
        // Many documents for 镇（街道） have no classes: one class, the total kept as it is.
        d.classes
            .push(("A".into(), "参评单位".into(), d.total.clone()));
        d.review.push(
            "备注中没有找到各类单位的分值（如“A类部门占3分”），暂按一类单位、得分不折算填写，请核对 [[classes]]"
                .into(),
        );
    }
    for c in CLASS_LIST.captures_iter(&notes) {
        let (Some(class), Some(list)) = (c.get(1), c.get(2)) else {
            continue;
        };
        for name in list.as_str().split(['、', '，', ',']) {
            let name = name.trim();
            if !name.is_empty() {
                d.units.push((name.to_owned(), class.as_str().to_owned()));
            }
        }
    }
    if d.units.is_empty()
        && let Some(c) = ROSTER_ANY.captures(&notes)
    {
        let class = d.classes[0].0.clone();
        for name in c.get(1).map_or("", |m| m.as_str()).split(['、', '，', ',']) {
            let name = name.trim();
            if !name.is_empty() {
                d.units.push((name.to_owned(), class.clone()));
            }
        }
    }
    if d.units.is_empty() {
        d.review.push(
            "备注中没有找到参评单位名单（如“A类部门：发改委、教育局……”），请补充 [[units]]".into(),
        );
    }
    d
}
