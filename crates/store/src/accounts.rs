//! Accounts: users with roles, argon2id password hashes, and API tokens.
//!
//! A token is shown once when created; only its SHA-256 is stored, so checking a token is one indexed
//! look-up and never a password hash. Passwords are hashed with argon2id (PHC strings, random salt).
//! Creating users and tokens writes an audit entry in the same transaction; no password or token ever
//! goes into the audit trail or a log.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditAction;
use crate::clock::parse_time;
use crate::{Actor, Result, Role, Store, StoreError, audit};

/// A user as the service sees it (never with its password hash).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// The office the account belongs to (its role applies there).
    pub office: String,
    pub role: Role,
    pub unit: Option<String>,
    pub group: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    /// For an assessor: the units its group supervises.
    pub supervises: Vec<String>,
}

/// A small local list of passwords too common to allow.
const COMMON: &str = include_str!("common-passwords.txt");

/// Passwords: at least 12 characters from at least 3 of lower case, upper case, digits, others, and
/// not on the list of common passwords.
pub fn check_password_policy(pw: &str) -> std::result::Result<(), String> {
    let lower = pw.to_lowercase();
    if COMMON.lines().any(|c| !c.starts_with('#') && c == lower) {
        return Err("该密码过于常见，容易被猜中，请换一个".to_owned());
    }
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if pw.chars().count() < 12 || classes < 3 {
        return Err(
            "密码至少 12 位，且须包含小写字母、大写字母、数字、其他符号中的至少三类".to_owned(),
        );
    }
    Ok(())
}

/// A random password that satisfies the policy.
pub fn generate_password() -> String {
    const SETS: [&[u8]; 4] = [
        b"abcdefghijkmnpqrstuvwxyz",
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"23456789",
        b"#%+-=@_",
    ];
    let mut out = String::new();
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    for (i, b) in bytes.iter().enumerate() {
        let set = SETS[i % 4];
        out.push(char::from(set[usize::from(*b) % set.len()]));
    }
    out
}

pub(crate) fn hash_password(pw: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("密码散列失败：{e}")))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn row_user(r: &sqlx::any::AnyRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        office: r.try_get("office")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("未知角色 {role}")))?,
        unit: r.try_get("unit")?,
        group: r.try_get("grp")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        supervises: Vec::new(),
    })
}

/// A session ends after this long without a request…
pub const SESSION_IDLE: time::Duration = time::Duration::minutes(30);
/// …and after this long in any case.
pub const SESSION_MAX: time::Duration = time::Duration::hours(12);

/// Consecutive failed logins that lock an account…
pub const MAX_FAILURES: i64 = 5;
/// …for this long.
pub const LOCK_FOR: time::Duration = time::Duration::minutes(15);

/// An argon2id hash of a random password, checked against when the user does not exist.
/// Password hashes computed by this process (each failed or successful login computes exactly
/// one; a test checks that no path skips it).
static PASSWORD_CHECKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many password hashes this process has computed for logins.
pub fn password_checks() -> u64 {
    PASSWORD_CHECKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Checks a password against a stored hash on a blocking thread (Argon2 takes milliseconds).
async fn verify_password(stored: String, password: &str) -> bool {
    PASSWORD_CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1wnYyJ3MVvBh9HqsLCJ5EXw1AjvbJTZJoe2Q3bDmJxY";

/// How long a token's check is trusted in one process.
pub const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

const USER_COLUMNS: &str = "id, name, office, role, unit, grp, must_change_password, disabled";

impl Store {
    /// Creates a user in the actor's own office (the operator's: the root). The password must
    /// satisfy the policy.
    #[allow(clippy::too_many_arguments)] // each is one field of the operation
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        unit: Option<&str>,
        group: Option<&str>,
        password: &str,
        must_change_password: bool,
        actor: &Actor,
    ) -> Result<User> {
        let office = actor
            .rights
            .as_ref()
            .map_or(crate::ROOT_OFFICE, |r| r.office.as_str())
            .to_owned();
        self.create_user_in(
            &office,
            name,
            role,
            unit,
            group,
            password,
            must_change_password,
            actor,
        )
        .await
    }

    /// Creates a user in `office`: the actor's own office or one below it (the 三员, who run the
    /// deployment, any office; the operator too).
    #[allow(clippy::too_many_arguments)] // each is one field of the operation
    pub async fn create_user_in(
        &self,
        office: &str,
        name: &str,
        role: Role,
        unit: Option<&str>,
        group: Option<&str>,
        password: &str,
        must_change_password: bool,
        actor: &Actor,
    ) -> Result<User> {
        let tree = self.office_tree().await?;
        if tree.get(office).is_none() {
            return Err(StoreError::invalid(
                "office",
                format!("没有代码为「{office}」的安委办"),
            ));
        }
        if let Some(r) = &actor.rights
            && !r.role.is_administrator()
            && r.office != office
            && !tree.below(&r.office).contains(office)
        {
            return Err(StoreError::Forbidden(
                "只能为本安委办或下级安委办建立账号".to_owned(),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > lvzhi_core::input::USERNAME_MAX {
            return Err(StoreError::invalid(
                "username",
                format!("用户名须为 1 到 {} 个字符", lvzhi_core::input::USERNAME_MAX),
            ));
        }
        if name.chars().any(lvzhi_core::input::is_hidden_control) {
            return Err(StoreError::invalid(
                "username",
                "用户名不能含有控制字符或文字方向控制符",
            ));
        }
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        let group = group.map(str::trim).filter(|g| !g.is_empty());
        if role == Role::Unit && unit.is_none() {
            return Err(StoreError::invalid("unit", "成员单位账号须指定所属单位"));
        }
        if role == Role::Assessor && group.is_none() {
            return Err(StoreError::invalid("group", "督导组账号须指定所属督导组"));
        }
        let unit = unit.filter(|_| role == Role::Unit);
        let group = group.filter(|_| role == Role::Assessor);
        check_password_policy(password).map_err(|m| StoreError::invalid("password", m))?;
        let hash = hash_password(password)?;
        let mut tx = self.begin_account_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("用户「{name}」已存在")));
        }
        let at = self.now();
        // With the duties separated, a business account an administrator creates waits, disabled,
        // for the security administrator's grant: no one administrator brings it into use alone.
        let pending = actor
            .rights
            .as_ref()
            .is_some_and(|r| r.duties.created_pending(role));
        sqlx::query(
            "INSERT INTO users (name, role, unit, grp, password_hash, must_change_password, disabled, \
             password_changed_at, created_at, office) VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7, $9)",
        )
        .bind(name)
        .bind(role.code())
        .bind(unit)
        .bind(group)
        .bind(&hash)
        .bind(i64::from(must_change_password))
        .bind(&at)
        .bind(i64::from(pending))
        .bind(office)
        .execute(&mut **tx)
        .await?;
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"))
            .bind(name)
            .fetch_one(&mut **tx)
            .await?;
        let user = row_user(&row)?;
        let after = serde_json::to_value(&user).unwrap_or_default();
        audit::append(
            &mut tx,
            actor,
            AuditAction::UserCreate,
            &format!("user:{name}"),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_user).transpose()
    }

    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// The user if the password is right (argon2id, run on a blocking thread); `None` otherwise,
    /// for an unknown user and a wrong password alike.
    pub async fn check_password(&self, name: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("password_hash")?;
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false);
        let user = row_user(&row)?;
        Ok((ok && !user.disabled).then_some(user))
    }

    /// Creates an API token for a user and returns it; it is not stored and cannot be shown again.
    pub async fn create_token(&self, user: &str, label: &str, actor: &Actor) -> Result<String> {
        let Some(u) = self.user_by_name(user).await? else {
            return Err(StoreError::NotFound(format!("用户「{user}」不存在")));
        };
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        let token = format!("lvz_{}", hex::encode(raw));
        let mut tx = self.begin_account_write().await?;
        sqlx::query(
            "INSERT INTO tokens (user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(u.id)
        .bind(sha256_hex(&token))
        .bind(label)
        .bind(self.now())
        .execute(&mut **tx)
        .await?;
        let after = serde_json::json!({"user": u.name, "label": label});
        audit::append(
            &mut tx,
            actor,
            AuditAction::TokenCreate,
            &format!("user:{}", u.name),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The user a token belongs to, if the token is valid and neither it nor the user is disabled.
    /// Answers are cached in this process for [`TOKEN_TTL`]: a token revoked or a user disabled
    /// elsewhere stops working here within that time.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let key = sha256_hex(token);
        if let Some((user, at)) = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            && at.elapsed() < TOKEN_TTL
        {
            return Ok(user.clone());
        }
        let user = match self.user_for_token_uncached(&key).await? {
            Some(u) => Some(self.with_groups(u).await?),
            None => None,
        };
        let mut cache = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(key, (user.clone(), std::time::Instant::now()));
        Ok(user)
    }

    async fn user_for_token_uncached(&self, token_hash: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.office, u.role, u.unit, u.grp, u.must_change_password, u.disabled \
             FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(row_user).transpose()
    }
}

/// Whether the account is locked at `now`, read inside the caller's write.
async fn locked_now(tx: &mut crate::WriteTx, id: i64, now: time::OffsetDateTime) -> Result<bool> {
    let until: Option<String> = sqlx::query("SELECT locked_until FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&mut ***tx)
        .await?
        .try_get(0)?;
    Ok(until
        .as_deref()
        .and_then(parse_time)
        .is_some_and(|t| t > now))
}

impl Store {
    /// A failed login: the count raised in the database (never written back from what was read,
    /// so parallel guesses on any instance each count), and the account locked for [`LOCK_FOR`]
    /// when the raised count reaches [`MAX_FAILURES`].
    async fn login_failed(
        &self,
        actor: &Actor,
        id: i64,
        now: time::OffsetDateTime,
    ) -> Result<Option<(User, String)>> {
        let entity = format!("user:{}", actor.name);
        let mut tx = self.begin_account_write().await?;
        sqlx::query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let failures: i64 = sqlx::query("SELECT failed_logins FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
        let action = if failures >= MAX_FAILURES {
            let until = now + LOCK_FOR;
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                .bind(crate::clock::format_time(until))
                .bind(id)
                .execute(&mut **tx)
                .await?;
            AuditAction::SessionLocked
        } else {
            AuditAction::SessionLoginFailed
        };
        let locked = action == AuditAction::SessionLocked;
        audit::append(&mut tx, actor, action, &entity, None, None).await?;
        tx.commit().await?;
        crate::activity::Counters::add(&self.counters.login_failures, 1);
        if locked {
            crate::activity::Counters::add(&self.counters.account_locks, 1);
        }
        Ok(None)
    }

    /// Logs a user in. One answer for an unknown user, a wrong password and a locked account;
    /// [`MAX_FAILURES`] consecutive failures lock the account for [`LOCK_FOR`]. Opens a session
    /// stored in the database and audits every attempt. A password older than `max_age_days` must be
    /// changed before the session can do anything else.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        source: &str,
        max_age_days: Option<i64>,
    ) -> Result<Option<(User, String)>> {
        let actor = Actor::new(name, source);
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash, failed_logins, locked_until, password_changed_at \
             FROM users WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let now_t = time::OffsetDateTime::now_utc();
        let who = &actor;
        let refuse = |action: AuditAction| async move {
            let mut tx = self.begin_account_write().await?;
            audit::append(&mut tx, who, action, &format!("user:{name}"), None, None).await?;
            tx.commit().await?;
            Ok(None)
        };
        // Every path computes one password hash, so that the time of an answer tells neither
        // whether a name exists nor whether its account is locked.
        let Some(row) = row else {
            let _ = verify_password(DUMMY_HASH.to_owned(), password).await;
            return refuse(AuditAction::SessionLoginFailed).await;
        };
        let stored: String = row.try_get("password_hash")?;
        let locked: Option<String> = row.try_get("locked_until")?;
        if locked
            .as_deref()
            .and_then(parse_time)
            .is_some_and(|t| t > now_t)
        {
            let _ = verify_password(stored, password).await;
            return refuse(AuditAction::SessionLoginLocked).await;
        }
        let ok = verify_password(stored, password).await;
        let mut user = row_user(&row)?;
        if !ok || user.disabled {
            return self.login_failed(&actor, user.id, now_t).await;
        }
        let changed: String = row.try_get("password_changed_at")?;
        let expired = max_age_days.is_some_and(|d| {
            parse_time(&changed).is_some_and(|c| now_t - c > time::Duration::days(d))
        });
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let at = self.now();
        let mut tx = self.begin_account_write().await?;
        // Parallel guesses may have locked the account since it was read: decided again here, on
        // the row as it is inside the write.
        if locked_now(&mut tx, user.id, now_t).await? {
            audit::append(
                &mut tx,
                &actor,
                AuditAction::SessionLoginLocked,
                &format!("user:{name}"),
                None,
                None,
            )
            .await?;
            tx.commit().await?;
            return Ok(None);
        }
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, must_change_password = $1 WHERE id = $2")
            .bind(i64::from(user.must_change_password || expired))
            .bind(user.id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, last_seen) VALUES ($1, $2, $3, $3)")
            .bind(sha256_hex(&id))
            .bind(user.id)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        audit::append(
            &mut tx,
            &actor,
            AuditAction::SessionLogin,
            &format!("user:{name}"),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        user.must_change_password |= expired;
        Ok(Some((self.with_groups(user).await?, id)))
    }

    /// Changes a user's password after checking the current one; clears "must change".
    pub async fn change_password(
        &self,
        name: &str,
        old: &str,
        new: &str,
        actor: &Actor,
    ) -> Result<()> {
        if self.check_password(name, old).await?.is_none() {
            return Err(StoreError::Forbidden("当前密码不正确".to_owned()));
        }
        if old == new {
            return Err(StoreError::invalid(
                "new_password",
                "新密码不能与当前密码相同",
            ));
        }
        check_password_policy(new).map_err(|m| StoreError::invalid("new_password", m))?;
        let hash = hash_password(new)?;
        let mut tx = self.begin_account_write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = 0 WHERE name = $3",
        )
        .bind(&hash)
        .bind(self.now())
        .bind(name)
        .execute(&mut **tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            AuditAction::UserPassword,
            &format!("user:{name}"),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        Ok(())
    }

    /// The user of a live session: not logged out, used within [`SESSION_IDLE`], younger than
    /// [`SESSION_MAX`]. Refreshes the session's last use at most once a minute.
    pub async fn user_for_session(&self, id: &str) -> Result<Option<User>> {
        let key = sha256_hex(id);
        let row = sqlx::query(
            "SELECT u.id, u.name, u.office, u.role, u.unit, u.grp, u.must_change_password, u.disabled, \
             s.created_at AS s_created, s.last_seen AS s_seen \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(&key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now_t = time::OffsetDateTime::now_utc();
        let created: String = row.try_get("s_created")?;
        let seen: String = row.try_get("s_seen")?;
        let (Some(created), Some(seen)) = (parse_time(&created), parse_time(&seen)) else {
            return Ok(None);
        };
        if now_t - seen > SESSION_IDLE || now_t - created > SESSION_MAX {
            return Ok(None);
        }
        if now_t - seen > time::Duration::minutes(1) {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
                .bind(self.now())
                .bind(&key)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(self.with_groups(row_user(&row)?).await?))
    }

    /// Fills in the units an assessor's group supervises.
    async fn with_groups(&self, mut user: User) -> Result<User> {
        if let (Role::Assessor, Some(g)) = (user.role, &user.group) {
            user.supervises = self.group_units(&user.office, g).await?;
        }
        Ok(user)
    }

    /// The units a group of `office` supervises, in name order.
    pub async fn group_units(&self, office: &str, group: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT unit FROM group_units WHERE office = $1 AND grp = $2 ORDER BY unit",
        )
        .bind(office)
        .bind(group)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Every 督导组 of `office` with the units it supervises, by name: groups with units, and
    /// groups that only have assessor accounts (with no units yet).
    pub async fn groups(&self, office: &str) -> Result<Vec<(String, Vec<String>)>> {
        let rows = sqlx::query(
            "SELECT grp, unit FROM group_units WHERE office = $1 \
             UNION SELECT grp, '' FROM users WHERE office = $1 AND grp IS NOT NULL AND grp <> '' \
             ORDER BY 1, 2",
        )
        .bind(office)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in &rows {
            let (g, u): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            if out.last().is_none_or(|(last, _)| *last != g) {
                out.push((g, Vec::new()));
            }
            if !u.is_empty()
                && let Some((_, units)) = out.last_mut()
            {
                units.push(u);
            }
        }
        Ok(out)
    }

    /// Sets the units a group of the actor's office supervises (replacing the previous list);
    /// the operator's are the root's.
    pub async fn set_group_units(
        &self,
        group: &str,
        units: &[String],
        actor: &Actor,
    ) -> Result<()> {
        self.set_group_units_in(None, group, units, actor).await
    }

    /// Sets the units a group of `office` supervises: an account sets its own office's groups
    /// only (naming another office is refused); the operator names any office (default: the root).
    /// Every unit must be in a roster of the office's periods; all unknown ones are named.
    pub async fn set_group_units_in(
        &self,
        office: Option<&str>,
        group: &str,
        units: &[String],
        actor: &Actor,
    ) -> Result<()> {
        let group = group.trim();
        if group.is_empty() {
            return Err(StoreError::invalid("group", "督导组名称不能为空"));
        }
        let own = actor.rights.as_ref().map(|r| r.office.as_str());
        let office = match (own, office) {
            (Some(o), Some(asked)) if o != asked => {
                return Err(StoreError::Forbidden("只能设置本安委办的督导组".to_owned()));
            }
            (Some(o), _) | (None, Some(o)) => o,
            (None, None) => crate::ROOT_OFFICE,
        };
        if self.office_tree().await?.get(office).is_none() {
            return Err(StoreError::NotFound(format!(
                "没有代码为「{office}」的安委办"
            )));
        }
        // Only units of some roster of the office's periods can be supervised.
        let known: std::collections::BTreeSet<String> = sqlx::query(
            "SELECT DISTINCT u.name FROM period_units u JOIN periods p ON p.year = u.year \
             WHERE p.office = $1",
        )
        .bind(office)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?;
        let unknown: Vec<&str> = units
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty() && !known.contains(*u))
            .collect();
        if !unknown.is_empty() {
            return Err(StoreError::invalid(
                "units",
                format!("名册中没有单位「{}」", unknown.join("」「")),
            ));
        }
        let before = self.group_units(office, group).await?;
        let mut tx = self.begin_account_write().await?;
        sqlx::query("DELETE FROM group_units WHERE office = $1 AND grp = $2")
            .bind(office)
            .bind(group)
            .execute(&mut **tx)
            .await?;
        let mut clean: Vec<String> = units
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        clean.sort();
        clean.dedup();
        for u in &clean {
            sqlx::query("INSERT INTO group_units (office, grp, unit) VALUES ($1, $2, $3)")
                .bind(office)
                .bind(group)
                .bind(u)
                .execute(&mut **tx)
                .await?;
        }
        audit::append(
            &mut tx,
            actor,
            AuditAction::GroupSet,
            &group_entity(office, group),
            Some(&serde_json::json!(before)),
            Some(&serde_json::json!(clean)),
        )
        .await?;
        tx.commit().await?;
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        Ok(())
    }

    /// Records a refused operation in the audit trail.
    pub async fn audit_refusal(&self, actor: &Actor, what: &str, target: &str) -> Result<()> {
        let mut tx = self.begin_account_write().await?;
        let after = serde_json::json!({"refused": what});
        audit::append(
            &mut tx,
            actor,
            AuditAction::AuthzRefused,
            target,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Every account, by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_user).collect()
    }

    /// Disables or re-enables an account; a disabled account's tokens and sessions stop working.
    pub async fn set_disabled(&self, name: &str, disabled: bool, actor: &Actor) -> Result<()> {
        let action = if disabled {
            AuditAction::UserDisable
        } else {
            // Enabling is a grant: with the duties separated, the security administrator's.
            // (An account's role never changes, so reading it first decides on the row as it is.)
            if let Some(rights) = &actor.rights
                && let Some(target) = self.user_by_name(name).await?
            {
                let grant = rights.duties.to_enable();
                actor.require_on_account(grant, target.role, || {
                    format!(
                        "无权启用账号「{name}」：三员分立时，启用（授权）业务账号是安全管理员的职责"
                    )
                })?;
            }
            AuditAction::UserEnable
        };
        self.update_user(
            name,
            "disabled = $2",
            Some(i64::from(disabled)),
            action,
            actor,
        )
        .await
    }

    /// The offices whose accounts `actor` manages: its own and those below (`None`: all — the
    /// operator, and the 三员, who run the deployment).
    async fn reach(&self, actor: &Actor) -> Result<Option<std::collections::HashSet<String>>> {
        let Some(r) = actor.rights.as_ref().filter(|r| !r.role.is_administrator()) else {
            return Ok(None);
        };
        let mut reach = self.office_tree().await?.below(&r.office);
        reach.insert(r.office.clone());
        Ok(Some(reach))
    }

    /// Refuses, inside the write, a change to an account outside the actor's reach, as if the
    /// account did not exist.
    async fn require_reach(
        &self,
        tx: &mut crate::WriteTx,
        name: &str,
        actor: &Actor,
    ) -> Result<()> {
        let Some(reach) = self.reach(actor).await? else {
            return Ok(());
        };
        let office: Option<String> = sqlx::query("SELECT office FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut ***tx)
            .await?
            .map(|r| r.try_get("office"))
            .transpose()?;
        match office {
            Some(o) if reach.contains(&o) => Ok(()),
            _ => Err(StoreError::NotFound(format!("用户「{name}」不存在"))),
        }
    }

    /// The accounts `viewer` may see: its own office's and those below (all for the operator and
    /// the 三员).
    pub async fn users_for(&self, viewer: &Actor) -> Result<Vec<User>> {
        let all = self.users().await?;
        Ok(match self.reach(viewer).await? {
            None => all,
            Some(reach) => all
                .into_iter()
                .filter(|u| reach.contains(&u.office))
                .collect(),
        })
    }

    /// One change to an account's row (`set` binds `$2` to `value` when given), with its audit
    /// entry, in one write; the account must exist.
    async fn update_user(
        &self,
        name: &str,
        set: &str,
        value: Option<i64>,
        action: AuditAction,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_account_write().await?;
        self.require_reach(&mut tx, name, actor).await?;
        let sql = format!("UPDATE users SET {set} WHERE name = $1");
        let mut q = sqlx::query(&sql).bind(name);
        if let Some(v) = value {
            q = q.bind(v);
        }
        if q.execute(&mut **tx).await?.rows_affected() != 1 {
            return Err(StoreError::NotFound(format!("用户「{name}」不存在")));
        }
        audit::append(&mut tx, actor, action, &format!("user:{name}"), None, None).await?;
        tx.commit().await?;
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        Ok(())
    }

    /// Sets a password for a user (an administrator's reset); with `must_change`, it must be changed
    /// at the next login. Also lifts a lock.
    pub async fn reset_password(
        &self,
        name: &str,
        password: &str,
        must_change: bool,
        actor: &Actor,
    ) -> Result<()> {
        check_password_policy(password).map_err(|m| StoreError::invalid("password", m))?;
        let hash = hash_password(password)?;
        let mut tx = self.begin_account_write().await?;
        self.require_reach(&mut tx, name, actor).await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = $3, \
             failed_logins = 0, locked_until = NULL WHERE name = $4",
        )
        .bind(&hash)
        .bind(self.now())
        .bind(i64::from(must_change))
        .bind(name)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound(format!("用户「{name}」不存在")));
        }
        audit::append(
            &mut tx,
            actor,
            AuditAction::UserPasswordReset,
            &format!("user:{name}"),
            None,
            None,
        )
        .await?;
        // Told to the holder: at the next login and in the notices.
        let at = crate::clock::beijing_minute(&tx.now());
        let message = format!(
            "您的密码已于 {at} 由 {} 重置{}。如非本人申请，请立即联系本安委办的安全管理员。",
            actor.name,
            if must_change {
                "，登录后须先修改"
            } else {
                ""
            }
        );
        crate::notices::notify(
            &mut tx,
            crate::notices::NO_PERIOD,
            crate::notices::Audience::Account(name),
            crate::notices::NoticeKind::PasswordReset,
            &message,
            &format!("user:{name}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lifts a lock (the failed-login count starts again), without touching the password.
    pub async fn unlock_user(&self, name: &str, actor: &Actor) -> Result<()> {
        let set = "failed_logins = 0, locked_until = NULL";
        self.update_user(name, set, None, AuditAction::UserUnlock, actor)
            .await
    }

    /// Ends every session and revokes every API token of a user (a lost laptop, a leaked token):
    /// answers how many of each.
    pub async fn revoke_credentials(&self, name: &str, actor: &Actor) -> Result<(u64, u64)> {
        // An account's own session and tokens end by logging out; revoking them here would lock
        // its holder out mid-request, with nobody told.
        if actor.rights.is_some() && actor.name == name {
            return Err(StoreError::invalid(
                "revoke_credentials",
                "不能注销自己的会话与令牌：请用“退出”结束本次登录；如令牌泄露，请由另一名管理员注销",
            ));
        }
        let mut tx = self.begin_account_write().await?;
        self.require_reach(&mut tx, name, actor).await?;
        let id: i64 = sqlx::query("SELECT id FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("用户「{name}」不存在")))?
            .try_get(0)?;
        let now = self.now();
        let sessions = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(&now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        let tokens = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(&now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        audit::append(
            &mut tx,
            actor,
            AuditAction::CredentialsRevoke,
            &format!("user:{name}"),
            None,
            Some(&serde_json::json!({"sessions": sessions, "tokens": tokens})),
        )
        .await?;
        tx.commit().await?;
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        Ok((sessions, tokens))
    }

    /// Ends a session on the server (the cookie alone is then worthless).
    pub async fn logout(&self, id: &str, actor: &Actor) -> Result<bool> {
        let mut tx = self.begin_account_write().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        )
        .bind(self.now())
        .bind(sha256_hex(id))
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            audit::append(
                &mut tx,
                actor,
                AuditAction::SessionLogout,
                &format!("user:{}", actor.name),
                None,
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}

/// A group's entity in the audit trail: `group:NAME` for the root's (as before offices),
/// `group:OFFICE/NAME` for another office's.
fn group_entity(office: &str, group: &str) -> String {
    if office == crate::ROOT_OFFICE {
        format!("group:{group}")
    } else {
        format!("group:{office}/{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password_policy("short1A!").is_err());
        assert!(check_password_policy("alllowercaseletters").is_err());
        assert!(check_password_policy("lowerUPPER1234").is_ok());
        assert!(check_password_policy("lower1234-5678").is_ok());
        for _ in 0..20 {
            assert!(check_password_policy(&generate_password()).is_ok());
        }
        assert!(check_password_policy("Admin@123456").is_err(), "common");
        assert!(
            check_password_policy("P@SSW0RD1234").is_err(),
            "common, any case"
        );
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses"
        );
    }
}
