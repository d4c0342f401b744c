//! 细则版本 for the office: the stored rubric versions; a 细则 document uploaded and drafted
//! (lvzhi-draft), reviewed side by side with its source text, edited, checked and saved as a new
//! version; and the difference between two versions, clause by clause. Nothing here decides a
//! rubric's meaning: the draft is lvzhi-draft's, the checks are the core loader's, the saving is the
//! store's (which refuses a draft that still waits for review).

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lvzhi_core::Rubric;
use lvzhi_core::access::Action;
use lvzhi_store::{OpenTarget, PeriodInfo, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::rubric_editor as editor;
use super::{PageError, Viewer, form_error, query, render};
use crate::AppState;

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    saved: Option<String>,
}

/// The versions, the upload form and the comparison form.
pub async fn list(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let versions = s.store.rubric_versions().await?;
    let first_year = s.store.periods().await?.is_empty();
    let shipped: Vec<Value> = lvzhi_core::SHIPPED
        .iter()
        .filter_map(|(name, text)| {
            Rubric::from_toml(text).ok().map(|r| {
                json!({"name": name, "title": r.title, "year": r.year, "issuer": r.issuer,
                       "units": r.roster.len()})
            })
        })
        .collect();
    let ctx = json!({
        "first_year": first_year,
        "shipped": shipped,
        "versions": versions.iter().map(|r| json!({
            "hash": r.hash, "short": short(&r.hash), "id": r.id, "year": r.year, "title": r.title,
            "at": r.created_at, "periods": r.periods,
        })).collect::<Vec<_>>(),
        "saved": q.saved,
        "max_mb": lvzhi_draft::MAX_DOCUMENT >> 20,
    });
    v.page("rubrics.html", "rubrics", "细则版本", None, ctx)
}

#[derive(Deserialize)]
pub struct ShippedForm {
    #[serde(default)]
    name: String,
}

/// A rubric shipped with the program saved as a version, then its period's opening page (the
/// roster shown for review first).
pub async fn save_shipped(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<ShippedForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(f) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let Some(text) = lvzhi_core::shipped_rubric(f.name.trim()) else {
        return Err(v.error(PageError::new(
            StatusCode::NOT_FOUND,
            format!("没有随附的细则「{}」", f.name),
        )));
    };
    let (hash, _) = s
        .store
        .save_rubric(text, &v.authed.actor)
        .await
        .map_err(|e| v.error(e))?;
    Ok(v.redirect(&format!("/rubrics/{hash}/open")))
}

/// 上传细则文件: the document drafted, shown beside its source.
pub async fn import(
    v: Viewer,
    State(s): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    v.check(&s, Action::ManagePeriods, None).await?;
    let (name, bytes) = crate::extract::upload_bytes(multipart, lvzhi_draft::MAX_DOCUMENT)
        .await
        .map_err(|e| v.error(e))?;
    let refuse = |m: String| -> Result<Response, PageError> {
        let html = render(
            "notice.html",
            &json!({"kind": "error", "field": "file", "message": m}),
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    if bytes.is_empty() {
        return refuse("请选择细则文件（.docx、.doc、.wps、PDF 或文本）".into());
    }
    // A draft downloaded from this page (TOML) comes back as it was.
    if name.to_lowercase().ends_with(".toml") {
        let Ok(text) = String::from_utf8(bytes) else {
            return refuse(format!("「{name}」不是 UTF-8 编码的 TOML 文本"));
        };
        return v.fragment("rubric_editor.html", &editor::context(&[], &text, None));
    }
    // Reading may take seconds (a PDF laid out again, an old Word file through LibreOffice): on
    // a blocking thread, never on an async worker.
    let read = tokio::task::spawn_blocking(move || {
        lvzhi_draft::read_document(&bytes).map(|doc| {
            let toml = lvzhi_draft::draft(&doc).to_toml();
            (doc, toml)
        })
    })
    .await;
    let (doc, toml) = match read {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return refuse(format!("「{name}」：{e}")),
        Err(_) => return refuse(format!("「{name}」：读取时出错，未做任何修改")),
    };
    v.fragment(
        "rubric_editor.html",
        &editor::context(&doc.rows, &toml, None),
    )
}

/// A stored version in the editor, as the start of a new one.
pub async fn edit(
    v: Viewer,
    State(s): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Response, PageError> {
    v.check(&s, Action::ManagePeriods, None).await?;
    let text = s.store.rubric_text(&hash).await?;
    let ctx = json!({"editor": editor::context(&[], &text, None), "from": short(&hash)});
    v.page("rubric_edit.html", "rubrics", "编辑细则", None, ctx)
}

/// 检查: the answers applied and the loader's verdict, every message at its field.
pub async fn check(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(fields) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let posted = editor::Posted::read(fields);
    let ctx = match posted.text() {
        Ok(text) => editor::context(&[], &text, None),
        Err(e) => editor::context(&[], &posted.toml, Some(&e.to_string())),
    };
    v.fragment("rubric_editor.html", &ctx)
}

/// 保存为新版本: the answers applied; only a final rubric is saved, else the form comes back with
/// every message at its field and nothing lost.
pub async fn save(
    v: Viewer,
    State(s): State<AppState>,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let axum::Form(fields) = form.map_err(|e| v.error(form_error(&e)))?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let posted = editor::Posted::read(fields);
    let again = |text: &str, problem: Option<&str>| -> Result<Response, PageError> {
        let mut ctx = editor::context(&[], text, problem);
        ctx["refused"] = json!(true);
        let html = render("rubric_editor.html", &ctx)?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let text = match posted.text() {
        Ok(t) => t,
        Err(e) => return again(&posted.toml, Some(&e.to_string())),
    };
    match s.store.save_rubric(&text, &v.authed.actor).await {
        Ok((hash, _)) => Ok(v.redirect(&format!("/rubrics?saved={}", short(&hash)))),
        Err(StoreError::Invalid { .. }) => again(&text, None),
        Err(e) => Err(v.error(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// 版本对比: added, removed and changed clauses and points.
pub async fn diff(
    v: Viewer,
    State(s): State<AppState>,
    q: Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let (Some(from), Some(to)) = (
        q.from.filter(|x| !x.is_empty()),
        q.to.filter(|x| !x.is_empty()),
    ) else {
        return Err(v.error(PageError::new(
            StatusCode::BAD_REQUEST,
            "请选择要对比的两个细则版本",
        )));
    };
    let load = |text: String| {
        Rubric::from_toml(&text).map_err(|e| {
            PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("细则版本无法读取：{e}"),
            )
        })
    };
    let a = load(s.store.rubric_text(&from).await?)?;
    let b = load(s.store.rubric_text(&to).await?)?;
    let d = lvzhi_core::contract::RubricDiff::new(&a, &b);
    let ctx = json!({"diff": d, "empty": d.is_empty(), "text": d.text()});
    v.page("rubric_diff.html", "rubrics", "细则版本对比", None, ctx)
}

/// Where a new year goes and where its roster comes from.
#[derive(Deserialize, Default)]
pub struct CarryQuery {
    /// `none` for a clean roster (the rubric's own, or imported later), or the key of the period
    /// to carry from.
    carry: Option<String>,
    /// The assessment's code and name (defaults: those of the same assessment's earlier year,
    /// else `default` and the rubric's title without its year).
    assessment: Option<String>,
    assessment_name: Option<String>,
}

/// The new year's assessment and the period its roster comes from: the ones asked for (`none`:
/// no carrying), else by default the latest earlier whole year of the viewer's office whose
/// rubric's title is the same but for the year — its assessment, and its roster. Also the carry
/// choices to offer (the office's earlier whole years).
async fn carry_from(
    v: &Viewer,
    s: &AppState,
    text: &str,
    q: &CarryQuery,
) -> Result<(OpenTarget, Option<PeriodInfo>, Vec<Value>), PageError> {
    let rubric = Rubric::from_toml(text).ok();
    let year = rubric.as_ref().map_or(i64::MAX, |r| i64::from(r.year));
    let strip = |t: &str| {
        t.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    let same = |p: &PeriodInfo| {
        rubric
            .as_ref()
            .is_some_and(|r| strip(&r.title) == strip(&p.title))
    };
    let office = v.authed.user.office.clone();
    let mut earlier: Vec<PeriodInfo> = s
        .store
        .periods_for(v.authed.rights())
        .await?
        .into_iter()
        .filter(|p| p.office == office && p.part.is_none() && p.year < year)
        .collect();
    earlier.sort_by_key(|p| std::cmp::Reverse(p.year));
    let asked_assessment = q
        .assessment
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let chosen = match q.carry.as_deref().map(str::trim) {
        Some("none") => None,
        Some(k) => earlier.iter().find(|p| p.key == k).cloned(),
        None => earlier
            .iter()
            .find(|p| same(p) && asked_assessment.is_none_or(|a| a == p.assessment))
            .cloned(),
    };
    let assessment = asked_assessment
        .map(str::to_owned)
        .or_else(|| chosen.as_ref().map(|p| p.assessment.clone()))
        .or_else(|| {
            earlier
                .iter()
                .find(|p| same(p))
                .map(|p| p.assessment.clone())
        });
    let mut choices = vec![
        json!({"value": "none", "label": "不结转：名册取自细则（或开设后导入名册）", "chosen": chosen.is_none()}),
    ];
    choices.extend(earlier.iter().map(|p| {
        json!({"value": p.key, "label": format!("自{}结转（{}）", p.label(), p.title),
               "chosen": chosen.as_ref().is_some_and(|c| c.key == p.key)})
    }));
    let target = OpenTarget {
        office: Some(office),
        assessment,
        assessment_name: q.assessment_name.clone(),
    };
    Ok((target, chosen, choices))
}

/// 以此版本创建年度: what opening the version's year would do to the roster (carried from the
/// chosen earlier period, or from none), for review; the form below confirms.
pub async fn open_plan(
    v: Viewer,
    State(s): State<AppState>,
    Path(hash): Path<String>,
    q: Result<Query<CarryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    v.check(&s, Action::ManagePeriods, None).await?;
    let text = s.store.rubric_text(&hash).await?;
    let (target, carry, choices) = carry_from(&v, &s, &text, &q).await?;
    let ctx = match s
        .store
        .plan_next_period(&text, &target, carry.as_ref().map(|p| p.id))
        .await
    {
        Ok(plan) => json!({
            "plan": plan, "hash": hash, "choices": choices,
            "carry": carry.as_ref().map(|p| &p.key),
            "carry_label": carry.as_ref().map(PeriodInfo::label),
        }),
        Err(StoreError::Invalid { message, .. } | StoreError::Conflict(message)) => {
            json!({"refused": message, "hash": hash})
        }
        Err(e) => return Err(v.error(e)),
    };
    v.page("rubric_open.html", "rubrics", "创建考核年度", None, ctx)
}

/// Opens the period of a saved version, the roster carried from the chosen period (or none).
pub async fn open(
    v: Viewer,
    State(s): State<AppState>,
    Path(hash): Path<String>,
    form: Result<axum::Form<CarryQuery>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let asked = form.map(|axum::Form(f)| f).unwrap_or_default();
    v.check(&s, Action::ManagePeriods, None).await?;
    let text = s.store.rubric_text(&hash).await.map_err(|e| v.error(e))?;
    let (target, carry, _) = carry_from(&v, &s, &text, &asked)
        .await
        .map_err(|e| v.error(e))?;
    match s
        .store
        .open_next_period(&text, &target, carry.map(|p| p.id), &v.authed.actor)
        .await
    {
        Ok(plan) => Ok(v.redirect(&format!("/overview?year={}", plan.key))),
        Err(StoreError::Invalid { message, .. } | StoreError::Conflict(message)) => {
            let html = render("notice.html", &json!({"kind": "error", "message": message}))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(e) => Err(v.error(e)),
    }
}
