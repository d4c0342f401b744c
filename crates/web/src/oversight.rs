//! The oversight both the JSON API and the pages serve (issue 19): who may read it (an admin or
//! leader of an office with offices below), which year (asked, else the latest year any office
//! below has opened), and its rows arranged for a table and a workbook. The store gathers it and
//! the core sums it up; nothing is computed here.

use axum::http::StatusCode;
use lvzhi_store::{Oversight, OversightRow};

use crate::auth::Authed;
use crate::{ApiError, AppState};

/// The oversight of `who`'s office for `year` (a calendar year; `None`: the latest one below).
pub async fn oversight_of(
    s: &AppState,
    who: &Authed,
    year: Option<&str>,
) -> Result<Oversight, ApiError> {
    if !lvzhi_store::reads_below(who.user.role) {
        return Err(ApiError::forbidden(
            "查看下级安委办的考核（仅管理员和领导）",
        ));
    }
    let tree = s.store.office_tree().await?;
    let below = tree.below(&who.user.office);
    if below.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "本安委办没有下级安委办",
        ));
    }
    let year = match year.map(str::trim).filter(|y| !y.is_empty()) {
        Some(y) => lvzhi_core::input::year_of(y).ok_or_else(|| {
            ApiError::field(StatusCode::BAD_REQUEST, "year", format!("年度「{y}」无效"))
        })?,
        None => s
            .store
            .periods()
            .await?
            .iter()
            .filter(|p| below.contains(&p.office))
            .map(|p| p.year)
            .max()
            .unwrap_or_else(|| i64::from(time::OffsetDateTime::now_utc().year())),
    };
    Ok(s.store.oversight(&who.user.office, year).await?)
}

/// The table's heads.
pub const HEADS: [&str; 9] = [
    "安委办",
    "层级",
    "考核",
    "状态",
    "发布时间",
    "单位数",
    "各等次单位数",
    "平均得分",
    "一票否决",
];

/// A row as the table and the workbook show it.
pub fn cells(r: &OversightRow) -> Vec<String> {
    let s = r.summary.as_ref();
    vec![
        r.office_name.clone(),
        r.level.clone(),
        r.assessment_name
            .clone()
            .unwrap_or_else(|| "（未开设考核）".into()),
        r.state.to_owned(),
        r.published_at
            .as_deref()
            .map(lvzhi_store::clock::beijing_minute)
            .unwrap_or_default(),
        s.map(|s| s.units.to_string()).unwrap_or_default(),
        s.map(lvzhi_core::summary::Summary::grades_text)
            .unwrap_or_default(),
        s.map(|s| s.mean_total.to_fixed2()).unwrap_or_default(),
        s.map(|s| s.vetoed.join("、")).unwrap_or_default(),
    ]
}
