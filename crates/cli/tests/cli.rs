//! The command line's own behaviour: encodings, rubric commands, missing files, exit codes, and a
//! snapshot of the sample year's results.

mod common;

use common::{lvzhi, repo};

#[test]
fn gbk_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    // "unit,rule\n" then 发改委 in GBK (B7 A2 B8 C4 CE AF), a valid UTF-8 row, and GBK again.
    let mut bytes = b"unit,rule\n".to_vec();
    bytes.extend_from_slice(b"\xB7\xA2\xB8\xC4\xCE\xAF,2.4\n");
    bytes.extend_from_slice("教育局,2.4\n".as_bytes());
    std::fs::write(dir.path().join("r.csv"), bytes).expect("write");
    let run = lvzhi(&["score", "--records", "r.csv"], dir.path());
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("r.csv 第 2 行：文本不是 UTF-8 编码"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("第 3 行"), "{}", run.stderr);
}

#[test]
fn missing_files_and_unknown_rubrics() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = lvzhi(&["score", "--records", "nope.csv"], dir.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("无法打开文件 nope.csv"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    std::fs::write(dir.path().join("r.csv"), "unit,rule\n").expect("write");
    let run = lvzhi(
        &["score", "--rubric", "2019", "--records", "r.csv"],
        dir.path(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("无法读取细则文件 2019"),
        "{}",
        run.stderr
    );
    let run = lvzhi(&["score"], dir.path());
    assert_eq!(run.code, 2, "usage error: {}", run.stderr);
}

#[test]
fn rubric_check_names_line_and_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = repo().join("rubrics/2022.toml");
    let run = lvzhi(
        &["rubric", "check", good.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("细则检查通过"), "{}", run.stdout);
    assert!(
        run.stdout.contains("49 条条款，名册 41 个单位，总分 100"),
        "{}",
        run.stdout
    );

    let bad =
        lvzhi_core::RUBRIC_2022.replacen("points = 0.2\n", "points = 0.25\nmax_count = 0\n", 1);
    std::fs::write(dir.path().join("bad.toml"), bad).expect("write");
    let run = lvzhi(&["rubric", "check", "bad.toml"], dir.path());
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("bad.toml 第 "), "{}", run.stderr);
    assert!(
        run.stderr.contains("键 `categories[1].rules[1].max_count`"),
        "{}",
        run.stderr
    );
}

#[test]
fn rubric_show_json_nests_categories_sections_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = lvzhi(&["rubric", "show", "2022", "--json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let cats = doc["categories"].as_array().expect("categories");
    assert_eq!(cats.len(), 7);
    let three = &cats[2];
    assert_eq!(three["max"], "20");
    assert_eq!(three["sections"].as_array().map(Vec::len), Some(4));
    let r341 = &three["sections"][3]["rules"][0];
    assert_eq!(
        (
            r341["code"].as_str(),
            r341["kind"].as_str(),
            r341["max"].as_str()
        ),
        (Some("3.4.1"), Some("assessed"), Some("5"))
    );
    let r11 = &cats[0]["rules"][0];
    assert_eq!(
        (r11["min"].as_str(), r11["max"].as_str(), r11.get("points")),
        (Some("1"), Some("10"), None)
    );
    let r44 = cats[3]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["code"] == "4.4")
        .expect("4.4");
    assert_eq!(r44["max_count"], 4);
    assert_eq!(r44["applies_to"], "专委会");
    assert_eq!(r44["points"], "0.2");
    let r512 = cats[4]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["code"] == "5.12")
        .expect("5.12");
    assert_eq!(r512["excludes"], serde_json::json!(["5.10", "5.11"]));
    assert!(
        r512["text"]
            .as_str()
            .is_some_and(|t| t.contains("直接扣3分"))
    );
    // The readable tree.
    let run = lvzhi(&["rubric", "show"], dir.path());
    assert!(
        run.stdout.contains("3.4 督导工作方面（5 分）"),
        "{}",
        run.stdout
    );
}

#[test]
fn sample_year_results_snapshot() {
    let run = common::score_sample(true);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["results"].as_array().map(Vec::len), Some(41));
    insta::assert_json_snapshot!("sample_year_2022", doc);
    let table = common::score_sample(false);
    assert_eq!(table.code, 0);
    insta::assert_snapshot!("sample_year_2022_table", table.stdout);
}

/// `lvzhi period`: a new year from a rubric file, previewed then opened; a publication refused by
/// its check list, then acknowledged, its hash printed and in the audit chain; reopened.
#[test]
fn periods_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("path");
    common::open_2022(&data);
    let rubric = std::fs::read_to_string(common::repo().join("rubrics/2022.toml")).expect("rubric");
    let next = rubric
        .replacen("id = \"zjg-2022\"", "id = \"zjg-2023\"", 1)
        .replacen("year = 2022", "year = 2023", 1)
        .replacen("[[units]]\nname = \"气象局\"\nclass = \"B\"\n", "", 1);
    let file = dir.path().join("2023.toml");
    std::fs::write(&file, next).expect("write");
    let file_arg = file.to_str().expect("path");
    let preview = lvzhi(
        &[
            "period",
            "open",
            file_arg,
            "--carry-from",
            "2022",
            "--data",
            data_arg,
        ],
        dir.path(),
    );
    assert_eq!(preview.code, 0, "{}", preview.stderr);
    assert!(
        preview.stdout.contains("不再参评的单位（1）：气象局")
            && preview.stdout.contains("尚未创建"),
        "{}",
        preview.stdout
    );
    let listed = lvzhi(&["period", "list", "--data", data_arg], dir.path());
    assert!(!listed.stdout.contains("2023"), "{}", listed.stdout);
    let opened = lvzhi(
        &[
            "period",
            "open",
            file_arg,
            "--carry-from",
            "2022",
            "--yes",
            "--data",
            data_arg,
        ],
        dir.path(),
    );
    assert_eq!(opened.code, 0, "{}", opened.stderr);
    assert!(
        opened.stdout.contains("已创建 2023 年度考核"),
        "{}",
        opened.stdout
    );
    let listed = lvzhi(&["period", "list", "--data", data_arg], dir.path());
    assert!(
        listed.stdout.contains("root.default.2023\t") && listed.stdout.contains("进行中\tzjg-2023"),
        "{}",
        listed.stdout
    );
    // Nothing recorded: every group score and metric is missing, so the check list refuses.
    let refused = lvzhi(
        &[
            "period", "publish", "--year", "2022", "--reason", "审定", "--data", data_arg,
        ],
        dir.path(),
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("发布前检查未通过"),
        "{}",
        refused.stderr
    );
    let published = lvzhi(
        &[
            "period",
            "publish",
            "--year",
            "2022",
            "--reason",
            "审定；数据另行补充",
            "--acknowledge",
            "--data",
            data_arg,
        ],
        dir.path(),
    );
    assert_eq!(published.code, 0, "{}", published.stderr);
    let hash = published
        .stdout
        .split("快照 SHA-256：")
        .nth(1)
        .map(|h| h.trim().chars().take(64).collect::<String>())
        .expect("the hash is printed");
    assert_eq!(hash.len(), 64);
    let verified = lvzhi(&["audit", "verify", "--data", data_arg], dir.path());
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    // `audit head` names the same last entry that `audit verify` ends on.
    let head = lvzhi(&["audit", "head", "--data", data_arg], dir.path());
    assert_eq!(head.code, 0, "{}", head.stderr);
    let last_hash = verified
        .stdout
        .split("末条哈希 ")
        .nth(1)
        .and_then(|s| s.lines().next())
        .map(str::trim)
        .expect("verify prints the head");
    assert!(
        head.stdout.starts_with("审计链末条：第 ") && head.stdout.trim_end().ends_with(last_hash),
        "{} / {}",
        head.stdout,
        verified.stdout
    );
    let reopened = lvzhi(
        &[
            "period",
            "reopen",
            "--year",
            "2022",
            "--reason",
            "补充数据",
            "--data",
            data_arg,
        ],
        dir.path(),
    );
    assert_eq!(reopened.code, 0, "{}", reopened.stderr);
}

/// `lvzhi rubric import|check|diff`: the 2022 document drafted (every rule with its source), the
/// draft refused by `check` for what waits for review, shown by `show --json` all the same, and a
/// diff between two versions.
#[test]
fn rubric_import_check_show_and_diff() {
    let dir = tempfile::tempdir().expect("tmp");
    let seed = repo().join("docs/spec/seed-rubric-2022.txt");
    let run = lvzhi(
        &["rubric", "import", seed.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("49 条规则") && run.stderr.contains("待人工确认 10 项"),
        "{}",
        run.stderr
    );
    let draft = dir.path().join("draft.toml");
    std::fs::write(&draft, &run.stdout).expect("write");
    let draft_arg = draft.to_str().expect("path");
    let check = lvzhi(&["rubric", "check", draft_arg], dir.path());
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains("次数上限 150 取自原文「150条」")
            && check.stderr.contains("尚有 10 项待人工确认"),
        "{}",
        check.stderr
    );
    let show = lvzhi(&["rubric", "show", draft_arg, "--json"], dir.path());
    assert_eq!(show.code, 0, "{}", show.stderr);
    let doc: serde_json::Value = serde_json::from_str(&show.stdout).expect("json");
    assert_eq!(doc["review"].as_array().map(Vec::len), Some(10));
    // A draft cannot be used to score.
    let score = lvzhi(
        &[
            "score",
            "--rubric",
            draft_arg,
            "--records",
            repo()
                .join("examples/2022/records.csv")
                .to_str()
                .expect("path"),
        ],
        dir.path(),
    );
    assert_eq!(score.code, 1);
    assert!(score.stderr.contains("待人工确认"), "{}", score.stderr);
    // The diff between the shipped rubric and one with a changed clause.
    let changed = std::fs::read_to_string(repo().join("rubrics/2022.toml"))
        .expect("rubric")
        .replacen(
            "code = \"2.4\"\nkind = \"fixed\"\npoints = 1\n",
            "code = \"2.4\"\nkind = \"fixed\"\npoints = 1.5\n",
            1,
        );
    let file = dir.path().join("changed.toml");
    std::fs::write(&file, changed).expect("write");
    let diff = lvzhi(
        &["rubric", "diff", "2022", file.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert!(
        diff.stdout.contains("修改条款（1）")
            && diff
                .stdout
                .contains("→ 未纳入党委（组）理论学习中心组学习内容：扣 1.5 分（每年一次）"),
        "{}",
        diff.stdout
    );
    let same = lvzhi(&["rubric", "diff", "2022", "2022"], dir.path());
    assert!(same.stdout.contains("相同"), "{}", same.stdout);
    // Not a rubric document: refused with the reason.
    let bad = dir.path().join("x.doc");
    std::fs::write(&bad, [0xD0, 0xCF, 0x11, 0xE0, 0, 0]).expect("write");
    let refused = lvzhi(
        &["rubric", "import", bad.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("另存为 .docx"),
        "{}",
        refused.stderr
    );
}

/// Issue 19: a part of a year assessed by quarters is scored from files as a year is; a record
/// dated outside the part is refused naming the part and its days; an unknown part lists them.
#[test]
fn a_part_is_scored_from_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let rubric = repo().join("rubrics/examples/county-quarterly-2023.toml");
    let rubric = rubric.to_str().expect("path");
    let records = dir.path().join("records.csv");
    let write = |text: &str| std::fs::write(&records, text).expect("write");
    let score = |part: &str| {
        lvzhi(
            &[
                "score",
                "--rubric",
                rubric,
                "--part",
                part,
                "--records",
                records.to_str().expect("path"),
                "--json",
            ],
            dir.path(),
        )
    };
    write("unit,rule,count,points,date\n城东街道,1.1,3,,2023-05-10\n城西街道,1.1,1,,2023-02-01\n");
    let run = score("q2");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "nothing printed on a refusal");
    assert!(
        run.stderr
            .contains("第 3 行，字段 date：日期 2023-02-01 不在第二季度（04-01 至 06-30）之内"),
        "{}",
        run.stderr
    );
    write("unit,rule,count,points,date\n城东街道,1.1,3,,2023-05-10\n城西街道,1.1,1,,\n");
    let run = score("q2");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("第二季度的记录须填写日期（04-01 至 06-30）"),
        "{}",
        run.stderr
    );
    write("unit,rule,count,points,date\n城东街道,1.1,3,,2023-05-10\n");
    let run = score("q2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let east = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|u| u["unit"] == "城东街道")
        .expect("east");
    assert_eq!(east["total"], "99.25");
    // Opening a year from it opens the year and its four quarters, each with its key.
    let data = dir.path().join("data");
    let d = data.to_str().expect("p");
    let run = lvzhi(
        &["period", "open", rubric, "--yes", "--data", d],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("分期（4）：root.default.2023.q1、root.default.2023.q2"),
        "{}",
        run.stdout
    );
    let list = lvzhi(&["period", "list", "--json", "--data", d], dir.path());
    let periods: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    let keys: Vec<&str> = periods
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        [
            "root.default.2023",
            "root.default.2023.q1",
            "root.default.2023.q2",
            "root.default.2023.q3",
            "root.default.2023.q4"
        ]
    );
    assert_eq!(periods[0]["parts"].as_array().map(Vec::len), Some(4));
    assert_eq!(periods[2]["part"], "q2");
    assert_eq!(periods[2]["of_year"], "root.default.2023");
    // The year names five periods: a command given only the year is refused, naming them.
    let run = lvzhi(
        &[
            "import",
            "records",
            records.to_str().expect("p"),
            "--year",
            "2023",
            "--data",
            d,
        ],
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("2023 年度有 5 项考核")
            && run.stderr.contains("root.default.2023.q2（"),
        "{}",
        run.stderr
    );
    // The quarter's key names one; its records import into it as they score from files.
    let run = lvzhi(
        &[
            "import",
            "records",
            records.to_str().expect("p"),
            "--period",
            "root.default.2023.q2",
            "--data",
            d,
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A date outside the quarter is refused there, naming the quarter and its dates.
    write("unit,rule,count,points,date\n城西街道,1.1,1,,2023-02-01\n");
    let run = lvzhi(
        &[
            "import",
            "records",
            records.to_str().expect("p"),
            "--period",
            "root.default.2023.q2",
            "--data",
            d,
        ],
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("不在第二季度（04-01 至 06-30）之内"),
        "{}",
        run.stderr
    );
    // The year takes no records of its own.
    let run = lvzhi(
        &[
            "import",
            "records",
            records.to_str().expect("p"),
            "--period",
            "root.default.2023",
            "--data",
            d,
        ],
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("由各期"), "{}", run.stderr);
    // A 督导组 of an office: its units checked against that office's rosters, every unknown one
    // named; an office that does not exist is refused.
    let group = |office: &str, units: &str| {
        lvzhi(
            &[
                "group",
                "set",
                "第一督导组",
                "--units",
                units,
                "--office",
                office,
                "--data",
                d,
            ],
            dir.path(),
        )
    };
    let run = group("root", "城东街道,城南街道,城北街道");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("名册中没有单位「城南街道」「城北街道」"),
        "{}",
        run.stderr
    );
    let run = group("nowhere", "城东街道");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("没有代码为「nowhere」的安委办"),
        "{}",
        run.stderr
    );
    let run = group("root", "城东街道");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("第一督导组 督导 1 个单位"),
        "{}",
        run.stdout
    );
    let run = score("q9");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("细则中没有「q9」这一期，可选：q1（第一季度）、q2（第二季度）"),
        "{}",
        run.stderr
    );
}
