//! The cache of period states and its freshness: which version a read may trust, when a state is
//! loaded, and how a committed write's state is installed. It never replaces a newer state with
//! an older one.

use std::collections::BTreeSet;
use std::sync::Arc;

use sqlx::{AnyConnection, Row};

use super::{Next, PERIOD_COLUMNS, PeriodReads, PeriodState, SQLITE_FRESH, load_appeals};
use crate::{Backend, Result, Store, StoreError};

/// How many changed units a catch-up reads at most; past it, the period is read again (a list of a
/// few hundred units read at once costs about what the whole period read in ranges does).
const CATCH_UP_UNITS: usize = 200;

impl Store {
    /// How this process's cache came by its period states so far.
    pub fn period_reads(&self) -> PeriodReads {
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        PeriodReads {
            loads: get(&self.cache.loads),
            catch_ups: get(&self.cache.catch_ups),
        }
    }

    /// The cached state of period `id` if it is at `version` (read by the caller in the same
    /// query as many other periods' versions, so that a page over many periods asks the database
    /// once, not once a period).
    pub(crate) fn cached_at(&self, id: i64, version: i64) -> Option<Arc<PeriodState>> {
        self.cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .filter(|(s, _)| s.info.version == version)
            .map(|(s, _)| s.clone())
    }

    /// The period's state at its current version (loaded once per version, then kept). On
    /// PostgreSQL the version is asked of the database on every read, so that a read that begins
    /// after any instance acknowledged a write shows it (read your writes across instances; issue
    /// 20), through an ask shared with the reads that arrive together (`asks`); on SQLite a check
    /// within [`SQLITE_FRESH`] is trusted.
    pub async fn state(&self, year: i64) -> Result<Arc<PeriodState>> {
        if self.backend == Backend::Sqlite
            && let Some((s, at)) = self
                .cache
                .periods
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&year)
            && at.elapsed() < SQLITE_FRESH
        {
            return Ok(s.clone());
        }
        if self.backend == Backend::Postgres
            && let Some((version, status)) = self.cache.asker(year).head(&self.pool).await
            && let Some(s) = self.checked(year, version, &status)
        {
            return Ok(s);
        }
        let mut conn = self.pool.acquire().await?;
        self.state_on(&mut conn, year).await
    }

    pub(crate) async fn state_on(
        &self,
        conn: &mut AnyConnection,
        year: i64,
    ) -> Result<Arc<PeriodState>> {
        // The version (and status) first: everything else is only read when the cache is stale.
        let head = sqlx::query("SELECT version, status FROM periods WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "考核期 #{year} 不存在（可先开设：细则版本页面，或 lvzhi period open）"
                ))
            })?;
        let version: i64 = head.try_get("version")?;
        let status: String = head.try_get("status")?;
        if let Some(s) = self.checked(year, version, &status) {
            return Ok(s);
        }
        // One load (or catch-up) of a period at a time in this process: the others wait for it
        // and take what it installed.
        let gate = self.cache.loading(year);
        let _one = gate.lock().await;
        if let Some(s) = self.checked(year, version, &status) {
            return Ok(s);
        }
        let started = std::time::Instant::now();
        let old = self.cached(year).filter(|o| o.info.version < version);
        let caught = match old {
            Some(old) => match self.catch_up(conn, &old, version).await {
                Ok(c) => c,
                Err(StoreError::Corrupt(e)) => {
                    tracing::warn!(year, error = %e, "catching up failed; the period is read again");
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let counter = match caught {
            Some(_) => &self.cache.catch_ups,
            None => &self.cache.loads,
        };
        let state = match caught {
            Some(s) => Arc::new(s),
            None => Arc::new(self.load(conn, year, true).await?),
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        crate::activity::Counters::add(&self.counters.period_read_micros, micros);
        Ok(self.keep_newest(year, state))
    }

    /// The cached state of `year` if it is at `version` and `status` (its check time renewed).
    fn checked(&self, year: i64, version: i64, status: &str) -> Option<Arc<PeriodState>> {
        let mut cache = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (s, at) = cache.get_mut(&year)?;
        if s.info.version != version || s.info.status.code() != status {
            return None;
        }
        *at = std::time::Instant::now();
        Some(s.clone())
    }

    /// The cached state of `year`, at whatever version.
    fn cached(&self, year: i64) -> Option<Arc<PeriodState>> {
        self.cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&year)
            .map(|(s, _)| s.clone())
    }

    /// Installs `state` unless a newer one was installed meanwhile; the one kept.
    fn keep_newest(&self, year: i64, state: Arc<PeriodState>) -> Arc<PeriodState> {
        let mut cache = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cache.get(&year) {
            Some((newer, _)) if newer.info.version > state.info.version => newer.clone(),
            _ => {
                cache.insert(year, (state.clone(), std::time::Instant::now()));
                state
            }
        }
    }

    /// `old` brought to `version` by the change log: the units the writes since changed are read
    /// again, the rest kept, so staying current costs the writes, not the period. `None` when the
    /// log does not cover every version since (a write that changed the roster or the period as a
    /// whole, or one made before the log), or when so many units changed that reading the period
    /// again costs less.
    async fn catch_up(
        &self,
        conn: &mut AnyConnection,
        old: &PeriodState,
        version: i64,
    ) -> Result<Option<PeriodState>> {
        let year = old.info.id;
        let changes = sqlx::query(
            "SELECT units FROM period_changes WHERE year = $1 AND version > $2 AND version <= $3",
        )
        .bind(year)
        .bind(old.info.version)
        .bind(version)
        .fetch_all(&mut *conn)
        .await?;
        if changes.len() as i64 != version - old.info.version {
            return Ok(None);
        }
        let mut names: BTreeSet<String> = BTreeSet::new();
        for c in &changes {
            let Some(units) = c.try_get::<Option<String>, _>("units")? else {
                return Ok(None);
            };
            let list: Vec<String> = serde_json::from_str(&units)
                .map_err(|e| StoreError::Corrupt(format!("变更记录无法读取：{e}")))?;
            names.extend(list);
        }
        if names.len() > CATCH_UP_UNITS {
            return Ok(None);
        }
        let mut units = Vec::with_capacity(names.len());
        for n in &names {
            match old.unit_index(n) {
                Some(u) => units.push((u, n.as_str())),
                None => return Ok(None),
            }
        }
        let row = sqlx::query(&format!(
            "SELECT {PERIOD_COLUMNS} FROM periods p JOIN offices o ON o.code = p.office WHERE p.year = $1"
        ))
        .bind(year)
        .fetch_one(&mut *conn)
        .await?;
        let mut info = self.period_of_row(&mut *conn, &row).await?;
        if info.rubric_hash != old.info.rubric_hash {
            return Ok(None);
        }
        self.link_period(conn, &mut info).await?;
        // Labelled with the version the log was read to: a later write read in part here is
        // caught up again by the next read, which finds the database past this label.
        info.version = version;
        let fresh = if units.is_empty() {
            Vec::new()
        } else {
            self.load_some(conn, year, &old.rubric, &units).await?
        };
        let appeals = load_appeals(conn, year).await?;
        let mut next = Next::new(old);
        next.caught_up(info, fresh, appeals)?;
        next.finish().map(Some)
    }

    /// Puts a committed write's next state in the cache; without one, the next read reloads.
    pub(crate) fn install(&self, year: i64, next: Option<PeriodState>) {
        let mut cache = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match next {
            Some(state) => {
                cache.insert(year, (Arc::new(state), std::time::Instant::now()));
            }
            None => {
                cache.remove(&year);
            }
        }
    }
}
