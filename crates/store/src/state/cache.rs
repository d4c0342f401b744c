//! The cache of period states and its freshness: which version a read may trust, when a state is
//! loaded, and how a committed write's state is installed. It never replaces a newer state with
//! an older one.

use std::sync::Arc;

use sqlx::{AnyConnection, Row};

use super::*;
use crate::{Backend, Result, Store, StoreError};

impl Store {
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
    /// 20); on SQLite a check within [`SQLITE_FRESH`] is trusted.
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
        if let Some((s, at)) = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(&year)
            && s.info.version == version
            && s.info.status.code() == status
        {
            *at = std::time::Instant::now();
            return Ok(s.clone());
        }
        let state = Arc::new(self.load(conn, year, true).await?);
        // Never an older state over a newer one another task installed meanwhile.
        let mut cache = self
            .cache
            .periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cache.get(&year) {
            Some((newer, _)) if newer.info.version > state.info.version => Ok(newer.clone()),
            _ => {
                cache.insert(year, (state.clone(), std::time::Instant::now()));
                Ok(state)
            }
        }
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
