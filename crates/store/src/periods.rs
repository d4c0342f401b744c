//! Periods: listing them (all, or those an account may see), finding one by its key or its year,
//! opening a year (with one period per part where the rubric divides its year) on an office and
//! an assessment, with its own roster or one carried from an earlier period of the same
//! assessment (previewed first), and the appeal and decision windows. Each change runs in one
//! transaction with its audit entry. This module knows SQL; it must not know HTTP.

use std::collections::{HashMap, HashSet};

use lvzhi_core::access::Role;
use lvzhi_core::{PeriodStatus, Rubric};
use serde::Serialize;
use sqlx::Row;

use crate::audit::AuditAction;
use crate::model::{PeriodInfo, StoredUnit};
use crate::offices::{ROOT_OFFICE, check_office_code};
use crate::rubrics::{final_rubric, insert_rubric, rubric_hash};
use crate::state::{Next, PERIOD_COLUMNS, stored_status};
use crate::{Actor, Result, Rights, Store, StoreError, WriteTx, audit};

/// The assessment a period is opened in when none is named.
pub const DEFAULT_ASSESSMENT: &str = "default";

/// The first id given to a period whose year's id is taken (a second office or assessment in
/// that year, or a part): far from any year, so that an id is never mistaken for one.
const FIRST_FREE_ID: i64 = 100_000;

/// Where a period is opened: the office and the assessment (defaults: the root office, and
/// `default`), and the assessment's name (default: the name it already has, else the rubric's
/// title without its year).
#[derive(Clone, Debug, Default)]
pub struct OpenTarget {
    pub office: Option<String>,
    pub assessment: Option<String>,
    pub assessment_name: Option<String>,
}

/// A year that names several periods the caller may see: each one's key and name.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Candidate {
    pub key: String,
    pub name: String,
}

impl Candidate {
    /// The refusal of a year naming several periods.
    pub fn message(asked: &str, candidates: &[Candidate]) -> String {
        format!(
            "{asked} 年度有 {} 项考核，请用考核期的键指明其中一项：{}",
            candidates.len(),
            Candidate::list(candidates)
        )
    }

    /// "键（名称）、键（名称）".
    pub fn list(candidates: &[Candidate]) -> String {
        candidates
            .iter()
            .map(|c| format!("{}（{}）", c.key, c.name))
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// The rubric's title without its year: the default name of its assessment.
fn assessment_name_of(rubric: &Rubric) -> String {
    let year = rubric.year.to_string();
    let t = rubric
        .title
        .replace(&format!("{year}年度"), "")
        .replace(&format!("{year}年"), "");
    let t = t.replace(&year, "");
    let t = t.trim().trim_matches(['（', '）', '(', ')', ' ']);
    // "……考核细则" names the document; the assessment is "……考核".
    let t = t
        .strip_suffix("实施细则")
        .or_else(|| t.strip_suffix("细则"))
        .unwrap_or(t)
        .trim();
    if t.is_empty() {
        rubric.title.clone()
    } else {
        t.to_owned()
    }
}

impl Store {
    /// Names what a deployment upgraded from before offices existed has left unnamed: each
    /// period's assessment (its rubric's title without the year), then the root office.
    pub(crate) async fn name_after_upgrade(&self) -> Result<()> {
        let unnamed =
            sqlx::query("SELECT year, rubric_hash FROM periods WHERE assessment_name = ''")
                .fetch_all(&self.pool)
                .await?;
        if !unnamed.is_empty() {
            let mut tx = self.begin_write().await?;
            for r in unnamed {
                let hash: String = r.try_get("rubric_hash")?;
                let rubric = self.rubric_by_hash(&mut **tx, &hash).await?;
                sqlx::query(
                    "UPDATE periods SET assessment_name = $1 WHERE year = $2 AND assessment_name = ''",
                )
                .bind(assessment_name_of(&rubric))
                .bind(r.try_get::<i64, _>("year")?)
                .execute(&mut **tx)
                .await?;
            }
            tx.commit().await?;
        }
        self.name_root_from_periods().await
    }
}

/// Whether a role reads what the offices below its own published (admins and leaders).
pub fn reads_below(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Leader)
}

/// Whether `viewer` may see period `p`: everything of its own office; published periods of the
/// offices below for an admin or leader; nothing else. The operator at the command line (no
/// rights) sees everything.
pub fn may_see<S: std::hash::BuildHasher>(
    viewer: Option<&Rights>,
    p: &PeriodInfo,
    below: &HashSet<String, S>,
) -> bool {
    may_see_of(viewer, &p.office, p.status, below)
}

/// [`may_see`] from the two things it looks at: the period's office and status.
fn may_see_of<S: std::hash::BuildHasher>(
    viewer: Option<&Rights>,
    office: &str,
    status: PeriodStatus,
    below: &HashSet<String, S>,
) -> bool {
    let Some(r) = viewer else { return true };
    if office == r.office {
        return true;
    }
    reads_below(r.role) && status == PeriodStatus::Published && below.contains(office)
}

/// What opening a year's period would do to the roster, for review before confirming.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NextPeriodPlan {
    /// The calendar year.
    pub year: i64,
    /// The key the year's period gets, and those of its parts.
    pub key: String,
    pub parts: Vec<String>,
    pub office: String,
    pub assessment: String,
    pub assessment_name: String,
    pub rubric_id: String,
    /// The key of the period the roster is carried from.
    pub carry_from: Option<String>,
    /// The roster the new period gets.
    pub units: Vec<StoredUnit>,
    /// Units of the new rubric that the previous period did not have.
    pub added: Vec<String>,
    /// Units of the previous period that the new rubric does not list (not carried).
    pub removed: Vec<String>,
    /// "单位：A 类 → B 类" for units whose class the new rubric changes.
    pub class_changes: Vec<String>,
    /// Units whose tags were carried from the previous period instead of the rubric's.
    pub tags_carried: Vec<String>,
    /// Accounts bound to a removed unit (they keep their login; they see nothing of the new year).
    pub orphaned_accounts: Vec<String>,
    /// Whether the period was created (false for a preview).
    pub created: bool,
}

/// One period row to insert: its identity and key.
struct NewPeriod<'a> {
    id: i64,
    key: &'a str,
    office: &'a str,
    assessment: &'a str,
    assessment_name: &'a str,
    year: i64,
    part: &'a str,
    of_year: Option<i64>,
}

/// Inserts a period and its roster inside the caller's transaction.
async fn insert_period(
    tx: &mut WriteTx,
    p: &NewPeriod<'_>,
    hash: &str,
    at: &str,
    windows: (i64, i64),
    units: &[StoredUnit],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO periods (year, rubric_hash, status, version, created_at, appeal_days, decision_days, \
         office, assessment, assessment_name, cal_year, part, of_year, pkey) \
         VALUES ($1, $2, 'open', 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(p.id)
    .bind(hash)
    .bind(at)
    .bind(windows.0)
    .bind(windows.1)
    .bind(p.office)
    .bind(p.assessment)
    .bind(p.assessment_name)
    .bind(p.year)
    .bind(p.part)
    .bind(p.of_year)
    .bind(p.key)
    .execute(&mut ***tx)
    .await?;
    for (i, u) in units.iter().enumerate() {
        sqlx::query(
            "INSERT INTO period_units (year, ord, name, class, tags, version) VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(p.id)
        .bind(i as i64)
        .bind(&u.name)
        .bind(&u.class)
        .bind(u.tags.join(";"))
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}

/// The rubric's own roster, as stored units.
fn rubric_units(rubric: &Rubric) -> Vec<StoredUnit> {
    rubric
        .roster
        .iter()
        .map(|u| StoredUnit {
            name: u.name.clone(),
            class: rubric.classes[u.class].code.clone(),
            tags: u.tags.clone(),
            version: 1,
        })
        .collect()
}

/// The order periods are listed in: by year, office and assessment, a year before its parts.
const PERIOD_ORDER: &str = "ORDER BY p.cal_year, p.office, p.assessment, p.part <> '', p.year";

impl Store {
    /// Every period, by year, office and assessment (a year before its parts).
    pub async fn periods(&self) -> Result<Vec<PeriodInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {PERIOD_COLUMNS} FROM periods p JOIN offices o ON o.code = p.office {PERIOD_ORDER}"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.period_of_row(&self.pool, r).await?);
        }
        link_parts(&mut out);
        Ok(out)
    }

    /// The periods `viewer` may see (everything for the operator: `None`).
    pub async fn periods_for(&self, viewer: Option<&Rights>) -> Result<Vec<PeriodInfo>> {
        let all = self.periods().await?;
        let Some(r) = viewer else { return Ok(all) };
        let below = self.office_tree().await?.below(&r.office);
        Ok(all
            .into_iter()
            .filter(|p| may_see(viewer, p, &below))
            .collect())
    }

    /// The period `raw` names for `viewer`: its key, or a year that names exactly one period the
    /// viewer may see. An unknown key, or a period the viewer may not see, is not found (naming
    /// only what was asked); a year naming several is refused with its candidates.
    pub async fn find_period(&self, raw: &str, viewer: Option<&Rights>) -> Result<PeriodInfo> {
        let raw = raw.trim();
        // By key: one row (a write names its period on every request; reading every period for
        // it cost tens of milliseconds in a province).
        if let Some(p) = self
            .periods_where("p.pkey = $1", raw.to_owned())
            .await?
            .pop()
            && self.visible_to(viewer, &p).await?
        {
            return Ok(p);
        }
        let year = lvzhi_core::input::year_of(raw);
        let Some(year) = year else {
            return Err(StoreError::NotFound(format!("没有键为「{raw}」的考核期")));
        };
        self.find_period_in(year, None, None, viewer).await
    }

    /// The period of `year` (of `office` and `assessment` where given) that `viewer` may see,
    /// where exactly one is; a refusal naming the candidates where several are.
    pub async fn find_period_in(
        &self,
        year: i64,
        office: Option<&str>,
        assessment: Option<&str>,
        viewer: Option<&Rights>,
    ) -> Result<PeriodInfo> {
        let mut of_year = Vec::new();
        for p in self.periods_where("p.cal_year = $1", year).await? {
            if office.is_none_or(|o| p.office == o)
                && assessment.is_none_or(|a| p.assessment == a)
                && self.visible_to(viewer, &p).await?
            {
                of_year.push(p);
            }
        }
        match of_year.len() {
            0 => Err(StoreError::NotFound(format!(
                "没有 {year} 年度的考核{}（可先开设该年度：细则版本页面，或 lvzhi period open）",
                match (office, assessment) {
                    (None, None) => String::new(),
                    (o, a) => format!(
                        "（安委办 {}，考核 {}）",
                        o.unwrap_or("任一"),
                        a.unwrap_or("任一")
                    ),
                }
            ))),
            1 => Ok(of_year.remove(0)),
            _ => Err(StoreError::Ambiguous {
                asked: year.to_string(),
                candidates: of_year
                    .iter()
                    .map(|p| Candidate {
                        key: p.key.clone(),
                        name: p.label(),
                    })
                    .collect(),
            }),
        }
    }

    /// The periods a condition on `p` selects (one bound value), each with its parts' keys or its
    /// year's key.
    async fn periods_where<T>(&self, condition: &str, value: T) -> Result<Vec<PeriodInfo>>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {PERIOD_COLUMNS} FROM periods p JOIN offices o ON o.code = p.office \
             WHERE {condition} {PERIOD_ORDER}"
        ))
        .bind(value)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut info = self.period_of_row(&mut *conn, r).await?;
            self.link_period(&mut conn, &mut info).await?;
            out.push(info);
        }
        Ok(out)
    }

    /// The periods of one office (a header's choices: one's own office's work).
    pub async fn periods_of(&self, office: &str) -> Result<Vec<PeriodInfo>> {
        self.periods_where("p.office = $1", office.to_owned()).await
    }

    /// [`may_see`] for one period, reading the office tree only when the period is another
    /// office's.
    async fn visible_to(&self, viewer: Option<&Rights>, p: &PeriodInfo) -> Result<bool> {
        let below = match viewer {
            Some(r) if r.office != p.office => self.office_tree().await?.below(&r.office),
            _ => std::collections::HashSet::new(),
        };
        Ok(may_see(viewer, p, &below))
    }

    /// The period's id `raw` names for `viewer` (see [`Store::find_period`]).
    /// A key already resolved is answered from memory when the viewer is of the period's own
    /// office (or the operator), who always sees it: a request names its period every time.
    pub async fn period_id(&self, raw: &str, viewer: Option<&Rights>) -> Result<i64> {
        let raw = raw.trim();
        let own = |office: &str| viewer.is_none_or(|r| r.office == office);
        let known = self
            .cache
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(raw)
            .filter(|(_, office)| own(office))
            .map(|(id, _)| *id);
        if let Some(id) = known {
            return Ok(id);
        }
        // A bare year (a key always has dots): the one period of that year the viewer sees, read
        // from one light query; several or none go the long way, for the answer that names them.
        if !raw.contains('.')
            && let Some(year) = lvzhi_core::input::year_of(raw)
            && let Some(id) = self.only_period_of_year(year, viewer).await?
        {
            return Ok(id);
        }
        let p = self.find_period(raw, viewer).await?;
        if p.key == raw {
            self.cache
                .keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(p.key.clone(), (p.id, p.office.clone()));
        }
        Ok(p.id)
    }

    /// The id of the only period of calendar year `year` that `viewer` may see, if exactly one.
    async fn only_period_of_year(&self, year: i64, viewer: Option<&Rights>) -> Result<Option<i64>> {
        let rows = sqlx::query("SELECT year, office, status FROM periods WHERE cal_year = $1")
            .bind(year)
            .fetch_all(&self.pool)
            .await?;
        let mut below = None;
        let mut seen = Vec::new();
        for r in &rows {
            let office: String = r.try_get("office")?;
            let status = stored_status(&r.try_get::<String, _>("status")?)?;
            if below.is_none() && viewer.is_some_and(|v| v.office != office) {
                let own = viewer.map(|v| v.office.as_str()).unwrap_or_default();
                below = Some(self.office_tree().await?.below(own));
            }
            let empty = HashSet::new();
            if may_see_of(viewer, &office, status, below.as_ref().unwrap_or(&empty)) {
                seen.push(r.try_get::<i64, _>("year")?);
            }
        }
        Ok(match seen[..] {
            [id] => Some(id),
            _ => None,
        })
    }

    /// The period people work on by default: the latest open one the viewer may see, else the
    /// latest; `None` when it may see none.
    pub async fn current_period(&self, viewer: Option<&Rights>) -> Result<Option<PeriodInfo>> {
        // The office's own periods first (read alone); only an office with none of its own
        // falls back to what it may see below.
        let mut periods = match viewer {
            Some(r) => self.periods_of(&r.office).await?,
            None => Vec::new(),
        };
        if periods.is_empty() {
            periods = self.periods_for(viewer).await?;
        }
        let own: Vec<&PeriodInfo> = periods.iter().collect();
        Ok(own
            .iter()
            .rev()
            .find(|p| p.is_open() && !p.is_year_of_parts())
            .or(own.last())
            .map(|p| (*p).clone()))
    }

    /// The id of the period people work on by default (see [`Store::current_period`]), for the
    /// operator.
    pub async fn current_year(&self) -> Result<Option<i64>> {
        Ok(self.current_period(None).await?.map(|p| p.id))
    }

    /// Opens the year of `rubric_text` in the root office's default assessment with the rubric's
    /// own roster, if it is not open yet. Returns whether it was created.
    pub async fn ensure_period(&self, rubric_text: &str, actor: &Actor) -> Result<bool> {
        let rubric = final_rubric(rubric_text)?;
        let key = format!("{ROOT_OFFICE}.{DEFAULT_ASSESSMENT}.{}", rubric.year);
        let exists = sqlx::query("SELECT year FROM periods WHERE pkey = $1")
            .bind(&key)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        match self
            .open_next_period(rubric_text, &OpenTarget::default(), None, actor)
            .await
        {
            Ok(_) => Ok(true),
            // Opened meanwhile by another instance.
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// What opening `rubric_text`'s year in `target` with the roster carried from `carry_from` (a
    /// period id) would do.
    pub async fn plan_next_period(
        &self,
        rubric_text: &str,
        target: &OpenTarget,
        carry_from: Option<i64>,
    ) -> Result<NextPeriodPlan> {
        let rubric = final_rubric(rubric_text)?;
        let tree = self.office_tree().await?;
        let office = target
            .office
            .as_deref()
            .unwrap_or(ROOT_OFFICE)
            .trim()
            .to_owned();
        if tree.get(&office).is_none() {
            return Err(StoreError::NotFound(format!(
                "没有代码为「{office}」的安委办"
            )));
        }
        let assessment = target
            .assessment
            .as_deref()
            .unwrap_or(DEFAULT_ASSESSMENT)
            .trim()
            .to_owned();
        check_assessment_code(&assessment)?;
        let periods = self.periods().await?;
        let year = i64::from(rubric.year);
        let key = format!("{office}.{assessment}.{year}");
        if let Some(p) = periods.iter().find(|p| {
            p.office == office && p.assessment == assessment && p.year == year && p.part.is_none()
        }) {
            return Err(StoreError::Conflict(format!(
                "「{}」已经存在（键 {}）：同一安委办的同一项考核每年只能开设一次；\
                 如要在同一年度开设另一项考核（如镇街考核），请另取考核代码（页面上的“考核代码”，或 --assessment）",
                p.label(),
                p.key
            )));
        }
        let assessment_name = match target.assessment_name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => periods
                .iter()
                .rev()
                .find(|p| p.office == office && p.assessment == assessment)
                .map_or_else(
                    || assessment_name_of(&rubric),
                    |p| p.assessment_name.clone(),
                ),
        };
        let previous = match carry_from {
            Some(id) => {
                let p = periods.iter().find(|p| p.id == id).ok_or_else(|| {
                    StoreError::invalid("carry_from", "结转名册的来源考核期不存在")
                })?;
                if p.office != office || p.assessment != assessment {
                    return Err(StoreError::invalid(
                        "carry_from",
                        format!(
                            "只能从同一安委办的同一项考核结转名册，「{}」不是",
                            p.label()
                        ),
                    ));
                }
                if p.year == year {
                    return Err(StoreError::invalid(
                        "carry_from",
                        format!("不能从同一年度（{year}）结转名册"),
                    ));
                }
                Some((p.key.clone(), self.state(id).await?))
            }
            None => None,
        };
        let mut plan = NextPeriodPlan {
            year,
            parts: rubric
                .parts
                .iter()
                .map(|p| format!("{key}.{}", p.code))
                .collect(),
            key,
            office,
            assessment,
            assessment_name,
            rubric_id: rubric.id.clone(),
            carry_from: previous.as_ref().map(|p| p.0.clone()),
            units: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            class_changes: Vec::new(),
            tags_carried: Vec::new(),
            orphaned_accounts: Vec::new(),
            created: false,
        };
        self.plan_roster(&rubric, previous.as_ref().map(|p| &*p.1), &mut plan)
            .await?;
        Ok(plan)
    }

    /// The roster of a plan: the rubric's, with what carrying from `previous` changes.
    async fn plan_roster(
        &self,
        rubric: &Rubric,
        previous: Option<&crate::PeriodState>,
        plan: &mut NextPeriodPlan,
    ) -> Result<()> {
        let old: HashMap<&str, &StoredUnit> = previous
            .map(|p| p.units.iter().map(|u| (u.name.as_str(), u)).collect())
            .unwrap_or_default();
        for mut unit in rubric_units(rubric) {
            match old.get(unit.name.as_str()) {
                Some(prev) => {
                    if prev.class != unit.class {
                        plan.class_changes.push(format!(
                            "{}：{} 类 → {} 类",
                            unit.name, prev.class, unit.class
                        ));
                    }
                    if prev.tags != unit.tags {
                        // Tags are kept by the office through the year: carried over, where the new
                        // rubric knows them.
                        let known: Vec<String> = prev
                            .tags
                            .iter()
                            .filter(|t| {
                                rubric
                                    .rules
                                    .iter()
                                    .any(|r| r.applies_to.as_ref() == Some(*t))
                                    || rubric.roster.iter().any(|r| r.tags.contains(*t))
                            })
                            .cloned()
                            .collect();
                        if known != unit.tags {
                            unit.tags = known;
                            plan.tags_carried.push(unit.name.clone());
                        }
                    }
                }
                None if previous.is_some() => plan.added.push(unit.name.clone()),
                None => {}
            }
            plan.units.push(unit);
        }
        if let Some(p) = previous {
            for u in p.units.iter() {
                if !rubric.roster.iter().any(|r| r.name == u.name) {
                    plan.removed.push(u.name.clone());
                }
            }
            for user in self.users().await? {
                if user.office == plan.office
                    && user.unit.as_ref().is_some_and(|u| plan.removed.contains(u))
                {
                    plan.orphaned_accounts.push(user.name.clone());
                }
            }
        }
        Ok(())
    }

    /// Opens `rubric_text`'s year in `target` with the plan's roster (reviewed by the caller
    /// first), and one period per part where the rubric divides its year. The actor must belong
    /// to the office (the operator may open anywhere).
    pub async fn open_next_period(
        &self,
        rubric_text: &str,
        target: &OpenTarget,
        carry_from: Option<i64>,
        actor: &Actor,
    ) -> Result<NextPeriodPlan> {
        let mut plan = self
            .plan_next_period(rubric_text, target, carry_from)
            .await?;
        if let Some(r) = &actor.rights
            && r.office != plan.office
        {
            return Err(StoreError::Forbidden("只能在本安委办开设考核".to_owned()));
        }
        let hash = rubric_hash(rubric_text);
        let rubric = final_rubric(rubric_text)?;
        let windows = match carry_from {
            Some(y) => {
                let s = self.state(y).await?;
                (s.info.appeal_days, s.info.decision_days)
            }
            None => (7, 10),
        };
        let mut tx = self.begin_write().await?;
        let at = tx.now();
        insert_rubric(&mut tx, &hash, &rubric, rubric_text, &at).await?;
        let taken = sqlx::query("SELECT year FROM periods WHERE pkey = $1")
            .bind(&plan.key)
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "考核期（键 {}）已经存在",
                plan.key
            )));
        }
        let year_id = free_id(&mut tx, plan.year).await?;
        let year_period = NewPeriod {
            id: year_id,
            key: &plan.key,
            office: &plan.office,
            assessment: &plan.assessment,
            assessment_name: &plan.assessment_name,
            year: plan.year,
            part: "",
            of_year: None,
        };
        insert_period(&mut tx, &year_period, &hash, &at, windows, &plan.units).await?;
        for (part, key) in rubric.parts.iter().zip(&plan.parts) {
            let id = free_id(&mut tx, plan.year).await?;
            let p = NewPeriod {
                id,
                key,
                part: &part.code,
                of_year: Some(year_id),
                ..year_period
            };
            insert_period(&mut tx, &p, &hash, &at, windows, &plan.units).await?;
        }
        Self::name_root_if_unnamed(&mut tx, &plan.office, &rubric.issuer).await?;
        plan.created = true;
        audit::change(
            &mut tx,
            actor,
            AuditAction::PeriodOpen,
            &format!("period:{year_id}"),
            None::<&()>,
            &serde_json::json!({
                "key": plan.key, "office": plan.office, "assessment": plan.assessment,
                "year": plan.year, "parts": plan.parts, "rubric": rubric.id, "rubric_hash": hash,
                "units": plan.units.len(), "carry_from": plan.carry_from, "added": plan.added,
                "removed": plan.removed, "class_changes": plan.class_changes,
                "tags_carried": plan.tags_carried,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Sets the period's appeal window and decision time, in days.
    pub async fn set_windows(
        &self,
        year: i64,
        appeal_days: i64,
        decision_days: i64,
        actor: &Actor,
    ) -> Result<()> {
        for (field, v) in [
            ("appeal_days", appeal_days),
            ("decision_days", decision_days),
        ] {
            if !(0..=365).contains(&v) {
                return Err(StoreError::invalid(field, "天数须在 0 到 365 之间"));
            }
        }
        let (mut tx, state) = self.write_period(year, actor).await?;
        sqlx::query("UPDATE periods SET appeal_days = $1, decision_days = $2 WHERE year = $3")
            .bind(appeal_days)
            .bind(decision_days)
            .bind(year)
            .execute(&mut **tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            AuditAction::PeriodWindows,
            &format!("period:{year}"),
            Some(&serde_json::json!({
                "appeal_days": state.info.appeal_days, "decision_days": state.info.decision_days
            })),
            Some(&serde_json::json!({"appeal_days": appeal_days, "decision_days": decision_days})),
        )
        .await?;
        Self::bump(&mut tx, year).await?;
        let mut next = Next::new(&state);
        next.info().appeal_days = appeal_days;
        next.info().decision_days = decision_days;
        self.commit_with(tx, year, Some(next)).await
    }
}

/// A period id for a new period of `year`: the year itself where no period holds it (so a
/// deployment of one office and one assessment keeps ids equal to its years), else the next free
/// id from [`FIRST_FREE_ID`].
async fn free_id(tx: &mut WriteTx, year: i64) -> Result<i64> {
    let taken = sqlx::query("SELECT year FROM periods WHERE year = $1")
        .bind(year)
        .fetch_optional(&mut ***tx)
        .await?;
    if taken.is_none() {
        return Ok(year);
    }
    let max: Option<i64> = sqlx::query("SELECT MAX(year) FROM periods")
        .fetch_one(&mut ***tx)
        .await?
        .try_get(0)?;
    Ok(max.unwrap_or(0).max(FIRST_FREE_ID - 1) + 1)
}

/// Gives each year made of parts its parts' keys and ids, and each part its year's key.
fn link_parts(periods: &mut [PeriodInfo]) {
    let by_id: HashMap<i64, usize> = periods.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let links: Vec<(usize, usize)> = periods
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.year_id.and_then(|y| by_id.get(&y)).map(|&y| (y, i)))
        .collect();
    for (y, part) in links {
        let (pid, pkey) = (periods[part].id, periods[part].key.clone());
        periods[y].part_ids.push(pid);
        periods[y].parts.push(pkey);
        periods[part].of_year = Some(periods[y].key.clone());
    }
}

/// Refuses an assessment code that is not 1–32 ASCII letters, digits or `-` (the rule of office
/// codes: a key is made of both, joined by dots).
pub fn check_assessment_code(code: &str) -> Result<()> {
    check_office_code(code).map_err(|_| {
        StoreError::invalid(
            "assessment",
            format!("考核代码「{code}」无效：只能由 1 到 32 个英文字母、数字或连字符（-）组成"),
        )
    })
}
