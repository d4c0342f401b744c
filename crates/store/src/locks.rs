//! Who waits for whom among writes. The audit trail is one hash chain, so appending to it is
//! serialized; everything else is serialized only where two writes meet.
//!
//! On PostgreSQL (several instances): a write of one period holds that period's lock (and the
//! shared side of the gate) for its whole transaction; a write of the deployment (offices,
//! rubrics, periods opened, rosters of a year and its parts) holds the gate exclusively; the
//! chain's lock is taken only when the write appends its audit entry, near its end, and held to
//! the commit. An account's write (a login, a password, a notice read) takes the chain only, so it
//! waits for no business write's work, only for another append's commit. Each lock is taken in
//! this process first (an async mutex, so that waiting holds no database connection) and then in
//! the database (an advisory transaction lock, for the other instances), always in the order gate,
//! periods (by id), chain, so no two writes wait for each other.
//!
//! On SQLite (one file, one writer at a time) every write holds the one writer slot from its
//! `BEGIN IMMEDIATE` to its commit; this process queues its writers on one mutex rather than on
//! SQLite's busy handler. This module decides the order of locks; it must not know what a write
//! does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

/// The advisory lock of the audit chain.
pub(crate) const CHAIN_KEY: i64 = 7411;
/// The advisory lock of the deployment's gate (shared by period writes, exclusive for writes of
/// the deployment).
pub(crate) const GATE_KEY: i64 = 7412;
/// Period `id`'s advisory lock is this plus its id (far from the two above).
const PERIOD_KEY_BASE: i64 = 1 << 40;

/// What a write holds.
pub(crate) enum Scope<'a> {
    /// Periods by id (sorted and deduplicated by [`Locks::enter`]).
    Periods(&'a [i64]),
    /// The deployment: every period, and what is not a period's.
    Deployment,
    /// The audit chain only (an account's write).
    Chain,
}

/// A lock held in this process until dropped.
pub(crate) enum Held {
    One(#[allow(dead_code)] OwnedMutexGuard<()>),
    Shared(#[allow(dead_code)] OwnedRwLockReadGuard<()>),
    Whole(#[allow(dead_code)] OwnedRwLockWriteGuard<()>),
}

/// This process's side of the locks.
#[derive(Default)]
pub(crate) struct Locks {
    /// SQLite's one writer slot.
    writer: Arc<tokio::sync::Mutex<()>>,
    gate: Arc<RwLock<()>>,
    periods: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    chain: Arc<tokio::sync::Mutex<()>>,
}

impl Locks {
    /// SQLite: the writer slot, whatever the scope.
    pub(crate) async fn writer(&self) -> Vec<Held> {
        vec![Held::One(self.writer.clone().lock_owned().await)]
    }

    /// PostgreSQL: this process's locks of `scope`, in order; and the advisory locks to take in
    /// the transaction, in the same order.
    pub(crate) async fn enter(&self, scope: &Scope<'_>) -> (Vec<Held>, Vec<(i64, bool)>) {
        match scope {
            Scope::Chain => (
                vec![Held::One(self.chain.clone().lock_owned().await)],
                vec![(CHAIN_KEY, false)],
            ),
            Scope::Deployment => (
                vec![Held::Whole(self.gate.clone().write_owned().await)],
                vec![(GATE_KEY, false)],
            ),
            Scope::Periods(ids) => {
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let mut held = vec![Held::Shared(self.gate.clone().read_owned().await)];
                let mut keys = vec![(GATE_KEY, true)];
                for id in ids {
                    held.push(Held::One(self.period(id).lock_owned().await));
                    keys.push((PERIOD_KEY_BASE + id, false));
                }
                (held, keys)
            }
        }
    }

    /// The chain's lock in this process (taken by a write when it appends to the trail).
    pub(crate) async fn chain(&self) -> Held {
        Held::One(self.chain.clone().lock_owned().await)
    }

    fn period(&self, id: i64) -> Arc<tokio::sync::Mutex<()>> {
        self.periods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_default()
            .clone()
    }
}

/// The SQL that takes an advisory transaction lock (`shared` or not) on `key`.
pub(crate) fn advisory(key: i64, shared: bool) -> String {
    if shared {
        format!("SELECT pg_advisory_xact_lock_shared({key})")
    } else {
        format!("SELECT pg_advisory_xact_lock({key})")
    }
}
