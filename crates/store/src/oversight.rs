//! Oversight (offices-and-periods.md §1): what an office reads of the offices below it for a year —
//! per office and assessment, the year's state (not opened, open, published with its date) and,
//! for a published year only, its result in brief (the core's [`Summary`]): units per grade, the
//! mean total, the units vetoed; and the offices below grouped by the rubric they run, to compare.
//! Nothing unpublished is summarised here. This module knows SQL; it must not know HTTP.

use std::collections::BTreeMap;

use lvzhi_core::summary::Summary;
use lvzhi_core::{Basis, PeriodStatus};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store};

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
    /// The published result in brief (published years only).
    pub summary: Option<Summary>,
}

/// The offices below running one rubric, side by side.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub rubric_id: String,
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
        let published_at = self.last_publications().await?;
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
                    r.state = "进行中";
                    if p.status == PeriodStatus::Published {
                        r.state = "已发布";
                        r.published_at = published_at.get(&p.id).cloned();
                        r.summary = Some(self.published_summary(p.id, p.version).await?);
                    }
                }
                rows.push(r);
            }
        }
        let mut by_rubric: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            if let (Some(id), Some(_)) = (&r.rubric_id, &r.summary) {
                by_rubric.entry(id.clone()).or_default().push(i);
            }
        }
        let comparisons = by_rubric
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(rubric_id, mut v)| {
                let mean = |i: &usize| rows[*i].summary.as_ref().map(|s| s.mean_total);
                v.sort_by_key(|i| std::cmp::Reverse(mean(i)));
                Comparison {
                    title: rows[v[0]].title.clone().unwrap_or_default(),
                    rubric_id,
                    rows: v,
                }
            })
            .collect();
        Ok(Oversight {
            year,
            rows,
            comparisons,
        })
    }

    /// When each period was last published, by period id (one query for the whole tree).
    async fn last_publications(&self) -> Result<std::collections::HashMap<i64, String>> {
        let rows =
            sqlx::query("SELECT year, MAX(published_at) AS at FROM publications GROUP BY year")
                .fetch_all(&self.pool)
                .await?;
        let mut out = std::collections::HashMap::with_capacity(rows.len());
        for r in rows {
            out.insert(r.try_get("year")?, r.try_get("at")?);
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
