//! The lifecycle in the pages: confirming records (one, or every pending one shown), a unit's appeal
//! and the office's decision on a record's page, 通知 (notifications and reminders) for everyone, and
//! 发布 for the office (the check list, the appeal windows, publish, the history of publications
//! with their hashes and differences, reopen). Every transition is the store's; this module only
//! checks the permission matrix, shows and asks.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_core::access::Action;
use lvzhi_core::{Decision, NewRecord, RecordStatus};
use lvzhi_store::{RecordQuery, StoreError, StoredRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ledger::target;
use super::{PageError, Viewer, YearQuery, encode_component, form_error, query, render, year_of};
use crate::extract::{AppealRecord, ConfirmRecord, DecideRecord, RecordTarget};
use crate::{ApiError, AppState};

/// What the record page offers for the record's lifecycle, and its appeal: only what the viewer
/// may do now.
pub(super) fn record_context(
    v: &Viewer,
    s: &AppState,
    y: &super::Year,
    rec: &StoredRecord,
) -> Value {
    let state = &y.state;
    let appeal = state.appeals.iter().find(|a| a.record_id == rec.id);
    let now = s.store.now();
    let deadline = lvzhi_store::appeal_deadline(rec, state.info.appeal_days);
    let window_open = deadline.as_deref().is_some_and(|d| d >= now.as_str());
    let open = state.info.is_open();
    // The replacement of a changed decision is final: no appeal window to speak of.
    let final_change = rec.replaces.is_some_and(|p| {
        state
            .locate(p)
            .is_some_and(|(_, r)| r.status == RecordStatus::Changed)
    });
    let appealable = rec.status == RecordStatus::Confirmed && appeal.is_none() && !final_change;
    json!({
        "status_label": rec.status.label(),
        "confirmed_by": rec.confirmed_by,
        "confirmed_at": rec.confirmed_at,
        "appeal_deadline": deadline.clone().filter(|_| appealable && open),
        // Publication ends every appeal window still open (said on the 发布 page and in the 通报).
        "window_ended_by_publication": (!open && appealable && window_open).then_some(deadline),
        "appeal_days": state.info.appeal_days,
        "final": final_change,
        "appeal": appeal.map(|a| json!({
            "reason": a.reason, "by": a.appealed_by, "at": a.appealed_at, "deadline": a.deadline,
            "overdue": a.is_overdue(&now),
            "decision": a.decision.map(Decision::label),
            "decision_reason": a.decision_reason, "decided_by": a.decided_by, "decided_at": a.decided_at,
            "replacement": a.replacement,
        })),
        "can_confirm": open && rec.status == RecordStatus::Recorded && v.may(Action::ConfirmRecords, Some(&rec.unit)),
        "can_appeal": open && appealable && window_open && v.may(Action::Appeal, Some(&rec.unit)),
        "window_closed": appealable && (!window_open || !open) && v.may(Action::Appeal, Some(&rec.unit)),
        "can_decide": open && rec.status == RecordStatus::Appealed && v.may(Action::DecideAppeals, Some(&rec.unit)),
        "published": !open,
    })
}

fn refused(message: &str, field: &str) -> Result<Response, PageError> {
    let html = render(
        "notice.html",
        &json!({"kind": "error", "field": field, "message": message}),
    )?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// A store refusal shown next to the form; anything else as an error.
fn answer(v: &Viewer, e: StoreError) -> Result<Response, PageError> {
    match e {
        StoreError::Invalid { field, message } => refused(&message, &field),
        StoreError::Conflict(m) | StoreError::Forbidden(m) => refused(&m, ""),
        other => Err(v.error(other)),
    }
}

/// 确认: one record.
pub async fn confirm(
    v: Viewer,
    t: Result<RecordTarget<ConfirmRecord>, ApiError>,
    State(s): State<AppState>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    match s
        .store
        .confirm_records(t.year, &[t.id], None, &v.authed.actor)
        .await
    {
        Ok(_) => Ok(v.redirect(&format!("/records/{}?year={}", t.id, t.state.info.key))),
        Err(e) => answer(&v, e),
    }
}

#[derive(Deserialize)]
pub struct ConfirmAllForm {
    /// The filter of the list the button was on.
    #[serde(default)]
    unit: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    q: String,
}

/// 确认筛选出的记录: every pending record the list's filter shows, in one transaction; the list
/// then shows again with the count confirmed.
pub async fn confirm_all(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<axum::Form<ConfirmAllForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let q = query(q).map_err(|e| v.error(e))?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ConfirmRecords, None).await?;
    let y = year_of(&v, &s, q.year.as_deref())
        .await
        .map_err(|e| v.error(e))?;
    let some = |x: &str| Some(x.trim().to_owned()).filter(|x| !x.is_empty());
    let filter = RecordQuery {
        unit: some(&f.unit),
        rule: some(&f.rule),
        q: some(&f.q),
        ..RecordQuery::default()
    };
    match s
        .store
        .confirm_matching(y.id, &filter, &v.authed.actor)
        .await
    {
        Ok(n) => {
            let mut to = format!("/records?year={}&status=recorded&confirmed={n}", y.year);
            for (k, val) in [
                ("unit", &filter.unit),
                ("rule", &filter.rule),
                ("q", &filter.q),
            ] {
                if let Some(val) = val {
                    to = format!("{to}&{k}={}", encode_component(val));
                }
            }
            Ok(v.redirect(&to))
        }
        Err(e) => answer(&v, e),
    }
}

#[derive(Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    reason: String,
}

/// 申诉: a unit's appeal of its own confirmed record.
pub async fn appeal(
    v: Viewer,
    t: Result<RecordTarget<AppealRecord>, ApiError>,
    State(s): State<AppState>,
    form: Result<axum::Form<AppealForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let Some(unit) = v.authed.user.unit.clone() else {
        return Err(v.error(PageError::new(
            StatusCode::FORBIDDEN,
            "该账号未绑定成员单位，不能申诉",
        )));
    };
    match s
        .store
        .appeal(t.year, t.id, &unit, &f.reason, &v.authed.actor)
        .await
    {
        Ok(_) => Ok(v.redirect(&format!("/records/{}?year={}", t.id, t.state.info.key))),
        Err(e) => answer(&v, e),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// For 改判: the replacement's clause, count, points and date (the unit is the record's).
    #[serde(default)]
    rule: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    date: String,
}

/// 申诉决定: the office upholds, revokes or changes an appealed record.
pub async fn decide(
    v: Viewer,
    t: Result<RecordTarget<DecideRecord>, ApiError>,
    State(s): State<AppState>,
    form: Result<axum::Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let rec = s.store.record(t.year, t.id).await.map_err(|e| v.error(e))?;
    let year = t.year;
    let Some(decision) = Decision::parse(&f.decision) else {
        return refused("请选择决定：维持、撤销或改判", "decision");
    };
    let nonempty = |t: &str| Some(t.trim().to_owned()).filter(|x| !x.is_empty());
    let replacement = (decision == Decision::Changed).then(|| NewRecord {
        unit: rec.unit.clone(),
        rule: nonempty(&f.rule).unwrap_or_else(|| rec.rule.clone()),
        count: nonempty(&f.count),
        points: nonempty(&f.points),
        date: nonempty(&f.date).or_else(|| rec.date.clone()),
        source: rec.source.clone(),
        note: format!("申诉改判，原记录 #{}", rec.id),
    });
    // Every wrong field at once (a pre-check; the store checks again in the write).
    let mut problems = Vec::new();
    if let Err(p) = lvzhi_core::input::reason(&f.reason) {
        problems.push(json!({"field": "reason", "label": "决定理由", "message": p.to_string()}));
    }
    if let Some(r) = &replacement
        && let Some(rule) = t.state.rubric.rule_by_code(r.rule.trim())
    {
        for e in lvzhi_core::ledger::field_problems(&t.state.rubric, rule, &r.fields()) {
            problems.push(json!({"field": e.field.column(), "label": e.field.label(), "message": e.problem.to_string()}));
        }
    }
    if !problems.is_empty() {
        let html = render("notice.html", &json!({"problems": problems}))?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    match s
        .store
        .decide(
            year,
            rec.id,
            decision,
            &f.reason,
            replacement.as_ref(),
            &v.authed.actor,
        )
        .await
    {
        Ok((_, Some(new))) => Ok(v.redirect(&format!(
            "/records/{}?year={}&decided=1",
            new.id, t.state.info.key
        ))),
        Ok((_, None)) => Ok(v.redirect(&format!(
            "/records/{}?year={}&decided=1",
            rec.id, t.state.info.key
        ))),
        Err(e) => answer(&v, e),
    }
}

/// 通知: the user's notices (newest first) and what is due now.
pub async fn notices(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let n = s.store.notices(&v.authed.user, y.id).await?;
    let last = n.items.iter().filter_map(|x| x.id).max().unwrap_or(0);
    let ctx = json!({
        "unread": n.unread,
        "items": n.items.iter().map(|x| json!({
            "message": x.message, "at": x.at, "unread": x.unread, "kind": x.kind_label,
            "href": x.entity.strip_prefix("record:").map(|id| format!("/records/{id}?year={}", y.year)),
        })).collect::<Vec<_>>(),
        "reminders": n.reminders.iter().map(|x| json!({"message": x.message, "kind": x.kind_label})).collect::<Vec<_>>(),
        "last": last,
    });
    v.page("notices.html", "notices", "通知", Some(&y), ctx)
}

#[derive(Deserialize)]
pub struct SeenForm {
    #[serde(default)]
    last: String,
}

/// 全部标为已读.
pub async fn seen(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<SeenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let last = f.last.trim().parse::<i64>().unwrap_or(0);
    s.store
        .mark_seen(&v.authed.user.name, last)
        .await
        .map_err(|e| v.error(e))?;
    Ok(v.redirect("/notifications"))
}

/// The period and the form of an office write on the 发布 page, once the user may manage periods.
async fn office_form<F>(
    v: &Viewer,
    s: &AppState,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<axum::Form<F>, axum::extract::rejection::FormRejection>,
) -> Result<(super::Year, F), PageError> {
    let q = query(q).map_err(|e| v.error(e))?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(s, Action::ManagePeriods, None).await?;
    let y = year_of(v, s, q.year.as_deref())
        .await
        .map_err(|e| v.error(e))?;
    Ok((y, f))
}

/// 发布: the check list, the appeal windows, publish and reopen, and the publications.
pub async fn publish_page(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let list = s.store.checklist(y.id).await?;
    let pubs = s.store.publications(y.id).await?;
    let overdue = y
        .state
        .appeals
        .iter()
        .filter(|a| a.is_overdue(&s.store.now()))
        .count();
    let ctx = json!({
        "status": y.state.info.status,
        "appeal_days": y.state.info.appeal_days,
        "decision_days": y.state.info.decision_days,
        "clear": list.is_clear(),
        "pending": list.pending_records.len(),
        "appeals": list.open_appeals.len(),
        "overdue": overdue,
        "windows": list.open_windows.len(),
        "windows_end": list.windows_end,
        "windows_first": list.open_windows.first(),
        "incomplete": list.incomplete.iter().take(30).collect::<Vec<_>>(),
        "incomplete_total": list.incomplete.len(),
        "fingerprint_label": lvzhi_store::KEY_FINGERPRINT_LABEL,
        "publications": pubs.iter().rev().map(|p| json!({
            "seq": p.seq, "hash": p.hash, "at": p.published_at, "by": p.published_by, "reason": p.reason,
            "signature": p.key_fingerprint,
        })).collect::<Vec<_>>(),
    });
    v.page("publish.html", "publish", "发布", Some(&y), ctx)
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    acknowledge: Option<String>,
}

pub async fn publish(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<axum::Form<PublishForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let (y, f) = office_form(&v, &s, q, form).await?;
    match s
        .store
        .publish(y.id, &f.reason, f.acknowledge.is_some(), &v.authed.actor)
        .await
    {
        Ok((p, _, _)) => Ok(v.redirect(&format!("/publish/{}?year={}", p.seq, y.year))),
        Err(e) => answer(&v, e),
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

pub async fn reopen(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<axum::Form<ReasonForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let (y, f) = office_form(&v, &s, q, form).await?;
    match s.store.reopen(y.id, &f.reason, &v.authed.actor).await {
        Ok(()) => Ok(v.redirect(&format!("/publish?year={}", y.year))),
        Err(e) => answer(&v, e),
    }
}

#[derive(Deserialize)]
pub struct WindowsForm {
    #[serde(default)]
    appeal_days: String,
    #[serde(default)]
    decision_days: String,
}

pub async fn windows(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<axum::Form<WindowsForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let (y, f) = office_form(&v, &s, q, form).await?;
    let (Ok(a), Ok(d)) = (
        f.appeal_days.trim().parse::<i64>(),
        f.decision_days.trim().parse::<i64>(),
    ) else {
        return refused("天数须为 0 到 365 之间的整数", "appeal_days");
    };
    match s.store.set_windows(y.id, a, d, &v.authed.actor).await {
        Ok(()) => Ok(v.redirect(&format!("/publish?year={}", y.year))),
        Err(e) => answer(&v, e),
    }
}

/// One publication: its hash, how to check it, and what changed from the one before.
pub async fn publication(
    v: Viewer,
    State(s): State<AppState>,
    Path(seq): Path<String>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ReadResults, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let seq: i64 = seq
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, format!("发布序号「{seq}」无效")))?;
    let info = s
        .store
        .publications(y.id)
        .await?
        .into_iter()
        .find(|p| p.seq == seq)
        .ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                format!("{} 年度没有第 {seq} 次发布", y.year),
            )
        })?;
    let changes = s.store.publication_diff(y.id, seq).await?;
    let ctx = json!({
        "p": {"seq": info.seq, "hash": info.hash, "at": info.published_at, "by": info.published_by, "reason": info.reason,
              "signature": info.key_fingerprint},
        "fingerprint_label": lvzhi_store::KEY_FINGERPRINT_LABEL,
        "signature_href": format!("/api/v1/periods/{}/publications/{seq}/signature", y.year),
        "changes": changes,
        "first": seq == 1,
        "json_href": format!("/api/v1/periods/{}/publications/{seq}", y.year),
    });
    v.page(
        "publication.html",
        "publish",
        &format!("第 {seq} 次发布"),
        Some(&y),
        ctx,
    )
}

/// 假设分析: hypothetical records (and records left out) scored without storing anything.
pub async fn what_if_page(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ReadResults, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    if let Some(page) = super::years::parts_instead(&v, &y, "/whatif", "whatif", "假设分析") {
        return page;
    }
    let rubric = &y.state.rubric;
    let ctx = json!({
        "rows": (1..=WHAT_IF_ROWS).collect::<Vec<_>>(),
        "units": y.state.units.iter().map(|u| u.name.clone()).collect::<Vec<_>>(),
        "rules": rubric.rules.iter().enumerate().filter(|(_, r)| r.kind.is_recorded()).map(|(i, r)| json!({"code": r.code, "label": format!("{} {}（{}）", r.code, r.text, rubric.terms(i))})).collect::<Vec<_>>(),
    });
    v.page("whatif.html", "whatif", "假设分析", Some(&y), ctx)
}

/// How many hypothetical records the form offers.
const WHAT_IF_ROWS: usize = 3;

pub async fn what_if(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
    form: Result<
        axum::Form<std::collections::HashMap<String, String>>,
        axum::extract::rejection::FormRejection,
    >,
) -> Result<Response, PageError> {
    let q = query(q).map_err(|e| v.error(e))?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ReadResults, None).await?;
    let y = year_of(&v, &s, q.year.as_deref())
        .await
        .map_err(|e| v.error(e))?;
    // Fields `unit1`, `rule1`, `count1`, `points1`, … and `leave_out`.
    let field = |name: &str, i: usize| {
        f.get(&format!("{name}{i}"))
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
    };
    let records: Vec<NewRecord> = (1..=WHAT_IF_ROWS)
        .filter(|&i| field("unit", i).is_some() || field("rule", i).is_some())
        .map(|i| NewRecord {
            unit: field("unit", i).unwrap_or_default(),
            rule: field("rule", i).unwrap_or_default(),
            count: field("count", i),
            points: field("points", i),
            ..NewRecord::default()
        })
        .collect();
    let leave_text = f.get("leave_out").cloned().unwrap_or_default();
    let mut leave_out = Vec::new();
    for part in leave_text
        .split([',', '，', ' ', '、'])
        .filter(|p| !p.trim().is_empty())
    {
        match part.trim().trim_start_matches('#').parse::<i64>() {
            Ok(id) => leave_out.push(id),
            Err(_) => return refused(&format!("记录编号「{part}」无效"), "leave_out"),
        }
    }
    if records.is_empty() && leave_out.is_empty() {
        return refused("请至少填写一条假设的扣分记录，或要去掉的记录编号", "unit");
    }
    match s.store.what_if(y.id, &records, &leave_out, None).await {
        Ok(w) => {
            let rows: Vec<&lvzhi_store::WhatIfRow> = w.rows.iter().filter(|r| r.changed).collect();
            v.fragment(
                "whatif_result.html",
                &json!({"rows": rows, "changed": w.changed, "graded": !y.state.rubric.grades.is_empty()}),
            )
        }
        Err(StoreError::Rows(problems)) => refused(
            &problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("；"),
            "",
        ),
        Err(e) => answer(&v, e),
    }
}
