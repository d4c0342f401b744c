//! What the office signs and sends, through the pages as each role meets it: once a period is
//! published every page, print and export says 正式 (never 暂定); publication names the appeal
//! windows it ends and ends them (the record pages and the unit's notices follow at once); a
//! published period's grids are read-only; a 改判 says what it did.

mod common;

use calamine::Reader;
use common::{App, Session};

/// 发改委, as a path component.
const FGW: &str = "%E5%8F%91%E6%94%B9%E5%A7%94";

fn api(app: &App, bearer: &str, method: &str, path: &str, body: &str) -> serde_json::Value {
    let (status, _, text) = app.raw(
        method,
        path,
        &[
            ("Authorization", bearer),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    assert!(status < 300, "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A record of 发改委 (2.3, two people) the office has confirmed: the unit may appeal it.
fn confirmed_record(app: &App, bearer: &str) -> i64 {
    let made = api(
        app,
        bearer,
        "POST",
        "/api/v1/periods/2022/records",
        r#"{"unit": "发改委", "rule": "2.3", "count": "2", "date": "2022-03-01", "source": "督查通报"}"#,
    );
    let id = made["record"]["id"].as_i64().expect("id");
    api(
        app,
        bearer,
        "POST",
        &format!("/api/v1/periods/2022/records/{id}/confirm"),
        "{}",
    );
    id
}

fn docx_text(bytes: Vec<u8>) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("docx");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("word/document.xml").expect("document"),
        &mut xml,
    )
    .expect("xml");
    xml
}

#[test]
fn publication_ends_open_appeal_windows_and_every_page_says_official() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let admin = Session::login(&app, "admin", "Admin-Pass-2022");
    let unit = Session::login(&app, "fgw", "Unit-Pass-2022!");

    // Confirm every record of 发改委: the unit may appeal them for the window's days.
    let confirmed = api(
        &app,
        &bearer,
        "POST",
        "/api/v1/periods/2022/records/confirm",
        r#"{"filter": {"unit": "发改委"}}"#,
    )["confirmed"]
        .as_u64()
        .expect("count");
    assert!(confirmed > 0);
    let records = api(
        &app,
        &bearer,
        "GET",
        &format!("/api/v1/periods/2022/records?unit={FGW}"),
        "",
    );
    let id = records["records"][0]["id"].as_i64().expect("a record");
    let (_, _, notices) = unit.get("/notifications");
    assert!(notices.contains("条已确认的扣分记录仍可申诉"), "{notices}");
    let (_, _, page) = unit.get(&format!("/records/{id}"));
    assert!(
        page.contains("申诉期至") && page.contains("提交申诉"),
        "{page}"
    );
    let (_, _, sheet) = unit.get(&format!("/units/{FGW}"));
    assert!(
        sheet.contains("暂定监测得分"),
        "open: the sheet is provisional"
    );

    // The check list names the open windows as an exception, and says what publication does.
    let (_, _, page) = admin.get("/publish");
    let windows = page
        .split("id=\"check-windows\"")
        .nth(1)
        .and_then(|r| r.split("</li>").next())
        .expect("the windows line");
    assert!(
        windows.contains("class=\"bad\"")
            && windows.contains(&format!("{confirmed} 条已确认的扣分记录申诉期未满"))
            && windows.contains("发布即结束这些申诉期"),
        "{windows}"
    );
    let (status, _, html) = admin.post("/publish?year=2022", "reason=%E7%BB%8F%E5%AE%A1%E5%AE%9A");
    assert_eq!(status, 422, "not without acknowledging: {html}");
    assert!(html.contains("申诉期未满"), "{html}");
    let (status, head, _) = admin.post(
        "/publish?year=2022",
        "reason=%E7%BB%8F%E5%AE%A1%E5%AE%9A&acknowledge=1",
    );
    assert_eq!(status, 204, "{head}");
    // The publication's page leads on: to the ranking and the documents to send.
    let (_, _, page) = admin.get("/publish/1?year=2022");
    let links = page
        .split("id=\"after-publish\"")
        .nth(1)
        .and_then(|r| r.split("</div>").next())
        .expect("the way on after publishing");
    for what in [
        "查看排名（正式结果）",
        "export/results.xlsx",
        "export/report.docx",
        "返回发布页",
    ] {
        assert!(links.contains(what), "{what}: {links}");
    }

    // The moment it is published, the record page and the unit's notices follow.
    let (_, _, page) = unit.get(&format!("/records/{id}"));
    assert!(
        !page.contains("申诉期至") && !page.contains("提交申诉"),
        "no window after publication: {page}"
    );
    assert!(
        page.contains("申诉期随本年度结果发布而结束") && page.contains("不再受理申诉"),
        "{page}"
    );
    let (_, _, notices) = unit.get("/notifications");
    assert!(!notices.contains("仍可申诉"), "{notices}");

    // Pages say 正式, never 暂定.
    for (who, path) in [
        (&admin, "/overview".to_owned()),
        (&unit, format!("/units/{FGW}")),
    ] {
        let (status, _, page) = who.get(&path);
        assert_eq!(status, 200, "{path}");
        assert!(!page.contains("暂定"), "{path} still says 暂定: {page}");
        assert!(
            page.contains("正式监测得分") && page.contains("本年度结果已发布"),
            "{path}: {page}"
        );
    }

    // The grids are read-only at once, and say why.
    let (_, _, grid) = admin.get("/metric-values");
    assert!(
        grid.contains("id=\"grid-locked\"") && grid.contains("2022 年度已发布，不能再修改"),
        "{grid}"
    );
    assert!(
        grid.contains("readonly") && !grid.contains("hx-post=\"/metric-values\""),
        "no cell of a published period can be edited: {grid}"
    );
    let (status, _, cell) = admin.post(
        "/metric-values",
        &format!("year=2022&unit={FGW}&key=m1&value=3&version=0"),
    );
    assert_eq!(status, 422, "{cell}");
    assert!(
        cell.contains("readonly") && cell.contains("已发布"),
        "{cell}"
    );

    // The ranking workbook and the 通报 say so too, and the 通报 names the windows publication ended.
    let (status, _, xlsx) = app.raw_bytes(
        "GET",
        "/api/v1/periods/2022/export/results.xlsx",
        &[("Authorization", &bearer)],
        Vec::new(),
    );
    assert_eq!(status, 200);
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).expect("workbook");
    let range = wb.worksheet_range("排名").expect("sheet");
    assert!(
        range
            .rows()
            .flatten()
            .all(|c| !c.to_string().contains("暂定")),
        "the published ranking says 暂定"
    );
    let (status, _, docx) = app.raw_bytes(
        "GET",
        "/api/v1/periods/2022/export/report.docx",
        &[("Authorization", &bearer)],
        Vec::new(),
    );
    assert_eq!(status, 200);
    let text = docx_text(docx);
    assert!(!text.contains("暂定"), "the 通报 says 暂定");
    assert!(
        text.contains("发布时确认的例外") && text.contains("发布后不再受理这些记录的申诉"),
        "the 通报 names the ended windows"
    );
}

#[test]
fn a_changed_decision_says_what_it_did() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let admin = Session::login(&app, "admin", "Admin-Pass-2022");
    let unit = Session::login(&app, "fgw", "Unit-Pass-2022!");
    let old = confirmed_record(&app, &bearer);
    let (status, _, html) = unit.post(
        &format!("/records/{old}/appeal?year=2022"),
        "reason=%E5%8F%AA%E6%9C%89%201%20%E4%BA%BA",
    );
    assert_eq!(status, 204, "{html}");
    let (status, head, html) = admin.post(
        &format!("/records/{old}/decision?year=2022"),
        "decision=changed&reason=%E6%A0%B8%E5%AE%9E%E4%B8%BA%201%20%E4%BA%BA&count=1",
    );
    assert_eq!(status, 204, "{html}");
    let to = head
        .lines()
        .find_map(|l| l.strip_prefix("hx-redirect: "))
        .expect("the decision leads to the new record")
        .trim()
        .to_owned();
    let (_, _, page) = admin.get(&to);
    let said = page
        .split("id=\"decided\">")
        .nth(1)
        .and_then(|r| r.split("</p>").next())
        .expect("the page says what the decision did");
    let new = to
        .trim_start_matches("/records/")
        .split('?')
        .next()
        .and_then(|n| n.parse::<i64>().ok())
        .expect("new id");
    assert_ne!(new, old);
    assert_eq!(
        said,
        format!(
            "已改判：原记录 #{old} 不再计入，改由本记录 #{new} 计入（已确认，不可再申诉）；已通知发改委。"
        )
    );
    // The unit was told, as the page says.
    let (_, _, notices) = unit.get("/notifications");
    assert!(notices.contains(&format!("#{old}")), "{notices}");
}

/// Every form names every wrong field at once, in Chinese, beside its field (never the browser's
/// own English check: the forms are `novalidate` and the server says it).
#[test]
fn forms_report_every_wrong_field_at_once() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let admin = Session::login(&app, "admin", "Admin-Pass-2022");
    let unit = Session::login(&app, "fgw", "Unit-Pass-2022!");
    // 1.1 takes 扣分 from 1 to 10: 20 is out of range, and 2023/01/05 is not in 2022.
    let (status, _, html) = admin.post(
        "/records",
        &format!("year=2022&unit={FGW}&rule=1.1&points=20&date=2023%2F01%2F05&source=x"),
    );
    assert_eq!(status, 422, "{html}");
    for field in ["points", "date"] {
        assert!(
            html.contains(&format!("class=\"field-error\" data-field=\"{field}\"")),
            "{field} is marked: {html}"
        );
    }
    assert!(!html.contains("字段 points"), "{html}");
    let (_, _, form) = admin.get("/records/new");
    assert!(form.contains("novalidate"), "{form}");

    // The appeal decision: a count of 0 and an empty reason, both named.
    let id = confirmed_record(&app, &bearer);
    let (status, _, html) = unit.post(&format!("/records/{id}/appeal?year=2022"), "reason=");
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("data-field=\"reason\""), "{html}");
    let (status, _, _) = unit.post(
        &format!("/records/{id}/appeal?year=2022"),
        "reason=%E5%8F%AA%E6%9C%89%201%20%E4%BA%BA",
    );
    assert_eq!(status, 204);
    let (status, _, html) = admin.post(
        &format!("/records/{id}/decision?year=2022"),
        "decision=changed&reason=&count=0",
    );
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("请更正以下 2 处")
            && html.contains("data-field=\"reason\"")
            && html.contains("data-field=\"count\""),
        "{html}"
    );
    let (_, _, page) = admin.get(&format!("/records/{id}"));
    assert!(page.contains("id=\"decision-form\""), "nothing was decided");
}
