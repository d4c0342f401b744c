//! `lvzhi serve`: the service on its store — the sample year (`--demo`), the first accounts, HTTP
//! or HTTPS (the certificate watched and re-read), the trusted proxies, the audit checkpoints and
//! the scheduled backups. Glue only: the store and the web crate do the work; where the store is and
//! how it is configured is `config`'s, the other commands are in their own rooms.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use lvzhi_core::NewRecord;
use lvzhi_office::{Table, read_table};
use lvzhi_store::{Batch, Store};

use crate::accounts::{first_admin, first_administrators};
use crate::config::{StoreArgs, anchor, cli_actor, redact};

/// Networks from a setting (`what` names it in the error): a bare address is a network of one.
fn networks<'a>(
    what: &str,
    given: impl Iterator<Item = &'a String>,
) -> anyhow::Result<Vec<ipnet::IpNet>> {
    given
        .map(|text| {
            let t = text.trim();
            t.parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "{what}「{t}」不是地址或网段（应写作 10.0.0.5 或 10.0.0.0/24 这样的 CIDR）"
                    )
                })
        })
        .collect()
}

/// Who may read `/metrics`: the configured addresses (default this machine's) and token.
fn metrics_access(
    cfg: &crate::config::Config,
) -> anyhow::Result<lvzhi_web::metrics::MetricsAccess> {
    let token = cfg.file.metrics_token.as_deref().map(str::trim);
    if token.is_some_and(|t| t.len() < 16) {
        bail!("配置项 metrics_token 太短：监控令牌至少 16 个字符");
    }
    let allow = match &cfg.file.metrics_allow {
        Some(allow) => networks("配置项 metrics_allow 中的", allow.iter())?,
        None => lvzhi_web::metrics::MetricsAccess::default().allow,
    };
    Ok(lvzhi_web::metrics::MetricsAccess::new(allow, token))
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

pub async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let cfg = args.store.resolve(args.bind.as_deref())?;
    lvzhi_web::pages::check_templates();
    // Settings checked before anything is opened or created.
    let metrics_access = metrics_access(&cfg)?;
    let proxies = networks(
        "可信代理",
        args.trusted_proxies
            .iter()
            .chain(cfg.file.trusted_proxies.iter().flatten()),
    )?;
    let store = crate::config::open_configured(&cfg).await?;
    let syslog = args.syslog || cfg.file.syslog.unwrap_or(false);
    let store = store.with_anchor(anchor(&cfg, true, syslog)?);
    first_admin(&store, &cfg.data).await?;
    let separated = args.separation_of_duties || cfg.file.separation_of_duties.unwrap_or(false);
    if separated {
        first_administrators(&store, &cfg.data).await?;
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
    state.metrics_access = metrics_access;
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
    let found = store
        .own_checkpoints()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(c) = found.last() {
        store.note_checkpoint(&c.at);
    }
    let last = found.last().map_or(-1, |c| c.entry);
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
