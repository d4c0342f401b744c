//! 扣分记录: the filterable, sortable, paginated ledger; the record form, whose fields follow the
//! chosen clause's kind; one record with its evidence, history and revocation. Every check of a
//! record is the store's (and through it the core's); refusals come back next to their field.

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_core::access::Action;
use lvzhi_core::rubric::RuleKind;
use lvzhi_core::{NewRecord, RecordStatus};
use lvzhi_store::{RecordQuery, RecordSort, StoreError, StoredRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{PageError, Viewer, encode_component, form_error, query, render, year_of};
use crate::extract::{AddEvidence, ReadRecord, RecordTarget, ReviseRecord};
use crate::{ApiError, AppState};

/// The record a page request is about, or the refusal shaped for the caller (fragment or page).
pub(super) fn target<A>(
    v: &Viewer,
    t: Result<RecordTarget<A>, ApiError>,
) -> Result<RecordTarget<A>, PageError> {
    t.map_err(|e| v.error(e))
}

/// Records per page.
const PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    year: Option<String>,
    unit: Option<String>,
    rule: Option<String>,
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    /// How many records the last confirmation confirmed (shown once, after it).
    confirmed: Option<usize>,
}

/// A record as the pages show it: the shared shape, with its points and its unit's page.
pub(super) fn record_row(rubric: &lvzhi_core::Rubric, r: &StoredRecord) -> Value {
    let mut v = crate::sheet::record_json(rubric, r);
    v["points"] = v["points_text"].clone();
    v["unit_href"] = json!(format!("/units/{}", encode_component(&r.unit)));
    v
}

/// The clauses a record can be entered for, grouped by category (and section): for the form.
fn clause_groups(rubric: &lvzhi_core::Rubric) -> Vec<Value> {
    rubric
        .categories
        .iter()
        .map(|c| {
            let mut rules: Vec<usize> = c.rules.clone();
            for &s in &c.sections {
                rules.extend(rubric.sections[s].rules.iter().copied());
            }
            rules.sort_unstable();
            json!({
                "label": format!("{} {}（{} 分）", c.code, c.name, c.max),
                "rules": rules.iter().filter(|&&i| rubric.rules[i].kind.is_recorded()).map(|&i| {
                    let r = &rubric.rules[i];
                    json!({"code": r.code, "label": format!("{} {}", r.code, r.text)})
                }).collect::<Vec<_>>(),
            })
        })
        .filter(|g| g["rules"].as_array().is_some_and(|r| !r.is_empty()))
        .collect()
}

pub async fn list(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let unit = q.unit.clone().filter(|u| !u.is_empty());
    if let Some(u) = &unit {
        v.check(&s, Action::ReadRecords, Some(u)).await?;
    }
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    if let Some(page) = super::years::parts_instead(&v, &y, "/records", "records", "扣分记录") {
        return page;
    }
    let rubric = &y.state.rubric;
    let all = v.may(Action::ReadRecords, None);
    // Someone who may read no unit's records (an administrator of 三员分立) is refused, not shown
    // an empty list.
    if !all
        && !y
            .state
            .units
            .iter()
            .any(|u| v.may(Action::ReadRecords, Some(&u.name)))
    {
        v.check(&s, Action::ReadRecords, None).await?;
    }
    let rule = q.rule.clone().filter(|r| !r.is_empty());
    let status = q.status.clone().filter(|r| !r.is_empty());
    let needle = q.q.clone().unwrap_or_default();
    let needle = needle.trim();
    let sort = q.sort.clone().unwrap_or_else(|| "-id".into());
    let (desc, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort.as_str()),
    };
    let query = RecordQuery {
        unit: unit.clone(),
        visible: (!all).then(|| {
            y.state
                .units
                .iter()
                .filter(|u| v.may(Action::ReadRecords, Some(&u.name)))
                .map(|u| u.name.clone())
                .collect()
        }),
        rule: rule.clone(),
        status: match status.as_deref() {
            Some(st) => Some(RecordStatus::parse(st).ok_or_else(|| {
                PageError::new(StatusCode::BAD_REQUEST, format!("没有「{st}」这种状态"))
            })?),
            None => None,
        },
        q: Some(needle.to_owned()).filter(|n| !n.is_empty()),
        sort: RecordSort::parse(key).unwrap_or_default(),
        desc,
    };
    let total = s.store.matching_ids(y.id, &query).await?.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let shown_records = s
        .store
        .records_page(y.id, &query, (page - 1) * PAGE, PAGE)
        .await?
        .records;
    let shown: Vec<Value> = shown_records
        .iter()
        .map(|r| record_row(rubric, r))
        .collect();
    let can_confirm = v.may(Action::ConfirmRecords, None) && y.state.info.is_open();
    // How many of the records the filter shows wait for the office (every page of them).
    let pending_total = if can_confirm {
        s.store
            .matching_ids(
                y.id,
                &RecordQuery {
                    status: Some(RecordStatus::Recorded),
                    ..query.clone()
                },
            )
            .await?
            .len()
    } else {
        0
    };
    // The query string without `page` and `sort`, for the pager and the column links.
    let mut base = vec![format!("year={}", y.year)];
    for (k, val) in [
        ("unit", &unit),
        ("rule", &rule),
        ("status", &status),
        ("q", &Some(needle.to_owned()).filter(|n| !n.is_empty())),
    ] {
        if let Some(val) = val {
            base.push(format!("{k}={}", encode_component(val)));
        }
    }
    let base = base.join("&");
    let units: Vec<&str> = y
        .state
        .units
        .iter()
        .map(|u| u.name.as_str())
        .filter(|u| all || v.may(Action::ReadRecords, Some(u)))
        .collect();
    let ctx = json!({
        "rows": shown, "total": total, "page": page, "pages": pages, "sort": sort, "base": base,
        "filter": {"unit": unit, "rule": rule, "status": status, "q": needle},
        "units": units,
        "rules": rubric.rules.iter().filter(|r| r.kind.is_recorded()).map(|r| json!({"code": r.code, "label": format!("{} {}", r.code, r.text)})).collect::<Vec<_>>(),
        "can_write": v.may(Action::WriteRecords, None),
        "can_export": all,
        "states": RecordStatus::ALL.iter().map(|s| (s.code(), s.label())).collect::<Vec<_>>(),
        "can_confirm": can_confirm,
        "pending_total": pending_total,
        "confirmed": q.confirmed,
        "appeal_days": y.state.info.appeal_days,
    });
    v.page("records.html", "records", "扣分记录", Some(&y), ctx)
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    year: Option<String>,
    unit: Option<String>,
    rule: Option<String>,
}

pub async fn new_form(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<NewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::WriteRecords, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    if let Some(page) = super::years::parts_instead(&v, &y, "/records/new", "records", "扣分记录")
    {
        return page;
    }
    let form = RecordForm {
        year: y.year.clone(),
        unit: q.unit.unwrap_or_default(),
        rule: q.rule.unwrap_or_default(),
        ..RecordForm::default()
    };
    let ctx = form_context(&y.state, &form, &json!({}), None, None);
    v.page("record_new.html", "records", "录入扣分", Some(&y), ctx)
}

/// The record form's context: choices, the values given, the errors by field.
/// The record form's context. `correcting`: the id of the record a correction replaces (the form
/// then posts to its `correct` address and asks for the reason).
fn form_context(
    state: &lvzhi_store::PeriodState,
    form: &RecordForm,
    errors: &Value,
    message: Option<&str>,
    correcting: Option<i64>,
) -> Value {
    let rubric = &state.rubric;
    json!({
        "units": state.units.iter().map(|u| u.name.clone()).collect::<Vec<_>>(),
        "groups": clause_groups(rubric),
        "form": form, "errors": errors, "message": message,
        "fields": fields_context(rubric, &form.rule),
        "year": state.info.key,
        "correcting": correcting,
        "action": correcting.map_or_else(|| "/records".to_owned(), |id| format!("/records/{id}/correct?year={}", state.info.key)),
    })
}

/// What the chosen clause needs: its text, terms and the inputs of its kind.
fn fields_context(rubric: &lvzhi_core::Rubric, code: &str) -> Value {
    let Some(i) = rubric.rule_by_code(code) else {
        return json!(null);
    };
    let r = &rubric.rules[i];
    let mut v = json!({
        "code": r.code, "text": r.text, "source": r.source, "kind": r.kind.name(),
        "kind_label": rubric.kind_label(i), "terms": rubric.terms(i), "applies_to": r.applies_to,
        "once": r.kind.once_a_year(), "verb": rubric.mode_of(i).verb(),
    });
    match &r.kind {
        RuleKind::PerCount { points, max_count } => {
            v["count"] = json!({"each": points.to_string(), "max": max_count});
        }
        RuleKind::Range { min, max } => {
            v["range"] = json!({"min": min.to_string(), "max": max.to_string()});
        }
        RuleKind::Graded { levels } => {
            v["levels"] = json!(
                levels
                    .iter()
                    .map(|l| json!({"points": l.points.to_string(), "text": l.text}))
                    .collect::<Vec<_>>()
            );
        }
        _ => {}
    }
    v
}

#[derive(Deserialize, Default)]
pub struct FieldsQuery {
    year: Option<String>,
    rule: Option<String>,
}

/// The fragment of the record form that depends on the clause (htmx, on change of the clause).
pub async fn fields(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<FieldsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::WriteRecords, None).await?;
    let y = year_of(&v, &s, q.year.as_deref()).await?;
    let ctx = json!({
        "fields": fields_context(&y.state.rubric, q.rule.as_deref().unwrap_or("")),
        "form": RecordForm::default(), "errors": {},
    });
    v.fragment("record_fields.html", &ctx)
}

#[derive(Deserialize, Default, serde::Serialize)]
pub struct RecordForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    note: String,
    /// For a correction: why the record is replaced, and the version it was read at.
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

impl RecordForm {
    fn new_record(&self) -> NewRecord {
        NewRecord {
            unit: self.unit.trim().to_owned(),
            rule: self.rule.trim().to_owned(),
            count: some(&self.count),
            points: some(&self.points),
            date: some(&self.date),
            source: self.source.trim().to_owned(),
            note: self.note.trim().to_owned(),
        }
    }
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub async fn create(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<RecordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let y = year_of(&v, &s, Some(&f.year))
        .await
        .map_err(|e| v.error(e))?;
    let again = |errors: Value, message: &str| -> Result<Response, PageError> {
        let ctx = form_context(&y.state, &f, &errors, Some(message), None);
        let html = render("record_form.html", &ctx)?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let rec = f.new_record();
    // Every required field left empty is named at once, each next to its input.
    let missing = rec.missing(&y.state.rubric);
    if !missing.is_empty() {
        let errors: serde_json::Map<String, Value> = missing
            .iter()
            .map(|f| (f.column().to_owned(), json!("必填")))
            .collect();
        let names: Vec<&str> = missing.iter().map(|f| f.label()).collect();
        return again(
            Value::Object(errors),
            &format!("请填写：{}", names.join("、")),
        );
    }
    // Every wrong field at once, each beside its input (a pre-check on the cached rubric; the store
    // checks again in the write).
    let rubric = &y.state.rubric;
    if let Some(rule) = rubric.rule_by_code(rec.rule.trim()) {
        let problems = lvzhi_core::ledger::field_problems(rubric, rule, &rec.fields());
        if !problems.is_empty() {
            let errors: serde_json::Map<String, Value> = problems
                .iter()
                .map(|e| (e.field.column().to_owned(), json!(e.problem.to_string())))
                .collect();
            let message = problems
                .iter()
                .map(|e| format!("{}：{}", e.field.label(), e.problem))
                .collect::<Vec<_>>()
                .join("；");
            return again(Value::Object(errors), &message);
        }
    }
    v.check(&s, Action::WriteRecords, Some(f.unit.trim()))
        .await?;
    match s.store.add_record(y.id, &rec, &v.authed.actor).await {
        Ok(stored) => Ok(v.redirect(&format!("/records/{}?year={}&created=1", stored.id, y.year))),
        Err(StoreError::Invalid { field, message }) => {
            again(json!({ field: message.clone() }), &message)
        }
        Err(StoreError::Conflict(m)) => again(json!({}), &m),
        Err(e) => Err(v.error(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    created: Option<String>,
    /// Set after an appeal decision, so the page says what the decision did.
    decided: Option<String>,
}

/// What an appeal decision just did, said on the page it leads to: for a 改判 the replaced record,
/// the new one's number and the unit told; otherwise the decision. From the records' own state.
fn decided_message(y: &super::Year, rec: &lvzhi_store::StoredRecord) -> Option<String> {
    let state = &y.state;
    if let Some(old) = rec.replaces {
        let changed = state
            .appeals
            .iter()
            .any(|a| a.record_id == old && a.decision == Some(lvzhi_core::Decision::Changed));
        return changed.then(|| {
            format!(
                "已改判：原记录 #{old} 不再计入，改由本记录 #{} 计入（已确认，不可再申诉）；已通知{}。",
                rec.id, rec.unit
            )
        });
    }
    let a = state.appeals.iter().find(|a| a.record_id == rec.id)?;
    a.decision
        .map(|d| format!("已作出决定：{}；已通知{}。", d.label(), rec.unit))
}

pub async fn detail(
    v: Viewer,
    t: Result<RecordTarget<ReadRecord>, ApiError>,
    State(s): State<AppState>,
    q: Result<Query<DetailQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let q = query(q)?;
    let y = year_of(&v, &s, Some(&t.state.info.key)).await?;
    let rec = s.store.record(t.year, t.id).await?;
    let id = rec.id;
    let rubric = &y.state.rubric;
    let replaced_by: Vec<i64> = t
        .state
        .rows()
        .filter(|(_, r)| r.replaces == Some(id))
        .map(|(_, r)| r.id)
        .collect();
    let attachments = if v.may(Action::ReadEvidence, Some(&rec.unit)) {
        attachments_json(&s, y.id, id).await?
    } else {
        Vec::new()
    };
    let rule = rubric.rule_by_code(&rec.rule);
    let ctx = json!({
        "record": record_row(rubric, &rec),
        "rule": rule.map(|i| json!({"text": rubric.rules[i].text, "source": rubric.rules[i].source, "kind": rubric.kind_label(i), "terms": rubric.terms(i)})),
        "replaced_by": replaced_by,
        "attachments": attachments,
        "can_revoke": y.state.info.is_open() && rec.status.in_force() && rec.status != RecordStatus::Appealed
            && v.may(Action::revise(rec.status), Some(&rec.unit)),
        "lifecycle": super::lifecycle::record_context(&v, &s, &y, &rec),
        "can_upload": y.state.info.is_open() && v.may(Action::AddEvidence, Some(&rec.unit)),
        "created": q.created.is_some(),
        "decided": q.decided.is_some().then(|| decided_message(&y, &rec)).flatten(),
        "max_mb": lvzhi_store::MAX_ATTACHMENT >> 20,
    });
    let title = format!("记录 #{id}");
    v.page("record.html", "records", &title, Some(&y), ctx)
}

async fn attachments_json(s: &AppState, year: i64, id: i64) -> Result<Vec<Value>, PageError> {
    Ok(s.store
        .attachments(year, id)
        .await?
        .into_iter()
        .map(|a| {
            json!({"name": a.name, "kind": crate::view::file_kind(&a.mime), "size_kb": (a.size + 1023) / 1024,
               "by": a.uploaded_by, "at": a.uploaded_at,
               "href": format!("/api/v1/periods/{year}/attachments/{}", a.id)})
        })
        .collect())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

pub async fn revoke(
    v: Viewer,
    t: Result<RecordTarget<ReviseRecord>, ApiError>,
    State(s): State<AppState>,
    form: Result<axum::Form<RevokeForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let (year, id) = (t.year, t.id);
    let notice = |message: &str| -> Result<Response, PageError> {
        let html = render(
            "notice.html",
            &json!({"kind": "error", "field": "reason", "message": message}),
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let version = f.version.trim().parse::<i64>().ok();
    match s
        .store
        .revoke_record(year, id, f.reason.trim(), version, None, &v.authed.actor)
        .await
    {
        Ok(_) => Ok(v.redirect(&format!("/records/{id}?year={}", t.state.info.key))),
        Err(StoreError::Invalid { message, .. } | StoreError::Conflict(message)) => {
            notice(&message)
        }
        Err(e) => Err(v.error(e)),
    }
}

/// Uploads evidence (htmx, multipart field `file`); answers the record's attachment list.
pub async fn upload(
    v: Viewer,
    t: Result<RecordTarget<AddEvidence>, ApiError>,
    State(s): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let (year, id) = (t.year, t.id);
    let list = |message: Option<(&str, &str)>, attachments: Vec<Value>| {
        let html = render(
            "attachments.html",
            &json!({"attachments": attachments, "notice": message.map(|(k, m)| json!({"kind": k, "message": m}))}),
        )?;
        Ok::<_, PageError>(html)
    };
    let refuse =
        |m: String| -> PageError { v.error(PageError::new(StatusCode::UNPROCESSABLE_ENTITY, m)) };
    let mut mp = multipart.map_err(|e| refuse(format!("上传内容无法读取：{}", e.body_text())))?;
    let mut outcome = None;
    while let Some(field) = mp.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            refuse(format!(
                "文件过大：上限 {} MB",
                lvzhi_store::MAX_ATTACHMENT >> 20
            ))
        } else {
            refuse(format!("上传内容无法读取：{}", e.body_text()))
        }
    })? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| refuse(format!("上传内容无法读取：{}", e.body_text())))?;
        if data.is_empty() {
            outcome = Some(Err("请选择要上传的文件".to_owned()));
            break;
        }
        outcome = Some(
            s.store
                .add_attachment(year, id, &name, &data, &v.authed.actor)
                .await
                .map(|a| a.name)
                .map_err(|e| match e {
                    StoreError::Invalid { message, .. } => message,
                    other => other.to_string(),
                }),
        );
        break;
    }
    let attachments = attachments_json(&s, year, id).await?;
    match outcome {
        Some(Ok(name)) => {
            Ok(list(Some(("ok", &format!("已上传「{name}」"))), attachments)?.into_response())
        }
        Some(Err(m)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            list(Some(("error", &m)), attachments)?,
        )
            .into_response()),
        None => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            list(Some(("error", "请选择要上传的文件")), attachments)?,
        )
            .into_response()),
    }
}

/// 更正: the record form, filled with the record's values, to replace it (the old one is revoked with
/// the reason, the new one says which it replaces; both stay in the history).
pub async fn correct_form(
    v: Viewer,
    t: Result<RecordTarget<ReviseRecord>, ApiError>,
    State(s): State<AppState>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let y = year_of(&v, &s, Some(&t.state.info.key)).await?;
    let id = t.id;
    let rec = s.store.record(t.year, id).await?;
    if !rec.status.in_force() || rec.status == RecordStatus::Appealed {
        return Err(v.error(PageError::new(
            StatusCode::CONFLICT,
            format!("记录 #{id} 的状态是「{}」，不能再更正", rec.status.label()),
        )));
    }
    let form = RecordForm {
        year: y.year.clone(),
        unit: rec.unit.clone(),
        rule: rec.rule.clone(),
        count: rec.count.to_string(),
        points: rec.points.clone().unwrap_or_default(),
        date: rec.date.clone().unwrap_or_default(),
        source: rec.source.clone(),
        note: rec.note.clone(),
        reason: String::new(),
        version: rec.version.to_string(),
    };
    let ctx = form_context(&y.state, &form, &json!({}), None, Some(id));
    v.page(
        "record_new.html",
        "records",
        &format!("更正记录 #{id}"),
        Some(&y),
        ctx,
    )
}

/// Revokes a record with a reason and records its replacement, in one transaction.
pub async fn correct(
    v: Viewer,
    t: Result<RecordTarget<ReviseRecord>, ApiError>,
    State(s): State<AppState>,
    form: Result<axum::Form<RecordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let t = target(&v, t)?;
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    let y = year_of(&v, &s, Some(&t.state.info.key))
        .await
        .map_err(|e| v.error(e))?;
    let id = t.id;
    v.check(&s, Action::WriteRecords, Some(f.unit.trim()))
        .await?;
    let again = |errors: Value, message: &str| -> Result<Response, PageError> {
        let ctx = form_context(&y.state, &f, &errors, Some(message), Some(id));
        let html = render("record_form.html", &ctx)?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    if f.reason.trim().is_empty() {
        return again(json!({"reason": "请填写更正原因"}), "请填写更正原因");
    }
    let replacement = f.new_record();
    match s
        .store
        .revoke_record(
            y.id,
            id,
            f.reason.trim(),
            f.version.trim().parse().ok(),
            Some(&replacement),
            &v.authed.actor,
        )
        .await
    {
        Ok((_, Some(new))) => Ok(v.redirect(&format!("/records/{}?year={}", new.id, y.year))),
        Ok((_, None)) => Ok(v.redirect(&format!("/records/{id}?year={}", y.year))),
        Err(StoreError::Invalid { field, message }) => {
            again(json!({ field: message.clone() }), &message)
        }
        Err(StoreError::Conflict(m)) => again(json!({}), &m),
        Err(e) => Err(v.error(e)),
    }
}
