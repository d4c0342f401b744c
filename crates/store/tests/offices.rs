//! Offices, assessments and parts of a year (issue 19, `offices-and-periods.md`), as the store
//! keeps them, on SQLite and (when `LVZHI_TEST_POSTGRES_URL` names a server) PostgreSQL: a county
//! under the root running its departments and its towns side by side in one year, a quarterly
//! assessment whose year is made of its quarters, who sees and who writes what, and every
//! refusal leaving nothing written.

mod common;

use lvzhi_core::access::Duties;
use lvzhi_core::{Basis, NewRecord};
use lvzhi_store::{Actor, OpenTarget, Rights, Role, Store, StoreError};

fn rubric(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../rubrics/examples/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example rubric")
}

fn person(name: &str, office: &str, role: Role) -> Actor {
    Actor::new(name, "test").with_rights(Rights {
        office: office.into(),
        role,
        duties: Duties::Combined,
        unit: None,
        supervises: Vec::new(),
    })
}

fn op() -> Actor {
    Actor::new("cli:test", "cli")
}

fn target(office: &str, assessment: &str) -> OpenTarget {
    OpenTarget {
        office: Some(office.into()),
        assessment: Some(assessment.into()),
        assessment_name: None,
    }
}

fn record(unit: &str, rule: &str, date: &str) -> NewRecord {
    NewRecord {
        unit: unit.into(),
        rule: rule.into(),
        date: Some(date.into()),
        source: "青安办〔2023〕1号".into(),
        ..NewRecord::default()
    }
}

async fn audit_len(store: &Store) -> u64 {
    store.verify_audit().await.expect("verify").entries
}

async fn id(store: &Store, key: &str) -> i64 {
    store.period_id(key, None).await.expect(key)
}

#[tokio::test]
async fn offices_run_several_assessments_and_see_only_what_they_may() {
    for (backend, store, _dir) in common::backends().await {
        tree(backend, &store).await;
        two_assessments(backend, &store).await;
        above_and_below(backend, &store).await;
        a_year_names_what_the_long_way_names(backend, &store).await;
        groups_of_offices(backend, &store).await;
    }
}

/// A bare year in a request is resolved by one light query when it names one period the viewer may
/// see; it must name what the full resolution (`find_period`) names, for every viewer — own
/// office, above (published below only), beside, below — and years with none, one or several.
async fn a_year_names_what_the_long_way_names(backend: &str, store: &Store) {
    let viewers = [
        person("admin", "root", Role::Admin),
        person("leader", "root", Role::Leader),
        person("rec", "root", Role::Recorder),
        person("qs-admin", "qingshan", Role::Admin),
        person("hx-admin", "hexi", Role::Admin),
        person("cd-admin", "chengdong", Role::Admin),
    ];
    let mut answered = 0;
    for who in &viewers {
        for year in ["2022", "2023", "2024"] {
            let r = who.rights.as_ref();
            let fast = store.period_id(year, r).await.map_err(|e| e.to_string());
            let long = store
                .find_period(year, r)
                .await
                .map(|p| p.id)
                .map_err(|e| e.to_string());
            assert_eq!(fast, long, "{backend}: {} asking {year}", who.name);
            answered += usize::from(fast.is_ok());
        }
    }
    assert!(answered > 0, "{backend}: no year named a period for anyone");
}

/// Each office has its own 督导组: the county's 第一督导组 and the root's are two groups, each
/// supervising units of its own office's rosters only.
async fn groups_of_offices(backend: &str, store: &Store) {
    let qs_admin = person("qs-admin", "qingshan", Role::Admin);
    let before = audit_len(store).await;
    let e = store
        .set_group_units("第一督导组", &["发改委".into()], &qs_admin)
        .await
        .expect_err("not a unit of the county");
    assert!(e.to_string().contains("发改委"), "{backend}: {e}");
    assert_eq!(audit_len(store).await, before, "{backend}");
    store
        .set_group_units("第一督导组", &["城关镇".into()], &qs_admin)
        .await
        .expect("the county's group");
    assert_eq!(
        store.groups("qingshan").await.expect("groups"),
        [("第一督导组".to_owned(), vec!["城关镇".to_owned()])],
        "{backend}"
    );
    assert!(
        store.groups("root").await.expect("groups").is_empty(),
        "{backend}"
    );
    store
        .create_user_in(
            "qingshan",
            "qs-group1",
            Role::Assessor,
            None,
            Some("第一督导组"),
            "Strong-Pass-2023",
            false,
            &op(),
        )
        .await
        .expect("assessor");
    let token = store
        .create_token("qs-group1", "t", &op())
        .await
        .expect("token");
    let user = store
        .user_for_token(&token)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(user.supervises, ["城关镇"], "{backend}");
    // The county reads its own accounts' trail (the account behind `qs_admin` made now); the
    // root (no scope) reads the whole.
    store
        .create_user_in(
            "qingshan",
            "qs-admin",
            Role::Admin,
            None,
            None,
            "Strong-Pass-2023",
            false,
            &op(),
        )
        .await
        .expect("the county's admin");
    let scope = lvzhi_store::audit_scope(qs_admin.rights.as_ref());
    assert_eq!(scope, Some("qingshan"));
    let county = store
        .audit_search(None, 500, None, None, scope)
        .await
        .expect("county trail");
    assert!(
        !county.is_empty() && county.iter().all(|e| e.actor == "qs-admin"),
        "{backend}: {:?}",
        county.iter().map(|e| &e.actor).collect::<Vec<_>>()
    );
    let (_, actors) = store.audit_facets(scope).await.expect("facets");
    assert_eq!(actors, ["qs-admin"], "{backend}");
    let root = person("admin", "root", Role::Admin);
    assert_eq!(lvzhi_store::audit_scope(root.rights.as_ref()), None);
    let all = store
        .audit_search(None, 500, None, None, None)
        .await
        .expect("all");
    assert!(all.len() > county.len(), "{backend}");
}

/// The root exists from the start; offices are added under a parent; bad codes, a taken code and
/// a missing parent are refused, writing nothing.
async fn tree(backend: &str, store: &Store) {
    let t = store.office_tree().await.expect("tree");
    assert_eq!(t.offices.len(), 1, "{backend}");
    assert_eq!(t.offices[0].code, "root");
    assert_eq!(t.offices[0].parent, None);
    store
        .add_office("qingshan", "青山县安委办", "县", "root", &op())
        .await
        .expect("county");
    store
        .add_office("chengdong", "城东街道安委办", "镇", "qingshan", &op())
        .await
        .expect("town");
    store
        .add_office("hexi", "河西县安委办", "县", "root", &op())
        .await
        .expect("sibling");
    let before = audit_len(store).await;
    for (code, parent, why) in [
        ("青山", "root", "只能由"),
        ("a.b", "root", "只能由"),
        ("qingshan", "root", "已被使用"),
        ("newone", "nowhere", "不存在"),
    ] {
        let e = store
            .add_office(code, "某安委办", "", parent, &op())
            .await
            .expect_err(code);
        assert!(e.to_string().contains(why), "{backend} {code}: {e}");
    }
    assert_eq!(audit_len(store).await, before, "{backend}: nothing written");
    let t = store.office_tree().await.expect("tree");
    let mut below: Vec<String> = t.below("root").into_iter().collect();
    below.sort();
    assert_eq!(below, ["chengdong", "hexi", "qingshan"], "{backend}");
    assert_eq!(
        t.below("qingshan").into_iter().collect::<Vec<_>>(),
        ["chengdong"]
    );
}

/// A county opens its departments' and its towns' assessments for 2023 side by side; a second
/// rubric for the same (office, assessment, year) is refused naming the period.
async fn two_assessments(backend: &str, store: &Store) {
    let admin = person("qs-admin", "qingshan", Role::Admin);
    let dep = store
        .open_next_period(
            &rubric("county-departments-2023"),
            &target("qingshan", "departments"),
            None,
            &admin,
        )
        .await
        .expect("departments");
    let towns = store
        .open_next_period(
            &rubric("county-towns-2023"),
            &target("qingshan", "towns"),
            None,
            &admin,
        )
        .await
        .expect("towns");
    assert_eq!(dep.key, "qingshan.departments.2023", "{backend}");
    assert_eq!(towns.key, "qingshan.towns.2023");
    let before = audit_len(store).await;
    let again = store
        .open_next_period(
            &rubric("county-towns-2023"),
            &target("qingshan", "towns"),
            None,
            &admin,
        )
        .await
        .expect_err("twice");
    assert!(
        matches!(&again, StoreError::Conflict(m) if m.contains("qingshan.towns.2023")),
        "{backend}: {again}"
    );
    // Another office's admin cannot open a year in this one.
    let other = store
        .open_next_period(
            &rubric("county-towns-2023"),
            &target("qingshan", "towns2"),
            None,
            &person("hx-admin", "hexi", Role::Admin),
        )
        .await
        .expect_err("other office");
    assert!(matches!(other, StoreError::Forbidden(_)), "{backend}");
    assert_eq!(audit_len(store).await, before, "{backend}: nothing written");
    // The year names two periods for the county: refused with both; each key names one.
    let r = admin.rights.clone();
    match store.find_period("2023", r.as_ref()).await {
        Err(StoreError::Ambiguous { candidates, .. }) => {
            let keys: Vec<&str> = candidates.iter().map(|c| c.key.as_str()).collect();
            assert_eq!(
                keys,
                ["qingshan.departments.2023", "qingshan.towns.2023"],
                "{backend}"
            );
            assert!(
                candidates[1].name.contains("青山县安委办 · "),
                "{candidates:?}"
            );
        }
        other => panic!("{backend}: {other:?}"),
    }
    let p = store
        .find_period("qingshan.towns.2023", r.as_ref())
        .await
        .expect("by key");
    assert_eq!(
        (p.office.as_str(), p.year, p.part.clone()),
        ("qingshan", 2023, None)
    );
    // Records go to their own assessment's roster.
    store
        .add_record(p.id, &record("城关镇", "1.1", "2023-03-01"), &admin)
        .await
        .expect("town record");
    let dep_id = id(store, "qingshan.departments.2023").await;
    let e = store
        .add_record(dep_id, &record("城关镇", "1.1", "2023-03-01"), &admin)
        .await
        .expect_err("not a department");
    assert!(e.to_string().contains("城关镇"), "{backend}: {e}");
}

/// Above reads what below published, never writes; beside and unpublished are not there.
async fn above_and_below(backend: &str, store: &Store) {
    let root_admin = person("admin", "root", Role::Admin);
    let root_leader = person("leader", "root", Role::Leader);
    let root_recorder = person("rec", "root", Role::Recorder);
    let sibling = person("hx-admin", "hexi", Role::Admin);
    let town = person("cd-admin", "chengdong", Role::Admin);
    let key = "qingshan.towns.2023";
    for who in [&root_admin, &root_leader, &sibling, &town] {
        let e = store
            .find_period(key, who.rights.as_ref())
            .await
            .expect_err("unpublished below, or not below");
        assert!(
            matches!(&e, StoreError::NotFound(m) if m.contains(key) && !m.contains("青山")),
            "{backend} {}: {e}",
            who.name
        );
    }
    let p = id(store, key).await;
    store
        .publish(
            p,
            "经县安委会审定",
            true,
            &person("qs-admin", "qingshan", Role::Admin),
        )
        .await
        .expect("publish");
    for who in [&root_admin, &root_leader] {
        let seen = store
            .find_period(key, who.rights.as_ref())
            .await
            .expect("published below");
        assert_eq!(seen.id, p, "{backend}");
    }
    for who in [&root_recorder, &sibling, &town] {
        assert!(
            store.find_period(key, who.rights.as_ref()).await.is_err(),
            "{backend} {} sees nothing of it",
            who.name
        );
    }
    // The county's departments assessment, still open, stays out of sight above.
    let listed = store
        .periods_for(root_admin.rights.as_ref())
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        [key],
        "{backend}"
    );
    // Reading is not writing.
    let before = audit_len(store).await;
    let e = store
        .reopen(p, "上级要求重新开放", &root_admin)
        .await
        .expect_err("above reopens nothing");
    assert!(matches!(e, StoreError::Forbidden(_)), "{backend}: {e}");
    assert_eq!(audit_len(store).await, before, "{backend}");
}

#[tokio::test]
async fn a_quarterly_year_is_made_of_its_quarters() {
    for (backend, store, _dir) in common::backends().await {
        quarters(backend, &store).await;
    }
}

async fn quarters(backend: &str, store: &Store) {
    let plan = store
        .open_next_period(
            &rubric("county-quarterly-2023"),
            &OpenTarget::default(),
            None,
            &op(),
        )
        .await
        .expect("open");
    assert_eq!(plan.key, "root.default.2023", "{backend}");
    assert_eq!(plan.parts.len(), 4);
    let year = id(store, "root.default.2023").await;
    let q = |n: u8| format!("root.default.2023.q{n}");
    let q1 = id(store, &q(1)).await;
    let q2 = id(store, &q(2)).await;
    // A record dated outside its quarter is refused naming the quarter and its dates; the year
    // takes none of its own.
    let before = audit_len(store).await;
    let e = store
        .add_record(q2, &record("城西街道", "1.1", "2023-02-01"), &op())
        .await
        .expect_err("outside");
    assert!(
        e.to_string().contains("不在第二季度（04-01 至 06-30）之内"),
        "{backend}: {e}"
    );
    let e = store
        .add_record(year, &record("城西街道", "1.1", "2023-02-01"), &op())
        .await
        .expect_err("the year");
    assert!(e.to_string().contains("由各期"), "{backend}: {e}");
    assert_eq!(audit_len(store).await, before, "{backend}");
    year_roster(backend, store, year).await;
    // 城东 loses 0.75 in the first quarter; 城西 hides an accident in the second: a year veto.
    let mut east = record("城东街道", "1.1", "2023-02-10");
    east.count = Some("3".into());
    store.add_record(q1, &east, &op()).await.expect("east");
    store
        .add_record(q2, &record("城西街道", "1.3", "2023-05-05"), &op())
        .await
        .expect("veto");
    let y = store
        .year_results(year, Basis::Provisional)
        .await
        .expect("year");
    let doc = serde_json::to_value(y.doc()).expect("json");
    let row = |u: &str| {
        doc["results"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["unit"] == u)
            .cloned()
            .expect(u)
    };
    // (99.25 + 100 + 100 + 100) / 4 = 99.8125 → 99.81.
    assert_eq!(row("城东街道")["total"], "99.81", "{backend}: {doc}");
    assert_eq!(row("城东街道")["parts"][0]["total"], "99.25");
    assert_eq!(row("城东街道")["parts"][0]["name"], "第一季度");
    assert_eq!(row("城西街道")["total"], "0.00");
    assert_eq!(row("城西街道")["veto"], true);
    assert_eq!(row("城西街道")["grade"], "不合格");
    // The year is published only after its quarters, and names each one's snapshot.
    let e = store
        .publish(year, "经县安委会审定", true, &op())
        .await
        .expect_err("parts first");
    assert!(
        e.to_string().contains("尚未发布") && e.to_string().contains("第一季度"),
        "{backend}: {e}"
    );
    for n in 1..=4 {
        store
            .publish(id(store, &q(n)).await, "季度审定", true, &op())
            .await
            .expect("quarter");
    }
    // With its quarters published, the year's roster no longer changes (it would not change in
    // them): refused naming them, nothing written.
    let before = audit_len(store).await;
    let e = store
        .set_unit_tags(year, "城东街道", &[], None, &op())
        .await
        .expect_err("quarters published");
    assert!(
        e.to_string()
            .contains("第一季度、第二季度、第三季度、第四季度已发布"),
        "{backend}: {e}"
    );
    assert_eq!(audit_len(store).await, before, "{backend}");
    let (published, _, _) = store
        .publish(year, "经县安委会审定", true, &op())
        .await
        .expect("year");
    let body: serde_json::Value =
        serde_json::from_str(&store.publication(year, published.seq).await.expect("body"))
            .expect("json");
    let parts = body["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 4, "{backend}");
    assert_eq!(parts[1]["period"], q(2));
    assert_eq!(body["results"]["results"].as_array().map(Vec::len), Some(2));
    // A quarter of a published year is reopened only after the year.
    let e = store
        .reopen(q1, "补录", &op())
        .await
        .expect_err("year first");
    assert!(e.to_string().contains("须先重新开放年度"), "{backend}: {e}");
    let v = store.verify_audit().await.expect("verify");
    assert!(v.first_bad.is_none(), "{backend}: {:?}", v.first_bad);
}

/// A unit's tags changed on a year made of parts are so in the year and every part, by one
/// write or by a batch; a batch naming an unknown unit, or bringing records, changes nothing.
async fn year_roster(backend: &str, store: &Store, year: i64) {
    let tags_everywhere = async |unit: &str| {
        let mut all = Vec::new();
        for key in ["", ".q1", ".q2", ".q3", ".q4"] {
            let s = store
                .state(id(store, &format!("root.default.2023{key}")).await)
                .await
                .expect("state");
            let u = s.units.iter().find(|u| u.name == unit).expect(unit);
            all.push(u.tags.join(";"));
        }
        all
    };
    store
        .set_unit_tags(year, "城东街道", &["示范街道".into()], None, &op())
        .await
        .expect("the year's tags");
    assert_eq!(
        tags_everywhere("城东街道").await,
        ["示范街道"; 5],
        "{backend}"
    );
    let batch = lvzhi_store::Batch {
        label: "名册.xlsx".into(),
        tags: vec![("城西街道".into(), vec!["重点".into(), "沿江".into()])],
        ..lvzhi_store::Batch::default()
    };
    let done = store
        .import(year, &batch, &op(), false)
        .await
        .expect("batch");
    assert_eq!(done.imported, 1, "{backend}");
    assert_eq!(
        tags_everywhere("城西街道").await,
        ["重点;沿江"; 5],
        "{backend}"
    );
    let before = audit_len(store).await;
    for (bad, words) in [
        (
            lvzhi_store::Batch {
                tags: vec![
                    ("城西街道".into(), vec![]),
                    ("城南街道".into(), vec!["重点".into()]),
                ],
                ..lvzhi_store::Batch::default()
            },
            "名册中没有单位「城南街道」",
        ),
        (
            lvzhi_store::Batch {
                records: vec![record("城西街道", "1.1", "2023-02-01")],
                ..lvzhi_store::Batch::default()
            },
            "由各期",
        ),
    ] {
        let e = store
            .import(year, &bad, &op(), false)
            .await
            .expect_err(words);
        assert!(format!("{e:?}").contains(words), "{backend}: {e:?}");
    }
    assert_eq!(audit_len(store).await, before, "{backend}: nothing written");
    assert_eq!(
        tags_everywhere("城西街道").await,
        ["重点;沿江"; 5],
        "{backend}"
    );
}

/// Two instances open the same assessment's year at once: exactly one opens it, the other is
/// refused naming the period, and one year (with its parts) exists.
#[tokio::test]
async fn two_instances_opening_one_year_open_it_once() {
    for (backend, url, _dir) in common::databases().await {
        let a = Store::open(&url).await.expect("a");
        let b = Store::open(&url).await.expect("b");
        let text = rubric("county-quarterly-2023");
        for round in 0..3 {
            let target = target("root", &format!("q{round}"));
            let actor = op();
            let (x, y) = tokio::join!(
                a.open_next_period(&text, &target, None, &actor),
                b.open_next_period(&text, &target, None, &actor)
            );
            let opened = [x.is_ok(), y.is_ok()].iter().filter(|o| **o).count();
            assert_eq!(opened, 1, "{backend} round {round}: {x:?} {y:?}");
            let refused = if x.is_ok() { y } else { x }.expect_err("one refused");
            assert!(
                refused.to_string().contains(&format!("root.q{round}.2023")),
                "{backend}: {refused}"
            );
            let keys: Vec<String> = a
                .periods()
                .await
                .expect("list")
                .into_iter()
                .filter(|p| p.assessment == format!("q{round}"))
                .map(|p| p.key)
                .collect();
            assert_eq!(
                keys.len(),
                5,
                "{backend}: the year and its four quarters once: {keys:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_oversight_compares_one_kind_from_the_summaries_published() {
    for (backend, store, _dir) in common::backends().await {
        oversight_of_kinds(backend, &store).await;
    }
}

/// Two counties run their departments under rubrics of different ids that name one `kind`; a
/// third runs its towns. The oversight compares the first two (by kind, not id), reads each
/// summary as it was stored with the publication, and summarises a publication made before
/// summaries were stored (its column empty) from its period, to the same figures.
async fn oversight_of_kinds(backend: &str, store: &Store) {
    let kind = "县级部门安全生产考核";
    for (code, name) in [
        ("east", "东县安委办"),
        ("west", "西县安委办"),
        ("north", "北县安委办"),
    ] {
        store
            .add_office(code, name, "县", "root", &op())
            .await
            .expect("county");
    }
    let departments = rubric("county-departments-2023");
    let mut keys = Vec::new();
    for (office, text) in [
        (
            "east",
            departments.replace(
                "id = \"qingshan-departments-2023\"",
                &format!("id = \"east-departments-2023\"\nkind = \"{kind}\""),
            ),
        ),
        (
            "west",
            departments.replace(
                "id = \"qingshan-departments-2023\"",
                &format!("id = \"west-departments-2023\"\nkind = \"  {kind} \""),
            ),
        ),
        ("north", rubric("county-towns-2023")),
    ] {
        assert!(office == "north" || text.contains("kind ="), "anchor");
        let admin = person(&format!("{office}-admin"), office, Role::Admin);
        let p = store
            .open_next_period(&text, &target(office, "main"), None, &admin)
            .await
            .expect("open");
        let pid = id(store, &p.key).await;
        if office == "east" {
            // One deduction, so that the two counties' means differ.
            let unit = p_unit(store, pid).await;
            let r = store
                .add_record(pid, &record(&unit, "1.1", "2023-03-01"), &admin)
                .await
                .expect("record");
            store
                .confirm_records(pid, &[r.id], None, &admin)
                .await
                .expect("confirm");
        }
        store
            .publish(pid, "经县安委会审定", true, &admin)
            .await
            .expect("publish");
        keys.push(p.key.clone());
    }
    let o = store.oversight("root", 2023).await.expect("oversight");
    assert_eq!(o.comparisons.len(), 1, "{backend}: {:?}", o.comparisons);
    let c = &o.comparisons[0];
    assert_eq!(
        c.kind.as_deref(),
        Some(kind),
        "{backend}: the kind, trimmed"
    );
    assert_eq!(c.title, kind);
    let compared: Vec<&str> = c.rows.iter().map(|&i| o.rows[i].office.as_str()).collect();
    assert_eq!(compared, ["west", "east"], "{backend}: highest mean first");
    // Each summary is the core's summary of the period's official sheets.
    for r in &o.rows {
        let key = r.key.as_deref().expect("opened");
        let state = store.state(id(store, key).await).await.expect("state");
        let expected = lvzhi_core::summary::Summary::of(&state.rubric, &state.official_sheets);
        assert_eq!(r.summary.as_ref(), Some(&expected), "{backend} {key}");
    }
    // A publication from before summaries were stored reads the same. (Publications refuse any
    // change; the test lifts that guard to make one as the previous release left it.)
    let unguard = match backend {
        "sqlite" => "DROP TRIGGER publications_no_update",
        _ => "DROP TRIGGER publications_no_update ON publications",
    };
    sqlx::query(unguard)
        .execute(store.pool())
        .await
        .expect("unguard");
    sqlx::query("UPDATE publications SET summary = NULL")
        .execute(store.pool())
        .await
        .expect("forget the summaries");
    let again = store.oversight("root", 2023).await.expect("oversight");
    let brief = |o: &lvzhi_store::Oversight| {
        o.rows
            .iter()
            .map(|r| serde_json::to_string(&r.summary).expect("json"))
            .collect::<Vec<_>>()
    };
    assert_eq!(brief(&again), brief(&o), "{backend}");
}

/// The first unit of a period's roster.
async fn p_unit(store: &Store, id: i64) -> String {
    store.state(id).await.expect("state").units[0].name.clone()
}
