//! Offices: the tree of 安委办 a deployment holds (offices-and-periods.md §1). The root exists from
//! the first start (its name, until the office sets one, is its first rubric's issuer); offices are
//! added under an existing parent and renamed, each change in one transaction with its audit entry.
//! Which offices an account sees (its own and those below) is answered here, once, for the API,
//! the pages and the store's own checks. This module knows SQL; it must not know HTTP.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;

use crate::audit::{self, AuditAction};
use crate::{Actor, Result, Store, StoreError};

/// The root office's code: created by the migration that brought offices, for the deployment's
/// own office.
pub const ROOT_OFFICE: &str = "root";

/// The name shown for an office that has none yet.
const UNNAMED: &str = "本级安委办";

/// An office as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Office {
    pub code: String,
    pub name: String,
    pub level: String,
    /// The parent's code; `None` for the root.
    pub parent: Option<String>,
}

/// The tree of offices, read once: parents and children by code.
#[derive(Clone, Debug, Default)]
pub struct OfficeTree {
    pub offices: Vec<Office>,
    index: HashMap<String, usize>,
}

impl OfficeTree {
    fn new(offices: Vec<Office>) -> Self {
        let index = offices
            .iter()
            .enumerate()
            .map(|(i, o)| (o.code.clone(), i))
            .collect();
        OfficeTree { offices, index }
    }

    pub fn get(&self, code: &str) -> Option<&Office> {
        self.index.get(code).map(|&i| &self.offices[i])
    }

    /// The offices below `code`, at any depth (not `code` itself).
    pub fn below(&self, code: &str) -> HashSet<String> {
        let mut out = HashSet::new();
        let mut frontier = vec![code.to_owned()];
        while let Some(c) = frontier.pop() {
            for o in &self.offices {
                if o.parent.as_deref() == Some(c.as_str()) && out.insert(o.code.clone()) {
                    frontier.push(o.code.clone());
                }
            }
        }
        out
    }

    /// `code` and the offices below it, in the tree's order (parents before children).
    pub fn own_and_below(&self, code: &str) -> Vec<&Office> {
        let below = self.below(code);
        self.offices
            .iter()
            .filter(|o| o.code == code || below.contains(&o.code))
            .collect()
    }
}

/// Refuses an office code that is not 1–32 ASCII letters, digits or `-`.
pub fn check_office_code(code: &str) -> Result<()> {
    if code.is_empty()
        || code.len() > 32
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(StoreError::invalid(
            "code",
            format!("安委办代码「{code}」无效：只能由 1 到 32 个英文字母、数字或连字符（-）组成"),
        ));
    }
    Ok(())
}

/// Refuses an empty, over-long or control-character name.
fn check_name(field: &str, name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    let max = lvzhi_core::input::OFFICE_NAME_MAX;
    if name.is_empty()
        || name.chars().count() > max
        || name
            .chars()
            .any(|c| c.is_control() || lvzhi_core::input::is_hidden_control(c))
    {
        return Err(StoreError::invalid(
            field,
            format!("{what}不能为空，不超过 {max} 个字，且不含控制字符或文字方向控制符"),
        ));
    }
    Ok(name.to_owned())
}

impl Store {
    /// Every office, parents before children (the root first).
    pub async fn office_tree(&self) -> Result<OfficeTree> {
        let rows =
            sqlx::query("SELECT code, name, level, parent FROM offices ORDER BY created_at, code")
                .fetch_all(&self.pool)
                .await?;
        let mut all: Vec<Office> = Vec::with_capacity(rows.len());
        for r in rows {
            let name: String = r.try_get("name")?;
            all.push(Office {
                code: r.try_get("code")?,
                name: if name.is_empty() {
                    UNNAMED.to_owned()
                } else {
                    name
                },
                level: r.try_get("level")?,
                parent: r.try_get("parent")?,
            });
        }
        // Parents before children, whatever the times say.
        let mut ordered: Vec<Office> = Vec::with_capacity(all.len());
        let mut placed: HashSet<String> = HashSet::new();
        while ordered.len() < all.len() {
            let before = ordered.len();
            for o in &all {
                let ready = o.parent.as_ref().is_none_or(|p| placed.contains(p));
                if !placed.contains(&o.code) && ready {
                    placed.insert(o.code.clone());
                    ordered.push(o.clone());
                }
            }
            if ordered.len() == before {
                return Err(StoreError::Corrupt("安委办的上下级关系不成树".to_owned()));
            }
        }
        Ok(OfficeTree::new(ordered))
    }

    /// Adds an office under `parent`.
    pub async fn add_office(
        &self,
        code: &str,
        name: &str,
        level: &str,
        parent: &str,
        actor: &Actor,
    ) -> Result<Office> {
        check_office_code(code)?;
        let name = check_name("name", name, "安委办名称")?;
        let level = level.trim().to_owned();
        if level.chars().count() > 20 || level.chars().any(char::is_control) {
            return Err(StoreError::invalid(
                "level",
                "层级不超过 20 个字（如 省、市、县、镇）",
            ));
        }
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query("SELECT code FROM offices WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "安委办代码「{code}」已被使用"
            )));
        }
        let parent_row = sqlx::query("SELECT code FROM offices WHERE code = $1")
            .bind(parent)
            .fetch_optional(&mut **tx)
            .await?;
        if parent_row.is_none() {
            return Err(StoreError::invalid(
                "parent",
                format!("上级安委办「{parent}」不存在"),
            ));
        }
        // A new office is a leaf under an existing one: no change here can make a cycle.
        let at = tx.now();
        sqlx::query(
            "INSERT INTO offices (code, name, level, parent, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(&name)
        .bind(&level)
        .bind(parent)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
        let office = Office {
            code: code.to_owned(),
            name,
            level,
            parent: Some(parent.to_owned()),
        };
        audit::change(
            &mut tx,
            actor,
            AuditAction::OfficeAdd,
            &format!("office:{code}"),
            None::<&()>,
            &office,
        )
        .await?;
        tx.commit().await?;
        Ok(office)
    }

    /// Renames an office.
    pub async fn rename_office(&self, code: &str, name: &str, actor: &Actor) -> Result<()> {
        let name = check_name("name", name, "安委办名称")?;
        let mut tx = self.begin_write().await?;
        let before: Option<String> = sqlx::query("SELECT name FROM offices WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("name"))
            .transpose()?;
        let Some(before) = before else {
            return Err(StoreError::NotFound(format!(
                "没有代码为「{code}」的安委办"
            )));
        };
        sqlx::query("UPDATE offices SET name = $1 WHERE code = $2")
            .bind(&name)
            .bind(code)
            .execute(&mut **tx)
            .await?;
        // The office's name is part of every period's label: its periods move to a new version,
        // so that every instance reads them again.
        sqlx::query("UPDATE periods SET version = version + 1 WHERE office = $1")
            .bind(code)
            .execute(&mut **tx)
            .await?;
        audit::change(
            &mut tx,
            actor,
            AuditAction::OfficeRename,
            &format!("office:{code}"),
            Some(&serde_json::json!({ "name": before })),
            &serde_json::json!({ "name": name }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Names the root office from its first period's rubric's issuer, where the root has no name
    /// yet (a deployment upgraded from before offices existed).
    pub(crate) async fn name_root_from_periods(&self) -> Result<()> {
        let row = sqlx::query(
            "SELECT r.hash, r.body FROM periods p JOIN rubrics r ON r.hash = p.rubric_hash \
             JOIN offices o ON o.code = p.office WHERE o.parent IS NULL AND o.name = '' \
             ORDER BY p.year LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            let rubric = self.parsed_rubric(
                &r.try_get::<String, _>("hash")?,
                &r.try_get::<String, _>("body")?,
            )?;
            let mut tx = self.begin_write().await?;
            Self::name_root_if_unnamed(&mut tx, ROOT_OFFICE, &rubric.issuer).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Gives the root office its first rubric's issuer as its name, where it has none yet (inside
    /// the transaction that opens a period).
    pub(crate) async fn name_root_if_unnamed(
        tx: &mut crate::WriteTx,
        office: &str,
        issuer: &str,
    ) -> Result<()> {
        if issuer.trim().is_empty() {
            return Ok(());
        }
        sqlx::query("UPDATE offices SET name = $1 WHERE code = $2 AND name = ''")
            .bind(issuer.trim())
            .bind(office)
            .execute(&mut ***tx)
            .await?;
        Ok(())
    }
}
