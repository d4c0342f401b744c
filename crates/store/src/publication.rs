//! Publication: the check list that stands between a period and its publication, publishing (a
//! frozen snapshot of the official result — the rubric, every counted record and the results, each
//! with its SHA-256 — whose hash goes into the audit chain in the same transaction), reopening with
//! a reason, and the snapshots and their unit-by-unit differences. This module knows SQL; it must not
//! know HTTP.

use std::collections::BTreeMap;

use lvzhi_core::summary::Summary;
use lvzhi_core::{Basis, PeriodStatus, ScoreSheets};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::notices::{Audience, NoticeKind, notify};
use crate::results::incomplete_items;
use crate::state::PeriodState;
use crate::{Actor, Result, Store, StoreError, WriteTx, audit};

/// What stands between a period and its publication.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Checklist {
    /// Records not yet confirmed (ids).
    pub pending_records: Vec<i64>,
    /// Appeals not yet decided (record ids).
    pub open_appeals: Vec<i64>,
    /// Incomplete items of the official result: "单位：条款 缺少…".
    pub incomplete: Vec<String>,
    /// Confirmed records whose unit may still appeal (ids): publication ends their windows.
    pub open_windows: Vec<i64>,
    /// When the last of those windows would have ended (stored time).
    pub windows_end: Option<String>,
}

impl Checklist {
    pub fn is_clear(&self) -> bool {
        self.pending_records.is_empty()
            && self.open_appeals.is_empty()
            && self.incomplete.is_empty()
            && self.open_windows.is_empty()
    }

    /// Each exception in one line, in Chinese.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.pending_records.is_empty() {
            out.push(format!(
                "{} 条扣分记录待确认（{}）",
                self.pending_records.len(),
                crate::ids_text(&self.pending_records)
            ));
        }
        if !self.open_appeals.is_empty() {
            out.push(format!(
                "{} 项申诉未决定（记录 {}）",
                self.open_appeals.len(),
                crate::ids_text(&self.open_appeals)
            ));
        }
        if let Some(end) = &self.windows_end {
            out.push(format!(
                "{} 条已确认的扣分记录申诉期未满（最晚至 {}；记录 {}），发布后不再受理这些记录的申诉",
                self.open_windows.len(),
                crate::clock::beijing_minute(end),
                crate::ids_text(&self.open_windows)
            ));
        }
        if !self.incomplete.is_empty() {
            out.push(format!(
                "{} 项数据不完整：{}",
                self.incomplete.len(),
                crate::first_of(&self.incomplete, 5)
            ));
        }
        out
    }
}

/// A publication as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PublicationInfo {
    pub year: i64,
    pub seq: i64,
    /// SHA-256 of the snapshot's body (its canonical JSON), hex.
    pub hash: String,
    pub published_at: String,
    pub published_by: String,
    pub reason: String,
    /// The fingerprint of the office key that signed the snapshot ([`lvzhi_seal::key_fingerprint`],
    /// the same string `lvzhi key show` prints; `None`: published without a seal).
    pub key_fingerprint: Option<String>,
}

/// A publication's signature, as anyone checks it with OpenSSL 3.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PublicationSignature {
    pub algorithm: &'static str,
    pub public_key_pem: String,
    /// The DER signature, base64.
    pub signature_base64: String,
    /// The signing key's fingerprint, as `lvzhi key show`, the pages, the ranking workbook and the
    /// 通报 print it.
    pub fingerprint: String,
}

/// The fingerprint of the key a publication was signed with (stored beside its signature).
fn key_fingerprint(public_key_pem: Option<&str>) -> Option<String> {
    public_key_pem.and_then(|pem| lvzhi_seal::key_fingerprint(pem).ok())
}

/// How one unit's official result differs between two snapshots.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UnitChange {
    pub unit: String,
    pub before_total: Option<String>,
    pub after_total: Option<String>,
    pub before_converted: Option<String>,
    pub after_converted: Option<String>,
    pub before_rank: Option<u32>,
    pub after_rank: Option<u32>,
    /// Record ids counted now and not before, and the other way round.
    pub records_added: Vec<i64>,
    pub records_removed: Vec<i64>,
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical JSON text of a value: object keys sorted, no spaces. Snapshot hashes are taken over
/// this text, so anyone can reproduce them from the published contents.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let ordered: BTreeMap<&String, serde_json::Value> =
                    m.iter().map(|(k, v)| (k, sorted(v))).collect();
                let mut out = serde_json::Map::new();
                for (k, v) in ordered {
                    out.insert(k.clone(), v);
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

fn checklist_of(state: &PeriodState, official: &ScoreSheets, now: &str) -> Checklist {
    let now = crate::clock::millis(now);
    let appealed: std::collections::HashSet<i64> =
        state.appeals.iter().map(|a| a.record_id).collect();
    let mut windows: Vec<(i64, i64)> = state
        .rows()
        .filter(|(_, r)| {
            r.status == lvzhi_core::RecordStatus::Confirmed && !appealed.contains(&r.id)
        })
        .filter(|(_, r)| !final_replacement(state, r))
        .filter_map(|(_, r)| {
            r.appeal_deadline(state.info.appeal_days)
                .filter(|d| *d >= now)
                .map(|d| (r.id, d))
        })
        .collect();
    windows.sort_unstable();
    Checklist {
        windows_end: windows
            .iter()
            .map(|w| w.1)
            .max()
            .map(crate::clock::from_millis),
        open_windows: windows.into_iter().map(|w| w.0).collect(),
        pending_records: state
            .rows()
            .filter(|(_, r)| r.status == lvzhi_core::RecordStatus::Recorded)
            .map(|(_, r)| r.id)
            .collect(),
        open_appeals: state
            .appeals
            .iter()
            .filter(|a| a.is_open())
            .map(|a| a.record_id)
            .collect(),
        incomplete: incomplete_items(state, official),
    }
}

/// A record that replaced one changed on appeal: final, with no window of its own.
fn final_replacement(state: &PeriodState, r: &crate::state::RecordRow) -> bool {
    r.replaces.is_some_and(|p| {
        state
            .locate(p)
            .is_some_and(|(_, old)| old.status == lvzhi_core::RecordStatus::Changed)
    })
}

async fn publication_body(tx: &mut WriteTx, year: i64, seq: i64) -> Result<serde_json::Value> {
    let body: String = sqlx::query("SELECT body FROM publications WHERE year = $1 AND seq = $2")
        .bind(year)
        .bind(seq)
        .fetch_one(&mut ***tx)
        .await?
        .try_get(0)?;
    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("发布快照无法读取：{e}")))
}

/// Unit by unit, what changed between two snapshots (units with no change are left out).
fn diff_snapshots(before: &serde_json::Value, after: &serde_json::Value) -> Vec<UnitChange> {
    let results = |v: &serde_json::Value| -> BTreeMap<String, (String, String, u32)> {
        v["results"]["results"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["unit"].as_str().unwrap_or_default().to_owned(),
                            (
                                r["total"].as_str().unwrap_or_default().to_owned(),
                                r["converted"].as_str().unwrap_or_default().to_owned(),
                                r["rank"].as_u64().unwrap_or_default() as u32,
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let records = |v: &serde_json::Value| -> BTreeMap<String, Vec<i64>> {
        let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for r in v["records"].as_array().into_iter().flatten() {
            let rec = &r["record"];
            out.entry(rec["unit"].as_str().unwrap_or_default().to_owned())
                .or_default()
                .push(rec["id"].as_i64().unwrap_or_default());
        }
        out
    };
    let (rb, ra) = (results(before), results(after));
    let (cb, ca) = (records(before), records(after));
    let mut units: Vec<&String> = rb.keys().chain(ra.keys()).collect();
    units.sort();
    units.dedup();
    let empty = Vec::new();
    let mut out = Vec::new();
    for u in units {
        let (b, a) = (rb.get(u), ra.get(u));
        let (ib, ia) = (cb.get(u).unwrap_or(&empty), ca.get(u).unwrap_or(&empty));
        let added: Vec<i64> = ia.iter().filter(|i| !ib.contains(i)).copied().collect();
        let removed: Vec<i64> = ib.iter().filter(|i| !ia.contains(i)).copied().collect();
        if b == a && added.is_empty() && removed.is_empty() {
            continue;
        }
        out.push(UnitChange {
            unit: u.clone(),
            before_total: b.map(|x| x.0.clone()),
            after_total: a.map(|x| x.0.clone()),
            before_converted: b.map(|x| x.1.clone()),
            after_converted: a.map(|x| x.1.clone()),
            before_rank: b.map(|x| x.2),
            after_rank: a.map(|x| x.2),
            records_added: added,
            records_removed: removed,
        });
    }
    out
}

impl Store {
    /// What stands between the period and publication.
    pub async fn checklist(&self, year: i64) -> Result<Checklist> {
        let state = self.state(year).await?;
        Ok(checklist_of(&state, &state.official_sheets, &self.now()))
    }

    /// Publishes the period: freezes a snapshot of the official result, puts its hash into the
    /// audit chain and closes the period to writes. Exceptions on the check list must be
    /// acknowledged (with the reason, which is always required).
    pub async fn publish(
        &self,
        year: i64,
        reason: &str,
        acknowledge: bool,
        actor: &Actor,
    ) -> Result<(PublicationInfo, Vec<UnitChange>, Checklist)> {
        let reason = lvzhi_core::input::reason(reason).map_err(|p| {
            StoreError::invalid("reason", format!("发布须说明理由（如：经安委会审定）：{p}"))
        })?;
        // The counted records' texts are read before the writer slot is taken: a period's records
        // only change through writes, which the version check below catches.
        let before = self.state(year).await?;
        if before.info.is_year_of_parts() {
            return self.publish_year(year, reason, actor).await;
        }
        let all = self.all_records(year).await?;
        let (mut tx, state) = self.write_period(year, actor).await?;
        if state.info.version != before.info.version {
            return Err(StoreError::Conflict(
                "发布期间数据有变动，请刷新后重新发布".to_owned(),
            ));
        }
        let official = &state.official_sheets;
        let list = checklist_of(&state, official, &tx.now());
        if !list.is_clear() && !acknowledge {
            return Err(StoreError::Conflict(format!(
                "发布前检查未通过：{}。如确需发布，请逐项说明理由并勾选“确认例外”",
                list.lines().join("；")
            )));
        }
        let seq: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM publications WHERE year = $1")
                .bind(year)
                .fetch_one(&mut **tx)
                .await?
                .try_get(0)?;
        let at = tx.now();
        let results = serde_json::to_value(lvzhi_core::contract::ResultsDoc::new(
            &state.rubric,
            official,
        ))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let records: Vec<serde_json::Value> = all
            .iter()
            .filter(|r| r.status.counts(Basis::Official))
            .map(|r| {
                let v = serde_json::to_value(r).unwrap_or_default();
                serde_json::json!({"hash": sha256_hex(canonical_json(&v).as_bytes()), "record": v})
            })
            .collect();
        let records_hash = sha256_hex(
            records
                .iter()
                .map(|r| r["hash"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        );
        let snapshot = serde_json::json!({
            "format": "lvzhi-publication-1",
            "year": state.info.year,
            "period": state.info.key,
            "seq": seq,
            "rubric": {"id": state.rubric.id, "hash": state.info.rubric_hash},
            "published_at": at,
            "published_by": actor.name,
            "reason": reason,
            "acknowledged": list.lines(),
            "records": records,
            "records_hash": records_hash,
            "results": results,
            "results_hash": sha256_hex(canonical_json(&results).as_bytes()),
        });
        let summary = Summary::of(&state.rubric, official);
        let (hash, seal) = self
            .store_publication(&mut tx, year, seq, (&snapshot, &summary), reason, actor)
            .await?;
        let previous = if seq > 1 {
            Some(publication_body(&mut tx, year, seq - 1).await?)
        } else {
            None
        };
        let diff = match &previous {
            Some(prev) => diff_snapshots(prev, &snapshot),
            None => Vec::new(),
        };
        audit::append(
            &mut tx,
            actor,
            AuditAction::PeriodPublish,
            &format!("period:{year}"),
            None,
            Some(&serde_json::json!({
                "seq": seq, "hash": hash, "reason": reason, "acknowledged": list.lines(),
                "records": records.len(), "changed_units": diff.len()
            })),
        )
        .await?;
        self.finish_publication(tx, &state, seq, &hash).await?;
        let info = PublicationInfo {
            year,
            seq,
            hash,
            published_at: at,
            published_by: actor.name.clone(),
            reason: reason.to_owned(),
            key_fingerprint: seal.map(lvzhi_seal::Seal::key_fingerprint),
        };
        Ok((info, diff, list))
    }

    /// Ends a publication's transaction: everyone is told, the period's state becomes published,
    /// the transaction commits, and the trail's head goes outside the database (the publication
    /// stands if the file cannot be written; the failure is logged for the operator).
    pub(crate) async fn finish_publication(
        &self,
        mut tx: WriteTx,
        state: &PeriodState,
        seq: i64,
        hash: &str,
    ) -> Result<()> {
        let id = state.info.id;
        notify(
            &mut tx,
            id,
            Audience::All,
            NoticeKind::PeriodPublished,
            &format!(
                "{}考核结果已发布（第 {seq} 版，快照 {}）",
                state.info.label(),
                &hash[..12]
            ),
            &format!("period:{id}"),
        )
        .await?;
        let mut next = crate::state::Next::new(state);
        next.info().status = PeriodStatus::Published;
        self.commit_with(tx, id, Some(next)).await?;
        if self.anchor.is_some()
            && let Err(e) = self
                .checkpoint(lvzhi_seal::CheckpointReason::Publication)
                .await
        {
            tracing::error!("发布后的审计检查点未能写出：{e}");
        }
        Ok(())
    }

    /// Writes a publication inside the caller's transaction: the snapshot's canonical body, its
    /// hash, its signature (where the store has a seal), its result in brief (for the offices
    /// above, unsigned: it is derived from the body's results) and the period's published state.
    /// Returns the hash and the seal that signed.
    pub(crate) async fn store_publication(
        &self,
        tx: &mut WriteTx,
        year: i64,
        seq: i64,
        (snapshot, summary): (&serde_json::Value, &Summary),
        reason: &str,
        actor: &Actor,
    ) -> Result<(String, Option<&lvzhi_seal::Seal>)> {
        let body = canonical_json(snapshot);
        let hash = sha256_hex(body.as_bytes());
        let seal = self.anchor.as_ref().map(|a| &a.seal);
        let signature = seal.map(|s| lvzhi_seal::base64(&s.sign(body.as_bytes())));
        let at = snapshot["published_at"].as_str().unwrap_or_default();
        sqlx::query(
            "INSERT INTO publications (year, seq, hash, body, published_at, published_by, reason, \
             signature, public_key, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(year)
        .bind(seq)
        .bind(&hash)
        .bind(&body)
        .bind(at)
        .bind(&actor.name)
        .bind(reason)
        .bind(&signature)
        .bind(seal.map(lvzhi_seal::Seal::public_key_pem))
        .bind(serde_json::to_string(summary).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .execute(&mut ***tx)
        .await?;
        sqlx::query(
            "UPDATE periods SET status = 'published', version = version + 1 WHERE year = $1",
        )
        .bind(year)
        .execute(&mut ***tx)
        .await?;
        Ok((hash, seal))
    }

    /// Reopens a published period for changes, with a reason.
    pub async fn reopen(&self, year: i64, reason: &str, actor: &Actor) -> Result<()> {
        let reason = lvzhi_core::input::reason(reason)
            .map_err(|p| StoreError::invalid("reason", format!("重新开放须说明理由：{p}")))?;
        let mut tx = self.begin_write().await?;
        let state = self.state_on(&mut tx, year).await?;
        crate::state::own_office(&state.info, actor)?;
        if let Some(y) = state.info.year_id {
            let of_year = self.state_on(&mut tx, y).await?;
            if of_year.info.status == PeriodStatus::Published {
                return Err(StoreError::Conflict(format!(
                    "{}已发布：须先重新开放年度，才能重新开放{}",
                    of_year.info.period_name(),
                    state.info.period_name()
                )));
            }
        }
        if state.info.status != PeriodStatus::Published {
            return Err(StoreError::Conflict(format!(
                "{}尚未发布，无需重新开放",
                state.info.period_name()
            )));
        }
        sqlx::query("UPDATE periods SET status = 'open', version = version + 1 WHERE year = $1")
            .bind(year)
            .execute(&mut **tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            AuditAction::PeriodReopen,
            &format!("period:{year}"),
            Some(&serde_json::json!({"status": "published"})),
            Some(&serde_json::json!({"status": "open", "reason": reason})),
        )
        .await?;
        notify(
            &mut tx,
            year,
            Audience::All,
            NoticeKind::PeriodReopened,
            &format!("{}考核已重新开放修改。理由：{reason}", state.info.label()),
            &format!("period:{year}"),
        )
        .await?;
        let mut next = crate::state::Next::new(&state);
        next.info().status = PeriodStatus::Open;
        self.commit_with(tx, year, Some(next)).await
    }

    /// The period's publications, oldest first.
    pub async fn publications(&self, year: i64) -> Result<Vec<PublicationInfo>> {
        sqlx::query(
            "SELECT year, seq, hash, published_at, published_by, reason, public_key FROM publications \
             WHERE year = $1 ORDER BY seq",
        )
        .bind(year)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(PublicationInfo {
                year: r.try_get("year")?,
                seq: r.try_get("seq")?,
                hash: r.try_get("hash")?,
                published_at: r.try_get("published_at")?,
                published_by: r.try_get("published_by")?,
                reason: r.try_get("reason")?,
                key_fingerprint: key_fingerprint(
                    r.try_get::<Option<String>, _>("public_key")?.as_deref(),
                ),
            })
        })
        .collect()
    }

    /// One publication's signature (`None`: it was published without a seal).
    pub async fn publication_signature(
        &self,
        year: i64,
        seq: i64,
    ) -> Result<Option<PublicationSignature>> {
        let row = sqlx::query(
            "SELECT signature, public_key FROM publications WHERE year = $1 AND seq = $2",
        )
        .bind(year)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("该考核期没有第 {seq} 次发布")))?;
        let signature: Option<String> = row.try_get("signature")?;
        let key: Option<String> = row.try_get("public_key")?;
        Ok(signature
            .zip(key)
            .map(|(signature_base64, public_key_pem)| PublicationSignature {
                algorithm: lvzhi_seal::ALGORITHM,
                fingerprint: key_fingerprint(Some(&public_key_pem)).unwrap_or_default(),
                public_key_pem,
                signature_base64,
            }))
    }

    /// One publication's snapshot body (canonical JSON, exactly as hashed).
    pub async fn publication(&self, year: i64, seq: i64) -> Result<String> {
        let body: Option<String> =
            sqlx::query("SELECT body FROM publications WHERE year = $1 AND seq = $2")
                .bind(year)
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        body.ok_or_else(|| StoreError::NotFound(format!("该考核期没有第 {seq} 次发布")))
    }

    /// Unit by unit, how publication `seq` differs from the one before it.
    pub async fn publication_diff(&self, year: i64, seq: i64) -> Result<Vec<UnitChange>> {
        let after = self.publication(year, seq).await?;
        if seq <= 1 {
            return Ok(Vec::new());
        }
        let before = self.publication(year, seq - 1).await?;
        let parse = |t: &str| {
            serde_json::from_str::<serde_json::Value>(t)
                .map_err(|e| StoreError::Corrupt(format!("发布快照无法读取：{e}")))
        };
        Ok(diff_snapshots(&parse(&before)?, &parse(&after)?))
    }

    /// The latest publication of a period, when it is published now.
    pub async fn current_publication(&self, year: i64) -> Result<Option<PublicationInfo>> {
        let state = self.state(year).await?;
        if state.info.status != PeriodStatus::Published {
            return Ok(None);
        }
        Ok(self.publications(year).await?.pop())
    }
}
