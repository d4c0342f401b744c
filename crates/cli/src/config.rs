//! Where the store is and how the service is configured: `--data` / `--database-url` (or
//! `LVZHI_DATA`, `LVZHI_DATABASE_URL`, or a TOML file given by `--config`), the file's keys and
//! their errors in Chinese, the office's seal and checkpoint file. It opens the store; it must not
//! serve or run a command's work.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use lvzhi_store::{Actor, Store};

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
    /// `serve`: addresses or networks (CIDR) that may read `/metrics` (default: this machine).
    pub metrics_allow: Option<Vec<String>>,
    /// `serve`: a token (`Authorization: Bearer …`) that may read `/metrics` from any address.
    pub metrics_token: Option<String>,
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
pub(crate) fn config_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
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
            crate::datadir::check(&data)?;
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
        let store = open_configured(&cfg).await?;
        let store = if lvzhi_store::Seal::exists(&cfg.key_dir) {
            store.with_anchor(anchor(&cfg, false, false)?)
        } else {
            store
        };
        Ok((cfg, store))
    }
}

/// The store the configuration names, brought up to this program (a PostgreSQL database dumped
/// first, an older one's upgrade said), without its seal: the one way a command or `serve` opens it.
pub async fn open_configured(cfg: &Config) -> anyhow::Result<Store> {
    let sqlite = cfg.database_url.starts_with("sqlite:");
    if !sqlite {
        // Its keys and checkpoints (SQLite's folder was checked when the configuration was read).
        crate::datadir::check(&cfg.data)?;
    }
    let mut writable = vec![cfg.checkpoint_file.clone()];
    if sqlite {
        writable.extend(["lvzhi.db", "lvzhi.db-wal", "lvzhi.db-shm"].map(|f| cfg.data.join(f)));
    }
    crate::datadir::check_files(&writable, &cfg.key_dir)?;
    crate::upgrade::before_opening(cfg).await?;
    let store = Store::open(&cfg.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("无法打开数据库 {}", redact(&cfg.database_url)))?;
    crate::upgrade::say_upgrade(&store);
    Ok(store)
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
