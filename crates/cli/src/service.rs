//! The commands that work on the service's store: `serve`, `token`, `user`, `audit`, `backup`,
//! `restore`. Each takes the same `--data DIR` / `--database-url URL` (or `LVZHI_DATA`,
//! `LVZHI_DATABASE_URL`, or a TOML file given by `--config` / `LVZHI_CONFIG`) and works while a server
//! runs on the same store. Glue only: the store and the web crate do the work.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use lvzhi_core::NewRecord;
use lvzhi_office::{Table, read_table};
use lvzhi_store::{Actor, Batch, Role, Store, generate_password};

/// Where the store is.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// 数据目录（SQLite 数据库所在，默认 ./lvzhi-data）
    #[arg(long, env = "LVZHI_DATA")]
    data: Option<PathBuf>,
    /// 使用 PostgreSQL：postgres://用户:密码@主机/库
    #[arg(long, env = "LVZHI_DATABASE_URL")]
    database_url: Option<String>,
    /// 配置文件（TOML：data、bind、database_url、key_dir、checkpoint_file 及 serve 的各项）
    #[arg(long, env = "LVZHI_CONFIG")]
    config: Option<PathBuf>,
    /// 签名密钥目录（默认：数据目录下的 keys）
    #[arg(long, env = "LVZHI_KEY_DIR")]
    key_dir: Option<PathBuf>,
    /// 审计检查点文件（默认：数据目录下的 audit-checkpoints.jsonl）
    #[arg(long, env = "LVZHI_CHECKPOINT_FILE")]
    checkpoint_file: Option<PathBuf>,
}

/// The configuration file's keys; flags and environment variables win over it.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    data: Option<PathBuf>,
    bind: Option<String>,
    database_url: Option<String>,
    key_dir: Option<PathBuf>,
    checkpoint_file: Option<PathBuf>,
    /// `serve`: minutes between checkpoints (0: only at publications and by hand).
    pub checkpoint_interval_minutes: Option<u64>,
    /// `serve`: also send each checkpoint to the system log.
    pub syslog: Option<bool>,
    /// `serve`: 三员分立.
    pub separation_of_duties: Option<bool>,
    /// `serve`: HTTPS certificate chain and private key (PEM).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `serve`: proxies (CIDR) whose X-Forwarded-For names the client.
    pub trusted_proxies: Option<Vec<String>>,
    /// `serve`: a backup every day at this Beijing time ("02:30"), verified once written.
    pub backup_at: Option<String>,
    /// `serve`: where the scheduled backups go (default: `backups/` in the data folder).
    pub backup_dir: Option<PathBuf>,
    /// `serve`: how many scheduled backups are kept (default 7; the oldest go).
    pub backup_keep: Option<usize>,
}

/// The resolved configuration.
pub struct Config {
    pub data: PathBuf,
    pub database_url: String,
    pub bind: String,
    /// Where the office's SM2 key pair is.
    pub key_dir: PathBuf,
    /// Where checkpoints of the audit trail are written.
    pub checkpoint_file: PathBuf,
    /// The file's keys that only `serve` reads.
    pub file: FileConfig,
}

/// A configuration file's error in one sentence: the file, the line, the key and what is wrong.
fn config_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let at = line.map(|l| format!("第 {l} 行")).unwrap_or_default();
    let key = e
        .span()
        .and_then(|s| text.get(s.clone()))
        .map(str::trim)
        .unwrap_or_default();
    let raw = e.message();
    let what = if let Some(rest) = raw.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or(key);
        // The keys the file may have, as the configuration's own type lists them.
        let keys = raw
            .split_once("expected one of ")
            .map(|(_, list)| list.replace('`', "").replace(", ", "、"))
            .unwrap_or_default();
        format!("未知的键「{name}」（可用的键：{keys}）")
    } else if raw.starts_with("invalid type") {
        let want = if raw.contains("expected a string") {
            "文本（加引号）"
        } else if raw.contains("expected a boolean") {
            "true 或 false"
        } else if raw.contains("expected u") || raw.contains("expected i") {
            "整数"
        } else if raw.contains("expected a sequence") {
            "列表（[\"…\"]）"
        } else {
            "另一种类型"
        };
        let line_text = line
            .and_then(|l| text.lines().nth(l - 1))
            .map_or(key, str::trim);
        let name = line_text.split('=').next().unwrap_or(line_text).trim();
        format!("键「{name}」的值类型不对：应为{want}")
    } else {
        "不是有效的 TOML：请检查这一行的引号、括号和等号".to_owned()
    };
    format!("配置文件 {} {at}：{what}", path.display())
}

impl StoreArgs {
    pub fn resolve(&self, bind: Option<&str>) -> anyhow::Result<Config> {
        let file: FileConfig = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("无法读取配置文件 {}", p.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!(config_error(p, &text, &e)))?
            }
            None => FileConfig::default(),
        };
        let data = self
            .data
            .clone()
            .or(file.data.clone())
            .unwrap_or_else(|| PathBuf::from("lvzhi-data"));
        let database_url = if let Some(u) = self.database_url.clone().or(file.database_url.clone())
        {
            u
        } else {
            std::fs::create_dir_all(&data)
                .with_context(|| format!("无法创建数据目录 {}", data.display()))?;
            Store::sqlite_url(&data)
        };
        let bind = bind
            .map(str::to_owned)
            .or(file.bind.clone())
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let key_dir = self
            .key_dir
            .clone()
            .or(file.key_dir.clone())
            .unwrap_or_else(|| data.join("keys"));
        let checkpoint_file = self
            .checkpoint_file
            .clone()
            .or(file.checkpoint_file.clone())
            .unwrap_or_else(|| data.join(lvzhi_store::CHECKPOINT_FILE));
        Ok(Config {
            data,
            database_url,
            bind,
            key_dir,
            checkpoint_file,
            file,
        })
    }

    /// Opens the store, with the office's seal and checkpoint file when a key pair exists (a
    /// command never creates the key pair on the side: `serve` and `lvzhi key init` do).
    pub async fn open(&self) -> anyhow::Result<(Config, Store)> {
        let cfg = self.resolve(None)?;
        let store = Store::open(&cfg.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("无法打开数据库 {}", redact(&cfg.database_url)))?;
        crate::upgrade::say_upgrade(&store);
        let store = if lvzhi_store::Seal::exists(&cfg.key_dir) {
            store.with_anchor(anchor(&cfg, false, false)?)
        } else {
            store
        };
        Ok((cfg, store))
    }
}

/// The office's seal (created when `create` and missing, which is said) and checkpoint file.
pub fn anchor(cfg: &Config, create: bool, syslog: bool) -> anyhow::Result<lvzhi_store::Anchor> {
    if !create && !lvzhi_store::Seal::exists(&cfg.key_dir) {
        bail!(
            "{} 中没有签名密钥：请先运行 lvzhi key init（或启动一次服务）",
            cfg.key_dir.display()
        );
    }
    let (anchor, created) =
        lvzhi_store::Anchor::open(&cfg.key_dir, cfg.checkpoint_file.clone(), syslog)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    if created {
        println!(
            "已创建安委办的 SM2 签名密钥：{}（私钥只在此处，请妥善备份）；{}：{}",
            cfg.key_dir.display(),
            lvzhi_seal::KEY_FINGERPRINT_LABEL,
            anchor.seal.key_fingerprint()
        );
    }
    Ok(anchor)
}

/// The trusted proxies' networks: a bare address is a network of one.
fn trusted_proxies<'a>(
    given: impl Iterator<Item = &'a String>,
) -> anyhow::Result<Vec<ipnet::IpNet>> {
    given
        .map(|text| {
            let t = text.trim();
            t.parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "可信代理「{t}」不是地址或网段（应写作 10.0.0.5 或 10.0.0.0/24 这样的 CIDR）"
                    )
                })
        })
        .collect()
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

pub(crate) fn cli_actor() -> Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "system".into());
    Actor::new(format!("cli:{who}"), "cli")
}

#[derive(Args, Debug)]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches, not a state
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// 监听地址（默认 127.0.0.1:8080）
    #[arg(long, env = "LVZHI_BIND")]
    bind: Option<String>,
    /// 在新的数据目录中载入随附的 2022 示例年度
    #[arg(long)]
    demo: bool,
    /// 会话 Cookie 不加 Secure 与 __Host- 前缀（仅用于纯 HTTP 的内网部署）
    #[arg(long, env = "LVZHI_INSECURE_COOKIES")]
    insecure_cookies: bool,
    /// 每个来源地址每分钟允许的登录尝试次数
    #[arg(long, env = "LVZHI_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = lvzhi_web::LOGIN_ATTEMPTS_PER_MINUTE)]
    login_attempts_per_minute: u32,
    /// 密码最长使用天数，到期后登录须先修改（0 表示不限）
    #[arg(long, env = "LVZHI_PASSWORD_MAX_AGE_DAYS", default_value_t = 90)]
    password_max_age_days: i64,
    /// 每隔多少分钟写一个审计检查点（审计链有增长时；0 表示只在发布时和手动写；默认 60）
    #[arg(long, env = "LVZHI_CHECKPOINT_INTERVAL_MINUTES")]
    checkpoint_interval_minutes: Option<u64>,
    /// 检查点同时写入系统日志（/dev/log）
    #[arg(long, env = "LVZHI_SYSLOG")]
    syslog: bool,
    /// 三员分立（等保 2.0）：系统管理员管账号、安全管理员管解锁与会话、审计管理员独管审计日志，安委办管理员只管业务
    #[arg(long, env = "LVZHI_SEPARATION_OF_DUTIES")]
    separation_of_duties: bool,
    /// HTTPS 证书链（PEM）；与 --tls-key 一起给出时以 HTTPS 提供服务，证书文件更新后自动重新读取（不必重启）
    #[arg(long, env = "LVZHI_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// HTTPS 私钥（PEM）
    #[arg(long, env = "LVZHI_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// 可信的反向代理（CIDR，如 10.0.0.0/24，可多次给出）：只有来自它们的请求，才按
    /// X-Forwarded-For / Forwarded 认定客户端地址（用于审计与登录频率限制）
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<String>,
}

/// The shipped sample year, compiled in so that `--demo` works from the binary alone.
const SAMPLE: [(&str, &str); 4] = [
    (
        "units.csv",
        include_str!("../../../examples/2022/units.csv"),
    ),
    (
        "records.csv",
        include_str!("../../../examples/2022/records.csv"),
    ),
    (
        "assessments.csv",
        include_str!("../../../examples/2022/assessments.csv"),
    ),
    (
        "metrics.csv",
        include_str!("../../../examples/2022/metrics.csv"),
    ),
];

async fn load_demo(store: &Store) -> anyhow::Result<()> {
    let state = store
        .state(2022)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if state.counts().total() > 0 {
        eprintln!("示例年度未载入：2022 年度已有记录。");
        return Ok(());
    }
    let table = |i: usize, t: Table| {
        read_table(SAMPLE[i].1.as_bytes(), SAMPLE[i].0, t).map_err(|e| anyhow::anyhow!("{e}"))
    };
    let tags: Vec<(String, Vec<String>)> = table(0, Table::Units)?
        .into_iter()
        .filter(|r| !r[2].is_empty())
        .map(|r| (r[0].clone(), r[2].split(';').map(str::to_owned).collect()))
        .collect();
    let records: Vec<NewRecord> = table(1, Table::Records)?
        .into_iter()
        .map(|r| NewRecord {
            unit: r[0].clone(),
            rule: r[1].clone(),
            count: Some(r[2].clone()),
            points: Some(r[3].clone()),
            date: Some(r[4].clone()),
            source: r[5].clone(),
            note: r[6].clone(),
        })
        .collect();
    let four = |r: Vec<String>| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone());
    let assessments: Vec<_> = table(2, Table::Assessments)?
        .into_iter()
        .map(four)
        .collect();
    // The 2022 rubric has 8 督导组 score "相关部门" without naming them; the sample's scores say
    // which group supervises which unit, so the demo's groups are given those units.
    let mut groups = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (unit, _, group, _) in &assessments {
        let units = groups.entry(group.clone()).or_default();
        if !units.contains(unit) {
            units.push(unit.clone());
        }
    }
    let metrics: Vec<_> = table(3, Table::Metrics)?
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let batch = Batch {
        label: "示例年度 examples/2022".to_owned(),
        tags,
        records,
        assessments,
        metrics,
        ..Batch::default()
    };
    let n = store
        .import(2022, &batch, &cli_actor(), false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("已载入 2022 示例年度：{} 条数据。", n.imported);
    let assigned = store
        .groups(lvzhi_store::ROOT_OFFICE)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (group, units) in &groups {
        if !assigned.iter().any(|(g, u)| g == group && !u.is_empty()) {
            store
                .set_group_units(group, units, &cli_actor())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    eprintln!(
        "示例年度的 {} 个督导组已按示例打分分配督导单位。",
        groups.len()
    );
    Ok(())
}

/// Creates the first admin account when there is none.
async fn first_admin(store: &Store) -> anyhow::Result<()> {
    if store
        .user_count()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        > 0
    {
        return Ok(());
    }
    let (password, generated) = match std::env::var("LVZHI_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (generate_password(), true),
    };
    match store
        .create_user(
            "admin",
            Role::Admin,
            None,
            None,
            &password,
            // Chosen by whoever set it up, not by the admin: to be changed at the first login.
            true,
            &cli_actor(),
        )
        .await
    {
        Ok(_) => {}
        // Another instance, started at the same moment on the same database, made it first.
        Err(lvzhi_store::StoreError::Conflict(_)) => {
            println!("管理员账号 admin 已由同时启动的另一实例创建。");
            return Ok(());
        }
        Err(e) => anyhow::bail!("无法创建管理员账号：{e}"),
    }
    if generated {
        println!("已创建管理员账号 admin，初始密码（只显示这一次，首次登录后须修改）：{password}");
    } else {
        println!("已创建管理员账号 admin（密码取自 LVZHI_ADMIN_PASSWORD，首次登录后须修改）。");
    }
    Ok(())
}

/// With the duties separated, each of the three administrators needs an account: one is created
/// for each role that has none (`sysadmin`, `secadmin`, `auditor`), its password from
/// `LVZHI_<ROLE>_PASSWORD` or generated and printed once, to be changed at the first login.
async fn first_administrators(store: &Store) -> anyhow::Result<()> {
    let users = store.users().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    for role in [Role::Sysadmin, Role::Secadmin, Role::Auditor] {
        if users.iter().any(|u| u.role == role) {
            continue;
        }
        let var = format!("LVZHI_{}_PASSWORD", role.code().to_uppercase());
        let (password, generated) = match std::env::var(&var) {
            Ok(p) if !p.is_empty() => (p, false),
            _ => (generate_password(), true),
        };
        match store
            .create_user(role.code(), role, None, None, &password, true, &cli_actor())
            .await
        {
            Ok(_) => {}
            // Made a moment ago by another instance starting on the same database.
            Err(lvzhi_store::StoreError::Conflict(_)) => continue,
            Err(e) => anyhow::bail!("无法创建{}账号：{e}", role.label()),
        }
        if generated {
            println!(
                "已创建{}账号 {}，初始密码（只显示这一次，首次登录后须修改）：{password}",
                role.label(),
                role.code()
            );
        } else {
            println!(
                "已创建{}账号 {}（密码取自 {var}，首次登录后须修改）。",
                role.label(),
                role.code()
            );
        }
    }
    Ok(())
}

pub async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let cfg = args.store.resolve(args.bind.as_deref())?;
    lvzhi_web::pages::check_templates();
    // Settings checked before anything is opened or created.
    let proxies = trusted_proxies(
        args.trusted_proxies
            .iter()
            .chain(cfg.file.trusted_proxies.iter().flatten()),
    )?;
    let store = Store::open(&cfg.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("无法打开数据库 {}", redact(&cfg.database_url)))?;
    crate::upgrade::say_upgrade(&store);
    let syslog = args.syslog || cfg.file.syslog.unwrap_or(false);
    let store = store.with_anchor(anchor(&cfg, true, syslog)?);
    first_admin(&store).await?;
    let separated = args.separation_of_duties || cfg.file.separation_of_duties.unwrap_or(false);
    if separated {
        first_administrators(&store).await?;
    }
    if args.demo {
        store
            .ensure_period(lvzhi_core::RUBRIC_2022, &cli_actor())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        load_demo(&store).await?;
    } else if store
        .periods()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_empty()
    {
        println!(
            "尚无考核年度：请以管理员登录后在“细则版本”页面开设第一个年度，或运行 lvzhi period open 2022 --yes（随附的 2022 年细则）。"
        );
    }
    let addr: SocketAddr = cfg
        .bind
        .parse()
        .with_context(|| format!("监听地址「{}」无效，应如 127.0.0.1:8080", cfg.bind))?;
    let tls = match (
        args.tls_cert.clone().or(cfg.file.tls_cert.clone()),
        args.tls_key.clone().or(cfg.file.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("HTTPS 须同时给出证书（--tls-cert 或 tls_cert）和私钥（--tls-key 或 tls_key）"),
    };
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("无法监听 {addr}（端口被占用？）"))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let store_for_checkpoints = store.clone();
    let url = redact(store.url());
    let mut state = lvzhi_web::AppState::new(store);
    state.password_max_age_days =
        (args.password_max_age_days > 0).then_some(args.password_max_age_days);
    state.secure_cookies = !args.insecure_cookies;
    state.login_attempts_per_minute = args.login_attempts_per_minute;
    state.trusted_proxies = proxies;
    state.https = tls.is_some();
    if separated {
        state.duties = lvzhi_core::access::Duties::Separated;
        println!("三员分立：系统管理员、安全管理员、审计管理员各司其职，安委办管理员只管业务。");
    }
    let app = lvzhi_web::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let minutes = args
        .checkpoint_interval_minutes
        .or(cfg.file.checkpoint_interval_minutes)
        .unwrap_or(60);
    if let Some(plan) = crate::backups::Schedule::of(&cfg)? {
        println!(
            "每天北京时间 {} 自动备份到 {}（保留 {} 份）",
            plan.at_text(),
            plan.dir.display(),
            plan.keep
        );
        plan.spawn(store_for_checkpoints.clone(), cfg.database_url.clone());
    }
    spawn_checkpoints(store_for_checkpoints, minutes).await?;
    tracing::info!(
        address = %local,
        https = tls.is_some(),
        database = %url,
        version = env!("CARGO_PKG_VERSION"),
        "服务已启动"
    );
    match tls {
        None => {
            println!("履职监测服务已启动：http://{local}  数据：{url}");
            axum::serve(tokio::net::TcpListener::from_std(listener)?, app)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
        }
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| {
                    format!(
                        "无法读取 HTTPS 证书 {} 或私钥 {}（应为 PEM 格式）",
                        cert.display(),
                        key.display()
                    )
                })?;
            tokio::spawn(reload_certificate(config.clone(), cert, key));
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                stop.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            println!("履职监测服务已启动：https://{local}  数据：{url}");
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(app)
                .await?;
        }
    }
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// How often the certificate files are looked at for a change.
const CERTIFICATE_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Re-reads the certificate and key when either file changes (a renewed certificate takes effect
/// without a restart); a file that does not load keeps the one in use, and says so.
async fn reload_certificate(
    config: axum_server::tls_rustls::RustlsConfig,
    cert: PathBuf,
    key: PathBuf,
) {
    let stamp = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let mut last = (stamp(&cert), stamp(&key));
    loop {
        tokio::time::sleep(CERTIFICATE_CHECK).await;
        let now = (stamp(&cert), stamp(&key));
        if now == last {
            continue;
        }
        last = now;
        match config.reload_from_pem_file(&cert, &key).await {
            Ok(()) => tracing::info!("已重新读取 HTTPS 证书 {}", cert.display()),
            Err(e) => tracing::error!(
                "HTTPS 证书 {} 重新读取失败，继续使用原证书：{e}",
                cert.display()
            ),
        }
    }
}

/// Writes a checkpoint at start when the trail moved since the file's last one, then every
/// `minutes` when it moved again (never when `minutes` is 0: publications and `lvzhi audit
/// checkpoint` still write theirs).
async fn spawn_checkpoints(store: Store, minutes: u64) -> anyhow::Result<()> {
    let last = store
        .own_checkpoints()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .last()
        .map_or(-1, |c| c.entry);
    let mut last = store
        .checkpoint_if_moved(last)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Every CHECK_EVERY the trail's growth is looked at: a checkpoint after CHECKPOINT_ENTRIES new
    // entries, and (when the interval is not 0) one when the interval came round and the trail moved.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.tick().await;
        let mut since = std::time::Instant::now();
        loop {
            tick.tick().await;
            match store.checkpoint_if_grown(last, CHECKPOINT_ENTRIES).await {
                Ok(Some(head)) => {
                    last = head;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!("审计检查点未能写出：{e}"),
            }
            if minutes > 0 && since.elapsed().as_secs() >= minutes * 60 {
                since = std::time::Instant::now();
                match store.checkpoint_if_moved(last).await {
                    Ok(head) => last = head,
                    Err(e) => tracing::error!("审计检查点未能写出：{e}"),
                }
            }
        }
    });
    Ok(())
}

/// How often the service looks at the audit trail's growth.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// The most audit entries between two checkpoints (plus what `CHECK_EVERY` lets through): what could
/// be cut from the trail's end unseen by a checkpoint is bounded by it.
pub const CHECKPOINT_ENTRIES: i64 = 500;

pub async fn token_create(store: &StoreArgs, user: &str, label: &str) -> anyhow::Result<()> {
    let (_, store) = store.open().await?;
    let token = store
        .create_token(user, label, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{token}");
    eprintln!("令牌只显示这一次，请妥善保存；请求时放在 Authorization: Bearer 头中。");
    Ok(())
}

pub async fn user_add(
    store: &StoreArgs,
    name: &str,
    role: &str,
    (unit, group): (Option<&str>, Option<&str>),
    office: Option<&str>,
) -> anyhow::Result<()> {
    let role =
        Role::parse(role).with_context(|| format!("未知角色「{role}」，可选 {}", Role::codes()))?;
    let (_, store) = store.open().await?;
    let (password, generated) = password_from_stdin()?;
    store
        // Set by someone else: to be changed at the first login.
        .create_user_in(
            office.unwrap_or(lvzhi_store::ROOT_OFFICE),
            name,
            role,
            unit,
            group,
            &password,
            true,
            &cli_actor(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if generated {
        println!("已创建用户 {name}，初始密码（只显示这一次，首次登录后须修改）：{password}");
    } else {
        println!("已创建用户 {name}（首次登录后须修改密码）。");
    }
    Ok(())
}

/// `lvzhi audit head`: the last entry's number and hash, to be written down outside the system.
pub async fn audit_head(store: &StoreArgs) -> anyhow::Result<()> {
    let (_, store) = store.open().await?;
    match store
        .audit_head()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some((id, hash)) => println!("审计链末条：第 {id} 条，哈希 {hash}"),
        None => println!("审计链为空"),
    }
    Ok(())
}

pub async fn backup(store: &StoreArgs, out: &Path) -> anyhow::Result<bool> {
    let (cfg, store) = store.open().await?;
    crate::backups::write(&store, &cfg.database_url, out).await?;
    println!("已备份到 {}", out.display());
    // Verified right after it is written: a backup nobody can restore is no backup.
    crate::backups::verify(out).await
}

/// Restores a SQLite backup into the data folder (never over an existing database unless `force`,
/// which keeps the old one beside it), then checks the audit chain of what was restored.
pub async fn restore(args: &StoreArgs, file: &Path, force: bool) -> anyhow::Result<()> {
    let cfg = args.resolve(None)?;
    if !cfg.database_url.starts_with("sqlite:") {
        bail!(
            "PostgreSQL 请用 pg_restore 恢复：pg_restore --clean --dbname=URL {}",
            file.display()
        );
    }
    // The file is checked before anything is touched: a file that is not a sound backup of this
    // system leaves the data folder as it was.
    if !crate::backups::verify(file).await? {
        bail!("{} 未通过核验，未做任何修改", file.display());
    }
    let target = cfg.data.join("lvzhi.db");
    if target.exists() {
        if !force {
            bail!(
                "{} 已有数据库；确认要替换请加 --force（原库会保留为 lvzhi.db.before-restore）",
                cfg.data.display()
            );
        }
        let keep = cfg.data.join("lvzhi.db.before-restore");
        std::fs::rename(&target, &keep)?;
        for ext in ["-wal", "-shm"] {
            let side = cfg.data.join(format!("lvzhi.db{ext}"));
            if side.exists() {
                std::fs::rename(
                    &side,
                    cfg.data.join(format!("lvzhi.db.before-restore{ext}")),
                )?;
            }
        }
    }
    std::fs::copy(file, &target).with_context(|| format!("无法复制 {}", file.display()))?;
    let (cfg, store) = args.open().await?;
    let v = store
        .verify_audit()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((id, why)) = v.first_bad {
        bail!("已恢复，但审计链在 #{id} 处被破坏：{why}");
    }
    println!(
        "已从 {} 恢复；审计链完整（{} 条）",
        file.display(),
        v.entries
    );
    // The restored trail replaces the one earlier checkpoints describe: a signed marker says so,
    // and `audit verify` compares the trail with the checkpoints from here on.
    if lvzhi_store::Seal::exists(&cfg.key_dir) {
        let cp = store
            .checkpoint(lvzhi_store::CheckpointReason::Restore)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "已写入恢复备份的检查点（第 {} 条）：此前的检查点描述的是被替换的数据，不再用于核对。",
            cp.entry
        );
    }
    Ok(())
}

pub async fn group_set(
    store: &StoreArgs,
    office: Option<&str>,
    group: &str,
    units: &[String],
) -> anyhow::Result<()> {
    let (_, store) = store.open().await?;
    // The store checks every unit against the office's rosters (a typo would supervise nothing).
    store
        .set_group_units_in(office, group, units, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{group} 督导 {} 个单位。", units.len());
    Ok(())
}

/// A password from the first line of standard input, or a generated one (`true`) when none is given.
fn password_from_stdin() -> anyhow::Result<(String, bool)> {
    let mut input = String::new();
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        std::io::stdin().read_to_string(&mut input)?;
    }
    let given = input.lines().next().unwrap_or("").trim().to_owned();
    Ok(if given.is_empty() {
        (generate_password(), true)
    } else {
        (given, false)
    })
}

pub async fn user_list(store: &StoreArgs) -> anyhow::Result<()> {
    let (_, store) = store.open().await?;
    let users = store.users().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{:<16} {:<9} {:<18} {:<12} 状态",
        "用户名", "角色", "单位", "督导组"
    );
    for u in users {
        let state = if u.disabled {
            "已停用"
        } else if u.must_change_password {
            "须改密码"
        } else {
            "正常"
        };
        println!(
            "{:<16} {:<9} {:<18} {:<12} {state}",
            u.name,
            u.role.code(),
            u.unit.as_deref().unwrap_or("-"),
            u.group.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

pub async fn user_disable(store: &StoreArgs, name: &str, disabled: bool) -> anyhow::Result<()> {
    let (_, store) = store.open().await?;
    store
        .set_disabled(name, disabled, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("用户 {name} 已{}。", if disabled { "停用" } else { "启用" });
    Ok(())
}

pub async fn user_passwd(store: &StoreArgs, name: &str) -> anyhow::Result<()> {
    let (_, store) = store.open().await?;
    let (password, generated) = password_from_stdin()?;
    store
        .reset_password(name, &password, generated, &cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if generated {
        println!("用户 {name} 的新密码（只显示这一次，下次登录须修改）：{password}");
    } else {
        println!("用户 {name} 的密码已重设。");
    }
    Ok(())
}

/// Opens the store as `serve` does: the shipped 2022 period exists afterwards.
/// The store for one command of the command line (writes keep no period state in memory).
pub(crate) async fn open_store(store: &StoreArgs) -> anyhow::Result<Store> {
    Ok(store.open().await?.1.one_shot())
}

/// Writes `bytes` to a new file (never over an existing one).
pub(crate) fn write_new(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("无法创建 {}（文件已存在？）", out.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("无法写入 {}", out.display()))?;
    Ok(())
}

/// `lvzhi import TABLE FILE --year Y [--dry-run]`: all or nothing; every bad row listed.
pub async fn import(
    store: &StoreArgs,
    table: &str,
    file: &Path,
    period: &crate::periods::PeriodArg,
    dry_run: bool,
    errors_out: Option<&Path>,
    duplicates: &str,
) -> anyhow::Result<bool> {
    let Some(duplicates) = lvzhi_store::Duplicates::parse(duplicates) else {
        bail!("--duplicates 只能是 skip（跳过疑似重复的行）或 import（仍然导入）");
    };
    let Some(t) = lvzhi_exchange::table_of(table) else {
        bail!("不能导入「{table}」，可选 records、assessments、metrics、units");
    };
    // Three stages on a bar (hidden when stderr is not a terminal).
    let bar = indicatif::ProgressBar::new(3);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let label = file.display().to_string();
    bar.set_message(format!("读取 {label}"));
    let bytes = std::fs::read(file).with_context(|| format!("无法打开 {}", file.display()))?;
    let mut parsed = match lvzhi_exchange::parse(bytes, &label, t) {
        Ok(p) => p,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("{}", lvzhi_exchange::ImportError::Input(e));
            return Ok(false);
        }
    };
    bar.inc(1);
    bar.set_message(format!("检查 {} 行", parsed.rows.len()));
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    let year = info.id;
    bar.inc(1);
    bar.set_message(
        if dry_run {
            "检查中"
        } else {
            "检查并写入数据库"
        }
        .to_owned(),
    );
    let outcome = parsed
        .import(&store, year, &cli_actor(), dry_run, duplicates)
        .await;
    bar.inc(1);
    bar.finish_and_clear();
    eprintln!("已读取 {} 行。", parsed.rows.len());
    let say_duplicates = |d: &[lvzhi_store::Duplicate]| {
        for x in d.iter().take(50) {
            eprintln!(
                "{label} 第 {} 行：与已有记录 {} 的单位、条款、日期、数量或分值、依据相同",
                parsed.line_of(x.index),
                x.existing
                    .iter()
                    .map(|i| format!("#{i}"))
                    .collect::<Vec<_>>()
                    .join("、")
            );
        }
        if d.len() > 50 {
            eprintln!("……另有 {} 行未列出", d.len() - 50);
        }
    };
    match outcome {
        Ok(o) if dry_run => {
            say_duplicates(&o.duplicates);
            println!(
                "检查通过：{} 行均可导入{}（未导入，去掉 --dry-run 后导入）。",
                o.checked,
                if o.duplicates.is_empty() {
                    String::new()
                } else {
                    format!(
                        "，其中 {} 行疑似重复（导入时用 --duplicates skip 跳过，或 --duplicates import 仍然导入）",
                        o.duplicates.len()
                    )
                }
            );
            Ok(true)
        }
        Ok(o) => {
            println!(
                "已导入 {} 行（{}）{}，并记入审计日志。",
                o.imported,
                info.label(),
                if o.skipped > 0 {
                    format!("，跳过疑似重复的 {} 行", o.skipped)
                } else {
                    String::new()
                }
            );
            Ok(true)
        }
        Err(lvzhi_exchange::ImportError::Store(lvzhi_store::StoreError::Duplicates(d))) => {
            say_duplicates(&d);
            eprintln!(
                "{}（命令行：--duplicates skip 或 --duplicates import）。未导入任何数据。",
                lvzhi_store::StoreError::Duplicates(d.clone())
            );
            Ok(false)
        }
        Err(lvzhi_exchange::ImportError::Input(e)) => {
            eprintln!("{}", lvzhi_exchange::ImportError::Input(e.clone()));
            if let Some(out) = errors_out {
                let bytes = parsed.annotated(&e).map_err(|x| anyhow::anyhow!("{x}"))?;
                write_new(out, &bytes)?;
                eprintln!("已写出标注了错误的工作簿：{}", out.display());
            }
            Ok(false)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(false)
        }
    }
}

/// `lvzhi export WHAT --year Y --format xlsx --out FILE`.
pub async fn export(
    store: &StoreArgs,
    what: &str,
    period: &crate::periods::PeriodArg,
    format: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let Some(w) = lvzhi_exchange::Export::parse(what) else {
        bail!("没有「{what}」这种导出，可选 results、ledger、sheets、report");
    };
    let Some(f) = lvzhi_exchange::Format::parse(format).filter(|f| w.formats().contains(f)) else {
        bail!(
            "「{what}」没有「{format}」格式：results、ledger、sheets 为 xlsx，report 为 docx 或 pdf"
        );
    };
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    let year = info.id;
    let bytes = lvzhi_exchange::export(&store, year, w, f)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_new(out, &bytes)?;
    println!(
        "已导出 {}（{} KB）",
        out.display(),
        bytes.len().div_ceil(1024)
    );
    Ok(())
}

/// `lvzhi template TABLE --year Y --out FILE`.
pub async fn template(
    store: &StoreArgs,
    table: &str,
    period: &crate::periods::PeriodArg,
    out: &Path,
) -> anyhow::Result<()> {
    let Some(t) = lvzhi_exchange::table_of(table) else {
        bail!("没有「{table}」模板，可选 records、assessments、metrics、units");
    };
    let store = open_store(store).await?;
    let info = period.find(&store).await?;
    let year = info.id;
    let bytes = lvzhi_exchange::template(&store, year, t)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_new(out, &bytes)?;
    println!("已生成模板 {}", out.display());
    Ok(())
}
