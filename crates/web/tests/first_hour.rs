//! What a new user meets in the first hour (issue 18, "smaller"): the users page updates in place
//! and asks for a role; a refusal says what the person's role can do and names the page's action;
//! the records list shows no 数量 nobody entered; the demo's 督导组 have their units.

mod common;

use common::{App, Session};
use lvzhi_store::Role;

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
