//! What this process's store has done since it started, for the service's monitoring (`/metrics`):
//! writes committed, failed logins and locked accounts, periods read and the time it took, the
//! connection pool in use, the last audit checkpoint and the last backup. Plain counters kept in memory and
//! read at any time; this room must not know any monitoring format, and nothing it counts decides
//! a write.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Store;

/// The counters the store raises as it works (shared by every clone of a store).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) login_failures: AtomicU64,
    pub(crate) account_locks: AtomicU64,
    /// The time spent reading periods (whole or caught up), in microseconds.
    pub(crate) period_read_micros: AtomicU64,
    /// The time of the last checkpoint this process wrote or found in its file (store clock text).
    pub(crate) last_checkpoint: Mutex<Option<String>>,
    /// The time of the last backup written and verified (or found in the backup folder at start).
    pub(crate) last_backup: Mutex<Option<String>>,
    pub(crate) backup_failures: AtomicU64,
    /// Whether the last scheduled backup failed.
    pub(crate) backup_failing: std::sync::atomic::AtomicBool,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn checkpoint_written(&self, at: &str) {
        later(&self.last_checkpoint, at);
    }
}

/// Keeps `at` when it is later than what `slot` holds (stored times sort as text).
fn later(slot: &Mutex<Option<String>>, at: &str) {
    let mut last = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if last.as_deref().is_none_or(|l| l < at) {
        *last = Some(at.to_owned());
    }
}

fn read(slot: &Mutex<Option<String>>) -> Option<String> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// What became of a backup, as the service notes it.
#[derive(Clone, Debug)]
pub enum BackupOutcome {
    /// Written and verified now.
    Written,
    /// Failed now (said in the log by the caller).
    Failed,
    /// Found in the backup folder at start, written at this time (store clock text).
    Found(String),
}

/// A reading of the counters.
#[derive(Clone, Debug, Default)]
pub struct Activity {
    /// Write transactions committed.
    pub writes: u64,
    /// Logins refused for a wrong password (of an existing account).
    pub login_failures: u64,
    /// Accounts locked after repeated failures.
    pub account_locks: u64,
    /// Periods read whole from the database.
    pub period_loads: u64,
    /// Cached periods brought up to date by re-reading the units other writes changed.
    pub period_catch_ups: u64,
    /// The time those reads took, in seconds.
    pub period_read_seconds: f64,
    /// Connections open in the pool, and how many of them are idle.
    pub pool_open: u32,
    pub pool_idle: u32,
    /// The pool's most connections.
    pub pool_max: u32,
    /// Seconds since the last audit checkpoint known to this process (none known: `None`). A
    /// trail that did not move gets no new checkpoint, so a quiet service's grows.
    pub checkpoint_age_seconds: Option<f64>,
    /// Seconds since the last backup written and verified (none known: `None`).
    pub backup_age_seconds: Option<f64>,
    /// Scheduled backups that failed since start.
    pub backup_failures: u64,
    /// Whether the last scheduled backup failed.
    pub backup_failing: bool,
}

impl Store {
    /// What this process's store has done since it started.
    pub fn activity(&self) -> Activity {
        let now = self.now();
        let age = |slot: &Mutex<Option<String>>| {
            read(slot).and_then(|at| crate::clock::seconds_between(&at, &now))
        };
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let reads = self.period_reads();
        let open = self.pool.size();
        Activity {
            writes: get(&self.writes),
            login_failures: get(&self.counters.login_failures),
            account_locks: get(&self.counters.account_locks),
            period_loads: reads.loads,
            period_catch_ups: reads.catch_ups,
            #[allow(clippy::cast_precision_loss)] // microseconds: exact below 2^53 (285 years)
            period_read_seconds: get(&self.counters.period_read_micros) as f64 / 1e6,
            pool_open: open,
            pool_idle: u32::try_from(self.pool.num_idle()).unwrap_or(open),
            pool_max: self.pool.options().get_max_connections(),
            checkpoint_age_seconds: age(&self.counters.last_checkpoint),
            backup_age_seconds: age(&self.counters.last_backup),
            backup_failures: get(&self.counters.backup_failures),
            backup_failing: self.counters.backup_failing.load(Ordering::Relaxed),
        }
    }

    /// Notes what became of a scheduled backup.
    pub fn note_backup(&self, outcome: BackupOutcome) {
        let c = &self.counters;
        match outcome {
            BackupOutcome::Written => {
                later(&c.last_backup, &self.now());
                c.backup_failing.store(false, Ordering::Relaxed);
            }
            BackupOutcome::Failed => {
                Counters::add(&c.backup_failures, 1);
                c.backup_failing.store(true, Ordering::Relaxed);
            }
            BackupOutcome::Found(at) => later(&c.last_backup, &at),
        }
    }

    /// Notes a checkpoint found in the checkpoint file (the service reads its file at start), so
    /// that the age of the last one is known before this process writes one.
    pub fn note_checkpoint(&self, at: &str) {
        self.counters.checkpoint_written(at);
    }
}
