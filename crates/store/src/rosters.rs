//! The roster of a year made of parts (offices-and-periods.md §2: "a unit imported or changed in
//! the year is so in each of its parts"). A change of a unit's tags, or a batch of them, named on
//! the year is made in the year's own roster and in every part's, in one transaction, or not at
//! all. A part that is published (or otherwise closed) refuses the whole change, naming it: its
//! results do not change under it; a change from a later part on is made in each open part.
//! Records, 督导组 scores and metric values are each part's own: the year refuses them. This
//! module knows SQL; it must not know HTTP or file formats.

use std::sync::Arc;

use crate::audit::{self, AuditAction};
use crate::imports::{
    Batch, ImportOutcome, Problems, mark_file, refuse_a_file_again, store_unit_tags, tags_into,
};
use crate::model::StoredUnit;
use crate::state::{Next, PeriodState, own_office, writable};
use crate::{Actor, Result, Store, StoreError, WriteTx};

impl Store {
    /// Whether a period is a year made of parts (the parts are fixed when it is opened).
    pub(crate) async fn has_parts(&self, id: i64) -> Result<bool> {
        let row = sqlx::query("SELECT year FROM periods WHERE of_year = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// A unit's tags changed on a year made of parts: in the year and each of its parts.
    pub(crate) async fn year_unit_tags(
        &self,
        mut tx: WriteTx,
        year: &PeriodState,
        unit: &str,
        clean: &[String],
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<StoredUnit> {
        let parts = self.parts_for_roster(&mut tx, year, actor).await?;
        let (new, next) = self
            .tags_on(&mut tx, year, unit, clean, version, actor)
            .await?;
        let mut nexts = vec![(year.info.id, Some(next))];
        for p in &parts {
            let (_, next) = self.tags_on(&mut tx, p, unit, clean, None, actor).await?;
            nexts.push((p.info.id, Some(next)));
        }
        self.commit_many(tx, nexts).await?;
        Ok(new)
    }

    /// A batch imported into a year made of parts: roster tags only, into the year and each part;
    /// every refused row listed (naming the part it was refused in) and nothing written.
    pub(crate) async fn import_year_roster(
        &self,
        year: i64,
        batch: &Batch,
        actor: &Actor,
        dry_run: bool,
    ) -> Result<ImportOutcome> {
        let mut tx = self.begin_write().await?;
        let state = self.state_on(&mut tx, year).await?;
        if !(batch.records.is_empty() && batch.assessments.is_empty() && batch.metrics.is_empty()) {
            // The year's refusal of anything but its roster, in the words every write uses.
            writable(&state.info, actor)?;
        }
        let parts = self.parts_for_roster(&mut tx, &state, actor).await?;
        refuse_a_file_again(&mut tx, year, batch).await?;
        let mut problems = Problems {
            rows: Vec::new(),
            first_new: 0,
        };
        let mut nexts = Vec::with_capacity(parts.len() + 1);
        for s in std::iter::once(&state).chain(&parts) {
            let mut next = Next::new(s);
            let whose = s.info.part_name.as_deref().unwrap_or_default();
            tags_into(&mut next, s, &batch.tags, &mut problems, whose);
            nexts.push((s.clone(), next));
        }
        if !problems.rows.is_empty() {
            return Err(StoreError::Rows(problems.rows));
        }
        let outcome = ImportOutcome {
            checked: batch.len(),
            imported: if dry_run { 0 } else { batch.len() },
            ..ImportOutcome::default()
        };
        if dry_run {
            return Ok(outcome);
        }
        let mut done = Vec::with_capacity(nexts.len());
        for (s, next) in nexts {
            let id = s.info.id;
            store_unit_tags(&mut tx, &next, &s).await?;
            let after = serde_json::json!({
                "label": batch.label,
                "file": batch.file.as_ref().map(|f| serde_json::json!({"name": f.name, "sha256": f.sha256})),
                "tags": batch.tags.len(), "records": 0, "assessments": 0, "metrics": 0,
                "of_year": (id != year).then_some(year),
            });
            audit::append(
                &mut tx,
                actor,
                AuditAction::ImportBatch,
                &format!("period:{id}"),
                None,
                Some(&after),
            )
            .await?;
            Self::bump(&mut tx, id).await?;
            done.push((id, Some(next)));
        }
        mark_file(&mut tx, year, batch, actor).await?;
        self.commit_many(tx, done).await?;
        Ok(outcome)
    }

    /// The year's parts, each as it is in this transaction, once the year's roster may change:
    /// the actor's own office, the year not closed, no part closed.
    async fn parts_for_roster(
        &self,
        tx: &mut WriteTx,
        year: &PeriodState,
        actor: &Actor,
    ) -> Result<Vec<Arc<PeriodState>>> {
        own_office(&year.info, actor)?;
        if let Some(reason) = year.info.closed_reason() {
            return Err(StoreError::Conflict(reason));
        }
        let mut parts = Vec::with_capacity(year.info.part_ids.len());
        let mut closed = Vec::new();
        for &id in &year.info.part_ids {
            let p = self.state_on(tx, id).await?;
            match p.info.closed_reason() {
                Some(_) => closed.push(p.info.part_name.clone().unwrap_or_default()),
                None => parts.push(p),
            }
        }
        if !closed.is_empty() {
            return Err(StoreError::Conflict(format!(
                "{}的名册变动同时适用于各期，而{}已发布，不随之变动：请在尚未发布的各期中分别修改，或先重新开放已发布的各期",
                year.info.period_name(),
                closed.join("、")
            )));
        }
        Ok(parts)
    }
}
