//! Offices, assessments and parts over the JSON API (issue 19, `offices-and-periods.md` §1–3): a
//! county under the root opens its departments, its towns and a quarterly assessment in one year;
//! `GET /api/v1/periods` lists what each caller may see with the contract's fields; every period
//! route takes a key; a year naming several periods is a 409 listing them; an unknown key, or a
//! period of an office the caller may not see, is a 404 naming only what was asked; what the
//! county published is readable above and never writable; the quarterly year's results carry each
//! quarter's total.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lvzhi_store::{Actor, Role, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

struct T {
    app: axum::Router,
    _dir: tempfile::TempDir,
}

impl T {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

impl T {
    async fn bytes(&self, uri: &str, token: &str) -> (StatusCode, Vec<u8>) {
        let req = Request::builder()
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, bytes.to_vec())
    }
}

impl T {
    async fn page(&self, uri: &str, token: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            format!("{location}{}", String::from_utf8_lossy(&bytes)),
        )
    }
}

fn rubric(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../rubrics/examples/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example rubric")
}

/// The store with a county under the root and accounts in each; the tokens by name.
async fn setup() -> (T, std::collections::HashMap<&'static str, String>) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("store");
    let op = Actor::new("test", "test");
    store
        .add_office("qingshan", "青山县安委办", "县", "root", &op)
        .await
        .expect("county");
    store
        .add_office("hexi", "河西县安委办", "县", "root", &op)
        .await
        .expect("sibling");
    let mut tokens = std::collections::HashMap::new();
    for (name, office, role) in [
        ("root-admin", "root", Role::Admin),
        ("root-leader", "root", Role::Leader),
        ("qs-admin", "qingshan", Role::Admin),
        ("hx-admin", "hexi", Role::Admin),
    ] {
        store
            .create_user_in(
                office,
                name,
                role,
                None,
                None,
                "Strong-Pass-2023",
                false,
                &op,
            )
            .await
            .expect("user");
        tokens.insert(
            name,
            store.create_token(name, "t", &op).await.expect("token"),
        );
    }
    let app = lvzhi_web::app(lvzhi_web::AppState::new(store));
    (T { app, _dir: dir }, tokens)
}

#[tokio::test]
async fn a_county_runs_its_assessments_and_the_root_reads_what_it_published() {
    let (t, tok) = setup().await;
    let qs = tok["qs-admin"].as_str();
    for (file, code) in [
        ("county-departments-2023", "departments"),
        ("county-towns-2023", "towns"),
        ("county-quarterly-2023", "quarterly"),
    ] {
        let (status, v) = t
            .call(
                "POST",
                "/api/v1/periods",
                qs,
                Some(json!({"rubric": rubric(file), "assessment": code, "confirm": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{file}: {v}");
        assert_eq!(v["plan"]["key"], format!("qingshan.{code}.2023"));
    }
    // A second rubric for the same (office, assessment, year): refused naming the period.
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods",
            qs,
            Some(json!({"rubric": rubric("county-towns-2023"), "assessment": "towns", "confirm": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("qingshan.towns.2023"),
        "{v}"
    );

    // The county's list: the contract's fields; the quarterly year names its quarters.
    let (_, v) = t.call("GET", "/api/v1/periods", qs, None).await;
    let periods = v["periods"].as_array().expect("periods");
    let keys: Vec<&str> = periods
        .iter()
        .map(|p| p["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        [
            "qingshan.departments.2023",
            "qingshan.quarterly.2023",
            "qingshan.quarterly.2023.q1",
            "qingshan.quarterly.2023.q2",
            "qingshan.quarterly.2023.q3",
            "qingshan.quarterly.2023.q4",
            "qingshan.towns.2023",
        ]
    );
    let towns = &periods[6];
    for (field, want) in [
        ("office", json!("qingshan")),
        ("office_name", json!("青山县安委办")),
        ("assessment", json!("towns")),
        ("assessment_name", json!("青山县镇（街道）安全生产工作考核")),
        ("year", json!(2023)),
        ("part", Value::Null),
        ("parts", json!([])),
        ("status", json!("open")),
        ("rubric_id", json!("qingshan-towns-2023")),
        ("title", json!("2023年青山县镇（街道）安全生产工作考核细则")),
    ] {
        assert_eq!(towns[field], want, "{field}: {towns}");
    }
    assert_eq!(periods[1]["parts"].as_array().map(Vec::len), Some(4));
    assert_eq!(periods[3]["part"], "q2");

    // The year alone names seven periods here: 409 with every candidate's key and name.
    let (status, v) = t
        .call("GET", "/api/v1/periods/2023/results", qs, None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let candidates = v["error"]["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 7);
    assert!(candidates.iter().any(|c| c["key"] == "qingshan.towns.2023"
        && c["name"].as_str().unwrap_or("").contains("青山县安委办")));
    // A key names one; an unknown key is a 404 naming it.
    let (status, _) = t
        .call(
            "GET",
            "/api/v1/periods/qingshan.towns.2023/results",
            qs,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = t
        .call("GET", "/api/v1/periods/nope.x.2023/results", qs, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nope.x.2023"),
        "{v}"
    );

    // A record in the second quarter, through its key; the year takes none.
    let rec = json!({"unit": "城东街道", "rule": "1.1", "count": "3", "date": "2023-05-10", "source": "青安办〔2023〕5号"});
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods/qingshan.quarterly.2023.q2/records",
            qs,
            Some(rec.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods/qingshan.quarterly.2023/records",
            qs,
            Some(rec),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    // The year's own pages of a ledger say it has none and link each quarter's.
    for (path, what) in [
        ("/records", "扣分记录"),
        ("/assess", "督导组打分"),
        ("/whatif", "假设分析"),
    ] {
        let (status, page) = t
            .page(&format!("{path}?year=qingshan.quarterly.2023"), qs)
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            page.contains(&format!("由各期合成，没有自己的{what}"))
                && page.contains("?year=qingshan.quarterly.2023.q3\">第三季度</a>"),
            "{path}: {page}"
        );
    }
    // A unit's tags changed on the year are so in each quarter.
    let (status, v) = t
        .call(
            "PATCH",
            "/api/v1/periods/qingshan.quarterly.2023/units/城西街道",
            qs,
            Some(json!({"tags": ["沿江"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["unit"]["tags"], json!(["沿江"]), "{v}");
    // Each quarter's unit changed with it: its version is 2 there (a change naming version 1,
    // the one before, would be refused as stale).
    for n in 1..=4 {
        let (status, v) = t
            .call(
                "PATCH",
                &format!("/api/v1/periods/qingshan.quarterly.2023.q{n}/units/城西街道"),
                qs,
                Some(json!({"tags": ["沿江"], "version": 2})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "q{n}: {v}");
        assert_eq!(v["unit"]["tags"], json!(["沿江"]), "q{n}: {v}");
    }
    let (_, v) = t
        .call(
            "GET",
            "/api/v1/periods/qingshan.quarterly.2023/results",
            qs,
            None,
        )
        .await;
    let east = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["unit"] == "城东街道")
        .cloned()
        .expect("east");
    // (100 + 99.25 + 100 + 100) / 4 = 99.8125 → 99.81
    assert_eq!(east["total"], "99.81", "{east}");
    assert_eq!(
        east["parts"][1],
        json!({"part": "q2", "name": "第二季度", "total": "99.25"})
    );

    // The year's ranking workbook has a column per quarter, then the year.
    let (status, xlsx) = t
        .bytes(
            "/api/v1/periods/qingshan.quarterly.2023/export/results.xlsx",
            qs,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let cells = {
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).expect("workbook");
        let range = wb.worksheet_range("排名").expect("sheet");
        range
            .rows()
            .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let head = cells.iter().find(|r| r[0] == "序号").expect("head");
    assert_eq!(
        head[..8],
        [
            "序号",
            "单位",
            "第一季度",
            "第二季度",
            "第三季度",
            "第四季度",
            "年度得分",
            "折算得分"
        ]
    );
    let east = cells.iter().find(|r| r[1] == "城东街道").expect("row");
    assert_eq!(
        (east[3].as_str(), east[6].as_str()),
        ("99.25", "99.81"),
        "{east:?}"
    );
    let (status, _) = t
        .bytes(
            "/api/v1/periods/qingshan.quarterly.2023/export/report.docx",
            qs,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Above, below and beside: nothing unpublished is seen from the root, nothing at all from
    // the sibling; the 404 names only what was asked.
    let towns_results = "/api/v1/periods/qingshan.towns.2023/results";
    for who in ["root-admin", "root-leader", "hx-admin"] {
        let (status, v) = t.call("GET", towns_results, &tok[who], None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!v.to_string().contains("青山"), "{who}: {v}");
    }
    let (_, v) = t.call("GET", "/api/v1/offices", qs, None).await;
    assert_eq!(
        v["offices"],
        json!([{"code": "qingshan", "name": "青山县安委办", "level": "县", "parent": "root"}])
    );
    let (_, v) = t
        .call("GET", "/api/v1/offices", &tok["root-admin"], None)
        .await;
    assert_eq!(v["offices"].as_array().map(Vec::len), Some(3), "{v}");
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods/qingshan.towns.2023/publish",
            qs,
            Some(json!({"reason": "经县安委会审定", "acknowledge_incomplete": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    for who in ["root-admin", "root-leader"] {
        let (status, _) = t.call("GET", towns_results, &tok[who], None).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{who} reads what the county published"
        );
    }
    let (status, _) = t.call("GET", towns_results, &tok["hx-admin"], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "beside sees nothing");
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods/qingshan.towns.2023/reopen",
            &tok["root-admin"],
            Some(json!({"reason": "上级要求"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (_, v) = t
        .call("GET", "/api/v1/periods", &tok["root-admin"], None)
        .await;
    assert_eq!(
        v["periods"]
            .as_array()
            .expect("list")
            .iter()
            .map(|p| p["key"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["qingshan.towns.2023"]
    );
    oversight(&t, &tok).await;
    audit_by_office(&t, &tok).await;
}

/// With the duties combined, an office's admin reads the trail of its own office's accounts
/// (and those below), not the province's; the root's admin reads the whole trail.
async fn audit_by_office(t: &T, tok: &std::collections::HashMap<&'static str, String>) {
    let actors = async |who: &str| -> Vec<String> {
        let (status, v) = t
            .call("GET", "/api/v1/audit?limit=500", &tok[who], None)
            .await;
        assert_eq!(status, StatusCode::OK, "{who}: {v}");
        v["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["actor"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let county = actors("qs-admin").await;
    assert!(!county.is_empty(), "the county's own work is there");
    assert!(county.iter().all(|a| a == "qs-admin"), "{county:?}");
    let root = actors("root-admin").await;
    assert!(
        root.len() > county.len(),
        "{} vs {}",
        root.len(),
        county.len()
    );
    assert!(
        root.iter().any(|a| a == "test"),
        "the operator's entries too"
    );
    let (_, page) = t.page("/audit", &tok["qs-admin"]).await;
    assert!(
        page.contains("qs-admin") && !page.contains("root-admin") && !page.contains("hx-admin"),
        "{page}"
    );
}

/// The root's oversight of the counties: states and, once published, results in brief; the two
/// counties running the towns rubric side by side; the workbook; a leader lands there.
async fn oversight(t: &T, tok: &std::collections::HashMap<&'static str, String>) {
    let hx = tok["hx-admin"].as_str();
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods",
            hx,
            Some(json!({"rubric": rubric("county-towns-2023"), "assessment": "towns", "confirm": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = t
        .call(
            "POST",
            "/api/v1/periods/hexi.towns.2023/publish",
            hx,
            Some(json!({"reason": "经县安委会审定", "acknowledge_incomplete": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Accounts too: a county's admin lists and manages its own office's accounts, and one of
    // another office is as if it did not exist.
    let (_, v) = t.call("GET", "/api/v1/users", &tok["qs-admin"], None).await;
    let names: Vec<&str> = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["qs-admin"], "{v}");
    let (status, v) = t
        .call(
            "PATCH",
            "/api/v1/users/root-leader",
            &tok["qs-admin"],
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, _) = t
        .call("GET", "/api/v1/periods", &tok["root-leader"], None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the province's leader was not disabled"
    );
    // Notices stay in their office: the county hears of its publication, the root does not.
    let (_, v) = t
        .call("GET", "/api/v1/notifications", &tok["root-leader"], None)
        .await;
    assert_eq!(v["items"], json!([]), "{v}");
    assert_eq!(v["unread"], 0);
    let (_, v) = t
        .call("GET", "/api/v1/notifications", &tok["qs-admin"], None)
        .await;
    assert!(v["items"].as_array().is_some_and(|i| !i.is_empty()), "{v}");
    let (status, _) = t
        .call("GET", "/api/v1/oversight", &tok["qs-admin"], None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no offices below the county");
    let (status, v) = t
        .call(
            "GET",
            "/api/v1/oversight?year=2023",
            &tok["root-leader"],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rows = v["rows"].as_array().expect("rows");
    let row = |office: &str, assessment: &str| {
        rows.iter()
            .find(|r| r["office"] == office && r["assessment"] == assessment)
            .cloned()
            .unwrap_or_else(|| panic!("{office} {assessment}: {v}"))
    };
    let towns = row("qingshan", "towns");
    assert_eq!(towns["state"], "已发布");
    assert!(towns["published_at"].is_string());
    assert_eq!(towns["summary"]["units"], 5, "{towns}");
    assert_eq!(towns["summary"]["mean_total"], "45.00", "{towns}");
    let departments = row("qingshan", "departments");
    assert_eq!(departments["state"], "进行中");
    assert!(
        departments["summary"].is_null(),
        "nothing unpublished is summed up"
    );
    assert_eq!(
        v["comparisons"][0]["rows"].as_array().map(Vec::len),
        Some(2),
        "{v}"
    );
    let (status, xlsx) = t
        .bytes(
            "/api/v1/oversight/export.xlsx?year=2023",
            &tok["root-leader"],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK"));
    // The page, and a leader of an office with offices below lands on it.
    let (status, page) = t.page("/oversight?year=2023", &tok["root-leader"]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("青山县安委办") && page.contains("已发布") && page.contains("同类考核的比较"),
        "{page}"
    );
    let (status, page) = t.page("/", &tok["root-leader"]).await;
    assert!(
        status.is_redirection() && page.starts_with("/oversight"),
        "{status}: {page}"
    );
}
