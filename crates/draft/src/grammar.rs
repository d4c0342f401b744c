//! The phrase grammar of 细则: the patterns a sentence's points, counts, caps, steps, vetoes and
//! grades are read from, and the splitter that turns a scoring text into proposed rules, each with
//! its exact sentence. It must not read documents or write TOML.

use std::sync::LazyLock;

use regex::Regex;

use crate::build::DraftRule;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        pub(crate) static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pat).expect("a valid pattern"));
    };
}

pub(crate) const NUM: &str = r"(\d+(?:\.\d+)?)";
re!(QUARTERLY, r"季度考核|按季度考核|各季度|季度得分|分季度");
re!(
    HALF_WEIGHTS,
    r"上半年(?:得分)?占\s*(\d+(?:\.\d+)?)\s*[%％].{0,12}?下半年(?:得分)?占\s*(\d+(?:\.\d+)?)\s*[%％]"
);
re!(HALF_YEARLY, r"半年考核|上半年考核|下半年考核|半年得分");
re!(MAX_ONLY, r"^\s*[（(]\s*\d+(?:\.\d+)?\s*分\s*[）)]\s*$");
re!(
    ITEM_MAX,
    &format!(r"^(.*?)\s*[（(]\s*(?:最多加|最高加|加分上限|上限|满分)?\s*{NUM}\s*分\s*[）)]\s*$")
);
re!(
    SECTION,
    &format!(r"([^。；：，、（）()]{{2,30}}?方面)[（(]{NUM}分[）)][：:]")
);
re!(
    ITEM_SECTION,
    &format!(
        r"(?:^|[。；;])\s*((?:\d+[.、．]|[（(]\d+[）)])\s*([^。；：，、（）()]{{2,30}}?)[（(]{NUM}分[）)][：:，,]?)"
    )
);
re!(LABEL, r"^([^。；，、：]{2,30}?(?:方面|情况))[：:]");
re!(
    PHRASE,
    &format!(
        r"最多(?:扣|得|加)\s*{NUM}\s*分|(?:累计(?:最多|不超过|最高)(?:扣|得|加)?|扣完|减完)\s*{NUM}\s*分(?:为止)?|([扣得加])\s*{NUM}\s*分?\s*[-－—~～至到]\s*{NUM}\s*分|([扣得加])\s*{NUM}\s*分|一票否决|按最低等次处理|打分|(?:扣|减)完为止(?:[（(]下同[）)])?"
    )
);
re!(
    STEP,
    r"(?:比(?:上年|上年度|去年|上一年度?)(?:同期)?|与(?:上年|上年度|去年|上一年度?)(?:同期)?(?:相)?比(?:较)?[：:，,]?\s*)每(多|增加|增|少|减少)\s*(?:死亡|受伤|发生)?\s*(\d+|[一二两三四五六七八九十]+)?\s*(?:起|人|次|家|个|名|例|件|宗)"
);
re!(
    STEP_MORE,
    r"^[，,；;\s]*每(多|增加|增|少|减少)\s*(死亡|受伤|发生)?\s*(\d+|[一二两三四五六七八九十]+)?\s*(?:起|人|次|家|个|名|例|件|宗)\s*$"
);
re!(
    EARN_DECLARED,
    r"(?:本项|本类|本方面)?(?:实行|采取|采用)得分制[。；，,]?"
);
re!(BONUS_DECLARED, r"(?:本项|本类)?(?:为|属)加分项[。；，,]?");
re!(
    GRADE_AT_LEAST,
    r"(\d+(?:\.\d+)?)\s*分(?:及|或)?以上(?:\s*(?:不满|不足|未满|低于)\s*\d+(?:\.\d+)?\s*分|[（(]?含[\d.]+分?[）)]?|\s*\d+(?:\.\d+)?\s*分(?:以下|之下))?(?:的)?(?:为|评为|确定为|定为)\s*[“]?([\p{Han}]{1,6})[”]?"
);
re!(
    GRADE_BELOW,
    r"(\d+(?:\.\d+)?)\s*分以下(?:的)?(?:为|评为|确定为|定为)\s*[“]?([\p{Han}]{1,6})[”]?"
);
re!(
    MAX_TOTAL,
    r"总分(?:最高|最多)?(?:不超过|不得超过|不高于)\s*(\d+(?:\.\d+)?)\s*分"
);
re!(
    ROSTER_ANY,
    r"(?:参评单位|考核对象|参加考核的单位)[：:]([^。]+)"
);
re!(
    LEADING_NUMBER,
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．])\s*"
);
re!(
    COUNT_BEFORE,
    r"(?:(?:[0-9]+|[一二两三四五六七八九十]+)\s*|每\s*)(?:人次|个|项|条|例|次|处|起|件|家|名|份|篇|宗|批)(?:任务|问题|内容)?\s*$"
);
re!(ARABIC_COUNT, r"(\d+)\s*(项|条|个|次|处|起|件)");
re!(
    CHINESE_COUNT,
    r"([两二三四五六七八九十]+)\s*(项|条|个|次|处|起|件)"
);
re!(
    ASSESSORS,
    r"由\s*(\d+|[一二两三四五六七八九十]+)\s*个督导组"
);
re!(YEAR, r"(\d{4})\s*年");
re!(TOTAL, r"总分\s*(\d+(?:\.\d+)?)\s*分");
re!(
    CLASS_WEIGHT,
    &format!(r"([A-Z])\s*类(部门|单位)?\s*(?:占|计|折算为?)\s*{NUM}\s*分")
);
re!(CLASS_LIST, r"([A-Z])\s*类(?:部门|单位)?[：:]([^。]+)");
re!(DECIMALS, r"小数点后\s*(两|二|一|零|\d)\s*位");
re!(NUMBERING, r"^[（(]\d+[）)]");

pub(crate) fn chinese_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let digit = |c: char| match c {
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    };
    let cs: Vec<char> = s.chars().collect();
    match cs.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => digit(*u).map(|u| 10 + u),
        [t, '十'] => digit(*t).map(|t| t * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

/// Text without line breaks or tabs.
pub(crate) fn flat(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

/// A rubric's id from its title and year: the title without its leading year, then the year
/// ("青山县安全生产委员会成员单位安全生产工作考核细则-2023"), so that saved versions say what they
/// are; `draft-YEAR` only for a document without a title.
pub(crate) fn rubric_id(title: &str, year: i32) -> String {
    let rest = title
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches("年度")
        .trim_start_matches('年')
        .trim();
    if rest.is_empty() {
        format!("draft-{year}")
    } else {
        format!("{rest}-{year}")
    }
}

/// A short clause from a rule's sentence: no label, no numbering, no deduction phrase.
pub(crate) fn short_text(source: &str, phrase_at: usize) -> String {
    let mut head = &source[..phrase_at];
    if let Some(m) = SECTION.find(head).filter(|m| m.start() == 0) {
        head = &head[m.end()..];
    } else if let Some(c) = LABEL.captures(head) {
        head = &head[c.get(0).map_or(0, |m| m.end())..];
    }
    if let Some(m) = NUMBERING.find(head) {
        head = &head[m.end()..];
    }
    let mut t = head
        .trim_end_matches(['，', '、', '：', ',', ' '])
        .trim_end_matches("实行")
        .trim_end_matches(['，', '、', '：', ',', ' '])
        .trim_end_matches('的')
        .trim_end_matches(['，', ','])
        .to_owned();
    // "…销号的，视情" / "…检查的，每少1人次": a short name ends at a clause boundary, not inside
    // the clause that leads into the points.
    if let Some((clause, lead)) = t.rsplit_once(['，', ','])
        && lead.chars().count() <= 8
        && ["视", "酌", "每", "有", "根据", "按", "依"]
            .iter()
            .any(|w| lead.starts_with(w))
        && !clause.trim().is_empty()
    {
        t = clause.trim_end_matches('的').trim_end().to_owned();
    }
    if t.is_empty() {
        source
            .trim_end_matches(['。', '；', '，'])
            .clone_into(&mut t);
    }
    t
}

/// Proposes a count limit for a `per_count` rule from the words before its phrase.
pub(crate) fn max_count_hint(before: &str) -> Option<(u32, String)> {
    let chinese: Vec<(u32, &str)> = CHINESE_COUNT
        .captures_iter(before)
        .filter_map(|c| Some((chinese_number(c.get(1)?.as_str())?, c.get(0)?.as_str())))
        .filter(|(n, _)| *n >= 2)
        .collect();
    if chinese.len() >= 2 {
        let sum: u32 = chinese.iter().map(|(n, _)| n).sum();
        let parts: Vec<&str> = chinese.iter().map(|(_, t)| *t).collect();
        return Some((
            sum,
            format!("次数上限 {sum} 为原文「{}」之和", parts.join("、")),
        ));
    }
    let arabic = ARABIC_COUNT
        .captures_iter(before)
        .filter_map(|c| {
            Some((
                c.get(1)?.as_str().parse::<u32>().ok()?,
                c.get(0)?.as_str().to_owned(),
            ))
        })
        .filter(|(n, _)| *n >= 2)
        .last();
    if let Some((n, t)) = arabic {
        return Some((n, format!("次数上限 {n} 取自原文「{t}」")));
    }
    if let Some((n, t)) = chinese.first() {
        return Some((*n, format!("次数上限 {n} 取自原文「{t}」")));
    }
    if before.contains("每季度") {
        return Some((4, "次数上限 4 按原文「每季度」（一年四次）推定".into()));
    }
    if before.contains("每月") {
        return Some((12, "次数上限 12 按原文「每月」（一年十二次）推定".into()));
    }
    None
}

pub(crate) struct Splitter<'a> {
    /// The last metric subject seen ("年度隐患总录入数"), for "低于去年…" that omits it.
    pub(crate) subject: Option<String>,
    pub(crate) metrics: &'a mut Vec<(String, String)>,
}

impl Splitter<'_> {
    /// A metric's code: its Chinese name, the words an office's data files use for it (a nameless
    /// one gets `mN`).
    fn metric_code(&mut self, name: &str) -> String {
        let name = name.trim();
        if let Some((code, _)) = self.metrics.iter().find(|(_, n)| n == name) {
            return code.clone();
        }
        let code = if name.is_empty() {
            format!("m{}", self.metrics.len() + 1)
        } else {
            name.to_owned()
        };
        self.metrics.push((code.clone(), name.to_owned()));
        code
    }

    /// Splits a body of text into rules (codes `prefix.N`), each with its exact sentence; text with no
    /// scoring phrase goes to `leftover`. A cap written after a rule ("，最多得8分", "，最多扣10分")
    /// belongs to that rule.
    pub(crate) fn split(
        &mut self,
        body: &str,
        prefix: &str,
        container_max: &str,
        leftover: &mut Vec<String>,
    ) -> Vec<DraftRule> {
        let mut rules: Vec<DraftRule> = Vec::new();
        let mut start = 0usize;
        for m in PHRASE.captures_iter(body) {
            let Some(whole) = m.get(0) else { continue };
            let mut end = whole.end();
            if let Some(c) = body[end..].chars().next()
                && matches!(c, '，' | '；' | '。' | ',' | ';')
            {
                end += c.len_utf8();
            }
            // A cap: part of the rule before it.
            if let Some(cap) = m.get(1).or_else(|| m.get(2)) {
                if let Some(last) = rules.last_mut() {
                    last.source.push_str(&body[start..end]);
                    let source = last.source.trim().to_owned();
                    last.source = source;
                    apply_cap(last, cap.as_str());
                    start = end;
                    continue;
                }
                // A cap with no rule before it is the container's own limit: nothing to split.
                start = end;
                continue;
            }
            // "扣完为止": the item's (or section's) maximum caps the rule before it, which the
            // rubric's maximum already does; the words stay in that rule's sentence.
            if whole.as_str().contains("完为止") {
                if let Some(last) = rules.last_mut() {
                    last.source.push_str(&body[start..end]);
                    last.source = last.source.trim().to_owned();
                }
                start = end;
                continue;
            }
            let source = body[start..end].trim().to_owned();
            let phrase_at =
                whole.start() - start - (body[start..].len() - body[start..].trim_start().len());
            let phrase_at = phrase_at.min(source.len());
            let before = &source[..phrase_at];
            let mut r = DraftRule {
                code: format!("{prefix}.{}", rules.len() + 1),
                text: short_text(&source, phrase_at),
                source: source.clone(),
                ..DraftRule::default()
            };
            let phrase = whole.as_str();
            if let (Some(a), Some(b)) = (m.get(4), m.get(5)) {
                r.kind = "range";
                r.min = Some(a.as_str().to_owned());
                r.max = Some(b.as_str().to_owned());
            } else if phrase == "一票否决" {
                r.kind = "veto";
                if before.contains("全年") {
                    r.scope = Some("year");
                }
            } else if phrase == "按最低等次处理" {
                r.kind = "lowest_grade";
            } else if phrase == "打分" {
                r.kind = "assessed";
                r.max = Some(container_max.to_owned());
                match ASSESSORS
                    .captures(before)
                    .and_then(|c| chinese_number(c.get(1)?.as_str()))
                {
                    Some(n) => r.assessors = Some(n),
                    None => r
                        .review
                        .push("未找到打分的督导组数（“由N个督导组…打分”）".into()),
                }
            } else if let Some(p) = m.get(7) {
                let points = p.as_str().to_owned();
                let deducts = m.get(6).is_some_and(|v| v.as_str() == "扣");
                let after_step = rules.last().is_some_and(|l| l.kind == "metric_step");
                if let Some(step) = STEP.captures(before).filter(|_| deducts) {
                    self.metric_step(&mut r, before, &step, points);
                } else if let Some(more) =
                    STEP_MORE.captures(before).filter(|_| deducts && after_step)
                {
                    // "…与上年同期比较：每多一起扣0.2分，每多死亡一人扣1分": the comparison
                    // carries to the next step of the same sentence.
                    let previous = rules.last().and_then(|l| l.metric.clone());
                    self.metric_step_more(&mut r, &more, previous, points);
                } else if let Some(at) = before.find("低于").filter(|_| deducts) {
                    r.kind = "metric_below";
                    r.points = Some(points);
                    let mut head = &before[..at];
                    if let Some(c) = LABEL.captures(head) {
                        head = &head[c.get(0).map_or(0, |m| m.end())..];
                    }
                    if let Some(m) = NUMBERING.find(head) {
                        head = &head[m.end()..];
                    }
                    let subject = head.trim_matches(['，', '、', ' ']).to_owned();
                    let subject = if subject.is_empty() {
                        self.subject.clone().unwrap_or_default()
                    } else {
                        subject
                    };
                    self.subject = Some(subject.clone());
                    let reference: String = before[at + "低于".len()..]
                        .trim_end_matches(['，', ','])
                        .trim_end_matches('的')
                        .to_owned();
                    // "低于上年度": last year's figure of the same metric, named as such.
                    let reference = last_year_of(&reference, &subject).unwrap_or(reference);
                    if subject.is_empty() {
                        r.review.push("未找到比较的指标名称".into());
                    }
                    self.compare(&mut r, &subject, &reference);
                } else if COUNT_BEFORE.is_match(before) {
                    r.kind = "per_count";
                    r.points = Some(points);
                    if let Some((n, why)) = max_count_hint(before) {
                        r.max_count = Some(n);
                        r.review.push(format!("{why}，请核对"));
                    }
                } else {
                    r.kind = "fixed";
                    r.points = Some(points);
                }
            }
            rules.push(r);
            start = end;
        }
        let rest = body[start..].trim().trim_matches(['。', '；', '，']);
        if rest
            .chars()
            .filter(|c| !c.is_ascii_punctuation() && !c.is_whitespace())
            .count()
            >= 4
        {
            leftover.push(body[start..].trim().to_owned());
        }
        rules
    }

    /// The second step of a comparison ("每多死亡一人"): its metric is named by the word in it
    /// (死亡 → 死亡人数, 受伤 → 受伤人数), else it is the step before's.
    fn metric_step_more(
        &mut self,
        r: &mut DraftRule,
        more: &regex::Captures<'_>,
        previous: Option<String>,
        points: String,
    ) {
        step_rule(r, points, more.get(1), more.get(3));
        let subject = match more.get(2).map(|m| m.as_str()) {
            Some("死亡") => "死亡人数".to_owned(),
            Some("受伤") => "受伤人数".to_owned(),
            _ => previous.unwrap_or_default(),
        };
        let reference = format!("上年同期{subject}");
        self.compare(r, &subject, &reference);
    }

    /// Names the metrics a rule compares, asking a person to confirm both names.
    fn compare(&mut self, r: &mut DraftRule, subject: &str, reference: &str) {
        r.metric = Some(self.metric_code(subject));
        r.reference = Some(self.metric_code(reference));
        r.review.push(format!(
            "本条比较指标「{subject}」与「{reference}」，请确认两个指标的名称（数据文件按名称填写）"
        ));
    }

    /// "生产安全事故起数比上年每多一起扣2分": a step of the metric over last year's figure.
    fn metric_step(
        &mut self,
        r: &mut DraftRule,
        before: &str,
        step: &regex::Captures<'_>,
        points: String,
    ) {
        step_rule(r, points, step.get(1), step.get(2));
        let at = step.get(0).map_or(before.len(), |m| m.start());
        let mut head = &before[..at];
        if let Some(c) = LABEL.captures(head) {
            head = &head[c.get(0).map_or(0, |m| m.end())..];
        }
        if let Some(m) = NUMBERING.find(head) {
            head = &head[m.end()..];
        }
        let subject = head
            .trim_matches(['，', '、', '；', ' '])
            .trim_start_matches("本行业领域")
            .trim_start_matches("辖区内")
            .trim_start_matches("辖区")
            .to_owned();
        if subject.is_empty() {
            r.review.push("未找到逐级扣分所比较的指标名称".into());
        }
        let reference = last_year_of("上年", &subject).unwrap_or_else(|| format!("上年{subject}"));
        self.compare(r, &subject, &reference);
    }
}

/// A metric step's kind, points, direction (多/增加 above, 少/减少 below) and step where not 1.
fn step_rule(
    r: &mut DraftRule,
    points: String,
    verb: Option<regex::Match<'_>>,
    count: Option<regex::Match<'_>>,
) {
    r.kind = "metric_step";
    r.points = Some(points);
    r.direction = Some(match verb.map_or("", |m| m.as_str()) {
        "少" | "减少" => "below",
        _ => "above",
    });
    if let Some(n) = count.and_then(|n| chinese_number(n.as_str()))
        && n != 1
    {
        r.step = Some(n.to_string());
    }
}

/// "上年" / "上年度" / "去年" / "上一年度" alone names last year's figure of `subject`:
/// "上年度执法检查企业数" for "年度执法检查企业数".
pub(crate) fn last_year_of(reference: &str, subject: &str) -> Option<String> {
    let r = reference.trim();
    if !["上年", "上年度", "去年", "上一年", "上一年度"].contains(&r) || subject.is_empty()
    {
        return None;
    }
    let rest = subject
        .trim_start_matches("年度")
        .trim_start_matches("全年");
    Some(format!("上年度{rest}"))
}

/// A cap written after a rule: for a per-count rule the most instances (the cap over the points
/// each, where it divides exactly), for a metric step its `max`; anything else is left for review.
pub(crate) fn apply_cap(r: &mut DraftRule, cap: &str) {
    let cap_p = lvzhi_core::Points::parse(cap).ok();
    match r.kind {
        "per_count" => {
            let each = r
                .points
                .as_deref()
                .and_then(|p| lvzhi_core::Points::parse(p).ok());
            match (cap_p, each) {
                (Some(c), Some(e))
                    if e.hundredths() > 0 && c.hundredths() % e.hundredths() == 0 =>
                {
                    r.max_count = u32::try_from(c.hundredths() / e.hundredths()).ok();
                    // The document states the cap: no guessed count is left to check.
                    r.review.retain(|w| !w.starts_with("次数上限"));
                }
                _ => r.review.push(format!(
                    "原文上限「{cap}分」不是每次分值的整数倍，请核对次数上限"
                )),
            }
        }
        "metric_step" => r.max = Some(cap.to_owned()),
        _ => r
            .review
            .push(format!("原文另有上限「{cap}分」，请确认如何计分")),
    }
}

/// The grade bands of the notes: "得分90分及以上为优秀，80分及以上不满90分为良好，…，60分以下为不合格".
pub(crate) fn grades_of(notes: &str) -> Vec<(String, String)> {
    let mut bands: Vec<(lvzhi_core::Points, String)> = Vec::new();
    for c in GRADE_AT_LEAST.captures_iter(notes) {
        let (Some(min), Some(name)) = (c.get(1), c.get(2)) else {
            continue;
        };
        if let Ok(p) = lvzhi_core::Points::parse(min.as_str())
            && !bands.iter().any(|(_, n)| n == name.as_str())
        {
            bands.push((p, name.as_str().to_owned()));
        }
    }
    if bands.is_empty() {
        return Vec::new();
    }
    // The lowest band: "60分以下为不合格" (not the upper end of a band above, "80分以上90分以下为良好").
    if let Some(name) = GRADE_BELOW
        .captures_iter(notes)
        .filter_map(|c| c.get(2))
        .find(|name| !bands.iter().any(|(_, n)| n == name.as_str()))
    {
        bands.push((lvzhi_core::Points::ZERO, name.as_str().to_owned()));
    }
    bands.sort_by_key(|b| std::cmp::Reverse(b.0));
    bands.into_iter().map(|(p, n)| (n, p.to_string())).collect()
}

/// The verb of a rule's scoring phrase: 扣, 得 or 加.
pub(crate) fn verb_of(source: &str) -> Option<char> {
    PHRASE
        .captures(source)
        .and_then(|c| c.get(3).or_else(|| c.get(6)))
        .and_then(|m| m.as_str().chars().next())
}

/// An item's name without its numbering ("一、", "（二）") and its maximum, and that maximum.
pub(crate) fn name_and_max(item: &str) -> (String, Option<String>) {
    let item = LEADING_NUMBER.replace(item.trim(), "").into_owned();
    match ITEM_MAX.captures(item.trim()) {
        Some(c) => (
            c.get(1).map_or("", |m| m.as_str()).trim().to_owned(),
            Some(c.get(2).map_or("", |m| m.as_str()).to_owned()),
        ),
        None => (item.trim().to_owned(), None),
    }
}

/// A maximum written in its own column: "20分", "20", "最多加5分"; `None` for "—" or empty.
pub(crate) fn max_of(cell: &str) -> Option<String> {
    static N: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d+(?:\.\d+)?)").expect("a valid pattern"));
    N.captures(cell)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()))
}

/// Codes `prefix.N` continuing after `n` rules already there.
pub(crate) fn renumber(rules: &mut [DraftRule], prefix: &str, n: usize) {
    for (i, r) in rules.iter_mut().enumerate() {
        r.code = format!("{prefix}.{}", n + i + 1);
    }
}
