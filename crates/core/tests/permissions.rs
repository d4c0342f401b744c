//! The permission matrix as data (`permissions.txt`): every role × action × target, through one helper.

use lvzhi_core::access::{Action, Role, Subject, allowed};

fn role(s: &str) -> Role {
    match s {
        "admin" => Role::Admin,
        "recorder" => Role::Recorder,
        "assessor" => Role::Assessor,
        "unit" => Role::Unit,
        "leader" => Role::Leader,
        other => panic!("unknown role {other}"),
    }
}

fn action(s: &str) -> Action {
    *Action::ALL
        .iter()
        .find(|a| format!("{a:?}") == s)
        .unwrap_or_else(|| panic!("unknown action {s}"))
}

#[test]
fn the_whole_matrix() {
    let text = include_str!("permissions.txt");
    let supervised = vec!["发改委".to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    let mut wrong = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "line `{line}`");
        let (r, a) = (role(f[0]), action(f[1]));
        assert!(seen.insert((f[0], f[1])), "{} {} listed twice", f[0], f[1]);
        let who = Subject {
            role: r,
            unit: (r == Role::Unit).then_some("发改委"),
            supervises: if r == Role::Assessor {
                &supervised
            } else {
                &[]
            },
        };
        for (target, want) in [(None, f[2]), (Some("发改委"), f[3]), (Some("教育局"), f[4])] {
            let want = want == "yes";
            if allowed(&who, a, target) != want {
                wrong.push(format!("{} {} on {target:?}: want {want}", f[0], f[1]));
            }
        }
    }
    assert_eq!(
        seen.len(),
        5 * Action::ALL.len(),
        "every role × action pair is in the table"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_unit_account_without_a_unit_reaches_nothing_of_a_unit() {
    let who = Subject {
        role: Role::Unit,
        unit: None,
        supervises: &[],
    };
    for a in Action::ALL
        .into_iter()
        .filter(|a| *a != Action::ReadPeriods)
    {
        assert!(!allowed(&who, a, Some("发改委")), "{a:?}");
    }
    let who = Subject {
        role: Role::Assessor,
        unit: None,
        supervises: &[],
    };
    assert!(!allowed(&who, Action::WriteAssessment, Some("发改委")));
}
