//! 审计日志 (the trail, filtered, with the chain's verification) and 用户管理 (accounts and the units
//! each 督导组 supervises), for admins.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_core::access::Action;
use lvzhi_store::{Role, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{PageError, Viewer, encode_component, form_error, query, render};
use crate::AppState;

const AUDIT_PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    before: Option<String>,
    /// Set: also replay the tables against the trail (reads every record).
    full: Option<String>,
}

/// An audit action's name, by its stored code.
fn audit_label(code: &str) -> String {
    lvzhi_store::AuditAction::parse(code).map_or_else(|| code.to_owned(), |a| a.label().to_owned())
}

pub async fn audit(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ReadAudit, None).await?;
    let actor = q.actor.filter(|a| !a.is_empty());
    let action = q.action.filter(|a| !a.is_empty());
    let before = q.before.as_deref().and_then(|b| b.parse::<i64>().ok());
    let scope = lvzhi_store::audit_scope(v.authed.actor.rights.as_ref());
    let entries = s
        .store
        .audit_search(
            before,
            AUDIT_PAGE,
            actor.as_deref(),
            action.as_deref(),
            scope,
        )
        .await?;
    let full = q.full.is_some();
    let r = s.store.own_audit_report(full).await?;
    // A quick check that holds is not an alarm: only a broken chain or an unexplained row is.
    let report = json!({"ok": r.chain_intact && (r.sound || !r.tables_compared), "verdict": r.verdict,
                        "lines": r.lines, "full": full});
    let (actions, actors) = s.store.audit_facets(scope).await?;
    let next = entries
        .last()
        .map(|e| e.id)
        .filter(|_| entries.len() as i64 == AUDIT_PAGE);
    let mut base = Vec::new();
    if let Some(a) = &actor {
        base.push(format!("actor={}", encode_component(a)));
    }
    if let Some(a) = &action {
        base.push(format!("action={}", encode_component(a)));
    }
    let periods: std::collections::HashMap<i64, String> = s
        .store
        .periods()
        .await?
        .into_iter()
        .map(|p| (p.id, p.label()))
        .collect();
    let ctx = json!({
        "entries": entries.iter().map(|e| json!({
            "id": e.id, "at": e.at, "actor": e.actor, "source": e.source,
            "action": audit_label(&e.action),
            "action_code": e.action,
            "entity": crate::view::entity(&e.entity, &periods),
            "before": e.before.as_deref().map(crate::view::describe),
            "after": e.after.as_deref().map(crate::view::describe),
            "hash": &e.hash[..12.min(e.hash.len())],
        })).collect::<Vec<_>>(),
        "report": report,
        "filter": {"actor": actor, "action": action},
        "actions": actions.iter().map(|a| json!({
            "code": a,
            "label": audit_label(a),
        })).collect::<Vec<_>>(),
        "actors": actors, "next": next, "base": base.join("&"),
    });
    v.page("audit.html", "audit", "审计日志", None, ctx)
}

async fn users_context(s: &AppState, v: &Viewer) -> Result<Value, PageError> {
    let users = s.store.users_for(&v.authed.actor).await?;
    let groups = s.store.groups(&v.user().office).await?;
    let mut units: Vec<String> = Vec::new();
    for p in s.store.periods_of(&v.user().office).await? {
        for u in s.store.state(p.id).await?.units.iter() {
            if !units.contains(&u.name) {
                units.push(u.name.clone());
            }
        }
    }
    let (accounts, security) = (Action::ManageAccounts, Action::ManageSecurity);
    let separated = v.authed.duties == lvzhi_core::access::Duties::Separated;
    let roles: Vec<Value> = Role::ALL
        .iter()
        .filter(|r| v.authed.may_on_account(accounts, **r))
        .map(|r| json!({"value": r.code(), "label": r.label()}))
        .collect();
    Ok(json!({
        "users": users.iter().map(|u| json!({
            "name": u.name, "role": u.role.code(), "role_label": u.role.label(),
            "unit": u.unit, "group": u.group, "disabled": u.disabled,
            "must_change": u.must_change_password, "href": format!("/users/{}", encode_component(&u.name)),
            "manage": v.authed.may_on_account(accounts, u.role),
            "enable": v.authed.may_on_account(v.authed.duties.to_enable(), u.role),
            "secure": v.authed.may_on_account(security, u.role),
        })).collect::<Vec<_>>(),
        // With the duties separated, a disabled business account waits for the security
        // administrator's grant.
        "enable_label": if separated { "授权启用" } else { "启用" },
        "disabled_label": if separated { "已停用（待授权）" } else { "已停用" },
        "may_accounts": v.may(accounts, None),
        "may_security": v.may(security, None),
        "groups": groups.iter().map(|(g, u)| json!({"name": g, "units": u})).collect::<Vec<_>>(),
        "units": units,
        "roles": roles,
        "form": {}, "group_form": {},
    }))
}

pub async fn users(v: Viewer, State(s): State<AppState>) -> Result<Response, PageError> {
    v.authed
        .check_any(&s, &[Action::ManageAccounts, Action::ManageSecurity])
        .await
        .map_err(|e| v.error(e))?;
    let ctx = users_context(&s, &v).await?;
    v.page("users.html", "users", "用户管理", None, ctx)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    group: String,
}

fn notice(
    status: StatusCode,
    kind: &str,
    message: &str,
    field: Option<&str>,
) -> Result<Response, PageError> {
    let html = render(
        "notice.html",
        &json!({"kind": kind, "message": message, "field": field}),
    )?;
    Ok((status, html).into_response())
}

/// What a write on the users page came to.
struct Outcome {
    status: StatusCode,
    kind: &'static str,
    message: String,
    field: Option<String>,
}

impl Outcome {
    fn ok(status: StatusCode, message: String) -> Self {
        Outcome {
            status,
            kind: "ok",
            message,
            field: None,
        }
    }

    fn refused(message: String, field: Option<&str>) -> Self {
        Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "error",
            message,
            field: field.map(str::to_owned),
        }
    }
}

/// Which form of the users page an outcome belongs beside.
#[derive(Clone, Copy)]
enum UsersForm {
    Create,
    Action,
    Group,
}

/// The users page's body after a write or a refusal: the lists as they are now (so they update in
/// place), the outcome beside the form that asked, and that form's values kept only when refused.
async fn users_answer(
    s: &AppState,
    v: &Viewer,
    form: UsersForm,
    outcome: Outcome,
    kept: Value,
) -> Result<Response, PageError> {
    let Outcome {
        status,
        kind,
        message,
        field,
    } = outcome;
    let mut ctx = users_context(s, v).await?;
    let notice = render(
        "notice.html",
        &json!({"kind": kind, "message": message, "field": field}),
    )?;
    ctx["result"] = json!({"where": match form {
        UsersForm::Create => "create",
        UsersForm::Action => "action",
        UsersForm::Group => "group",
    }});
    ctx["result_html"] = json!(notice.0);
    if kind == "error" {
        match form {
            UsersForm::Create => ctx["form"] = kept,
            UsersForm::Group => ctx["group_form"] = kept,
            UsersForm::Action => {}
        }
    }
    Ok((status, render("users_body.html", &ctx)?).into_response())
}

/// Creates an account with a generated password, shown once, to be changed at first login.
pub async fn create_user(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<NewUserForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ManageAccounts, None).await?;
    let kept = json!({"username": f.username, "role": f.role, "unit": f.unit, "group": f.group});
    let answer = |outcome: Outcome| users_answer(&s, &v, UsersForm::Create, outcome, kept.clone());
    let role = match Role::parse(f.role.trim()) {
        None => {
            return answer(Outcome::refused("请选择角色".to_owned(), Some("role"))).await;
        }
        Some(role) if !v.authed.may_on_account(Action::ManageAccounts, role) => {
            let m = crate::auth::ADMINISTRATOR_ACCOUNTS.to_owned();
            return answer(Outcome::refused(m, Some("role"))).await;
        }
        Some(role) => role,
    };
    let password = lvzhi_store::generate_password();
    match s
        .store
        .create_user(
            f.username.trim(),
            role,
            Some(f.unit.as_str()),
            Some(f.group.as_str()),
            &password,
            true,
            &v.authed.actor,
        )
        .await
    {
        Ok(u) => {
            let m = format!(
                "已创建用户 {}{}，初始密码（只显示这一次，首次登录后须修改）：{password}",
                u.name,
                if u.disabled {
                    "（待安全管理员授权启用后才能登录）"
                } else {
                    ""
                }
            );
            answer(Outcome::ok(StatusCode::CREATED, m)).await
        }
        Err(StoreError::Invalid { field, message }) => {
            answer(Outcome::refused(message, Some(&field))).await
        }
        Err(StoreError::Conflict(m)) => answer(Outcome::refused(m, Some("username"))).await,
        Err(e) => Err(v.error(e)),
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    #[serde(default)]
    op: String,
}

/// Disables, enables or resets the password of an account.
pub async fn user_action(
    v: Viewer,
    State(s): State<AppState>,
    Path(name): Path<String>,
    form: Result<axum::Form<UserActionForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let action = match f.op.as_str() {
        "disable" => Action::ManageAccounts,
        "enable" => v.authed.duties.to_enable(),
        _ => Action::ManageSecurity,
    };
    v.check(&s, action, None).await?;
    let Some(target) = s.store.user_by_name(&name).await? else {
        return notice(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error",
            &format!("用户「{name}」不存在"),
            None,
        );
    };
    v.authed
        .check_account(&s, action, &target)
        .await
        .map_err(|e| v.error(e))?;
    let done = match f.op.as_str() {
        "disable" if name == v.user().name => {
            return notice(
                StatusCode::UNPROCESSABLE_ENTITY,
                "error",
                "不能停用自己的账号",
                None,
            );
        }
        "disable" => s
            .store
            .set_disabled(&name, true, &v.authed.actor)
            .await
            .map(|()| format!("已停用 {name}")),
        "enable" => s
            .store
            .set_disabled(&name, false, &v.authed.actor)
            .await
            .map(|()| format!("已启用 {name}")),
        "reset" => {
            let pw = lvzhi_store::generate_password();
            s.store
                .reset_password(&name, &pw, true, &v.authed.actor)
                .await
                .map(|()| {
                    format!("已重置 {name} 的密码，新密码（只显示这一次，登录后须修改）：{pw}")
                })
        }
        "unlock" => s
            .store
            .unlock_user(&name, &v.authed.actor)
            .await
            .map(|()| format!("已解锁 {name}")),
        "revoke" => s
            .store
            .revoke_credentials(&name, &v.authed.actor)
            .await
            .map(|(sessions, tokens)| {
                format!("已注销 {name} 的 {sessions} 个会话和 {tokens} 个 API 令牌")
            }),
        _ => {
            return notice(StatusCode::UNPROCESSABLE_ENTITY, "error", "未知操作", None);
        }
    };
    let outcome = match done {
        Ok(m) => Outcome::ok(StatusCode::OK, m),
        Err(StoreError::Invalid { message, .. } | StoreError::NotFound(message)) => {
            Outcome::refused(message, None)
        }
        Err(e) => return Err(v.error(e)),
    };
    users_answer(&s, &v, UsersForm::Action, outcome, Value::Null).await
}

#[derive(Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    group: String,
    /// Unit names, one per line (or separated by commas).
    #[serde(default)]
    units: String,
}

/// Sets the units a 督导组 supervises.
pub async fn set_group(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<GroupForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ManageAccounts, None).await?;
    let units: Vec<String> = f
        .units
        .split(['\n', ',', '，', '、'])
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    let kept = json!({"group": f.group, "units": f.units});
    let answer = |outcome: Outcome| users_answer(&s, &v, UsersForm::Group, outcome, kept.clone());
    let known = users_context(&s, &v).await?["units"].clone();
    if let Some(u) = units
        .iter()
        .find(|u| !known.as_array().is_some_and(|k| k.iter().any(|x| x == *u)))
    {
        let m = format!("名册中没有单位「{u}」");
        return answer(Outcome::refused(m, Some("units"))).await;
    }
    match s
        .store
        .set_group_units(&f.group, &units, &v.authed.actor)
        .await
    {
        Ok(()) => {
            let m = format!("已保存：{} 督导 {} 个单位", f.group.trim(), units.len());
            answer(Outcome::ok(StatusCode::OK, m)).await
        }
        Err(StoreError::Invalid { field, message }) => {
            answer(Outcome::refused(message, Some(&field))).await
        }
        Err(e) => Err(v.error(e)),
    }
}
