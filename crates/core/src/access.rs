//! Who may do what: the permission matrix of the assessment as one pure function, [`allowed`].
//!
//! Five business roles: `admin` (安委办: everything but appealing), `recorder` (records, evidence and metrics of any unit),
//! `assessor` (a 督导组: scores and reads only the units it supervises), `unit` (a 成员单位: reads its
//! own sheet, records and evidence, adds evidence to its own records), `leader` (reads results, rankings
//! and sheets). Confirming records, deciding appeals and publishing are the office's (`admin`);
//! appealing is a unit's, for its own records only. The unit or the supervised units of a user come from its account, never from a request.
//!
//! Three administrators for 三员分立 (等保 2.0, [`Duties::Separated`]): `sysadmin` (系统管理员: accounts
//! and 督导组 of the business roles), `secadmin` (安全管理员: unlocking, password resets, revoking
//! sessions and tokens), `auditor` (审计管理员: reads and verifies the audit trail, the only one who
//! may). Each does nothing else; in that mode `admin` keeps the business and loses accounts,
//! security and the trail. With [`Duties::Combined`] (the default) `admin` does all of it, as before.
//! This module knows nothing of HTTP or storage; handlers call it before every operation.

use crate::lifecycle::RecordStatus;

/// A role of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Recorder,
    Assessor,
    Unit,
    Leader,
    Sysadmin,
    Secadmin,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Recorder,
        Role::Assessor,
        Role::Unit,
        Role::Leader,
        Role::Sysadmin,
        Role::Secadmin,
        Role::Auditor,
    ];

    /// Whether this is one of the three administrators of 三员分立.
    pub fn is_administrator(self) -> bool {
        matches!(self, Role::Sysadmin | Role::Secadmin | Role::Auditor)
    }

    /// The role by its code (`admin`, …) or its name in Chinese.
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s || r.label() == s)
    }

    /// The role's code, as stored, on the command line and in the JSON API.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Recorder => "recorder",
            Role::Assessor => "assessor",
            Role::Unit => "unit",
            Role::Leader => "leader",
            Role::Sysadmin => "sysadmin",
            Role::Secadmin => "secadmin",
            Role::Auditor => "auditor",
        }
    }

    /// The role's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "安委办管理员",
            Role::Recorder => "录入员",
            Role::Assessor => "督导组",
            Role::Unit => "成员单位",
            Role::Leader => "领导",
            Role::Sysadmin => "系统管理员",
            Role::Secadmin => "安全管理员",
            Role::Auditor => "审计管理员",
        }
    }

    /// What an account of this role can do, said to it when something else is refused (a refusal
    /// points to what the person can do instead, never to a right the role can never have).
    pub fn can_do(self) -> &'static str {
        match self {
            Role::Admin => "安委办管理员可办理本考核的全部业务。",
            Role::Recorder => {
                "录入员可录入扣分记录和指标数据、导入文件；确认、申诉决定、细则版本与发布由安委办管理员办理。"
            }
            Role::Assessor => "督导组账号可为本组督导的单位打分，并查看这些单位的得分说明。",
            Role::Unit => {
                "成员单位账号可查看本单位的得分说明和扣分记录、上传证据，并对已确认的扣分提出申诉；其他事项请与安委办联系。"
            }
            Role::Leader => "领导账号可查看排名、各单位得分说明和假设分析。",
            Role::Sysadmin => "系统管理员负责建立、停用账号和设置督导组，不办理考核业务。",
            Role::Secadmin => "安全管理员负责解锁账号、重置密码和注销会话，不办理考核业务。",
            Role::Auditor => "审计管理员负责查看和核验审计日志，不办理考核业务。",
        }
    }

    /// Every role's code, for messages that say what is allowed.
    pub fn codes() -> String {
        Role::ALL.map(Role::code).join("、")
    }
}

/// An operation a handler is about to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The list of periods and the rubric.
    ReadPeriods,
    /// The results and rankings of every unit.
    ReadResults,
    /// One unit's explained score sheet.
    ReadSheet,
    /// A unit's records and their history.
    ReadRecords,
    /// Add or revoke records.
    WriteRecords,
    /// Read a record's evidence.
    ReadEvidence,
    /// Add evidence to a record.
    AddEvidence,
    /// Set a 督导组 score.
    WriteAssessment,
    /// Set a metric value.
    WriteMetric,
    /// Change the roster (tags, classes).
    EditRoster,
    /// Read and verify the audit trail.
    ReadAudit,
    /// Create, disable or enable accounts; set the units of a 督导组.
    ManageAccounts,
    /// Unlock accounts, reset passwords, revoke a user's sessions and API tokens.
    ManageSecurity,
    /// Confirm recorded deductions (the office's check before they count officially).
    ConfirmRecords,
    /// Appeal a confirmed deduction (a unit, for its own records).
    Appeal,
    /// Decide appeals: uphold, revoke or change.
    DecideAppeals,
    /// Publish, reopen, set the appeal windows, open the next year.
    ManagePeriods,
    /// Revoke or correct a record the office has confirmed (outside the appeal path).
    ReviseConfirmed,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Action::ReadPeriods,
        Action::ReadResults,
        Action::ReadSheet,
        Action::ReadRecords,
        Action::WriteRecords,
        Action::ReadEvidence,
        Action::AddEvidence,
        Action::WriteAssessment,
        Action::WriteMetric,
        Action::EditRoster,
        Action::ReadAudit,
        Action::ManageAccounts,
        Action::ManageSecurity,
        Action::ConfirmRecords,
        Action::Appeal,
        Action::DecideAppeals,
        Action::ManagePeriods,
        Action::ReviseConfirmed,
    ];

    /// What revoking or correcting a record in `status` takes: recording rights while the office
    /// has not confirmed it; once confirmed, only the office (or the appeal path) changes it.
    pub fn revise(status: RecordStatus) -> Action {
        if status.open_to_recorders() {
            Action::WriteRecords
        } else {
            Action::ReviseConfirmed
        }
    }

    /// What a refusal says the user may not do.
    pub fn label(self) -> &'static str {
        match self {
            Action::ReadPeriods => "查看考核年度",
            Action::ReadResults => "查看全部单位得分和排名",
            Action::ReadSheet => "查看该单位的得分说明",
            Action::ReadRecords => "查看该单位的扣分记录",
            Action::WriteRecords => "录入或撤销扣分记录",
            Action::ReadEvidence => "查看该记录的证据",
            Action::AddEvidence => "为该记录上传证据",
            Action::WriteAssessment => "为该单位打分",
            Action::WriteMetric => "录入指标数据",
            Action::EditRoster => "修改名册",
            Action::ReadAudit => "查看和核验审计日志",
            Action::ManageAccounts => "管理账号",
            Action::ManageSecurity => "解锁账号、重置密码或注销会话与令牌",
            Action::ConfirmRecords => "确认扣分记录",
            Action::Appeal => "对该记录提出申诉",
            Action::DecideAppeals => "对申诉作出决定",
            Action::ManagePeriods => "管理考核年度（开设年度、细则版本、申诉期限、发布与重新开放）",
            Action::ReviseConfirmed => "撤销或更正安委办已确认的记录",
        }
    }
}

/// How administration is divided in this installation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Duties {
    /// The office's `admin` administers too (the default).
    #[default]
    Combined,
    /// 三员分立: accounts, security and the audit trail each have their own administrator, and the
    /// office's `admin` keeps the business only.
    Separated,
}

impl Duties {
    /// Bringing an account into use (enabling it): with the duties separated that is the security
    /// administrator's grant, so that the system administrator, who creates accounts, never brings
    /// a business account into use alone (created accounts wait, disabled, for the grant).
    pub fn to_enable(self) -> Action {
        match self {
            Duties::Combined => Action::ManageAccounts,
            Duties::Separated => Action::ManageSecurity,
        }
    }

    /// Whether an account of `role` created by an administrator waits, disabled, for the grant of
    /// [`Duties::to_enable`].
    pub fn created_pending(self, role: Role) -> bool {
        self == Duties::Separated && !role.is_administrator()
    }
}

/// The user, as its account says, in the installation's division of duties.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub role: Role,
    pub duties: Duties,
    /// For `unit`: the 成员单位 the account belongs to.
    pub unit: Option<&'a str>,
    /// For `assessor`: the units its 督导组 supervises.
    pub supervises: &'a [String],
}

/// Whether `who` may perform `action`, on the unit `unit` when the action concerns one unit
/// (`None` for actions on the whole period, or on all units).
pub fn allowed(who: &Subject<'_>, action: Action, unit: Option<&str>) -> bool {
    use Action as A;
    let own = unit.is_some() && unit == who.unit;
    let supervised = unit.is_some_and(|u| who.supervises.iter().any(|s| s == u));
    match who.role {
        // The office does everything but appeal: an appeal is a unit's, against the office. With
        // the duties separated, accounts, security and the trail are not the office's.
        Role::Admin => match who.duties {
            Duties::Combined => action != A::Appeal,
            Duties::Separated => !matches!(
                action,
                A::Appeal | A::ManageAccounts | A::ManageSecurity | A::ReadAudit
            ),
        },
        // Each administrator does its one part, and reads the list of periods to find its way.
        Role::Sysadmin => matches!(action, A::ReadPeriods | A::ManageAccounts),
        Role::Secadmin => matches!(action, A::ReadPeriods | A::ManageSecurity),
        Role::Auditor => matches!(action, A::ReadPeriods | A::ReadAudit),
        Role::Recorder => matches!(
            action,
            A::ReadPeriods
                | A::ReadResults
                | A::ReadSheet
                | A::ReadRecords
                | A::WriteRecords
                | A::ReadEvidence
                | A::AddEvidence
                | A::WriteMetric
        ),
        Role::Leader => matches!(
            action,
            A::ReadPeriods | A::ReadResults | A::ReadSheet | A::ReadRecords | A::ReadEvidence
        ),
        Role::Assessor => match action {
            A::ReadPeriods => true,
            A::ReadSheet | A::ReadRecords | A::ReadEvidence | A::WriteAssessment => supervised,
            _ => false,
        },
        Role::Unit => match action {
            A::ReadPeriods => true,
            A::ReadSheet | A::ReadRecords | A::ReadEvidence | A::AddEvidence | A::Appeal => own,
            _ => false,
        },
    }
}

/// Whether `who` may do `action` (managing accounts or their security) to an account of role
/// `target`: with the duties separated, the three administrators' accounts are set up, reset and
/// unlocked by the operator at the command line only, so that none of them can make itself another.
pub fn on_account(who: &Subject<'_>, action: Action, target: Role) -> bool {
    allowed(who, action, None) && (who.duties == Duties::Combined || !target.is_administrator())
}
