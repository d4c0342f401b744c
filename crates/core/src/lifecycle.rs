//! The states a record goes through in a year, the office's decisions on appeals, and which records
//! a result counts: the lifecycle's rules, in one place, with the words people read for each.
//!
//! A record is `recorded` (待确认) → `confirmed` (已确认, by the office; the unit's appeal window
//! starts) → optionally `appealed` (申诉中, by its unit, once) → `upheld` (维持) | `revoked` (撤销) |
//! `changed` (改判: replaced by a new, confirmed record). The provisional result counts every record
//! in force; the official one only records the office confirmed. This module does no IO and knows no
//! storage: the store keeps the state as [`RecordStatus::code`].

use serde::{Deserialize, Serialize};

/// Where a record stands.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// 待确认: entered, not yet checked by the office.
    #[default]
    Recorded,
    /// 已确认: checked by the office; counts officially; the unit may appeal within the window.
    Confirmed,
    /// 申诉中: appealed by its unit; still counts until the decision.
    Appealed,
    /// 维持: the appeal was turned down; counts.
    Upheld,
    /// 撤销: revoked (by a correction, or on appeal); counts no more.
    Revoked,
    /// 改判: replaced on appeal by another record; counts no more.
    Changed,
}

impl RecordStatus {
    pub const ALL: [RecordStatus; 6] = [
        RecordStatus::Recorded,
        RecordStatus::Confirmed,
        RecordStatus::Appealed,
        RecordStatus::Upheld,
        RecordStatus::Revoked,
        RecordStatus::Changed,
    ];

    /// The state's code, as stored and in the JSON API.
    pub fn code(self) -> &'static str {
        match self {
            RecordStatus::Recorded => "recorded",
            RecordStatus::Confirmed => "confirmed",
            RecordStatus::Appealed => "appealed",
            RecordStatus::Upheld => "upheld",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Changed => "changed",
        }
    }

    /// The state by its code (or its name in Chinese).
    pub fn parse(s: &str) -> Option<RecordStatus> {
        let s = s.trim();
        RecordStatus::ALL
            .into_iter()
            .find(|x| x.code() == s || x.label() == s)
    }

    /// The state's name for people.
    pub fn label(self) -> &'static str {
        match self {
            RecordStatus::Recorded => "待确认",
            RecordStatus::Confirmed => "已确认",
            RecordStatus::Appealed => "申诉中",
            RecordStatus::Upheld => "维持",
            RecordStatus::Revoked => "已撤销",
            RecordStatus::Changed => "已改判",
        }
    }

    /// Counts in the provisional result: not revoked, not replaced.
    pub fn in_force(self) -> bool {
        !matches!(self, RecordStatus::Revoked | RecordStatus::Changed)
    }

    /// Counts in the official result: confirmed by the office (an appealed record stands until the
    /// decision).
    pub fn official(self) -> bool {
        matches!(
            self,
            RecordStatus::Confirmed | RecordStatus::Appealed | RecordStatus::Upheld
        )
    }

    /// Counts on `basis`.
    pub fn counts(self, basis: Basis) -> bool {
        match basis {
            Basis::Provisional => self.in_force(),
            Basis::Official => self.official(),
        }
    }

    /// Whether a recorder (not only the office) may still revoke or correct it: only before the
    /// office has confirmed it. Once confirmed, only the office or the appeal path changes it.
    pub fn open_to_recorders(self) -> bool {
        self == RecordStatus::Recorded
    }
}

/// The office's decision on an appeal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Upheld,
    Revoked,
    Changed,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Upheld, Decision::Revoked, Decision::Changed];

    /// The decision by its code or its name in Chinese.
    pub fn parse(s: &str) -> Option<Decision> {
        let s = s.trim();
        Decision::ALL
            .into_iter()
            .find(|d| d.code() == s || d.label() == s)
    }

    pub fn code(self) -> &'static str {
        self.status().code()
    }

    /// The decision's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Upheld => "维持",
            Decision::Revoked => "撤销",
            Decision::Changed => "改判",
        }
    }

    /// The state the appealed record ends in.
    pub fn status(self) -> RecordStatus {
        match self {
            Decision::Upheld => RecordStatus::Upheld,
            Decision::Revoked => RecordStatus::Revoked,
            Decision::Changed => RecordStatus::Changed,
        }
    }
}

/// Where a period (an assessment year) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodStatus {
    /// Open to records, scores and decisions.
    Open,
    /// Published: frozen until the office reopens it with a reason.
    Published,
}

impl PeriodStatus {
    pub fn code(self) -> &'static str {
        match self {
            PeriodStatus::Open => "open",
            PeriodStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<PeriodStatus> {
        match s.trim() {
            "open" => Some(PeriodStatus::Open),
            "published" => Some(PeriodStatus::Published),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PeriodStatus::Open => "进行中",
            PeriodStatus::Published => "已发布",
        }
    }
}

/// Which records a result counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Basis {
    /// Every record in force: recorded, confirmed, under appeal or upheld (暂定结果).
    Provisional,
    /// Confirmed records only (正式结果).
    Official,
}

impl Basis {
    /// The basis by its name in the API (`provisional` by default, `confirmed`/`official`).
    pub fn parse(s: &str) -> Option<Basis> {
        match s.trim() {
            "" | "all" | "in_force" | "provisional" => Some(Basis::Provisional),
            "confirmed" | "official" => Some(Basis::Official),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Basis::Provisional => "暂定结果",
            Basis::Official => "正式结果",
        }
    }
}

/// What a result shown to people is, by its period's state: the basis pages, prints and documents
/// show, and the one wording they use for it. A published period shows its official result (正式);
/// an open one its provisional result (暂定), saying how many records wait for confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub basis: Basis,
    pub published: bool,
    /// Records in force the office has not confirmed (the difference between the two bases).
    pub pending: usize,
}

impl Standing {
    pub fn of(status: PeriodStatus, pending: usize) -> Standing {
        let published = status == PeriodStatus::Published;
        Standing {
            basis: if published {
                Basis::Official
            } else {
                Basis::Provisional
            },
            published,
            pending,
        }
    }

    /// 正式 or 暂定, to stand before 得分, 监测得分, 等次.
    pub fn word(self) -> &'static str {
        if self.published { "正式" } else { "暂定" }
    }

    /// One sentence saying what the shown result is.
    pub fn note(self) -> String {
        match (self.published, self.pending) {
            (true, 0) => {
                "本年度结果已发布，以下为正式结果（只计安委办已确认的扣分记录）。".to_owned()
            }
            (true, n) => format!(
                "本年度结果已发布，以下为正式结果（只计安委办已确认的扣分记录；另有 {n} 条未经确认的记录不计入）。"
            ),
            (false, 0) => "暂定结果：扣分记录均已确认，尚未发布；发布后以正式结果为准。".to_owned(),
            (false, n) => format!(
                "暂定结果：含 {n} 条待安委办确认的扣分记录；正式得分只计已确认的记录，发布以正式结果为准。"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_period_shows_its_official_result_and_says_so() {
        let p = Standing::of(PeriodStatus::Published, 3);
        assert_eq!(p.basis, Basis::Official);
        assert_eq!(p.word(), "正式");
        assert!(p.note().contains("已发布") && p.note().contains("3 条"));
        assert!(!p.note().contains("暂定"));
        let o = Standing::of(PeriodStatus::Open, 2);
        assert_eq!(o.basis, Basis::Provisional);
        assert_eq!(o.word(), "暂定");
        assert!(o.note().contains("2 条待安委办确认"));
        assert!(
            !Standing::of(PeriodStatus::Open, 0)
                .note()
                .contains("待安委办确认")
        );
    }

    #[test]
    fn codes_and_labels_round_trip() {
        for s in RecordStatus::ALL {
            assert_eq!(RecordStatus::parse(s.code()), Some(s));
            assert_eq!(RecordStatus::parse(s.label()), Some(s));
        }
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.code()), Some(d));
            assert_eq!(Decision::parse(d.label()), Some(d));
        }
        assert_eq!(RecordStatus::parse("valid"), None);
    }

    #[test]
    fn what_counts() {
        use RecordStatus as S;
        let provisional: Vec<_> = S::ALL.into_iter().filter(|s| s.in_force()).collect();
        assert_eq!(
            provisional,
            [S::Recorded, S::Confirmed, S::Appealed, S::Upheld]
        );
        let official: Vec<_> = S::ALL.into_iter().filter(|s| s.official()).collect();
        assert_eq!(official, [S::Confirmed, S::Appealed, S::Upheld]);
        assert!(!S::Changed.counts(Basis::Provisional));
        assert!(S::Recorded.counts(Basis::Provisional) && !S::Recorded.counts(Basis::Official));
    }
}
