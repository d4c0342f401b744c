//! The pages in process against the router, on the sample year: the HTML of the key pages as
//! snapshots (insta), and the rules every page obeys: a login is needed (a redirect to the login
//! page, never to another site), a page write needs the session's CSRF token as well as a same-site
//! origin, and a unit account cannot reach another unit's pages. (The browser test of the command
//! line's crate drives the real server in Chromium.)

mod common;

use calamine::Reader;
use common::{App, login, multipart};

#[test]
fn key_pages_match_their_snapshots() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[time]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[local time]");
    settings.add_filter(r"[0-9a-f]{64}", "[hash]");
    settings.add_filter(r"\(([0-9a-f]{12})\)", "([hash12])");
    settings.bind(|| {
        for (name, path) in [
            ("overview", "/overview"),
            ("sheet", "/units/%E5%8F%91%E6%94%B9%E5%A7%94"),
            (
                "records",
                "/records?unit=%E5%8F%91%E6%94%B9%E5%A7%94&sort=date",
            ),
            ("record_new", "/records/new"),
            ("record_fields_range", "/records/fields?rule=1.1"),
            ("record", "/records/1"),
            (
                "assess",
                "/assess?group=%E7%AC%AC%E4%B8%80%E7%9D%A3%E5%AF%BC%E7%BB%84",
            ),
            ("rubric", "/rubric"),
        ] {
            let (status, _, body) = app.raw("GET", path, &[("Authorization", &bearer)], "");
            assert_eq!(status, 200, "{path}: {body}");
            insta::assert_snapshot!(name, body);
        }
    });
}

#[test]
fn page_writes_need_the_token_and_the_site() {
    let app = App::demo();
    let port = app.port;
    let origin = format!("http://127.0.0.1:{port}");
    let count = || {
        let bearer = format!("Bearer {}", app.token());
        let (_, _, body) = app.raw(
            "GET",
            "/api/v1/periods/2022/records",
            &[("Authorization", &bearer)],
            "",
        );
        serde_json::from_str::<serde_json::Value>(&body).expect("json")["total"]
            .as_u64()
            .expect("total") as usize
    };
    let before = count();

    // A login posted from another site is refused.
    let (status, _, body) = app.raw(
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "http://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        "username=admin&password=Admin-Pass-2022",
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("跨站提交"));

    let (cookie, csrf) = login(&app, "admin", "Admin-Pass-2022");
    let form = "year=2022&unit=%E6%95%99%E8%82%B2%E5%B1%80&rule=2.5&count=1&date=2022-05-01&source=test&note=";
    let base = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", origin.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
        ("HX-Request", "true"),
    ];
    // Without the token: refused, nothing stored.
    let (status, _, body) = app.raw("POST", "/records", &base, form);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("页面已过期"), "{body}");
    // With a wrong token: refused.
    let mut wrong = base.to_vec();
    wrong.push(("X-CSRF-Token", "00000000000000000000000000000000"));
    assert_eq!(app.raw("POST", "/records", &wrong, form).0, 403);
    // From another site, even with the token: refused.
    let mut cross = base.to_vec();
    cross[2] = ("Origin", "http://evil.example");
    cross[3] = ("Sec-Fetch-Site", "cross-site");
    cross.push(("X-CSRF-Token", &csrf));
    assert_eq!(app.raw("POST", "/records", &cross, form).0, 403);
    assert_eq!(count(), before, "no refused write stored anything");
    // With the token, from the page's own site: stored, and htmx is sent to the record.
    let mut good = base.to_vec();
    good.push(("X-CSRF-Token", &csrf));
    let (status, head, body) = app.raw("POST", "/records", &good, form);
    assert_eq!(status, 204, "{head}{body}");
    assert!(
        head.to_ascii_lowercase().contains("hx-redirect: /records/"),
        "{head}"
    );
    assert_eq!(count(), before + 1);
    // A refused record comes back as the form with the message next to the field.
    let bad = "year=2022&unit=%E6%95%99%E8%82%B2%E5%B1%80&rule=1.1&points=12&date=2022-05-01&source=&note=";
    let (status, _, body) = app.raw("POST", "/records", &good, bad);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("data-field=\"points\""), "{body}");
    assert_eq!(count(), before + 1);
}

#[test]
fn pages_need_a_login_and_keep_units_apart() {
    let app = App::demo();
    // No login: to the login page, with the way back.
    let (status, head, _) = app.raw("GET", "/overview?year=2022", &[], "");
    assert_eq!(status, 303);
    assert!(
        head.contains("location: /login?next=%2Foverview%3Fyear%3D2022"),
        "{head}"
    );
    // The login page never sends anyone to another site afterwards.
    let (_, _, body) = app.raw("GET", "/login?next=//evil.example/x", &[], "");
    assert!(!body.contains("evil.example"), "{body}");
    // Static files are served without a login, with their type.
    let (status, head, _) = app.raw("GET", "/static/htmx.min.js", &[], "");
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"));
    // The Chinese font the style sheet names last is served, for a machine without one.
    let (_, _, css) = app.raw("GET", "/static/app.css", &[], "");
    let font = css
        .split("url(\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the style sheet names a font file");
    let (status, head, _) = app.raw_bytes("GET", font, &[], Vec::new());
    assert_eq!(status, 200, "{font}");
    assert!(head.contains("font/otf"), "{head}");
    // A unit account: its own sheet, not another unit's, not the rankings; each refusal audited.
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let (cookie, _) = login(&app, "fgw", "Unit-Pass-2022!");
    let get = |path: &str| app.raw("GET", path, &[("Cookie", cookie.as_str())], "");
    assert_eq!(get("/units/%E5%8F%91%E6%94%B9%E5%A7%94").0, 200);
    let (status, _, body) = get("/units/%E6%95%99%E8%82%B2%E5%B1%80");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("无权"));
    assert_eq!(get("/overview").0, 403);
    assert_eq!(get("/audit").0, 403);
    assert_eq!(get("/records?unit=%E6%95%99%E8%82%B2%E5%B1%80").0, 403);
    // The ledger page shows the unit its own records only.
    let (_, _, body) = get("/records");
    assert!(
        body.contains("发改委") && !body.contains(">教育局</a>"),
        "only its own records"
    );
}

/// The rubric versions listed on the 细则版本 page, newest first (their SHA-256 from the links).
fn rubric_versions(page: &str) -> Vec<String> {
    page.split("href=\"/rubrics/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.len() == 64)
        .map(str::to_owned)
        .collect()
}

#[test]
fn exports_templates_and_imports_over_http() {
    let app = App::demo();
    let port = app.port;
    let bearer = format!("Bearer {}", app.token());
    let auth = [("Authorization", bearer.as_str())];
    for file in ["results.xlsx", "ledger.xlsx", "sheets.xlsx"] {
        let (status, head, body) = app.raw(
            "GET",
            &format!("/api/v1/periods/2022/export/{file}"),
            &auth,
            "",
        );
        assert_eq!(status, 200, "{file}: {body}");
        assert!(head.contains("spreadsheetml"), "{head}");
        assert!(head.contains("_2022%E5%B9%B4%E5%BA%A6_"), "{head}");
    }
    for (file, mime) in [
        ("report.pdf", "application/pdf"),
        ("report.docx", "wordprocessingml"),
    ] {
        let (status, head, _) = app.raw(
            "GET",
            &format!("/api/v1/periods/2022/export/{file}"),
            &auth,
            "",
        );
        assert_eq!(status, 200, "{file}: {head}");
        assert!(head.contains(mime), "{head}");
    }
    let (status, _, body) = app.raw("GET", "/api/v1/periods/2022/export/report.xlsx", &auth, "");
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("没有这种格式"),
        "an unknown format says what exists: {body}"
    );
    let (status, head, _) = app.raw(
        "GET",
        "/api/v1/periods/2022/templates/records.xlsx",
        &auth,
        "",
    );
    assert_eq!(status, 200);
    assert!(head.contains("spreadsheetml"));

    // An import with a bad row: 422, the rows listed, nothing stored; a dry run stores nothing either.
    let count = || {
        let (_, _, body) = app.raw("GET", "/api/v1/periods/2022/records", &auth, "");
        serde_json::from_str::<serde_json::Value>(&body).expect("json")["total"]
            .as_u64()
            .expect("total") as usize
    };
    let before = count();
    let csv =
        "单位,条款编号,数量,日期\n教育局,2.5,1,2022-04-01\n教育局,0.0,1,2022-04-01\n".as_bytes();
    let (ct, body) = multipart(&[("file", Some("bad.csv"), csv)]);
    let body = String::from_utf8(body).expect("utf-8 body");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", ct.as_str()),
    ];
    let (status, _, answer) = app.raw(
        "POST",
        "/api/v1/periods/2022/import/records",
        &headers,
        &body,
    );
    assert_eq!(status, 422, "{answer}");
    let v: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(v["error"]["rows"][0]["line"], 3, "{answer}");
    // The same refusal as the annotated workbook.
    let (status, head, _) = app.raw(
        "POST",
        "/api/v1/periods/2022/import/records?annotated=true",
        &headers,
        &body,
    );
    assert_eq!(status, 422);
    assert!(
        head.contains("spreadsheetml") && head.contains("bad.csv"),
        "{head}"
    );
    assert_eq!(count(), before);
    let good = "单位,条款编号,数量,日期\n教育局,2.5,1,2022-04-01\n".as_bytes();
    let (ct, body) = multipart(&[("file", Some("good.csv"), good)]);
    let body = String::from_utf8(body).expect("utf-8 body");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", ct.as_str()),
    ];
    let (status, _, answer) = app.raw(
        "POST",
        "/api/v1/periods/2022/import/records?dry_run=true",
        &headers,
        &body,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(count(), before, "a dry run stores nothing");
    let (status, _, answer) = app.raw(
        "POST",
        "/api/v1/periods/2022/import/records",
        &headers,
        &body,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(count(), before + 1);

    // The import page: a preview, then the import, through the session.
    let (cookie, csrf) = login(&app, "admin", "Admin-Pass-2022");
    let origin = format!("http://127.0.0.1:{port}");
    let page_post = |fields: &[(&str, Option<&str>, &[u8])]| {
        let (ct, body) = multipart(fields);
        let body = String::from_utf8(body).expect("utf-8 body");
        app.raw(
            "POST",
            "/import?year=2022",
            &[
                ("Cookie", cookie.as_str()),
                ("Content-Type", ct.as_str()),
                ("Origin", origin.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
                ("HX-Request", "true"),
                ("X-CSRF-Token", csrf.as_str()),
            ],
            &body,
        )
    };
    let m = "单位,指标,数值\n教育局,hazard_entries,123\n".as_bytes();
    let (status, _, html) = page_post(&[
        ("table", None, b"metrics"),
        ("commit", None, b"0"),
        ("file", Some("m.csv"), m),
    ]);
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("import-preview") && html.contains("123"),
        "{html}"
    );
    let (status, _, html) = page_post(&[
        ("table", None, b"metrics"),
        ("commit", None, b"1"),
        ("file", Some("m.csv"), m),
    ]);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("import-done"), "{html}");
    let (_, _, sheet) = app.raw(
        "GET",
        "/api/v1/periods/2022/units/%E6%95%99%E8%82%B2%E5%B1%80/sheet",
        &auth,
        "",
    );
    assert!(
        sheet.contains("\"value\":\"123\""),
        "the imported metric is in the sheet"
    );
}

#[test]
fn a_record_is_corrected_in_one_step() {
    let app = App::demo();
    let port = app.port;
    let origin = format!("http://127.0.0.1:{port}");
    let (cookie, csrf) = login(&app, "admin", "Admin-Pass-2022");
    let (status, _, page) = app.raw(
        "GET",
        "/records/2/correct",
        &[("Cookie", cookie.as_str())],
        "",
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("更正原因") && page.contains("更正记录 #2"),
        "{page}"
    );
    let version = page
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the version travels with the form")
        .to_owned();
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", origin.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
        ("HX-Request", "true"),
        ("X-CSRF-Token", csrf.as_str()),
    ];
    let bearer = format!("Bearer {}", app.token());
    let (_, _, before) = app.raw(
        "GET",
        "/api/v1/periods/2022/records?limit=5000",
        &[("Authorization", &bearer)],
        "",
    );
    let old: serde_json::Value = serde_json::from_str(&before).expect("json");
    let old = old["records"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["id"] == 2))
        .expect("#2")
        .clone();
    // Without a reason: refused next to the field, nothing changed.
    let form = |reason: &str| {
        format!(
            "year=2022&version={version}&reason={reason}&unit={}&rule={}&count={}&points={}&date={}&source=fixed&note=",
            lvzhi_web::pages::encode_component(old["unit"].as_str().expect("unit")),
            old["rule"].as_str().expect("rule"),
            old["count"],
            old["points"].as_str().unwrap_or(""),
            old["date"].as_str().unwrap_or(""),
        )
    };
    let (status, _, html) = app.raw("POST", "/records/2/correct?year=2022", &headers, &form(""));
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("data-field=\"reason\""), "{html}");
    let (status, head, html) = app.raw(
        "POST",
        "/records/2/correct?year=2022",
        &headers,
        &form("%E4%BE%9D%E6%8D%AE%E6%9C%89%E8%AF%AF"),
    );
    assert_eq!(status, 204, "{head}{html}");
    let (_, _, after) = app.raw(
        "GET",
        "/api/v1/periods/2022/records?limit=5000",
        &[("Authorization", &bearer)],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&after).expect("json");
    let records = v["records"].as_array().expect("records");
    let revoked = records.iter().find(|x| x["id"] == 2).expect("#2 stays");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_reason"], "依据有误");
    let new = records
        .iter()
        .find(|x| x["replaces"] == 2)
        .expect("the replacement");
    assert_eq!(new["source"], "fixed");
    assert!(head.contains(&format!("/records/{}", new["id"])), "{head}");
}

/// The lifecycle through the pages: the office confirms, the unit appeals (and is told), the office
/// decides, publishes after acknowledging the check list, and the ranking table carries the hash.
#[test]
fn confirm_appeal_decide_and_publish_through_the_pages() {
    let app = App::demo();
    let port = app.port;
    let origin = format!("http://127.0.0.1:{port}");
    let bearer = format!("Bearer {}", app.token());
    let api = |path: &str| -> serde_json::Value {
        let (_, _, body) = app.raw("GET", path, &[("Authorization", &bearer)], "");
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
    };
    let records = api("/api/v1/periods/2022/records?unit=%E5%8F%91%E6%94%B9%E5%A7%94");
    let id = records["records"][0]["id"]
        .as_i64()
        .expect("a record of 发改委");
    let status_of = |id: i64| {
        api(&format!("/api/v1/periods/2022/records/{id}"))["record"]["status"]
            .as_str()
            .map(str::to_owned)
    };
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let (admin, admin_csrf) = login(&app, "admin", "Admin-Pass-2022");
    let (unit, unit_csrf) = login(&app, "fgw", "Unit-Pass-2022!");
    let post = |cookie: &str, csrf: &str, path: &str, form: &str| {
        app.raw(
            "POST",
            path,
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", origin.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
                ("HX-Request", "true"),
                ("X-CSRF-Token", csrf),
            ],
            form,
        )
    };
    let get = |cookie: &str, path: &str| app.raw("GET", path, &[("Cookie", cookie)], "");
    // A unit cannot confirm; the office can.
    let (status, _, _) = post(
        &unit,
        &unit_csrf,
        &format!("/records/{id}/confirm?year=2022"),
        "",
    );
    assert_eq!(status, 403);
    let (_, _, page) = get(&admin, &format!("/records/{id}"));
    assert!(page.contains("确认此记录"), "{page}");
    let (status, head, body) = post(
        &admin,
        &admin_csrf,
        &format!("/records/{id}/confirm?year=2022"),
        "",
    );
    assert_eq!(status, 204, "{head}{body}");
    assert_eq!(status_of(id).as_deref(), Some("confirmed"));
    // The unit is told, and may appeal; an empty reason is refused next to its field.
    let (_, _, notices) = get(&unit, "/notifications");
    assert!(
        notices.contains(&format!("扣分记录 #{id}")) && notices.contains("已确认"),
        "{notices}"
    );
    let (_, _, page) = get(&unit, &format!("/records/{id}"));
    assert!(page.contains("提交申诉"), "{page}");
    let path = format!("/records/{id}/appeal?year=2022");
    let (status, _, html) = post(&unit, &unit_csrf, &path, "reason=");
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("data-field=\"reason\""), "{html}");
    let (status, _, _) = post(
        &unit,
        &unit_csrf,
        &path,
        "reason=%E5%B7%B2%E6%95%B4%E6%94%B9",
    );
    assert_eq!(status, 204);
    assert_eq!(status_of(id).as_deref(), Some("appealed"));
    // The office decides; the unit sees the decision on its sheet.
    let (_, _, page) = get(&admin, &format!("/records/{id}"));
    assert!(
        page.contains("作出决定") && page.contains("已整改"),
        "{page}"
    );
    let (status, _, _) = post(
        &admin,
        &admin_csrf,
        &format!("/records/{id}/decision?year=2022"),
        "decision=revoked&reason=%E6%A0%B8%E5%AE%9E%E5%B7%B2%E6%95%B4%E6%94%B9",
    );
    assert_eq!(status, 204);
    assert_eq!(status_of(id).as_deref(), Some("revoked"));
    let (_, _, sheet) = get(&unit, "/units/%E5%8F%91%E6%94%B9%E5%A7%94");
    assert!(
        sheet.contains("已决定：撤销") && sheet.contains("逐月走势"),
        "{sheet}"
    );
    // Publication: the check list first; with exceptions, only when acknowledged.
    let (status, _, page) = get(&admin, "/publish");
    assert_eq!(status, 200);
    assert!(page.contains("条扣分记录待确认"), "{page}");
    let (status, _, html) = post(
        &admin,
        &admin_csrf,
        "/publish?year=2022",
        "reason=%E7%BB%8F%E5%AE%A1%E5%AE%9A",
    );
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("发布前检查未通过"), "{html}");
    let (status, head, _) = post(
        &admin,
        &admin_csrf,
        "/publish?year=2022",
        "reason=%E7%BB%8F%E5%AE%A1%E5%AE%9A&acknowledge=1",
    );
    assert_eq!(status, 204);
    assert!(head.contains("/publish/1"), "{head}");
    let hash = api("/api/v1/periods/2022/publications")["publications"][0]["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let (_, _, page) = get(&admin, "/publish/1");
    assert!(page.contains(&hash), "{page}");
    assert!(
        page.contains("id=\"signature-fingerprint\""),
        "the page shows the signature: {page}"
    );
    // After publication the pages refuse writes too.
    let (status, _, html) = post(
        &admin,
        &admin_csrf,
        &format!("/records/{}/confirm?year=2022", id + 1),
        "",
    );
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("已发布"), "{html}");
    // The exported ranking table says which publication it is.
    let (status, _, xlsx) = app.raw_bytes(
        "GET",
        "/api/v1/periods/2022/export/results.xlsx",
        &[("Authorization", &bearer)],
        Vec::new(),
    );
    assert_eq!(status, 200);
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).expect("workbook");
    let range = wb.worksheet_range("排名").expect("sheet");
    let stamped = range
        .rows()
        .flatten()
        .any(|c| c.to_string().contains(&format!("发布快照 SHA-256：{hash}")));
    assert!(stamped, "the ranking table carries the snapshot hash");
    // … and the fingerprint of the office's signature beside it, the one the signature names.
    let (status, _, sig) = app.raw(
        "GET",
        "/api/v1/periods/2022/publications/1/signature",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{sig}");
    let sig: serde_json::Value = serde_json::from_str(&sig).expect("json");
    let fingerprint = sig["fingerprint"].as_str().expect("fingerprint");
    assert!(
        range.rows().flatten().any(|c| c
            .to_string()
            .contains(&format!("安委办 SM2 公钥指纹：{fingerprint}"))),
        "the ranking table carries the key's fingerprint"
    );
    let (_, _, page) = get(&admin, "/publish/1");
    assert!(
        page.contains(fingerprint),
        "the page shows the same fingerprint"
    );
}

/// 细则版本: a document drafted beside its source, a draft refused until reviewed, a final rubric
/// saved as a new version, and two versions compared.
#[test]
fn a_rubric_document_is_drafted_reviewed_saved_and_compared() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let seed = std::fs::read(common::repo().join("docs/spec/seed-rubric-2022.txt")).expect("seed");
    let (ct, body) = multipart(&[("file", Some("细则.txt"), &seed)]);
    let body = String::from_utf8(body).expect("utf-8 body");
    let (status, _, html) = app.raw(
        "POST",
        "/rubrics/import",
        &[
            ("Authorization", &bearer),
            ("Content-Type", &ct),
            ("HX-Request", "true"),
        ],
        &body,
    );
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("尚有 10 项待确认") && html.contains("生产安全事故方面（30分）"),
        "the draft beside its source: {html}"
    );
    let form = |toml: &str| format!("toml={}", lvzhi_web::pages::encode_component(toml));
    let post = |path: &str, body: &str| {
        app.raw(
            "POST",
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("HX-Request", "true"),
            ],
            body,
        )
    };
    // The draft as drafted: refused, with what waits for review.
    let draft =
        lvzhi_draft::draft(&lvzhi_draft::read_document(&seed).expect("the seed document reads"))
            .to_toml();
    let (status, _, html) = post("/rubrics/check", &form(&draft));
    assert_eq!(status, 200);
    assert!(html.contains("尚有 10 项待确认"), "{html}");
    let (status, _, html) = post("/rubrics/save", &form(&draft));
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("未保存"), "{html}");
    // Reviewed as a form (issue 18): a wrong value is named at its field, in Chinese, and
    // nothing typed is lost; answering every question makes the draft check.
    let answers: Vec<String> = ["accept:", "drop:"]
        .iter()
        .flat_map(|kind| {
            html.split(&format!("name=\"{kind}"))
                .skip(1)
                .filter_map(|r| r.split('"').next())
                .map(move |path| format!("{kind}{path}=1"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(answers.len(), 10, "one answer a question: {answers:?}");
    let items = html
        .split("class=\"review-items\"")
        .nth(1)
        .and_then(|r| r.split("id=\"toml-text\"").next())
        .expect("the items");
    assert!(
        !html.contains("键 `") && !items.contains("review =") && items.contains("请确认："),
        "questions in words, no internal key: {items}"
    );
    let (status, _, html) = post(
        "/rubrics/check",
        &format!("{}&set%3Acategories.0.max=-5", form(&draft)),
    );
    assert_eq!(status, 200);
    let at = html
        .split("data-field=\"categories.0.max\">")
        .nth(1)
        .expect("the message stands at the field");
    assert!(at.starts_with("满分") || at.contains("分"), "{at}");
    assert!(
        html.contains("name=\"set:categories.0.max\" value=\"-5\""),
        "kept: {html}"
    );
    let (status, _, html) = post(
        "/rubrics/check",
        &format!("{}&set%3Acategories.0.max=%E4%BA%8C%E5%8D%81", form(&draft)),
    );
    assert_eq!(status, 200);
    assert!(
        html.contains("「满分」应填数字，「二十」不是数字"),
        "{html}"
    );
    let (status, _, html) = post(
        "/rubrics/check",
        &format!("{}&{}", form(&draft), answers.join("&")),
    );
    assert_eq!(status, 200);
    assert!(html.contains("检查通过"), "every question answered: {html}");
    // A final rubric for 2023 (one clause's points changed) is saved as a new version.
    let rubric = std::fs::read_to_string(common::repo().join("rubrics/2022.toml")).expect("rubric");
    let next = rubric
        .replacen("id = \"zjg-2022\"", "id = \"zjg-2023\"", 1)
        .replacen("year = 2022", "year = 2023", 1)
        .replacen(
            "code = \"2.4\"\nkind = \"fixed\"\npoints = 1\n",
            "code = \"2.4\"\nkind = \"fixed\"\npoints = 1.5\n",
            1,
        );
    assert!(next.contains("points = 1.5"));
    let (status, head, html) = post("/rubrics/save", &form(&next));
    assert_eq!(status, 204, "{head}{html}");
    assert!(head.contains("/rubrics?saved="), "{head}");
    let (_, _, page) = app.raw("GET", "/rubrics", &[("Authorization", &bearer)], "");
    assert!(
        page.contains("zjg-2023") && page.contains("zjg-2022"),
        "{page}"
    );
    let hashes = rubric_versions(&page);
    assert_eq!(hashes.len(), 2, "{page}");
    // Newest first: compare the 2022 version with the 2023 one.
    let (status, _, diff) = app.raw(
        "GET",
        &format!("/rubrics/diff?from={}&to={}", hashes[1], hashes[0]),
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{diff}");
    assert!(
        diff.contains("修改条款（1）") && diff.contains("扣 1.5 分（每年一次）"),
        "{diff}"
    );
    // The new version opens 2023 after the roster is reviewed.
    let (status, _, plan) = app.raw(
        "GET",
        &format!("/rubrics/{}/open", hashes[0]),
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{plan}");
    assert!(
        plan.contains("2023 年度（细则 zjg-2023），名册 41 个单位，自")
            && plan.contains("2022 年度结转"),
        "{plan}"
    );
    let (status, head, _) = post(&format!("/rubrics/{}/open", hashes[0]), "");
    assert_eq!(status, 204, "{head}");
    assert!(head.contains("/overview?year=root.default.2023"), "{head}");
    let (status, _, again) = post(&format!("/rubrics/{}/open", hashes[0]), "");
    assert_eq!(status, 422, "{again}");
    assert!(again.contains("已经存在"), "{again}");
    // Only the office manages rubric versions.
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let (cookie, _) = login(&app, "fgw", "Unit-Pass-2022!");
    assert_eq!(
        app.raw("GET", "/rubrics", &[("Cookie", &cookie)], "").0,
        403
    );
}

/// A county's rubric for its towns (得分制, metric steps, grade bands): its document drafted on the
/// page with the source rows beside it, the reviewed rubric saved, compared with 2022 (modes and
/// bands named), and a year opened from it; its rubric page and dashboard show the bands.
#[test]
fn a_year_from_a_county_rubric_opens_from_the_page_and_shows_its_bands() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let doc =
        std::fs::read(common::repo().join("docs/examples/county-towns-2023.docx")).expect("docx");
    let (ct, body) = multipart(&[("file", Some("镇街细则.docx"), &doc)]);
    let (status, _, html) = app.raw_bytes(
        "POST",
        "/rubrics/import",
        &[
            ("Authorization", &bearer),
            ("Content-Type", &ct),
            ("HX-Request", "true"),
        ],
        body,
    );
    let html = String::from_utf8(html).expect("utf-8");
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("责任体系建设")
            && html.contains("mode = &quot;earn&quot;")
            && html.contains("[[grades]]"),
        "the draft proposes the constructs: {html}"
    );
    let form = |toml: &str| format!("toml={}", lvzhi_web::pages::encode_component(toml));
    let post = |path: &str, body: &str| {
        app.raw(
            "POST",
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("HX-Request", "true"),
            ],
            body,
        )
    };
    let reviewed =
        std::fs::read_to_string(common::repo().join("rubrics/examples/county-towns-2023.toml"))
            .expect("rubric");
    let (status, head, html) = post("/rubrics/save", &form(&reviewed));
    assert_eq!(status, 204, "{head}{html}");
    let (_, _, page) = app.raw("GET", "/rubrics", &[("Authorization", &bearer)], "");
    let hashes = rubric_versions(&page);
    assert_eq!(hashes.len(), 2, "{page}");
    let (status, _, diff) = app.raw(
        "GET",
        &format!("/rubrics/diff?from={}&to={}", hashes[1], hashes[0]),
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{diff}");
    assert!(
        diff.contains("等次：无 → 优秀 ≥ 90；良好 ≥ 80；合格 ≥ 60；不合格 &lt; 60")
            && diff.contains("20 分，得分制")
            && diff.contains("比上年生产安全事故起数每多 1 扣 2 分，最多扣 10 分"),
        "{diff}"
    );
    // Another assessment's rubric starts clean by default: 张家港's 41 units are not carried
    // over (issue 18); carrying from 2022 stays a choice.
    let get = |path: &str| app.raw("GET", path, &[("Authorization", &bearer)], "");
    let (status, _, plan) = get(&format!("/rubrics/{}/open", hashes[0]));
    assert_eq!(status, 200, "{plan}");
    assert!(
        plan.contains("<option value=\"none\" selected>不结转")
            && plan.contains("<option value=\"root.default.2022\">自")
            && plan.contains("<dt>不再参评</dt><dd>无</dd>")
            && plan.contains("<dt>受影响的账号</dt><dd>无</dd>"),
        "{plan}"
    );
    let (_, _, carried) = get(&format!(
        "/rubrics/{}/open?carry=root.default.2022",
        hashes[0]
    ));
    assert!(
        carried.contains("<option value=\"root.default.2022\" selected>")
            && carried.contains("发改委"),
        "carrying is a choice: {carried}"
    );
    let (status, head, html) = post(&format!("/rubrics/{}/open", hashes[0]), "carry=none");
    assert_eq!(status, 204, "{head}{html}");
    assert!(head.contains("/overview?year=root.default.2023"), "{head}");
    let (status, _, rubric) = get("/rubric?year=2023");
    assert_eq!(status, 200);
    assert!(
        rubric.contains("考核等次：优秀 ≥ 90") && rubric.contains("得分制"),
        "{rubric}"
    );
    let (status, _, overview) = get("/overview?year=2023");
    assert_eq!(status, 200);
    // No records yet: every town has only its deduct categories' points, 45 of 100: 不合格.
    assert!(
        overview.contains("<th>等次</th>") && overview.contains("id=\"grade-counts\""),
        "{overview}"
    );
    assert!(
        overview.contains("<td class=\"grade\">不合格</td>"),
        "{overview}"
    );
}

/// 假设分析: a hypothetical record changes 发改委's score on the page and nothing is stored.
#[test]
fn what_if_through_the_page_stores_nothing() {
    let app = App::demo();
    let bearer = format!("Bearer {}", app.token());
    let count = || {
        let (_, _, body) = app.raw(
            "GET",
            "/api/v1/periods/2022/records",
            &[("Authorization", &bearer)],
            "",
        );
        serde_json::from_str::<serde_json::Value>(&body).expect("json")["total"]
            .as_u64()
            .expect("total") as usize
    };
    let before = count();
    let post = |form: &str| {
        app.raw(
            "POST",
            "/whatif?year=2022",
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("HX-Request", "true"),
            ],
            form,
        )
    };
    let unit = lvzhi_web::pages::encode_component("发改委");
    let (status, _, html) = post(&format!("unit1={unit}&rule1=2.5&count1=3&leave_out="));
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("发改委") && html.contains("假设后"), "{html}");
    assert_eq!(count(), before, "a what-if stores nothing");
    let (status, _, html) = post("leave_out=abc");
    assert_eq!(status, 422);
    assert!(html.contains("记录编号「abc」无效"), "{html}");
    let (status, _, html) = post(&format!("unit1={unit}&rule1=9.9"));
    assert_eq!(status, 422, "{html}");
    assert_eq!(
        app.raw("GET", "/whatif", &[("Authorization", &bearer)], "")
            .0,
        200
    );
}

/// Issue 12: a fresh installation holds no period; the office is taken to opening its first year
/// from the shipped rubric (the roster shown first), and the other pages say why they are empty.
#[test]
fn a_fresh_store_guides_the_office_to_its_first_year() {
    let app = App::empty();
    let (cookie, csrf) = login(&app, "admin", "Admin-Pass-2022");
    let origin = format!("http://127.0.0.1:{}", app.port);
    let get = |path: &str| app.raw("GET", path, &[("Cookie", &cookie)], "");
    let post = |path: &str, form: &str| {
        app.raw(
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("X-CSRF-Token", &csrf),
                ("Origin", &origin),
                ("HX-Request", "true"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form,
        )
    };
    let (status, head, _) = get("/");
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /rubrics"), "{head}");
    let (status, _, page) = get("/rubrics");
    assert_eq!(status, 200);
    assert!(
        page.contains("开设第一个考核年度") && page.contains("open-shipped-2022"),
        "{page}"
    );
    // Every page of a period says there is none yet and leads to opening one (issue 18).
    for path in ["/overview", "/records", "/assess"] {
        let (status, _, page) = get(path);
        assert_eq!(status, 404, "{path}");
        assert!(
            page.contains("<h1>尚未开设考核年度</h1>")
                && page.contains("id=\"next-step\" href=\"&#x2f;rubrics\">开设第一个考核年度")
                && !page.contains("请检查网址"),
            "{path}: {page}"
        );
    }
    // The shipped rubric: saved as a version, then the opening page with its roster.
    let (status, head, _) = post("/rubrics/shipped", "name=2022");
    assert_eq!(status, 204, "{head}");
    let to = head
        .lines()
        .find_map(|l| l.strip_prefix("hx-redirect: "))
        .expect("sent on")
        .to_owned();
    assert!(to.starts_with("/rubrics/") && to.ends_with("/open"), "{to}");
    let (status, _, page) = get(&to);
    assert_eq!(status, 200);
    assert!(
        page.contains("发改委") && page.contains("41"),
        "the roster is shown: {page}"
    );
    let (status, head, _) = post(&to, "");
    assert_eq!(status, 204, "{head}");
    assert!(
        head.contains("hx-redirect: /overview?year=root.default.2022"),
        "{head}"
    );
    let (status, _, page) = get("/overview?year=2022");
    assert_eq!(status, 200);
    // An empty year says what to do next rather than ranking 41 ties.
    let steps = page
        .split("id=\"next-steps\"")
        .nth(1)
        .expect("the next steps of an empty year");
    assert!(
        steps.contains("href=\"/users\"") && steps.contains("templates/records.xlsx"),
        "{steps}"
    );
    assert_eq!(
        app.rt.block_on(app.store.periods()).expect("periods").len(),
        1
    );
}

/// Finding 2 of the external test: `next=/<TAB>/evil.example` was answered with that Location, and
/// a CR or LF in `next` answered 500 after the session was made. Anything but a local path of safe
/// characters now goes to the account's landing page.
#[test]
fn login_next_is_only_ever_a_local_path() {
    let app = App::demo();
    app.add_unit_user("fgw", "发改委", "Unit-Pass-2022!");
    let origin = format!("http://127.0.0.1:{}", app.port);
    for next in [
        "%2F%09%2Fevil.example",
        "%2Fa%0D%0ASet-Cookie%3A%20x%3D1",
        "%2Fa%0Bb",
        "%2F%2Fevil.example",
    ] {
        let (status, head, body) = app.raw(
            "POST",
            "/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &origin),
                ("Sec-Fetch-Site", "same-origin"),
            ],
            &format!("username=fgw&password=Unit-Pass-2022!&next={next}"),
        );
        assert_eq!(status, 303, "{next}: {head}{body}");
        let to = head
            .lines()
            .find_map(|l| l.strip_prefix("location: "))
            .expect("a location");
        assert!(
            !to.contains("evil")
                && !to.contains('\t')
                && to.starts_with('/')
                && !to.starts_with("//"),
            "{next} → {to:?}"
        );
    }
}

/// The audit page checks the checkpoints always and, on asking, replays the tables against the
/// trail: a status set by SQL behind the service's back is named there.
#[test]
fn the_audit_page_names_a_row_the_trail_does_not_explain() {
    let app = App::demo();
    let (cookie, _) = login(&app, "admin", "Admin-Pass-2022");
    let get = |path: &str| app.raw("GET", path, &[("Cookie", cookie.as_str())], "");
    let (status, _, body) = get("/audit?full=1");
    assert_eq!(status, 200);
    assert!(
        body.contains("审计校验通过") && body.contains("与审计链相符"),
        "{body}"
    );
    app.rt.block_on(async {
        sqlx::query("UPDATE records SET status = 'confirmed' WHERE id = 3")
            .execute(app.store.pool())
            .await
            .expect("tamper");
    });
    let (_, _, quick) = get("/audit");
    assert!(
        quick.contains("各表尚未与审计链逐行核对") && quick.contains("全面核验"),
        "{quick}"
    );
    let (_, _, full) = get("/audit?full=1");
    assert!(
        full.contains("有数据行审计链不能解释")
            && full.contains("扣分记录 #3：表中状态为“已确认”，审计链记载为“待确认”"),
        "{full}"
    );
}
