//! The permission matrix as data (`permissions.txt`): every role × action × target, through one helper.

use lvzhi_core::access::{Action, Duties, Role, Subject, allowed, on_account};

fn role(s: &str) -> Role {
    match s {
        "admin" => Role::Admin,
        "recorder" => Role::Recorder,
        "assessor" => Role::Assessor,
        "unit" => Role::Unit,
        "leader" => Role::Leader,
        "sysadmin" => Role::Sysadmin,
        "secadmin" => Role::Secadmin,
        "auditor" => Role::Auditor,
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
    let mut duties = None;
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        match line.trim() {
            "[combined]" => {
                duties = Some(Duties::Combined);
                continue;
            }
            "[separated]" => {
                duties = Some(Duties::Separated);
                continue;
            }
            _ => {}
        }
        let duties = duties.expect("a section before the first row");
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "line `{line}`");
        let (r, a) = (role(f[0]), action(f[1]));
        assert!(
            seen.insert((format!("{duties:?}"), f[0], f[1])),
            "{} {} listed twice",
            f[0],
            f[1]
        );
        let who = Subject {
            role: r,
            duties,
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
                wrong.push(format!(
                    "{duties:?}: {} {} on {target:?}: want {want}",
                    f[0], f[1]
                ));
            }
        }
    }
    assert_eq!(
        seen.len(),
        2 * Role::ALL.len() * Action::ALL.len(),
        "every role × action pair is in both tables"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_unit_account_without_a_unit_reaches_nothing_of_a_unit() {
    let who = Subject {
        role: Role::Unit,
        duties: Duties::Combined,
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
        duties: Duties::Combined,
        unit: None,
        supervises: &[],
    };
    assert!(!allowed(&who, Action::WriteAssessment, Some("发改委")));
}

/// With the duties separated, no administrator touches another administrator's account from the
/// service (so none can make itself another); the office's admin touches no account at all.
#[test]
fn administrators_accounts_are_the_operators_when_duties_are_separated() {
    let who = |role, duties| Subject {
        role,
        duties,
        unit: None,
        supervises: &[],
    };
    let sys = who(Role::Sysadmin, Duties::Separated);
    let sec = who(Role::Secadmin, Duties::Separated);
    for target in [Role::Admin, Role::Recorder, Role::Unit] {
        assert!(
            on_account(&sys, Action::ManageAccounts, target),
            "{target:?}"
        );
        assert!(
            on_account(&sec, Action::ManageSecurity, target),
            "{target:?}"
        );
        assert!(
            !on_account(&sys, Action::ManageSecurity, target),
            "{target:?}"
        );
    }
    for target in [Role::Sysadmin, Role::Secadmin, Role::Auditor] {
        assert!(
            !on_account(&sys, Action::ManageAccounts, target),
            "{target:?}"
        );
        assert!(
            !on_account(&sec, Action::ManageSecurity, target),
            "{target:?}"
        );
    }
    let admin = who(Role::Admin, Duties::Separated);
    assert!(!on_account(&admin, Action::ManageAccounts, Role::Unit));
    // As today without the option: the office's admin manages every account.
    let admin = who(Role::Admin, Duties::Combined);
    for target in Role::ALL {
        assert!(
            on_account(&admin, Action::ManageAccounts, target),
            "{target:?}"
        );
        assert!(
            on_account(&admin, Action::ManageSecurity, target),
            "{target:?}"
        );
    }
}
