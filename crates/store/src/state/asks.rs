//! Version asks shared by the reads that arrive together (PostgreSQL). A read must learn the
//! period's version from a query sent after the read began — that is what makes a read that begins
//! after any instance acknowledged a write show it — but it need not send that query alone: while
//! one ask is in flight, the reads that arrive wait for the next one, which is sent as soon as the
//! one in flight is answered and serves them all. Under load one query answers tens of reads, so
//! the check costs the database one round trip per batch instead of one per read.
//!
//! This room asks for a period's version and status only; it must not read or install states (the
//! cache does), and it never answers a read with an ask sent before that read began.

use std::sync::{Arc, Mutex};

use sqlx::{AnyPool, Row};

/// A period's version and status as one ask found them; `None` when the ask failed (the reader
/// then asks on its own connection and meets the error itself).
type Head = Option<(i64, String)>;

/// The asks of one period.
pub(super) struct Asker {
    year: i64,
    round: Mutex<Round>,
    answered: tokio::sync::watch::Sender<(u64, Head)>,
}

/// Which ask was last sent, whether one is in flight, and whether reads wait for another.
#[derive(Default)]
struct Round {
    sent: u64,
    in_flight: bool,
    wanted: bool,
}

/// How long a read waits for a shared ask before it asks alone (an ask is bounded by the pool's
/// acquire timeout; this only guards against an asker that was lost).
const WAIT_AT_MOST: std::time::Duration = std::time::Duration::from_secs(15);

impl Asker {
    pub(super) fn new(year: i64) -> Asker {
        Asker {
            year,
            round: Mutex::new(Round::default()),
            answered: tokio::sync::watch::channel((0, None)).0,
        }
    }

    /// The period's version and status from an ask sent after this call began.
    pub(super) async fn head(self: &Arc<Self>, pool: &AnyPool) -> Head {
        let mut answers = self.answered.subscribe();
        let want = {
            let mut r = self
                .round
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if r.in_flight {
                r.wanted = true;
                r.sent + 1
            } else {
                r.in_flight = true;
                r.sent += 1;
                self.clone().lead(pool.clone(), r.sent);
                r.sent
            }
        };
        let answer = answers.wait_for(|(n, _)| *n >= want);
        match tokio::time::timeout(WAIT_AT_MOST, answer).await {
            Ok(Ok(a)) => a.1.clone(),
            _ => None,
        }
    }

    /// Sends ask `n`, then the next one as long as reads wait for one, on a task of its own (so no
    /// read's answer waits for others' asks).
    fn lead(self: Arc<Self>, pool: AnyPool, mut n: u64) {
        tokio::spawn(async move {
            loop {
                let head = sqlx::query("SELECT version, status FROM periods WHERE year = $1")
                    .bind(self.year)
                    .fetch_optional(&pool)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)));
                self.answered.send_replace((n, head));
                let mut r = self
                    .round
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if !r.wanted {
                    r.in_flight = false;
                    return;
                }
                r.wanted = false;
                r.sent += 1;
                n = r.sent;
            }
        });
    }
}
