//! What a new user meets in the first hour (issue 18, "smaller"): the users page updates in place
//! and asks for a role; a refusal says what the person's role can do and names the page's action;
//! the records list shows no 数量 nobody entered; the demo's 督导组 have their units.

mod common;

use common::{App, Session};
use lvzhi_store::Role;

/// A CSV file imported into 2022's `table` through the API: (status, answer).
fn import(app: &App, bearer: &str, table: &str, name: &str, csv: &str) -> (u16, String) {
    let (ct, body) = common::multipart(&[("file", Some(name), csv.as_bytes())]);
    let (status, _, answer) = app.raw_bytes(
        "POST",
        &format!("/api/v1/periods/2022/import/{table}"),
        &[("Authorization", bearer), ("Content-Type", ct.as_str())],
        body,
    );
    (status, String::from_utf8_lossy(&answer).into_owned())
}

fn accounts_heading(page: &str) -> &str {
    page.split("<h2>账号（")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect("the accounts heading")
}

#[test]
fn the_users_page_updates_in_place() {
    let app = App::demo();
    let admin = Session::login(&app, "admin", "Admin-Pass-2022");
    let (_, _, page) = admin.get("/users");
    assert!(
        page.contains("<option value=\"\" selected disabled>请选择角色</option>"),
        "the role has no default: {page}"
    );
    let before: usize = accounts_heading(&page).parse().expect("count");
    // Refused: no role chosen; what was typed stays.
    let (status, _, body) = admin.post("/users", "username=zhangsan&role=&unit=&group=");
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("请选择角色") && body.contains("value=\"zhangsan\""),
        "{body}"
    );
    // Created: the list shows it at once and the form is empty again.
    let (status, _, body) = admin.post("/users", "username=zhangsan&role=recorder&unit=&group=");
    assert_eq!(status, 201, "{body}");
    assert!(body.starts_with("<div id=\"users-body\">"), "{body}");
    assert_eq!(accounts_heading(&body), (before + 1).to_string());
    assert!(
        body.contains("<td>zhangsan</td>") && body.contains("初始密码"),
        "{body}"
    );
    assert!(
        !body.contains("value=\"zhangsan\""),
        "the form is cleared: {body}"
    );
    // A group's units show in the table the moment they are saved.
    let (status, _, body) = admin.post(
        "/groups",
        "group=%E7%AC%AC%E4%B9%9D%E7%9D%A3%E5%AF%BC%E7%BB%84&units=%E5%8F%91%E6%94%B9%E5%A7%94",
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<td>第九督导组</td><td>发改委</td>"),
        "{body}"
    );
}

#[test]
fn a_refusal_says_what_the_role_can_do_and_what_was_refused() {
    let app = App::demo();
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    app.add_user("lu", Role::Recorder, "Recorder-Pass-2022!");
    let unit = Session::login(&app, "fgw", "Unit-Pass-2022!");
    let (status, _, page) = unit.get("/users");
    assert_eq!(status, 403);
    assert!(
        page.contains("成员单位账号可查看本单位的得分说明和扣分记录") && !page.contains("开通"),
        "{page}"
    );
    let recorder = Session::login(&app, "lu", "Recorder-Pass-2022!");
    let (status, _, page) = recorder.get("/rubrics");
    assert_eq!(status, 403);
    assert!(
        page.contains("无权管理考核年度（开设年度、细则版本")
            && page.contains("录入员可录入扣分记录"),
        "{page}"
    );
}

/// The records template names the clauses as people read them, says which column each fills in,
/// and is named in Chinese; a row filled in from its drop-down imports.
#[test]
fn the_records_template_reads_as_the_rubric_and_imports_what_it_offers() {
    use calamine::Reader;
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let auth = [("Authorization", bearer.as_str())];
    let (status, head, bytes) = app.raw_bytes(
        "GET",
        "/api/v1/periods/2022/templates/records.xlsx",
        &auth,
        Vec::new(),
    );
    assert_eq!(status, 200);
    // 张家港市安全生产委员会办公室_…_2022年度_扣分记录导入模板.xlsx: the office, the assessment,
    // the year.
    assert!(
        head.contains("filename*=UTF-8''%E5%BC%A0%E5%AE%B6%E6%B8%AF")
            && head.contains("_2022%E5%B9%B4%E5%BA%A6_%E6%89%A3%E5%88%86%E8%AE%B0%E5%BD%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"),
        "{head}"
    );
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("workbook");
    let options = wb.worksheet_range("选项").expect("lists");
    let offered: Vec<String> = options
        .rows()
        .filter_map(|r| r.get(1).map(ToString::to_string))
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        offered.contains(&"1.1 生产安全事故起数和死亡人数未达到年初预定目标".to_owned()),
        "{offered:?}"
    );
    let rules = wb.worksheet_range("条款说明").expect("the clauses sheet");
    let row = |code: &str| -> Vec<String> {
        let r = rules
            .rows()
            .find(|r| r[0] == code)
            .unwrap_or_else(|| panic!("{code} is listed"));
        r.iter().map(ToString::to_string).collect()
    };
    assert_eq!(row("1.1")[3], "填“扣分”（1–10 分），“数量”不填");
    assert_eq!(row("1.2")[3], "填“数量”（次数），“扣分”不填");
    assert_eq!(row("1.3")[3], "“数量”“扣分”均不填");

    // 1.1 is once a year and 发改委 has one: refused, the column named as the file heads it.
    let csv = "单位,条款编号,扣分,日期\n发改委,1.1 生产安全事故起数和死亡人数未达到年初预定目标,2,2022-04-01\n";
    let (status, answer) = import(&app, &bearer, "records", "filled.csv", csv);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer.contains("第 2 行，字段 条款编号：条款 1.1 每个单位每年只能记录一次"),
        "{answer}"
    );
    let csv = "单位,条款编号,数量,日期\n发改委,1.2 发生亡两人事故或较大社会影响的生产安全事故，有一起,1,2022-04-01\n";
    let (status, answer) = import(&app, &bearer, "records", "filled.csv", csv);
    assert!(status < 300, "{status} {answer}");
    let (_, _, list) = app.raw(
        "GET",
        "/api/v1/periods/2022/records?rule=1.2&unit=%E5%8F%91%E6%94%B9%E5%A7%94",
        &auth,
        "",
    );
    assert!(list.contains("\"2022-04-01\""), "{list}");

    // Record #1 is 发改委's 1.1 (a range clause): no 数量 was entered, none is shown.
    let admin = Session::login(&app, "admin", "Admin-Pass-2022");
    let (_, _, page) = admin.get("/records/1");
    assert!(page.contains("<dt>数量</dt><dd>—</dd>"), "{page}");
    let (_, _, page) = admin.get("/records?year=2022&rule=1.1");
    assert!(
        page.contains("<td class=\"num\">—</td>") && !page.contains("<td class=\"num\">1</td>"),
        "{page}"
    );
}

/// A metric is named in files as people name it: the template offers names, and a value given by
/// name is stored under the metric's code (one value, not two).
#[test]
fn a_metric_reads_by_its_name_as_well_as_its_code() {
    use calamine::Reader;
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let auth = [("Authorization", bearer.as_str())];
    let (_, _, bytes) = app.raw_bytes(
        "GET",
        "/api/v1/periods/2022/templates/metrics.xlsx",
        &auth,
        Vec::new(),
    );
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("workbook");
    let options = wb.worksheet_range("选项").expect("lists");
    let offered: Vec<String> = options
        .rows()
        .filter_map(|r| r.get(1).map(ToString::to_string))
        .collect();
    assert!(
        offered.contains(&"年度隐患总录入数".to_owned()),
        "{offered:?}"
    );
    assert!(
        !offered.contains(&"hazard_entries".to_owned()),
        "{offered:?}"
    );

    let count = |app: &App| {
        let state = app.rt.block_on(app.store.state(2022)).expect("state");
        state
            .metrics()
            .filter(|m| m.unit == "发改委" && m.metric == "hazard_entries")
            .map(|m| m.value.clone())
            .collect::<Vec<_>>()
    };
    let csv = "单位,指标,数值\n发改委,年度隐患总录入数,4321\n";
    let (status, answer) = import(&app, &bearer, "metrics", "m.csv", csv);
    assert!(status < 300, "{status} {answer}");
    assert_eq!(count(&app), ["4321"], "stored once, under its code");
}
