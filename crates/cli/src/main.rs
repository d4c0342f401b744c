//! `lvzhi`: the command line of 履职监测. Glue only: it reads files, hands their text to
//! lvzhi-office and lvzhi-core, and prints what they return. No rule of the rubric is decided here.
//!
//! Exit codes: 0 success, 1 refused input (every problem printed to stderr, nothing to stdout),
//! 2 wrong usage.

mod accounts;
mod backups;
mod config;
mod datadir;
mod files;
mod periods;
mod score_cmd;
mod service;
mod table;
mod trust;
mod upgrade;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lvzhi",
    version,
    about = "履职监测：安委会成员单位安全生产监管履职指标监测"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// 日志格式：text（默认，供人阅读）或 json（每行一个 JSON 对象，供 journald 之外的日志系统采集）
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "LVZHI_LOG_FORMAT"
    )]
    log_format: LogFormat,
}

/// How the log lines on standard error are written.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// 核验备份文件：是本系统的数据库，审计链完整，各表（含发布快照的哈希）与审计链相符；不修改该文件
    Verify { file: PathBuf },
}

#[derive(Subcommand)]
enum Command {
    /// 按细则计算各成员单位得分（CSV 输入）
    Score(score_cmd::ScoreArgs),
    /// 细则文件：检查或查看
    Rubric {
        #[command(subcommand)]
        command: RubricCommand,
    },
    /// 启动服务（零配置：./lvzhi-data 中的 SQLite，127.0.0.1:8080）
    Serve(service::ServeArgs),
    /// API 令牌
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// 用户账号
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// 督导组：设置所督导的单位
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// 审计日志：核验、检查点
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// 安委办的 SM2 签名密钥（国密）
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// 发布结果的签名核验
    Publication {
        #[command(subcommand)]
        command: PublicationCommand,
    },
    /// 数据库升级：--check 只说明将执行哪些迁移（从哪个版本到哪个版本），不做修改
    Migrate {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 只检查，不升级
        #[arg(long)]
        check: bool,
    },
    /// 在线备份（SQLite：VACUUM INTO；PostgreSQL：pg_dump）
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(subcommand)]
        command: Option<BackupCommand>,
        #[command(flatten)]
        store: config::StoreArgs,
        /// 备份文件（不会覆盖已有文件）；写完即核验
        #[arg(long, required = true)]
        out: Option<PathBuf>,
    },
    /// 从 .xlsx 或 CSV 导入扣分记录、督导组打分、指标数据或名册标签（全部通过检查才导入）
    Import {
        #[command(flatten)]
        store: config::StoreArgs,
        /// records | assessments | metrics | units
        table: String,
        file: PathBuf,
        #[command(flatten)]
        period: periods::PeriodArg,
        /// 只检查，不导入
        #[arg(long)]
        dry_run: bool,
        /// 有错误时，把标注了错误的工作簿写到这个文件
        #[arg(long)]
        errors_out: Option<PathBuf>,
        /// 与已有记录相同（疑似重复）的行：skip 跳过，import 仍然导入（不指定则列出并拒绝导入）
        #[arg(long, default_value = "")]
        duplicates: String,
    },
    /// 导出：results（排名表）、ledger（扣分记录）、sheets（各单位得分说明）为 xlsx；report（通报）为 docx 或 pdf
    Export {
        #[command(flatten)]
        store: config::StoreArgs,
        /// results | ledger | sheets | report
        what: String,
        #[command(flatten)]
        period: periods::PeriodArg,
        /// xlsx（results、ledger、sheets）；docx 或 pdf（report）
        #[arg(long, default_value = "xlsx")]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// 生成导入模板（.xlsx，单位与条款为下拉选项）
    Template {
        #[command(flatten)]
        store: config::StoreArgs,
        /// records | assessments | metrics | units
        table: String,
        #[command(flatten)]
        period: periods::PeriodArg,
        #[arg(long)]
        out: PathBuf,
    },
    /// 安委办：新增、列出、更名（上级安委办可查看下级已发布的结果）
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// 考核年度：列出、按新细则创建（结转名册）、发布、重新开放
    Period {
        #[command(subcommand)]
        command: PeriodCommand,
    },
    /// 从备份恢复（SQLite）
    Restore {
        #[command(flatten)]
        store: config::StoreArgs,
        file: PathBuf,
        /// 替换已有数据库（原库保留为 lvzhi.db.before-restore）
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// 为用户生成 API 令牌（只显示一次）
    Create {
        #[command(flatten)]
        store: config::StoreArgs,
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "")]
        label: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新建用户；密码从标准输入读取，不给则生成并显示一次
    Add {
        #[command(flatten)]
        store: config::StoreArgs,
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        group: Option<String>,
        /// 所属安委办的代码（默认：本级，即根安委办）
        #[arg(long)]
        office: Option<String>,
    },
    /// 列出全部用户
    List {
        #[command(flatten)]
        store: config::StoreArgs,
    },
    /// 停用用户（其令牌与会话随即失效）
    Disable {
        #[command(flatten)]
        store: config::StoreArgs,
        name: String,
    },
    /// 重新启用用户
    Enable {
        #[command(flatten)]
        store: config::StoreArgs,
        name: String,
    },
    /// 重设密码：从标准输入读取，不给则生成并显示一次（下次登录须修改）
    Passwd {
        #[command(flatten)]
        store: config::StoreArgs,
        name: String,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// 设置督导组督导的单位（替换原有名单）
    Set {
        #[command(flatten)]
        store: config::StoreArgs,
        group: String,
        /// 单位名称，逗号分隔
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        /// 督导组所属的安委办（代码；默认：根）
        #[arg(long)]
        office: Option<String>,
    },
}

#[derive(Subcommand)]
enum OfficeCommand {
    /// 新增安委办（在已有的上级之下）
    Add {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 代码：英文字母、数字或连字符，部署内唯一
        code: String,
        #[arg(long)]
        name: String,
        /// 上级安委办的代码
        #[arg(long)]
        parent: String,
        /// 层级：省、市、县、镇或其他
        #[arg(long, default_value = "")]
        level: String,
    },
    /// 列出全部安委办（上级在前）
    List {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 修改安委办名称
    Rename {
        #[command(flatten)]
        store: config::StoreArgs,
        code: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum PeriodCommand {
    /// 列出考核期（每个安委办、每项考核、每年及各期）及其状态和键
    List {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 按新一年的细则文件创建考核年度：先显示名册变化，加 --yes 才创建
    Open {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 新年度的细则：TOML 文件，或随程序提供的细则名（如 2022）
        rubric: PathBuf,
        /// 在哪个安委办开设（代码；默认：根安委办）
        #[arg(long)]
        office: Option<String>,
        /// 考核代码（默认 default；同一安委办的多项考核以此区分）
        #[arg(long)]
        assessment: Option<String>,
        /// 考核名称（默认：该考核已有的名称，否则为细则标题去掉年度）
        #[arg(long)]
        assessment_name: Option<String>,
        /// 从哪一考核期结转名册：键，或同一安委办同一考核的年度（不给则名册取自细则）
        #[arg(long)]
        carry_from: Option<String>,
        /// 确认创建（不加则只预览）
        #[arg(long)]
        yes: bool,
    },
    /// 发布年度结果（冻结快照，哈希写入审计链）
    Publish {
        #[command(flatten)]
        store: config::StoreArgs,
        #[command(flatten)]
        period: periods::PeriodArg,
        /// 发布说明（如审定会议）
        #[arg(long)]
        reason: String,
        /// 检查清单有例外时仍发布（须在说明中写明理由）
        #[arg(long)]
        acknowledge: bool,
    },
    /// 重新开放已发布的年度
    Reopen {
        #[command(flatten)]
        store: config::StoreArgs,
        #[command(flatten)]
        period: periods::PeriodArg,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// 创建签名密钥对（已有则不覆盖）
    Init {
        #[command(flatten)]
        store: config::StoreArgs,
    },
    /// 显示公钥（PEM）及其指纹
    Show {
        #[command(flatten)]
        store: config::StoreArgs,
    },
}

#[derive(Subcommand)]
enum PublicationCommand {
    /// 核验发布快照的 SM2-SM3 签名（与 openssl dgst -sm3 -verify 等价）
    Verify {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 快照文件（发布接口给出的原样内容）
        #[arg(long)]
        snapshot: PathBuf,
        /// 签名：签名接口的 JSON，或 DER / base64 签名文件
        #[arg(long)]
        signature: PathBuf,
        /// 公钥（PEM）；不指定则用签名 JSON 所附的公钥或本机安委办的公钥
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// 重算哈希链，与检查点核对，并用审计链重演各表，指出第一处不符
    Verify {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 另外的检查点文件（如从系统日志或别处保存的副本），可多次给出
        #[arg(long = "checkpoints")]
        checkpoints: Vec<PathBuf>,
        /// 核验检查点签名所用的公钥（PEM；默认本机安委办的公钥）
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// 立即写一个签名的检查点（末条序号、哈希、时间）到数据库之外的文件
    Checkpoint {
        #[command(flatten)]
        store: config::StoreArgs,
        /// 同时写入系统日志
        #[arg(long)]
        syslog: bool,
    },
    /// 显示审计链末条的序号与哈希（可抄录保存，日后核对审计链是否被截断）
    Head {
        #[command(flatten)]
        store: config::StoreArgs,
    },
}

#[derive(Subcommand)]
enum RubricCommand {
    /// 检查细则文件，列出全部问题（行号与键）；草稿中待确认的项也算问题
    Check { file: PathBuf },
    /// 从细则文件（.docx 或文本）生成细则草稿（TOML，输出到标准输出）
    Import {
        /// 细则文件：.docx，或 UTF-8 文本
        file: PathBuf,
    },
    /// 对比两版细则：新增、删除、修改的条款与分值
    Diff {
        /// 原版（年度或文件）
        from: String,
        /// 新版（年度或文件）
        to: String,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 显示细则的方面、节、条款与分值
    Show {
        /// 年度（内置细则，如 2022）或细则文件路径
        #[arg(default_value = "2022")]
        rubric: String,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
}

/// A failure to report to the user: what to print and the exit code.
pub struct Refusal {
    pub message: String,
    pub code: u8,
}

impl Refusal {
    pub fn input(message: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::input(format!("错误：{e:#}"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Score(args) => score_cmd::run(&args),
        Command::Rubric { command } => match command {
            RubricCommand::Check { file } => score_cmd::rubric_check(&file),
            RubricCommand::Import { file } => score_cmd::rubric_import(&file),
            RubricCommand::Diff { from, to, json } => score_cmd::rubric_diff(&from, &to, json),
            RubricCommand::Show { rubric, json } => score_cmd::rubric_show(&rubric, json),
        },
        other => return run_service(other, cli.log_format),
    };
    match result {
        Ok(out) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(out.as_bytes()).is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(r) => {
            eprintln!("{}", r.message);
            ExitCode::from(r.code)
        }
    }
}

/// The commands that need the store (and so an async runtime).
fn run_service(cmd: Command, log_format: LogFormat) -> ExitCode {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::from(1);
        }
    };
    let result: anyhow::Result<bool> = rt.block_on(async {
        match cmd {
            Command::Serve(args) => service::serve(&args).await.map(|()| true),
            Command::Token {
                command: TokenCommand::Create { store, user, label },
            } => accounts::token_create(&store, &user, &label)
                .await
                .map(|()| true),
            Command::User {
                command:
                    UserCommand::Add {
                        store,
                        name,
                        role,
                        unit,
                        group,
                        office,
                    },
            } => accounts::user_add(
                &store,
                &name,
                &role,
                (unit.as_deref(), group.as_deref()),
                office.as_deref(),
            )
            .await
            .map(|()| true),
            Command::User {
                command: UserCommand::List { store },
            } => accounts::user_list(&store).await.map(|()| true),
            Command::User {
                command: UserCommand::Disable { store, name },
            } => accounts::user_disable(&store, &name, true)
                .await
                .map(|()| true),
            Command::User {
                command: UserCommand::Enable { store, name },
            } => accounts::user_disable(&store, &name, false)
                .await
                .map(|()| true),
            Command::User {
                command: UserCommand::Passwd { store, name },
            } => accounts::user_passwd(&store, &name).await.map(|()| true),
            Command::Audit {
                command:
                    AuditCommand::Verify {
                        store,
                        checkpoints,
                        key,
                    },
            } => trust::audit_verify(&store, &checkpoints, key.as_deref()).await,
            Command::Audit {
                command: AuditCommand::Checkpoint { store, syslog },
            } => trust::audit_checkpoint(&store, syslog).await.map(|()| true),
            Command::Key {
                command: KeyCommand::Init { store },
            } => trust::key_init(&store).map(|()| true),
            Command::Key {
                command: KeyCommand::Show { store },
            } => trust::key_show(&store).map(|()| true),
            Command::Publication {
                command:
                    PublicationCommand::Verify {
                        store,
                        snapshot,
                        signature,
                        key,
                    },
            } => trust::publication_verify(&store, &snapshot, &signature, key.as_deref()),
            Command::Audit {
                command: AuditCommand::Head { store },
            } => trust::audit_head(&store).await.map(|()| true),
            Command::Group {
                command:
                    GroupCommand::Set {
                        store,
                        group,
                        units,
                        office,
                    },
            } => accounts::group_set(&store, office.as_deref(), &group, &units)
                .await
                .map(|()| true),
            Command::Migrate { store, check } => upgrade::migrate(&store, check).await,
            Command::Backup {
                command: Some(BackupCommand::Verify { file }),
                ..
            } => backups::verify(&file).await,
            Command::Backup { store, out, .. } => match out {
                Some(out) => backups::backup(&store, &out).await,
                None => Err(anyhow::anyhow!("请用 --out 指定备份文件")),
            },
            Command::Import {
                store,
                table,
                file,
                period,
                dry_run,
                errors_out,
                duplicates,
            } => {
                files::import(
                    &store,
                    &table,
                    &file,
                    &period,
                    dry_run,
                    errors_out.as_deref(),
                    &duplicates,
                )
                .await
            }
            Command::Export {
                store,
                what,
                period,
                format,
                out,
            } => files::export(&store, &what, &period, &format, &out)
                .await
                .map(|()| true),
            Command::Template {
                store,
                table,
                period,
                out,
            } => files::template(&store, &table, &period, &out)
                .await
                .map(|()| true),
            Command::Office { command } => match command {
                OfficeCommand::Add {
                    store,
                    code,
                    name,
                    parent,
                    level,
                } => periods::office_add(&store, &code, &name, &parent, &level)
                    .await
                    .map(|()| true),
                OfficeCommand::List { store, json } => {
                    periods::office_list(&store, json).await.map(|()| true)
                }
                OfficeCommand::Rename { store, code, name } => {
                    periods::office_rename(&store, &code, &name)
                        .await
                        .map(|()| true)
                }
            },
            Command::Period { command } => match command {
                PeriodCommand::List { store, json } => {
                    periods::period_list(&store, json).await.map(|()| true)
                }
                PeriodCommand::Open {
                    store,
                    rubric,
                    office,
                    assessment,
                    assessment_name,
                    carry_from,
                    yes,
                } => periods::period_open(
                    &store,
                    periods::OpenArgs {
                        rubric: &rubric,
                        office,
                        assessment,
                        assessment_name,
                        carry_from,
                        yes,
                    },
                )
                .await
                .map(|()| true),
                PeriodCommand::Publish {
                    store,
                    period,
                    reason,
                    acknowledge,
                } => periods::period_publish(&store, &period, &reason, acknowledge).await,
                PeriodCommand::Reopen {
                    store,
                    period,
                    reason,
                } => periods::period_reopen(&store, &period, &reason)
                    .await
                    .map(|()| true),
            },
            Command::Restore { store, file, force } => {
                backups::restore(&store, &file, force).await.map(|()| true)
            }
            Command::Score(_) | Command::Rubric { .. } => Ok(true),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::from(1)
        }
    }
}
