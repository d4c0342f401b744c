//! What the store hands out: one type per stored thing (a period, a unit of its roster, a record, a
//! 督导组 score, a metric value, an appeal), as plain data with the JSON shape the API serves. No SQL
//! and no behaviour beyond reading a row's own fields; the rules live in the core.

use lvzhi_core::{Decision, PeriodStatus, RecordStatus};
use serde::Serialize;

/// A period as listed: one (office, assessment, year, part) with its key.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PeriodInfo {
    /// The period's id in the store, which every table keyed by period holds. Internal: paths and
    /// flags name a period by its `key` (or, where that names one period, its year).
    #[serde(skip)]
    pub id: i64,
    /// The stable key: `office.assessment.year`, and `.part` for a part of a year.
    pub key: String,
    /// The office's code and name.
    pub office: String,
    pub office_name: String,
    pub assessment: String,
    pub assessment_name: String,
    /// The calendar year.
    pub year: i64,
    /// The part's code and name (`None` for a whole year).
    pub part: Option<String>,
    pub part_name: Option<String>,
    /// For a year made of parts: its parts' keys, in the rubric's order.
    pub parts: Vec<String>,
    /// For a part: its year's key.
    pub of_year: Option<String>,
    /// The ids of a year's parts and of a part's year (internal, like `id`).
    #[serde(skip)]
    pub part_ids: Vec<i64>,
    #[serde(skip)]
    pub year_id: Option<i64>,
    pub rubric_id: String,
    pub rubric_hash: String,
    pub title: String,
    pub status: PeriodStatus,
    pub version: i64,
    pub created_at: String,
    /// Days a unit has to appeal a record after its confirmation.
    pub appeal_days: i64,
    /// Days the office has to decide an appeal.
    pub decision_days: i64,
}

impl PeriodInfo {
    pub fn is_open(&self) -> bool {
        self.status == PeriodStatus::Open
    }

    /// A year made of parts: it has no ledger of its own; its results come from its parts.
    pub fn is_year_of_parts(&self) -> bool {
        !self.part_ids.is_empty()
    }

    /// The year and part in words: "2023 年度", "2023 年度第一季度".
    pub fn period_name(&self) -> String {
        format!(
            "{} 年度{}",
            self.year,
            self.part_name.as_deref().unwrap_or("")
        )
    }

    /// Everything a page, print, export or message names the period by: office, assessment,
    /// year and part ("青山县安委办 · 成员单位履职考核 · 2023 年度第一季度").
    pub fn label(&self) -> String {
        let mut out: Vec<&str> = Vec::new();
        if !self.office_name.is_empty() {
            out.push(&self.office_name);
        }
        if !self.assessment_name.is_empty() {
            out.push(&self.assessment_name);
        }
        let name = self.period_name();
        out.push(&name);
        out.join(" · ")
    }

    /// The label as a file name's stem: no separators or characters a file system refuses.
    pub fn file_stem(&self) -> String {
        self.label()
            .replace(" · ", "_")
            .chars()
            .filter(|c| {
                !matches!(
                    c,
                    '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | ' '
                )
            })
            .collect()
    }

    /// Why the period takes no writes (`None`: it is open). The one sentence every refused write,
    /// read-only grid and form of a closed period says.
    pub fn closed_reason(&self) -> Option<String> {
        (!self.is_open()).then(|| {
            format!(
                "{}已发布，不能再修改（须由管理员说明理由后重新开放）",
                self.period_name()
            )
        })
    }
}

/// A unit of a period's roster.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredUnit {
    pub name: String,
    /// The class's code (`A`, `B`).
    pub class: String,
    pub tags: Vec<String>,
    pub version: i64,
}

/// A stored deduction record with its history fields.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: i64,
    pub unit: String,
    pub rule: String,
    pub count: i64,
    /// Entered points (range and graded rules), as a decimal string.
    pub points: Option<String>,
    pub date: Option<String>,
    pub source: String,
    pub note: String,
    pub status: RecordStatus,
    pub revoked_reason: Option<String>,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<String>,
    /// The record this one replaces, when it is a correction or a changed decision.
    pub replaces: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub version: i64,
    /// When and by whom the office confirmed it (the unit's appeal window starts then).
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
}

/// One 督导组's score for one unit and clause.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredAssessment {
    pub unit: String,
    pub rule: String,
    pub assessor: String,
    pub score: String,
    pub updated_by: String,
    pub updated_at: String,
    pub version: i64,
}

/// One unit's value of one metric.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredMetric {
    pub unit: String,
    pub metric: String,
    pub value: String,
    pub updated_by: String,
    pub updated_at: String,
    pub version: i64,
}

/// An appeal (异议申诉) of one confirmed record by its unit.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredAppeal {
    pub id: i64,
    pub record_id: i64,
    pub unit: String,
    pub reason: String,
    pub appealed_by: String,
    pub appealed_at: String,
    /// When the office must have decided (RFC 3339 UTC).
    pub deadline: String,
    pub decision: Option<Decision>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The record that replaces the appealed one, for a changed decision.
    pub replacement: Option<i64>,
}

impl StoredAppeal {
    pub fn is_open(&self) -> bool {
        self.decision.is_none()
    }

    /// Open past its deadline at `now` (stored times sort as text).
    pub fn is_overdue(&self, now: &str) -> bool {
        self.is_open() && self.deadline.as_str() < now
    }
}
