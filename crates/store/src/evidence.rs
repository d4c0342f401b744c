//! Evidence attachments of records: stored once per content (SHA-256) in the database, where every
//! instance of the service and every backup reaches them; linked to records by name. The type is
//! decided by the content (magic bytes, and the names inside a zip), never by the file name; the size
//! is limited. Attachments are append-only and every upload is audited.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::{Actor, Result, Store, StoreError, audit};

/// The largest attachment accepted.
pub const MAX_ATTACHMENT: usize = 20 << 20;

/// An attachment as listed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredAttachment {
    pub id: i64,
    pub record_id: i64,
    pub hash: String,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// The type of a file by its content, if it is one the office exchanges.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    let zip_has = |name: &[u8]| data.windows(name.len()).take(1 << 20).any(|w| w == name);
    if data.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if data.starts_with(b"PK\x03\x04") {
        if zip_has(b"word/document.xml") {
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        } else if zip_has(b"xl/workbook.xml") {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else if zip_has(b"OFD.xml") {
            Some("application/ofd")
        } else {
            None
        }
    } else if data.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        Some("application/x-ole-storage")
    } else {
        None
    }
}

fn clean_name(name: &str) -> Result<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty()
        || base.chars().count() > 200
        || base
            .chars()
            .any(|c| c.is_control() || lvzhi_core::input::is_bidi_control(c))
    {
        return Err(StoreError::invalid(
            "name",
            "文件名无效（不能为空、至多 200 字、不含控制字符或文字方向控制符）",
        ));
    }
    Ok(base.to_owned())
}

fn row_attachment(r: &sqlx::any::AnyRow) -> Result<StoredAttachment> {
    Ok(StoredAttachment {
        id: r.try_get("id")?,
        record_id: r.try_get("record_id")?,
        hash: r.try_get("hash")?,
        name: r.try_get("name")?,
        size: r.try_get("size")?,
        mime: r.try_get("mime")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

const LIST: &str = "SELECT a.id, a.record_id, a.hash, a.name, b.size, b.mime, a.uploaded_by, a.uploaded_at \
     FROM attachments a JOIN blobs b ON b.hash = a.hash";

impl Store {
    /// Attaches a file to a record of the period.
    pub async fn add_attachment(
        &self,
        year: i64,
        record_id: i64,
        name: &str,
        data: &[u8],
        actor: &Actor,
    ) -> Result<StoredAttachment> {
        let name = clean_name(name)?;
        if data.is_empty() {
            return Err(StoreError::invalid("file", "文件为空"));
        }
        if data.len() > MAX_ATTACHMENT {
            return Err(StoreError::invalid(
                "file",
                format!(
                    "文件过大：{} KB，上限 {} MB",
                    data.len() / 1024,
                    MAX_ATTACHMENT >> 20
                ),
            ));
        }
        let mime = sniff(data).ok_or_else(|| {
            StoreError::invalid(
                "file",
                "文件类型不允许（按内容判断）：只接受 PDF、PNG、JPEG、Word、Excel、OFD 文件",
            )
        })?;
        let hash = hex::encode(Sha256::digest(data));
        let (mut tx, state) = self.write_period(year, actor).await?;
        if state.locate(record_id).is_none() {
            return Err(StoreError::NotFound(format!(
                "{}没有记录 #{record_id}",
                state.info.period_name()
            )));
        }
        let at = self.now();
        let known = sqlx::query("SELECT hash FROM blobs WHERE hash = $1")
            .bind(&hash)
            .fetch_optional(&mut **tx)
            .await?;
        if known.is_none() {
            // Two periods' writes run at once on PostgreSQL: the same file may arrive in both.
            sqlx::query(
                "INSERT INTO blobs (hash, size, mime, data, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (hash) DO NOTHING",
            )
                .bind(&hash)
                .bind(data.len() as i64)
                .bind(mime)
                .bind(data.to_vec())
                .bind(&at)
                .execute(&mut **tx)
                .await?;
        }
        let row = sqlx::query(
            "INSERT INTO attachments (year, record_id, hash, name, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(year)
        .bind(record_id)
        .bind(&hash)
        .bind(&name)
        .bind(&actor.name)
        .bind(&at)
        .fetch_one(&mut **tx)
        .await?;
        let stored = StoredAttachment {
            id: row.try_get(0)?,
            record_id,
            hash,
            name,
            size: data.len() as i64,
            mime: mime.to_owned(),
            uploaded_by: actor.name.clone(),
            uploaded_at: at,
        };
        audit::append(
            &mut tx,
            actor,
            AuditAction::AttachmentAdd,
            &format!("record:{record_id}"),
            None,
            Some(&serde_json::to_value(&stored).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The attachments of a record, oldest first.
    pub async fn attachments(&self, year: i64, record_id: i64) -> Result<Vec<StoredAttachment>> {
        let rows = sqlx::query(&format!(
            "{LIST} WHERE a.year = $1 AND a.record_id = $2 ORDER BY a.id"
        ))
        .bind(year)
        .bind(record_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_attachment).collect()
    }

    /// The attachments of a period's records, all of them or those of one unit's records, oldest
    /// first (one query for a whole score sheet).
    pub async fn attachments_of(
        &self,
        year: i64,
        unit: Option<&str>,
    ) -> Result<Vec<StoredAttachment>> {
        let rows = sqlx::query(&format!(
            "{LIST} JOIN records r ON r.id = a.record_id \
             WHERE a.year = $1 AND ($2 = '' OR r.unit = $2) ORDER BY a.id"
        ))
        .bind(year)
        .bind(unit.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_attachment).collect()
    }

    /// An attachment's description and content, by its id within a period.
    pub async fn attachment(&self, year: i64, id: i64) -> Result<(StoredAttachment, Vec<u8>)> {
        let row = sqlx::query(&format!("{LIST} WHERE a.year = $1 AND a.id = $2"))
            .bind(year)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("该考核期没有附件 #{id}")))?;
        let a = row_attachment(&row)?;
        let data: Vec<u8> = sqlx::query("SELECT data FROM blobs WHERE hash = $1")
            .bind(&a.hash)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok((a, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_content() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert!(sniff(b"PK\x03\x04....word/document.xml").is_some_and(|m| m.contains("word")));
        assert_eq!(sniff(b"PK\x03\x04....evil.exe"), None);
        assert_eq!(sniff(b"MZ\x90\x00 a program"), None);
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(
            clean_name("C:\\docs\\通报.pdf").as_deref().ok(),
            Some("通报.pdf")
        );
        assert!(clean_name("  ").is_err());
        assert!(clean_name("a\u{0}b").is_err());
    }
}
