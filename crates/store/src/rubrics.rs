//! Rubric versions: every 细则 the store holds, by the SHA-256 of its text, the parsed rubric of each
//! (parsed once per process), and saving a new final version with its audit entry. This module knows
//! SQL and the core; it must not know HTTP.

use std::sync::Arc;

use lvzhi_core::Rubric;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::{Actor, Result, Store, StoreError, audit};

/// A stored rubric version.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RubricVersion {
    pub hash: String,
    pub id: String,
    pub year: i64,
    pub title: String,
    pub created_at: String,
    /// The periods scored with it.
    pub periods: Vec<i64>,
}

/// The hash a rubric text is stored under.
pub(crate) fn rubric_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A final rubric from its text: it loads and nothing waits for review.
pub(crate) fn final_rubric(text: &str) -> Result<Rubric> {
    let rubric =
        Rubric::from_toml(text).map_err(|e| StoreError::invalid("rubric", e.to_string()))?;
    if let Some(why) = rubric.pending_review() {
        return Err(StoreError::invalid("rubric", why));
    }
    Ok(rubric)
}

/// Stores a rubric's text under its hash, unless it is there already, inside the caller's
/// transaction. Answers whether it was new.
pub(crate) async fn insert_rubric(
    tx: &mut crate::WriteTx,
    hash: &str,
    rubric: &Rubric,
    text: &str,
    at: &str,
) -> Result<bool> {
    let known = sqlx::query("SELECT hash FROM rubrics WHERE hash = $1")
        .bind(hash)
        .fetch_optional(&mut ***tx)
        .await?;
    if known.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO rubrics (hash, rubric_id, year, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(&rubric.id)
    .bind(i64::from(rubric.year))
    .bind(text)
    .bind(at)
    .execute(&mut ***tx)
    .await?;
    Ok(true)
}

impl Store {
    /// The parsed rubric of a stored text (parsed once per process).
    pub(crate) fn parsed_rubric(&self, hash: &str, body: &str) -> Result<Arc<Rubric>> {
        let mut cache = self
            .cache
            .rubrics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = cache.get(hash) {
            return Ok(r.clone());
        }
        let r = Arc::new(
            Rubric::from_toml(body)
                .map_err(|e| StoreError::Corrupt(format!("细则 {hash}：{e}")))?,
        );
        cache.insert(hash.to_owned(), r.clone());
        Ok(r)
    }

    /// The parsed rubric of `hash`, read from the database (through `ex`: the connection a caller
    /// already holds, so that it never waits for a second one) only when it is not cached.
    pub(crate) async fn rubric_by_hash<'c, E>(&self, ex: E, hash: &str) -> Result<Arc<Rubric>>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let cached = self
            .cache
            .rubrics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hash)
            .cloned();
        if let Some(r) = cached {
            return Ok(r);
        }
        let body: String = sqlx::query("SELECT body FROM rubrics WHERE hash = $1")
            .bind(hash)
            .fetch_optional(ex)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("细则 {hash} 不存在")))?
            .try_get(0)?;
        self.parsed_rubric(hash, &body)
    }

    /// Every stored rubric version, newest first.
    pub async fn rubric_versions(&self) -> Result<Vec<RubricVersion>> {
        let rows = sqlx::query(
            "SELECT r.hash, r.rubric_id, r.year, r.body, r.created_at FROM rubrics r ORDER BY r.created_at DESC, r.hash",
        )
        .fetch_all(&self.pool)
        .await?;
        let periods = sqlx::query("SELECT year, rubric_hash FROM periods ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let hash: String = r.try_get("hash")?;
            let body: String = r.try_get("body")?;
            let title = self
                .parsed_rubric(&hash, &body)
                .map_or_else(|_| String::new(), |x| x.title.clone());
            let mut used = Vec::new();
            for p in &periods {
                let h: String = p.try_get("rubric_hash")?;
                if h == hash {
                    used.push(p.try_get::<i64, _>("year")?);
                }
            }
            out.push(RubricVersion {
                hash,
                id: r.try_get("rubric_id")?,
                year: r.try_get("year")?,
                title,
                created_at: r.try_get("created_at")?,
                periods: used,
            });
        }
        Ok(out)
    }

    /// One stored rubric version's text.
    pub async fn rubric_text(&self, hash: &str) -> Result<String> {
        let body: Option<String> = sqlx::query("SELECT body FROM rubrics WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        body.ok_or_else(|| StoreError::NotFound(format!("没有细则版本 {hash}")))
    }

    /// Saves a final rubric (it loads, nothing waits for review) as a new version; returns its hash
    /// and whether it was new.
    pub async fn save_rubric(&self, text: &str, actor: &Actor) -> Result<(String, bool)> {
        let rubric = final_rubric(text)?;
        let hash = rubric_hash(text);
        let mut tx = self.begin_write().await?;
        let at = self.now();
        if !insert_rubric(&mut tx, &hash, &rubric, text, &at).await? {
            return Ok((hash, false));
        }
        audit::append(
            &mut tx,
            actor,
            AuditAction::RubricSave,
            &format!("rubric:{hash}"),
            None,
            Some(&serde_json::json!({
                "id": rubric.id, "year": rubric.year, "title": rubric.title,
                "rules": rubric.rules.len(), "hash": hash,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok((hash, true))
    }
}
