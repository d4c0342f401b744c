//! Reading a rubric file: the TOML as written (with the span of every value), then every constraint
//! checked, each problem reported with its line and key, all at once; and the `review` marks and
//! `[[unclassified]]` clauses a draft still waits on. It builds a [`Rubric`] only from a file that
//! passed; it does no IO and decides nothing about scoring.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::{
    Category, CategoryMode, Class, Conversion, Direction, Grade, Level, Metric, Part, RosterEntry,
    Rubric, RubricError, RubricErrors, Rule, RuleKind, Section,
};
use crate::points::Points;

/// Parses and checks a rubric file's text.
pub(super) fn from_toml(text: &str) -> Result<Rubric, RubricErrors> {
    let lines = LineIndex::new(text);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| lines.line(s.start));
        RubricErrors(vec![RubricError {
            line,
            key: String::from("(文件)"),
            message: format!("TOML 格式错误：{}", e.message()),
        }])
    })?;
    let review = reviews(&raw, &lines);
    let mut rubric = Loader {
        lines,
        errors: Vec::new(),
    }
    .load(raw)?;
    rubric.review = review;
    Ok(rubric)
}

/// The `review` keys and `[[unclassified]]` clauses of a file, with their lines.
fn reviews(raw: &RawFile, lines: &LineIndex) -> Vec<RubricError> {
    let mut out = Vec::new();
    let mut add = |r: &Option<Spanned<String>>, key: String| {
        if let Some(r) = r {
            out.push(RubricError {
                line: lines.line(r.span().start),
                key,
                message: format!("待确认：{}", r.get_ref()),
            });
        }
    };
    add(&raw.rubric.review, "rubric.review".into());
    for (i, m) in raw.metrics.iter().enumerate() {
        add(&m.review, format!("metrics[{i}].review"));
    }
    for (i, p) in raw.parts.iter().enumerate() {
        add(&p.review, format!("parts[{i}].review"));
    }
    for (ci, c) in raw.categories.iter().enumerate() {
        add(&c.review, format!("categories[{ci}].review"));
        for (ri, r) in c.rules.iter().enumerate() {
            add(&r.review, format!("categories[{ci}].rules[{ri}].review"));
        }
        for (si, sec) in c.sections.iter().enumerate() {
            add(
                &sec.review,
                format!("categories[{ci}].sections[{si}].review"),
            );
            for (ri, r) in sec.rules.iter().enumerate() {
                add(
                    &r.review,
                    format!("categories[{ci}].sections[{si}].rules[{ri}].review"),
                );
            }
        }
    }
    for (i, u) in raw.unclassified.iter().enumerate() {
        out.push(RubricError {
            line: lines.line(u.source.span().start),
            key: format!("unclassified[{i}]"),
            message: format!(
                "未能归类的条文（方面 {}）：{}{}",
                u.category,
                u.source.get_ref(),
                u.review
                    .as_deref()
                    .map_or_else(String::new, |r| format!("（{r}）"))
            ),
        });
    }
    out.sort_by_key(|e| e.line);
    out
}

// ---------------------------------------------------------------------------------------------
// The file format, as deserialized before validation.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rubric: RawHeader,
    conversion: Option<RawConversion>,
    #[serde(default)]
    classes: Vec<RawClass>,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    #[serde(default)]
    categories: Vec<RawCategory>,
    #[serde(default)]
    grades: Vec<RawGrade>,
    #[serde(default)]
    units: Vec<RawUnit>,
    /// Clauses a draft could not turn into rules, for a person to decide.
    #[serde(default)]
    unclassified: Vec<RawUnclassified>,
    /// The parts of the year (quarters, halves), each assessed on its own.
    #[serde(default)]
    parts: Vec<RawPart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    code: Spanned<String>,
    #[serde(default)]
    name: String,
    from: Spanned<String>,
    to: Spanned<String>,
    weight: Spanned<Num>,
    #[serde(default)]
    review: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnclassified {
    #[serde(default)]
    category: String,
    source: Spanned<String>,
    #[serde(default)]
    review: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: Spanned<String>,
    year: Spanned<i64>,
    title: Spanned<String>,
    #[serde(default)]
    issuer: String,
    /// What kind of assessment this is ("县级部门安全生产考核"), for comparing the offices that run
    /// one kind under different rubrics.
    #[serde(default)]
    kind: Option<Spanned<String>>,
    total: Spanned<Num>,
    #[serde(default)]
    max_total: Option<Spanned<Num>>,
    #[serde(default)]
    review: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    name: Spanned<String>,
    min: Spanned<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConversion {
    divisor: Spanned<Num>,
    #[serde(default)]
    decimals: Option<Spanned<i64>>,
    #[serde(default)]
    rounding: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    code: Spanned<String>,
    #[serde(default)]
    name: String,
    weight: Spanned<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    code: Spanned<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    review: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    code: Spanned<String>,
    #[serde(default)]
    name: String,
    max: Spanned<Num>,
    #[serde(default)]
    mode: Option<Spanned<String>>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    review: Option<Spanned<String>>,
    #[serde(default)]
    sections: Vec<RawSection>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    code: Spanned<String>,
    #[serde(default)]
    name: String,
    max: Spanned<Num>,
    #[serde(default)]
    review: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    code: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    points: Option<Spanned<Num>>,
    #[serde(default)]
    min: Option<Spanned<Num>>,
    #[serde(default)]
    max: Option<Spanned<Num>>,
    #[serde(default)]
    max_count: Option<Spanned<i64>>,
    #[serde(default)]
    applies_to: Option<Spanned<String>>,
    #[serde(default)]
    excludes: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    metric: Option<Spanned<String>>,
    #[serde(default)]
    reference: Option<Spanned<String>>,
    #[serde(default)]
    assessors: Option<Spanned<i64>>,
    #[serde(default)]
    direction: Option<Spanned<String>>,
    #[serde(default)]
    step: Option<Spanned<Num>>,
    #[serde(default)]
    levels: Option<Spanned<Vec<RawLevel>>>,
    /// A veto's reach in a rubric with parts: `part` (default) or `year`.
    #[serde(default)]
    scope: Option<Spanned<String>>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    review: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    points: Num,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    name: Spanned<String>,
    class: Spanned<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// A number written as a TOML integer, float or string. Floats are taken through their shortest
/// round-trip text (`0.2` → `"0.2"`), which is exact for every value with at most two decimals; the
/// text is then parsed exactly, so `0.125` is refused rather than rounded.
struct Num(String);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a decimal string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(format!("{v}")))
            }
            fn visit_str<E>(self, v: &str) -> Result<Num, E> {
                Ok(Num(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Maps byte offsets to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }
    fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation.

struct Loader {
    lines: LineIndex,
    errors: Vec<RubricError>,
}

/// Categories and sections as read, with their rules waiting for the second pass and every code
/// seen so far.
struct Tree {
    categories: Vec<Category>,
    sections: Vec<Section>,
    pending: Vec<Pending>,
    seen_codes: HashSet<String>,
}

/// A rule as read, before cross-references are resolved.
struct Pending {
    raw: RawRule,
    key: String,
    category: usize,
    section: Option<usize>,
}

impl Loader {
    fn err<T>(&mut self, at: &Spanned<T>, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push(RubricError {
            line: self.lines.line(at.span().start),
            key: key.into(),
            message: message.into(),
        });
    }

    fn points(&mut self, at: &Spanned<Num>, key: &str, allow_negative: bool) -> Option<Points> {
        match Points::parse(&at.get_ref().0) {
            Ok(p) if p.is_negative() && !allow_negative => {
                self.err(at, key, format!("不能为负数：{p}"));
                None
            }
            Ok(p) => Some(p),
            Err(e) => {
                self.err(at, key, format!("数值「{}」无效：{e}", at.get_ref().0));
                None
            }
        }
    }

    fn load(mut self, raw: RawFile) -> Result<Rubric, RubricErrors> {
        let h = &raw.rubric;
        let (year, total) = self.header(h);
        let conversion = self.conversion(raw.conversion.as_ref());
        let classes = self.classes(&raw.classes);
        let metrics = self.metrics(&raw.metrics);
        let mut tree = self.categories(raw.categories);
        self.check_total(h, total, &tree.categories);
        let max_total = self.max_total(h);
        let grades = self.grades(&raw.grades);
        let (rules, rule_index) = self.rules(&mut tree, &metrics);
        let roster = self.roster(&raw.units, &classes);
        let parts = self.parts(&raw.parts, year);
        let Tree {
            mut categories,
            mut sections,
            ..
        } = tree;
        for (i, r) in rules.iter().enumerate() {
            match r.section {
                Some(s) => sections[s].rules.push(i),
                None => categories[r.category].rules.push(i),
            }
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| e.line);
            return Err(RubricErrors(self.errors));
        }
        Ok(Rubric {
            id: h.id.get_ref().trim().to_owned(),
            year: year as i32,
            title: h.title.get_ref().trim().to_owned(),
            issuer: h.issuer.trim().to_owned(),
            kind: h.kind.as_ref().map(|k| k.get_ref().trim().to_owned()),
            total: total.unwrap_or(Points::ZERO),
            max_total,
            grades,
            conversion,
            classes,
            metrics,
            categories,
            sections,
            rules,
            roster,
            parts,
            active_part: None,
            review: Vec::new(),
            rule_index,
        })
    }

    /// The heading: id, title and year checked; the year and the total.
    fn header(&mut self, h: &RawHeader) -> (i64, Option<Points>) {
        if h.id.get_ref().trim().is_empty() {
            self.err(&h.id, "rubric.id", "不能为空");
        }
        if h.title.get_ref().trim().is_empty() {
            self.err(&h.title, "rubric.title", "不能为空");
        }
        let year = *h.year.get_ref();
        if !crate::input::YEARS.contains(&year) {
            self.err(&h.year, "rubric.year", format!("年度 {year} 不合理"));
        }
        let total = self.points(&h.total, "rubric.total", false);
        if let Some(k) = &h.kind {
            let n = k.get_ref().trim().chars().count();
            if n == 0 || n > crate::input::KIND_MAX {
                self.err(
                    k,
                    "rubric.kind",
                    format!("考核类别须为 1 至 {} 个字", crate::input::KIND_MAX),
                );
            }
        }
        (year, total)
    }

    /// The conversion to class points (100 and two decimals when not given).
    fn conversion(&mut self, raw: Option<&RawConversion>) -> Conversion {
        match raw {
            None => Conversion {
                divisor: Points::whole(100),
                decimals: 2,
            },
            Some(c) => {
                let divisor = self.points(&c.divisor, "conversion.divisor", false);
                if divisor == Some(Points::ZERO) {
                    self.err(&c.divisor, "conversion.divisor", "不能为 0");
                }
                let decimals = match &c.decimals {
                    None => 2,
                    Some(d) if (0..=2).contains(d.get_ref()) => *d.get_ref() as u32,
                    Some(d) => {
                        self.err(d, "conversion.decimals", "只能为 0、1 或 2");
                        2
                    }
                };
                if let Some(r) = &c.rounding
                    && r.get_ref() != "half_up"
                {
                    self.err(
                        r,
                        "conversion.rounding",
                        format!(
                            "不支持的舍入方式「{}」，只支持 half_up（四舍五入）",
                            r.get_ref()
                        ),
                    );
                }
                Conversion {
                    divisor: divisor.unwrap_or(Points::whole(100)),
                    decimals,
                }
            }
        }
    }

    /// The classes of units and their weights.
    fn classes(&mut self, raw: &[RawClass]) -> Vec<Class> {
        let mut classes = Vec::new();
        if raw.is_empty() {
            self.errors.push(RubricError {
                line: 0,
                key: "classes".into(),
                message: "至少需要一个单位类别（如 A 类、B 类）".into(),
            });
        }
        for (i, c) in raw.iter().enumerate() {
            let key = format!("classes[{i}]");
            let code = c.code.get_ref().trim().to_owned();
            if code.is_empty() {
                self.err(&c.code, format!("{key}.code"), "不能为空");
            } else if classes.iter().any(|k: &Class| k.code == code) {
                self.err(
                    &c.code,
                    format!("{key}.code"),
                    format!("类别代码「{code}」重复"),
                );
            }
            let weight = self.points(&c.weight, &format!("{key}.weight"), false);
            if weight == Some(Points::ZERO) {
                self.err(&c.weight, format!("{key}.weight"), "权重不能为 0");
            }
            let name = if c.name.is_empty() {
                format!("{code}类")
            } else {
                c.name.clone()
            };
            classes.push(Class {
                code,
                name,
                weight: weight.unwrap_or(Points::ZERO),
            });
        }

        classes
    }

    /// The metrics: codes unique, names unique (files may name a metric by either).
    fn metrics(&mut self, raw: &[RawMetric]) -> Vec<Metric> {
        let mut metrics: Vec<Metric> = Vec::new();
        for (i, m) in raw.iter().enumerate() {
            let code = m.code.get_ref().trim().to_owned();
            if code.is_empty() {
                self.err(&m.code, format!("metrics[{i}].code"), "不能为空");
            } else if metrics.iter().any(|k| k.code == code) {
                self.err(
                    &m.code,
                    format!("metrics[{i}].code"),
                    format!("指标「{code}」重复"),
                );
            }
            let name = m.name.trim();
            if !name.is_empty()
                && metrics
                    .iter()
                    .any(|k| k.name.trim() == name || k.code == name)
            {
                self.err(
                    &m.code,
                    format!("metrics[{i}].name"),
                    format!("指标名称「{name}」与其他指标的名称或代码重复（数据文件可按名称填写指标，名称须唯一）"),
                );
            }
            metrics.push(Metric {
                code,
                name: m.name.clone(),
            });
        }

        metrics
    }

    /// Categories and sections with their caps; their rules kept for the second pass.
    fn categories(&mut self, raw: Vec<RawCategory>) -> Tree {
        // Categories and sections; rules are collected for a second pass (excludes refer forward).
        let mut categories = Vec::new();
        let mut sections: Vec<Section> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut seen_codes: HashSet<String> = HashSet::new();
        if raw.is_empty() {
            self.errors.push(RubricError {
                line: 0,
                key: "categories".into(),
                message: "至少需要一个方面（category）".into(),
            });
        }
        for (ci, c) in raw.into_iter().enumerate() {
            let key = format!("categories[{ci}]");
            let code = c.code.get_ref().trim().to_owned();
            if code.is_empty() {
                self.err(&c.code, format!("{key}.code"), "不能为空");
            } else if !seen_codes.insert(code.clone()) {
                self.err(
                    &c.code,
                    format!("{key}.code"),
                    format!("编号「{code}」重复"),
                );
            }
            let mode = match c.mode.as_ref().map(|m| m.get_ref().as_str()) {
                None | Some("deduct") => CategoryMode::Deduct,
                Some("earn") => CategoryMode::Earn,
                Some("bonus") => CategoryMode::Bonus,
                Some("flags") => CategoryMode::Flags,
                Some(other) => {
                    let msg = format!("未知的方面类型「{other}」，可选 deduct、earn、bonus、flags");
                    if let Some(m) = &c.mode {
                        self.err(m, format!("{key}.mode"), msg);
                    }
                    CategoryMode::Deduct
                }
            };
            let max = self
                .points(&c.max, &format!("{key}.max"), false)
                .unwrap_or(Points::ZERO);
            match mode {
                CategoryMode::Flags if max != Points::ZERO => {
                    self.err(
                        &c.max,
                        format!("{key}.max"),
                        "flags 类方面不计分，max 须为 0",
                    );
                }
                CategoryMode::Deduct | CategoryMode::Earn | CategoryMode::Bonus
                    if max == Points::ZERO =>
                {
                    self.err(&c.max, format!("{key}.max"), "满分须大于 0");
                }
                _ => {}
            }
            let mut section_ids = Vec::new();
            let mut section_sum = Points::ZERO;
            let loose = !c.rules.is_empty();
            for (si, s) in c.sections.into_iter().enumerate() {
                let skey = format!("{key}.sections[{si}]");
                let scode = s.code.get_ref().trim().to_owned();
                if scode.is_empty() {
                    self.err(&s.code, format!("{skey}.code"), "不能为空");
                } else if !seen_codes.insert(scode.clone()) {
                    self.err(
                        &s.code,
                        format!("{skey}.code"),
                        format!("编号「{scode}」重复"),
                    );
                }
                if mode == CategoryMode::Flags {
                    self.err(&s.code, format!("{skey}.code"), "flags 类方面不能分节");
                }
                let smax = self
                    .points(&s.max, &format!("{skey}.max"), false)
                    .unwrap_or(Points::ZERO);
                if smax == Points::ZERO {
                    self.err(&s.max, format!("{skey}.max"), "满分须大于 0");
                }
                section_sum += smax;
                let sid = sections.len();
                section_ids.push(sid);
                if s.rules.is_empty() {
                    self.err(&s.code, format!("{skey}.rules"), "该节没有任何条款");
                }
                for (ri, r) in s.rules.into_iter().enumerate() {
                    pending.push(Pending {
                        raw: r,
                        key: format!("{skey}.rules[{ri}]"),
                        category: ci,
                        section: Some(sid),
                    });
                }
                sections.push(Section {
                    code: scode,
                    name: s.name,
                    max: smax,
                    category: ci,
                    rules: Vec::new(),
                });
            }
            if !section_ids.is_empty() {
                if section_sum > max {
                    self.err(
                        &c.max,
                        format!("{key}.max"),
                        format!("各节满分之和 {section_sum} 超过方面满分 {max}"),
                    );
                } else if !loose && section_sum != max {
                    self.err(
                        &c.max,
                        format!("{key}.max"),
                        format!("各节满分之和 {section_sum} 与方面满分 {max} 不一致"),
                    );
                }
            }
            if section_ids.is_empty() && !loose && mode != CategoryMode::Flags {
                self.err(&c.code, format!("{key}.rules"), "该方面没有任何条款");
            }
            for (ri, r) in c.rules.into_iter().enumerate() {
                pending.push(Pending {
                    raw: r,
                    key: format!("{key}.rules[{ri}]"),
                    category: ci,
                    section: None,
                });
            }
            categories.push(Category {
                code,
                name: c.name,
                max,
                mode,
                source: c.source,
                sections: section_ids,
                rules: Vec::new(),
            });
        }

        Tree {
            categories,
            sections,
            pending,
            seen_codes,
        }
    }

    /// The total equals the sum of the categories that count towards it.
    fn check_total(&mut self, h: &RawHeader, total: Option<Points>, categories: &[Category]) {
        if let Some(total) = total {
            let sum: Points = categories
                .iter()
                .filter(|c| c.mode.counts_towards_total())
                .map(|c| c.max)
                .sum();
            if sum != total {
                self.err(
                    &h.total,
                    "rubric.total",
                    format!("总分 {total} 与各扣分制、得分制方面满分之和 {sum} 不一致"),
                );
            }
        }
    }

    /// The cap of the total with its bonus, if any.
    fn max_total(&mut self, h: &RawHeader) -> Option<Points> {
        h.max_total.as_ref().and_then(|m| {
            let p = self.points(m, "rubric.max_total", false)?;
            if p == Points::ZERO {
                self.err(m, "rubric.max_total", "总分上限须大于 0");
                return None;
            }
            Some(p)
        })
    }

    /// Every rule: codes unique across the file, kinds checked against their container, excludes
    /// resolved (and made symmetric), tags and texts present.
    fn rules(
        &mut self,
        tree: &mut Tree,
        metrics: &[Metric],
    ) -> (Vec<Rule>, HashMap<String, usize>) {
        // Rule codes first, so that excludes can refer to rules written later.
        let mut rule_index: HashMap<String, usize> = HashMap::new();
        for (i, p) in tree.pending.iter().enumerate() {
            let code = p.raw.code.get_ref().trim().to_owned();
            if code.is_empty() {
                self.err(&p.raw.code, format!("{}.code", p.key), "不能为空");
            } else if !tree.seen_codes.insert(code.clone()) {
                self.err(
                    &p.raw.code,
                    format!("{}.code", p.key),
                    format!("编号「{code}」重复"),
                );
            } else {
                rule_index.insert(code, i);
            }
        }

        if tree.pending.len() >= usize::from(u16::MAX) {
            self.errors.push(RubricError {
                line: 0,
                key: "categories".into(),
                message: format!("条款过多：{} 条（上限 65534 条）", tree.pending.len()),
            });
        }
        let mut rules = Vec::with_capacity(tree.pending.len());
        for p in &tree.pending {
            let container = match p.section {
                Some(s) => tree.sections[s].max,
                None => tree.categories[p.category].max,
            };
            let mode = tree.categories[p.category].mode;
            let kind = self.rule_kind(p, container, mode, metrics);
            let mut excludes = Vec::new();
            if let Some(ex) = &p.raw.excludes {
                for code in ex.get_ref() {
                    match rule_index.get(code.trim()) {
                        Some(&j) if tree.pending[j].raw.code.get_ref() == p.raw.code.get_ref() => {
                            self.err(ex, format!("{}.excludes", p.key), "不能与自身互斥");
                        }
                        Some(&j) => excludes.push(j),
                        None => self.err(
                            ex,
                            format!("{}.excludes", p.key),
                            format!("互斥条款「{code}」不存在"),
                        ),
                    }
                }
            }
            let applies_to = match &p.raw.applies_to {
                Some(t) if t.get_ref().trim().is_empty() => {
                    self.err(t, format!("{}.applies_to", p.key), "不能为空");
                    None
                }
                Some(t) => Some(t.get_ref().trim().to_owned()),
                None => None,
            };
            if p.raw.text.trim().is_empty() {
                self.err(&p.raw.code, format!("{}.text", p.key), "缺少条款内容 text");
            }
            let year_scope = match p.raw.scope.as_ref().map(|s| (s, s.get_ref().trim())) {
                None | Some((_, "part")) => false,
                Some((_, "year")) if matches!(kind, Some(RuleKind::Veto)) => true,
                Some((s, "year")) => {
                    self.err(
                        s,
                        format!("{}.scope", p.key),
                        "只有一票否决条款可以作用于全年（scope = \"year\"）",
                    );
                    false
                }
                Some((s, other)) => {
                    self.err(
                        s,
                        format!("{}.scope", p.key),
                        format!("未知的作用范围「{other}」，可选 part（本期）或 year（全年）"),
                    );
                    false
                }
            };
            rules.push(Rule {
                code: p.raw.code.get_ref().trim().to_owned(),
                year_scope,
                kind: kind.unwrap_or(RuleKind::LowestGrade),
                text: p.raw.text.trim().to_owned(),
                source: p.raw.source.trim().to_owned(),
                applies_to,
                excludes,
                category: p.category,
                section: p.section,
            });
        }
        // Exclusion is symmetric; only rules that are recorded can be alternatives.
        for i in 0..rules.len() {
            for j in rules[i].excludes.clone() {
                if !rules[j].kind.is_recorded() || !rules[i].kind.is_recorded() {
                    let p = &tree.pending[i];
                    if let Some(ex) = &p.raw.excludes {
                        self.err(
                            ex,
                            format!("{}.excludes", p.key),
                            "只有录入的条款才能互斥（督导组打分和指标比较条款不行）",
                        );
                    }
                }
                if !rules[j].excludes.contains(&i) {
                    rules[j].excludes.push(i);
                }
            }
        }

        (rules, rule_index)
    }

    /// The parts of the year: codes unique, names given, each from a day of the year to a later
    /// (or the same) day, weights above zero. Parts may overlap (a year-end assessment weighted
    /// against the quarters covers the whole year).
    fn parts(&mut self, raw: &[RawPart], year: i64) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for (i, p) in raw.iter().enumerate() {
            let key = format!("parts[{i}]");
            let code = p.code.get_ref().trim().to_owned();
            if code.is_empty() {
                self.err(&p.code, format!("{key}.code"), "不能为空");
            } else if !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.err(
                    &p.code,
                    format!("{key}.code"),
                    format!("代码「{code}」只能由英文字母、数字、- 和 _ 组成"),
                );
            } else if parts.iter().any(|x| x.code == code) {
                self.err(
                    &p.code,
                    format!("{key}.code"),
                    format!("代码「{code}」重复"),
                );
            }
            let name = p.name.trim().to_owned();
            if name.is_empty() {
                self.err(&p.code, format!("{key}.name"), "缺少名称（如“第一季度”）");
            }
            let from = self.month_day(&p.from, &format!("{key}.from"), year);
            let to = self.month_day(&p.to, &format!("{key}.to"), year);
            if let (Some(a), Some(b)) = (from, to)
                && a > b
            {
                self.err(
                    &p.to,
                    format!("{key}.to"),
                    format!(
                        "结束日 {:02}-{:02} 早于开始日 {:02}-{:02}",
                        b.0, b.1, a.0, a.1
                    ),
                );
            }
            let weight = self.points(&p.weight, &format!("{key}.weight"), false);
            if weight == Some(Points::ZERO) {
                self.err(&p.weight, format!("{key}.weight"), "权重须大于 0");
            }
            parts.push(Part {
                code,
                name,
                from: from.unwrap_or((1, 1)),
                to: to.unwrap_or((12, 31)),
                weight: weight.unwrap_or(Points::whole(1)),
            });
        }
        parts
    }

    /// A "MM-DD" day of the rubric's year.
    fn month_day(&mut self, at: &Spanned<String>, key: &str, year: i64) -> Option<(u8, u8)> {
        let text = at.get_ref().trim();
        let parsed = text.split_once('-').and_then(|(m, d)| {
            let (m, d) = (m.parse::<u8>().ok()?, d.parse::<u8>().ok()?);
            crate::ledger::Date::new(i32::try_from(year).ok()?, m, d).map(|_| (m, d))
        });
        if parsed.is_none() {
            self.err(
                at,
                key,
                format!("「{text}」不是 {year} 年中的日期（写作 月-日，如 03-31）"),
            );
        }
        parsed
    }

    /// The default roster: names unique, classes known.
    fn roster(&mut self, raw: &[RawUnit], classes: &[Class]) -> Vec<RosterEntry> {
        let mut roster: Vec<RosterEntry> = Vec::new();
        let mut names = HashSet::new();
        for (i, u) in raw.iter().enumerate() {
            let name = u.name.get_ref().trim().to_owned();
            if name.is_empty() {
                self.err(&u.name, format!("units[{i}].name"), "单位名称不能为空");
            } else if !names.insert(name.clone()) {
                self.err(
                    &u.name,
                    format!("units[{i}].name"),
                    format!("单位「{name}」重复"),
                );
            }
            let class = classes
                .iter()
                .position(|c| c.code == u.class.get_ref().trim());
            if class.is_none() {
                self.err(
                    &u.class,
                    format!("units[{i}].class"),
                    format!("未知类别「{}」", u.class.get_ref()),
                );
            }
            roster.push(RosterEntry {
                name,
                class: class.unwrap_or(0),
                tags: u
                    .tags
                    .iter()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            });
        }

        roster
    }

    /// The `metric` and `reference` of a comparison rule: declared, and not the same.
    fn metric_pair(&mut self, p: &Pending, metrics: &[Metric]) -> Option<(usize, usize)> {
        let r = &p.raw;
        let key = &p.key;
        let kind_name = r.kind.get_ref().as_str();
        let find = |this: &mut Self, v: &Option<Spanned<String>>, name: &str| -> Option<usize> {
            match v {
                None => {
                    this.err(
                        &r.code,
                        format!("{key}.{name}"),
                        format!("{kind_name} 类条款须给出 {name}"),
                    );
                    None
                }
                Some(s) => {
                    let found = metrics.iter().position(|m| m.code == s.get_ref().trim());
                    if found.is_none() {
                        this.err(
                            s,
                            format!("{key}.{name}"),
                            format!("指标「{}」未在 [[metrics]] 中声明", s.get_ref()),
                        );
                    }
                    found
                }
            }
        };
        let metric = find(self, &r.metric, "metric");
        let reference = find(self, &r.reference, "reference");
        let (metric, reference) = (metric?, reference?);
        if metric == reference {
            if let Some(s) = &r.reference {
                self.err(s, format!("{key}.reference"), "比较对象不能是指标本身");
            }
            return None;
        }
        Some((metric, reference))
    }

    /// The grade bands: names unique and non-empty, `min` strictly decreasing, the last one 0.
    fn grades(&mut self, raw: &[RawGrade]) -> Vec<Grade> {
        let mut out: Vec<Grade> = Vec::new();
        for (i, g) in raw.iter().enumerate() {
            let key = format!("grades[{i}]");
            let name = g.name.get_ref().trim().to_owned();
            if name.is_empty() {
                self.err(&g.name, format!("{key}.name"), "等次名称不能为空");
            } else if out.iter().any(|o| o.name == name) {
                self.err(
                    &g.name,
                    format!("{key}.name"),
                    format!("等次「{name}」重复"),
                );
            }
            let Some(min) = self.points(&g.min, &format!("{key}.min"), false) else {
                continue;
            };
            if let Some(prev) = out.last()
                && min >= prev.min
            {
                self.err(
                    &g.min,
                    format!("{key}.min"),
                    format!(
                        "等次须从高到低排列：{name} 的下限 {min} 不低于上一等次 {} 的 {}",
                        prev.name, prev.min
                    ),
                );
            }
            out.push(Grade { name, min });
        }
        if let (Some(last), Some(g)) = (out.last(), raw.last())
            && last.min != Points::ZERO
        {
            self.err(
                &g.min,
                format!("grades[{}].min", raw.len() - 1),
                format!(
                    "最后一个等次（{}）的下限须为 0，现为 {}",
                    last.name, last.min
                ),
            );
        }
        if raw.len() == 1 {
            self.err(&raw[0].name, "grades", "至少需要两个等次");
        }
        out
    }

    /// Checks one rule's kind and numbers against its container; `None` when it is invalid.
    fn rule_kind(
        &mut self,
        p: &Pending,
        container: Points,
        mode: CategoryMode,
        metrics: &[Metric],
    ) -> Option<RuleKind> {
        let r = &p.raw;
        let key = &p.key;
        let kind_name = r.kind.get_ref().as_str();
        // Which optional keys each kind accepts.
        let allowed: &[&str] = match kind_name {
            "fixed" => &["points"],
            "per_count" => &["points", "max_count"],
            "range" => &["min", "max"],
            "graded" => &["levels"],
            "assessed" => &["max", "assessors"],
            "metric_below" => &["points", "metric", "reference"],
            "metric_step" => &["points", "metric", "reference", "direction", "step", "max"],
            "veto" | "lowest_grade" => &[],
            other => {
                self.err(
                    &r.kind,
                    format!("{key}.kind"),
                    format!(
                        "未知的条款类型「{other}」，可选 fixed、per_count、range、graded、assessed、metric_below、metric_step、veto、lowest_grade"
                    ),
                );
                return None;
            }
        };
        let present = [
            ("points", r.points.as_ref().map(toml::Spanned::span)),
            ("min", r.min.as_ref().map(toml::Spanned::span)),
            ("max", r.max.as_ref().map(toml::Spanned::span)),
            ("max_count", r.max_count.as_ref().map(toml::Spanned::span)),
            ("metric", r.metric.as_ref().map(toml::Spanned::span)),
            ("reference", r.reference.as_ref().map(toml::Spanned::span)),
            ("assessors", r.assessors.as_ref().map(toml::Spanned::span)),
            ("direction", r.direction.as_ref().map(toml::Spanned::span)),
            ("step", r.step.as_ref().map(toml::Spanned::span)),
            ("levels", r.levels.as_ref().map(toml::Spanned::span)),
        ];
        let mut ok = true;
        for (name, span) in present {
            if let Some(span) = span
                && !allowed.contains(&name)
            {
                self.errors.push(RubricError {
                    line: self.lines.line(span.start),
                    key: format!("{key}.{name}"),
                    message: format!("{kind_name} 类条款不使用 {name}"),
                });
                ok = false;
            }
        }
        let allowed_in_mode = match mode {
            CategoryMode::Deduct => true,
            CategoryMode::Earn => matches!(
                kind_name,
                "fixed" | "per_count" | "range" | "graded" | "assessed"
            ),
            CategoryMode::Bonus => matches!(kind_name, "fixed" | "per_count" | "range" | "graded"),
            CategoryMode::Flags => matches!(kind_name, "veto" | "lowest_grade"),
        };
        if !allowed_in_mode {
            self.err(
                &r.kind,
                format!("{key}.kind"),
                format!(
                    "{kind_name} 类条款不能放在{}（{}）方面中",
                    mode.label(),
                    mode.name()
                ),
            );
            ok = false;
        }

        let need_points =
            |this: &mut Self, what: &Option<Spanned<Num>>, name: &str| -> Option<Points> {
                match what {
                    None => {
                        this.err(
                            &r.code,
                            format!("{key}.{name}"),
                            format!("{kind_name} 类条款须给出 {name}"),
                        );
                        None
                    }
                    Some(v) => {
                        let p = this.points(v, &format!("{key}.{name}"), false)?;
                        if p == Points::ZERO {
                            this.err(v, format!("{key}.{name}"), "须大于 0");
                            return None;
                        }
                        if p > container {
                            this.err(
                                v,
                                format!("{key}.{name}"),
                                format!("{p} 分超过所在方面或节的满分 {container}"),
                            );
                            return None;
                        }
                        Some(p)
                    }
                }
            };

        let kind = match kind_name {
            "fixed" => RuleKind::Fixed {
                points: need_points(self, &r.points, "points")?,
            },
            "per_count" => {
                let max_count = match &r.max_count {
                    None => None,
                    Some(m) if *m.get_ref() >= 1 && *m.get_ref() <= i64::from(u32::MAX) => {
                        Some(*m.get_ref() as u32)
                    }
                    Some(m) => {
                        self.err(m, format!("{key}.max_count"), "须为不小于 1 的整数");
                        return None;
                    }
                };
                RuleKind::PerCount {
                    points: need_points(self, &r.points, "points")?,
                    max_count,
                }
            }
            "range" => {
                let min = match &r.min {
                    None => {
                        self.err(&r.code, format!("{key}.min"), "range 类条款须给出 min");
                        return None;
                    }
                    Some(v) => self.points(v, &format!("{key}.min"), false)?,
                };
                let max = need_points(self, &r.max, "max")?;
                if min > max {
                    if let Some(v) = &r.min {
                        self.err(
                            v,
                            format!("{key}.min"),
                            format!("下限 {min} 大于上限 {max}"),
                        );
                    }
                    return None;
                }
                RuleKind::Range { min, max }
            }
            "graded" => {
                let Some(levels) = &r.levels else {
                    self.err(
                        &r.code,
                        format!("{key}.levels"),
                        "graded 类条款须给出 levels",
                    );
                    return None;
                };
                let mut out: Vec<Level> = Vec::new();
                for (i, l) in levels.get_ref().iter().enumerate() {
                    match Points::parse(&l.points.0) {
                        Ok(p) if p > Points::ZERO && p <= container => {
                            if out.iter().any(|o| o.points == p) {
                                self.err(
                                    levels,
                                    format!("{key}.levels[{i}].points"),
                                    format!("档次分值 {p} 重复"),
                                );
                                return None;
                            }
                            out.push(Level {
                                points: p,
                                text: l.text.clone(),
                            });
                        }
                        Ok(p) => {
                            self.err(
                                levels,
                                format!("{key}.levels[{i}].points"),
                                format!("档次分值 {p} 须大于 0 且不超过满分 {container}"),
                            );
                            return None;
                        }
                        Err(e) => {
                            self.err(
                                levels,
                                format!("{key}.levels[{i}].points"),
                                format!("数值无效：{e}"),
                            );
                            return None;
                        }
                    }
                }
                if out.len() < 2 {
                    self.err(levels, format!("{key}.levels"), "至少需要两个档次");
                    return None;
                }
                RuleKind::Graded { levels: out }
            }
            "assessed" => {
                let max = need_points(self, &r.max, "max")?;
                let assessors = match &r.assessors {
                    None => None,
                    Some(a) if *a.get_ref() >= 1 && *a.get_ref() <= 1000 => {
                        Some(*a.get_ref() as u32)
                    }
                    Some(a) => {
                        self.err(a, format!("{key}.assessors"), "须为 1 到 1000 的整数");
                        return None;
                    }
                };
                RuleKind::Assessed { max, assessors }
            }
            "metric_below" => {
                let points = need_points(self, &r.points, "points")?;
                let (metric, reference) = self.metric_pair(p, metrics)?;
                RuleKind::MetricBelow {
                    points,
                    metric,
                    reference,
                }
            }
            "metric_step" => {
                let points = need_points(self, &r.points, "points");
                let max = match &r.max {
                    None => None,
                    Some(_) => Some(need_points(self, &r.max, "max")?),
                };
                let direction = match r.direction.as_ref().map(|d| d.get_ref().trim()) {
                    Some("above") => Some(Direction::Above),
                    Some("below") => Some(Direction::Below),
                    Some(other) => {
                        let msg = format!(
                            "未知的比较方向「{other}」，可选 above（超过参照值扣分）、below（低于参照值扣分）"
                        );
                        if let Some(d) = &r.direction {
                            self.err(d, format!("{key}.direction"), msg);
                        }
                        None
                    }
                    None => {
                        self.err(
                            &r.code,
                            format!("{key}.direction"),
                            "metric_step 类条款须给出 direction（above 或 below）",
                        );
                        None
                    }
                };
                let step = match &r.step {
                    None => Some(rust_decimal::Decimal::ONE),
                    Some(v) => match self.points(v, &format!("{key}.step"), false) {
                        Some(p) if p > Points::ZERO => Some(p.to_decimal()),
                        Some(_) => {
                            self.err(v, format!("{key}.step"), "步长须大于 0");
                            None
                        }
                        None => None,
                    },
                };
                let pair = self.metric_pair(p, metrics);
                if let (Some(points), Some(m)) = (points, max)
                    && m < points
                    && let Some(v) = &r.max
                {
                    self.err(
                        v,
                        format!("{key}.max"),
                        format!("扣分上限 {m} 小于每级扣分 {points}"),
                    );
                    return None;
                }
                let (metric, reference) = pair?;
                RuleKind::MetricStep {
                    points: points?,
                    metric,
                    reference,
                    direction: direction?,
                    step: step?,
                    max,
                }
            }
            "veto" => RuleKind::Veto,
            _ => RuleKind::LowestGrade,
        };
        ok.then_some(kind)
    }
}
