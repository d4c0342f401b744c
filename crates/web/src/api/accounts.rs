//! Accounts and what belongs to a person: logging in and out, one's own password, the users and
//! groups (the office), the audit trail, and one's notifications.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use lvzhi_core::access::{Action, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bad_query;
use crate::auth::{self, Authed, source_of};
use crate::extract::Body;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/session/password", post(change_password))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{name}", patch(patch_user))
        .route("/api/v1/groups/{name}", put(put_group))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/notifications/seen", post(seen))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

/// Logs in with a password; answers the user and sets the session cookie.
async fn login(
    State(s): State<AppState>,
    parts: axum::http::request::Parts,
    Body(body): Body<LoginBody>,
) -> Result<Response, ApiError> {
    // A page of another site must not log a browser in (and plant a session in it).
    if !auth::same_site(&parts, s.https) {
        return Err(ApiError::forbidden("跨站登录：请从本系统页面登录"));
    }
    let done = auth::login(
        &s,
        &source_of(&parts, &s.trusted_proxies),
        &body.username,
        &body.password,
    )
    .await?;
    Ok((
        [(header::SET_COOKIE, done.cookie)],
        Json(json!({"user": done.user, "told": done.told})),
    )
        .into_response())
}

/// Logs out: ends the session on the server and clears the cookie.
async fn logout(
    a: Authed,
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let clear = auth::logout(&s, &headers, &a).await?;
    Ok((
        [(header::SET_COOKIE, clear)],
        Json(json!({"logged_out": true})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    old_password: String,
    new_password: String,
}

/// Changes the logged-in user's own password.
async fn change_password(
    a: Authed,
    State(s): State<AppState>,
    Body(body): Body<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    s.store
        .change_password(
            &a.user.name,
            &body.old_password,
            &body.new_password,
            &a.actor,
        )
        .await?;
    Ok(Json(json!({"changed": true})))
}

async fn list_users(a: Authed, State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    a.check_any(&s, &[Action::ManageAccounts, Action::ManageSecurity])
        .await?;
    Ok(Json(json!({"users": s.store.users_for(&a.actor).await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    role: String,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// When absent, a password is generated and returned once. Either way it must be changed at
    /// the first login: it was set by someone else.
    #[serde(default)]
    password: Option<String>,
}

async fn create_user(
    a: Authed,
    State(s): State<AppState>,
    Body(b): Body<NewUserBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    a.check(&s, Action::ManageAccounts, None).await?;
    let role = Role::parse(&b.role).ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "role",
            format!("角色只能是 {}", Role::codes()),
        )
    })?;
    if !a.may_on_account(Action::ManageAccounts, role) {
        return Err(ApiError::forbidden(crate::auth::ADMINISTRATOR_ACCOUNTS));
    }
    let (password, generated) = match b.password {
        Some(p) => (p, false),
        None => (lvzhi_store::generate_password(), true),
    };
    let user = s
        .store
        .create_user(
            &b.username,
            role,
            b.unit.as_deref(),
            b.group.as_deref(),
            &password,
            true,
            &a.actor,
        )
        .await?;
    let shown = generated.then_some(password);
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user, "initial_password": shown})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchUserBody {
    #[serde(default)]
    disabled: Option<bool>,
    /// `true`: set a generated password (returned once, to be changed at the next login).
    #[serde(default)]
    reset_password: bool,
    /// `true`: lift a lock.
    #[serde(default)]
    unlock: bool,
    /// `true`: end every session and revoke every API token of the user.
    #[serde(default)]
    revoke_credentials: bool,
}

async fn patch_user(
    a: Authed,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<PatchUserBody>,
) -> Result<Json<Value>, ApiError> {
    let security = b.reset_password || b.unlock || b.revoke_credentials;
    // Disabling is the accounts' duty; enabling is a grant (the security administrator's when the
    // duties are separated).
    let toggle = match b.disabled {
        Some(false) => a.duties.to_enable(),
        _ => Action::ManageAccounts,
    };
    if b.disabled.is_some() {
        a.check(&s, toggle, None).await?;
    } else if !security {
        a.check(&s, Action::ManageAccounts, None).await?;
    }
    if security {
        a.check(&s, Action::ManageSecurity, None).await?;
    }
    let target = s
        .store
        .user_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("用户「{name}」不存在")))?;
    if b.disabled.is_some() {
        a.check_account(&s, toggle, &target).await?;
    }
    if security {
        a.check_account(&s, Action::ManageSecurity, &target).await?;
    }
    if b.disabled == Some(true) && name == a.user.name {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "disabled",
            "不能停用自己的账号",
        ));
    }
    if let Some(d) = b.disabled {
        s.store.set_disabled(&name, d, &a.actor).await?;
    }
    if b.unlock {
        s.store.unlock_user(&name, &a.actor).await?;
    }
    let mut revoked = None;
    if b.revoke_credentials {
        let (sessions, tokens) = s.store.revoke_credentials(&name, &a.actor).await?;
        revoked = Some(json!({"sessions": sessions, "tokens": tokens}));
    }
    let mut shown = None;
    if b.reset_password {
        let pw = lvzhi_store::generate_password();
        s.store.reset_password(&name, &pw, true, &a.actor).await?;
        shown = Some(pw);
    }
    let user = s
        .store
        .user_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("用户「{name}」不存在")))?;
    Ok(Json(
        json!({"user": user, "initial_password": shown, "revoked": revoked}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupBody {
    units: Vec<String>,
}

async fn put_group(
    a: Authed,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<GroupBody>,
) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ManageAccounts, None).await?;
    s.store.set_group_units(&name, &b.units, &a.actor).await?;
    Ok(Json(
        json!({"group": name, "units": s.store.group_units(&a.user.office, &name).await?}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    /// Also replay the tables against the trail (reads every record).
    #[serde(default)]
    full: bool,
}

/// The audit check: the chain, the service's checkpoints, and with `full=true` the tables replayed
/// against the trail.
async fn audit_verify(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ReadAudit, None).await?;
    let Query(q) = q.map_err(|e| bad_query(&e, "full"))?;
    let r = s.store.own_audit_report(q.full).await?;
    Ok(Json(json!({
        "sound": r.sound, "chain_intact": r.chain_intact, "tables_compared": r.tables_compared,
        "replayed": r.tables_compared, "verdict": r.verdict, "findings": r.lines,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    a.check(&s, Action::ReadAudit, None).await?;
    let Query(q) = q.map_err(|e| bad_query(&e, "before、limit"))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "limit",
            "limit 须在 1 到 500 之间",
        ));
    }
    let scope = lvzhi_store::audit_scope(a.actor.rights.as_ref());
    let entries = s
        .store
        .audit_search(q.before, limit, None, None, scope)
        .await?;
    let next = entries
        .last()
        .map(|e| e.id)
        .filter(|_| entries.len() as i64 == limit);
    Ok(Json(json!({"entries": entries, "next_before": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeQuery {
    year: Option<String>,
}

async fn notifications(
    a: Authed,
    State(s): State<AppState>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| bad_query(&e, "year"))?;
    let year = match q.year.as_deref() {
        Some(y) => a.period(&s, y).await?,
        None => s
            .store
            .current_period(a.rights())
            .await?
            .map_or(0, |p| p.id),
    };
    Ok(Json(json!(s.store.notices(&a.user, year).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeenBody {
    #[serde(deserialize_with = "crate::extract::version")]
    last_id: Option<i64>,
}

async fn seen(
    a: Authed,
    State(s): State<AppState>,
    Body(body): Body<SeenBody>,
) -> Result<Json<Value>, ApiError> {
    let last = body.last_id.ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "last_id",
            "last_id 须为不小于 0 的整数",
        )
    })?;
    s.store.mark_seen(&a.user.name, last).await?;
    Ok(Json(json!({"last_id": last})))
}
