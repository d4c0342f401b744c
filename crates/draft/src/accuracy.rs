//! The accuracy measure: a loaded draft compared rule by rule with a reference rubric (code, kind
//! and numbers, and whether a wrong number was presented as certain). It must not draft.

/// How a draft compares with a reference rubric: rule by rule, code, kind and numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    pub expected: usize,
    pub right: usize,
    /// Codes proposed without a review mark whose kind or numbers are wrong.
    pub wrong_but_certain: Vec<String>,
    /// Codes whose kind or numbers differ (or that are missing or extra), with what differs.
    pub wrong: Vec<String>,
    /// Rules whose source sentence is exactly the reference's.
    pub exact_sources: usize,
}

/// The numbers of a rule, as text, for comparison.
pub(crate) fn numbers(kind: &lvzhi_core::RuleKind) -> (&'static str, Vec<String>) {
    use lvzhi_core::RuleKind as K;
    match kind {
        K::Fixed { points } => ("fixed", vec![points.to_string()]),
        K::PerCount { points, max_count } => (
            "per_count",
            vec![
                points.to_string(),
                max_count.map_or_else(String::new, |m| m.to_string()),
            ],
        ),
        K::Range { min, max } => ("range", vec![min.to_string(), max.to_string()]),
        K::Graded { levels } => (
            "graded",
            levels.iter().map(|l| l.points.to_string()).collect(),
        ),
        K::Assessed { max, assessors } => (
            "assessed",
            vec![
                max.to_string(),
                assessors.map_or_else(String::new, |a| a.to_string()),
            ],
        ),
        K::MetricBelow { points, .. } => ("metric_below", vec![points.to_string()]),
        K::MetricStep {
            points,
            direction,
            step,
            max,
            ..
        } => (
            "metric_step",
            vec![
                points.to_string(),
                direction.name().to_owned(),
                step.normalize().to_string(),
                max.map_or_else(String::new, |m| m.to_string()),
            ],
        ),
        K::Veto => ("veto", vec![]),
        K::LowestGrade => ("lowest_grade", vec![]),
    }
}

/// Compares a loaded draft with the reference rubric.
pub fn accuracy(
    draft: &lvzhi_core::Rubric,
    reference: &lvzhi_core::Rubric,
    reviewed: &[String],
) -> Accuracy {
    let mut a = Accuracy {
        expected: reference.rules.len(),
        ..Accuracy::default()
    };
    for r in &reference.rules {
        let want = (numbers(&r.kind), r.year_scope);
        match draft.rule_by_code(&r.code).map(|i| &draft.rules[i]) {
            Some(got) => {
                let have = (numbers(&got.kind), got.year_scope);
                if have == want {
                    a.right += 1;
                } else {
                    a.wrong
                        .push(format!("{}：应为 {want:?}，草稿为 {have:?}", r.code));
                    if !reviewed.contains(&r.code) {
                        a.wrong_but_certain.push(r.code.clone());
                    }
                }
                if got.source == r.source {
                    a.exact_sources += 1;
                }
            }
            None => a.wrong.push(format!("{}：草稿中没有", r.code)),
        }
    }
    for r in &draft.rules {
        if reference.rule_by_code(&r.code).is_none() {
            a.wrong.push(format!("{}：参照中没有", r.code));
            if !reviewed.contains(&r.code) {
                a.wrong_but_certain.push(r.code.clone());
            }
        }
    }
    a
}
