//! The year made of parts (offices-and-periods.md §3), as the store keeps it: its results are
//! rolled up by the core from its parts' current states (provisional, or official: each part's
//! official result), and it is published only after every part is, its snapshot naming each
//! part's publication. The year has no ledger of its own; the arithmetic is the core's
//! (`lvzhi_core::year`), never done here.

use std::sync::Arc;

use lvzhi_core::contract::YearResultsDoc;
use lvzhi_core::summary::Summary;
use lvzhi_core::year::{YearSheets, roll_up};
use lvzhi_core::{Basis, PeriodStatus, Rubric};
use sqlx::Row;

use crate::audit::{self, AuditAction};
use crate::publication::{Checklist, PublicationInfo, UnitChange};
use crate::state::PeriodState;
use crate::{Actor, Result, Store, StoreError};

/// A year's results: the whole rubric, each part's state in the rubric's order, and the roll-up.
pub struct YearResults {
    pub rubric: Arc<Rubric>,
    pub parts: Vec<Arc<PeriodState>>,
    pub sheets: YearSheets,
}

impl YearResults {
    /// The results as the API serves them.
    pub fn doc(&self) -> YearResultsDoc {
        YearResultsDoc::new(&self.rubric, &self.sheets)
    }
}

impl Store {
    /// The results of year `id` (a year made of parts) on `basis`, from its parts as they are now.
    pub async fn year_results(&self, id: i64, basis: Basis) -> Result<YearResults> {
        let year = self.state(id).await?;
        if !year.info.is_year_of_parts() {
            return Err(StoreError::invalid(
                "period",
                format!("{}不分期，没有各期合成的年度结果", year.info.period_name()),
            ));
        }
        let mut parts = Vec::with_capacity(year.info.part_ids.len());
        for p in &year.info.part_ids {
            parts.push(self.state(*p).await?);
        }
        let rubric = year.rubric.clone();
        let mut inputs = Vec::with_capacity(parts.len());
        for p in &parts {
            let code = p.info.part.as_deref().unwrap_or_default();
            let i = rubric
                .parts
                .iter()
                .position(|x| x.code == code)
                .ok_or_else(|| StoreError::Corrupt(format!("细则中没有考核期「{code}」")))?;
            let sheets = match basis {
                Basis::Official => &p.official_sheets,
                Basis::Provisional => &p.sheets,
            };
            inputs.push((i, sheets));
        }
        let sheets = roll_up(&rubric, &inputs);
        Ok(YearResults {
            rubric,
            parts,
            sheets,
        })
    }

    /// Publishes year `id`: every part must be published; the snapshot holds the year's official
    /// results and each part's publication (key, number, hash).
    pub(crate) async fn publish_year(
        &self,
        id: i64,
        reason: &str,
        actor: &Actor,
    ) -> Result<(PublicationInfo, Vec<UnitChange>, Checklist)> {
        let results = self.year_results(id, Basis::Official).await?;
        let mut tx = self.begin_write().await?;
        let state = self.state_on(&mut tx, id).await?;
        crate::state::own_office(&state.info, actor)?;
        if let Some(reason) = state.info.closed_reason() {
            return Err(StoreError::Conflict(reason));
        }
        let mut parts = Vec::new();
        let mut unpublished = Vec::new();
        for p in &results.parts {
            // Each part as it is inside this transaction: published, and not changed since.
            let now = self.state_on(&mut tx, p.info.id).await?;
            if now.info.status != PeriodStatus::Published {
                unpublished.push(now.info.period_name());
                continue;
            }
            if now.info.version != p.info.version {
                return Err(StoreError::Conflict(
                    "发布期间数据有变动，请刷新后重新发布".to_owned(),
                ));
            }
            let row = sqlx::query(
                "SELECT seq, hash FROM publications WHERE year = $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(p.info.id)
            .fetch_one(&mut **tx)
            .await?;
            let (seq, hash): (i64, String) = (row.try_get("seq")?, row.try_get("hash")?);
            parts.push(serde_json::json!({"period": p.info.key, "seq": seq, "hash": hash}));
        }
        if !unpublished.is_empty() {
            return Err(StoreError::Conflict(format!(
                "{}须在各期发布之后发布：{} 尚未发布",
                state.info.period_name(),
                unpublished.join("、")
            )));
        }
        let seq: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM publications WHERE year = $1")
                .bind(id)
                .fetch_one(&mut **tx)
                .await?
                .try_get(0)?;
        let at = tx.now();
        let doc =
            serde_json::to_value(results.doc()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let snapshot = serde_json::json!({
            "format": "lvzhi-publication-year-1",
            "year": state.info.year,
            "period": state.info.key,
            "seq": seq,
            "rubric": {"id": state.rubric.id, "hash": state.info.rubric_hash},
            "published_at": at,
            "published_by": actor.name,
            "reason": reason,
            "parts": parts,
            "results": doc,
            "results_hash": crate::sha256_hex(crate::canonical_json(&doc).as_bytes()),
        });
        let summary = Summary::of_year(&results.rubric, &results.sheets);
        let (hash, seal) = self
            .store_publication(&mut tx, id, seq, (&snapshot, &summary), reason, actor)
            .await?;
        audit::append(
            &mut tx,
            actor,
            AuditAction::PeriodPublish,
            &format!("period:{id}"),
            None,
            Some(&serde_json::json!({"seq": seq, "hash": hash, "reason": reason, "parts": parts})),
        )
        .await?;
        self.finish_publication(tx, &state, seq, &hash).await?;
        let info = PublicationInfo {
            year: id,
            seq,
            hash,
            published_at: at,
            published_by: actor.name.clone(),
            reason: reason.to_owned(),
            key_fingerprint: seal.map(lvzhi_seal::Seal::key_fingerprint),
        };
        Ok((info, Vec::new(), Checklist::default()))
    }
}
