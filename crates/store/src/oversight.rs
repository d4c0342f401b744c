//! Oversight (offices-and-periods.md §1): what an office reads of the offices below it for a year —
//! per office and assessment, the year's state (not opened, open, published with its date) and,
//! for a published year only, its result in brief (the core's [`Summary`]): units per grade, the
//! mean total, the units vetoed; and the offices below grouped by the rubric they run, to compare.
//! Nothing unpublished is summarised here. A publication's summary is read as it was stored with
//! it (so the first page after a start loads no period); only a publication made before summaries
//! were stored is summarised from its period. This module knows SQL; it must not know HTTP.

use std::collections::{BTreeMap, HashMap};

use lvzhi_core::summary::Summary;
use lvzhi_core::{Basis, PeriodStatus};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// A period's last publication as the oversight reads it.
struct LastPublication {
    at: String,
    /// `None` for a publication made before summaries were stored with it.
    summary: Option<Summary>,
}

/// One office's assessment in the year.
#[derive(Clone, Debug, Serialize)]
pub struct OversightRow {
    pub office: String,
    pub office_name: String,
    pub level: String,
    pub parent: Option<String>,
    /// `None` for an office below that runs no assessment yet.
    pub assessment: Option<String>,
    pub assessment_name: Option<String>,
    /// The year's period, where it is opened.
    pub key: Option<String>,
    /// 未开设 / 进行中 / 已发布.
    pub state: &'static str,
    /// When the year's result was last published (RFC 3339 UTC).
    pub published_at: Option<String>,
    pub rubric_id: Option<String>,
    pub title: Option<String>,
    /// The rubric's kind of assessment, where it names one.
    pub kind: Option<String>,
    /// The published result in brief (published years only).
    pub summary: Option<Summary>,
}

/// The offices below running one kind of assessment, side by side: the same `[rubric] kind`
/// where their rubrics name one, else the same rubric id.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The kind the rubrics name (`None`: they are compared by their rubric id).
    pub kind: Option<String>,
    /// The rubric id, where compared by it.
    pub rubric_id: Option<String>,
    /// What the comparison is of: the kind, else the rubric's title.
    pub title: String,
    /// Indices into [`Oversight::rows`], by mean total, highest first.
    pub rows: Vec<usize>,
}

/// What an office oversees in a year.
#[derive(Clone, Debug, Serialize)]
pub struct Oversight {
    pub year: i64,
    pub rows: Vec<OversightRow>,
    pub comparisons: Vec<Comparison>,
}

impl Store {
    /// What `office` oversees of the offices below it (at any depth) in `year`.
    pub async fn oversight(&self, office: &str, year: i64) -> Result<Oversight> {
        let tree = self.office_tree().await?;
        let below = tree.below(office);
        let periods = self.periods().await?;
        let published = self.last_publications().await?;
        let mut rows = Vec::new();
        for o in tree.offices.iter().filter(|o| below.contains(&o.code)) {
            let mut assessments: Vec<(&str, &str)> = Vec::new();
            for p in periods.iter().filter(|p| p.office == o.code) {
                if !assessments.iter().any(|a| a.0 == p.assessment) {
                    assessments.push((&p.assessment, &p.assessment_name));
                }
            }
            let row = |assessment: Option<(&str, &str)>| OversightRow {
                office: o.code.clone(),
                office_name: o.name.clone(),
                level: o.level.clone(),
                parent: o.parent.clone(),
                assessment: assessment.map(|a| a.0.to_owned()),
                assessment_name: assessment.map(|a| a.1.to_owned()),
                key: None,
                state: "未开设",
                published_at: None,
                rubric_id: None,
                title: None,
                kind: None,
                summary: None,
            };
            if assessments.is_empty() {
                rows.push(row(None));
            }
            for a in assessments {
                let mut r = row(Some(a));
                let period = periods.iter().find(|p| {
                    p.office == o.code && p.assessment == a.0 && p.year == year && p.part.is_none()
                });
                if let Some(p) = period {
                    r.key = Some(p.key.clone());
                    r.rubric_id = Some(p.rubric_id.clone());
                    r.title = Some(p.title.clone());
                    r.kind
                        .clone_from(&self.rubric_by_hash(&self.pool, &p.rubric_hash).await?.kind);
                    r.state = "进行中";
                    if p.status == PeriodStatus::Published {
                        r.state = "已发布";
                        let last = published.get(&p.id);
                        r.published_at = last.map(|l| l.at.clone());
                        r.summary = Some(match last.and_then(|l| l.summary.clone()) {
                            Some(s) => s,
                            None => self.published_summary(p.id, p.version).await?,
                        });
                    }
                }
                rows.push(r);
            }
        }
        let comparisons = compare(&rows);
        Ok(Oversight {
            year,
            rows,
            comparisons,
        })
    }

    /// Each period's last publication, by period id (one query for the whole tree).
    async fn last_publications(&self) -> Result<HashMap<i64, LastPublication>> {
        let rows = sqlx::query(
            "SELECT p.year, p.published_at, p.summary FROM publications p \
             JOIN (SELECT year, MAX(seq) AS seq FROM publications GROUP BY year) l \
             ON l.year = p.year AND l.seq = p.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("year")?;
            let summary = match r.try_get::<Option<String>, _>("summary")? {
                Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                    StoreError::Corrupt(format!("考核期 {id} 发布摘要无法读取：{e}"))
                })?),
                None => None,
            };
            let at = r.try_get("published_at")?;
            out.insert(id, LastPublication { at, summary });
        }
        Ok(out)
    }

    /// A published period's official result in brief; `version` was read with the list, so a
    /// cached state at that version needs no further question to the database.
    async fn published_summary(&self, id: i64, version: i64) -> Result<Summary> {
        let state = match self.cached_at(id, version) {
            Some(s) => s,
            None => self.state(id).await?,
        };
        if state.info.is_year_of_parts() {
            let y = self.year_results(id, Basis::Official).await?;
            return Ok(Summary::of_year(&y.rubric, &y.sheets));
        }
        Ok(Summary::of(&state.rubric, &state.official_sheets))
    }
}

/// The published rows grouped by kind (else by rubric id), groups of two or more, each by mean
/// total, highest first.
fn compare(rows: &[OversightRow]) -> Vec<Comparison> {
    let mut groups: BTreeMap<(Option<&str>, Option<&str>), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.summary.is_none() {
            continue;
        }
        let key = match (&r.kind, &r.rubric_id) {
            (Some(k), _) => (Some(k.as_str()), None),
            (None, Some(id)) => (None, Some(id.as_str())),
            (None, None) => continue,
        };
        groups.entry(key).or_default().push(i);
    }
    groups
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|((kind, rubric_id), mut v)| {
            let mean = |i: &usize| rows[*i].summary.as_ref().map(|s| s.mean_total);
            v.sort_by_key(|i| std::cmp::Reverse(mean(i)));
            Comparison {
                kind: kind.map(str::to_owned),
                rubric_id: rubric_id.map(str::to_owned),
                title: match kind {
                    Some(k) => k.to_owned(),
                    None => rows[v[0]].title.clone().unwrap_or_default(),
                },
                rows: v,
            }
        })
        .collect()
}
