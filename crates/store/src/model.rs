//! What the store hands out: one type per stored thing (a period, a unit of its roster, a record, a
//! 督导组 score, a metric value, an appeal), as plain data with the JSON shape the API serves. No SQL
//! and no behaviour beyond reading a row's own fields; the rules live in the core.

use lvzhi_core::{Decision, PeriodStatus, RecordStatus};
use serde::Serialize;

/// A period (one assessment year) as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PeriodInfo {
    pub year: i64,
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

    /// Why the period takes no writes (`None`: it is open). The one sentence every refused write,
    /// read-only grid and form of a closed period says.
    pub fn closed_reason(&self) -> Option<String> {
        (!self.is_open()).then(|| {
            format!(
                "{} 年度已发布，不能再修改（须由管理员说明理由后重新开放）",
                self.year
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
