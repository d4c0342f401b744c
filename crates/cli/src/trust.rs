//! The commands that prove the data: `key init|show`, `audit verify|checkpoint`, `publication
//! verify`. Glue only: the seal signs and checks, the store compares the trail with the tables and
//! the checkpoints; this module reads files and prints the verdicts in Chinese.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use lvzhi_store::{Checkpoint, CheckpointReason, Seal};

use crate::config::{StoreArgs, anchor};

/// `lvzhi key init`: creates the office's key pair (never over an existing one).
pub fn key_init(args: &StoreArgs) -> anyhow::Result<()> {
    let cfg = args.resolve(None)?;
    let seal = Seal::create(&cfg.key_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (private, public) = Seal::paths(&cfg.key_dir);
    println!("已创建安委办的 SM2 签名密钥。");
    println!(
        "私钥：{}（只能由本机服务读取，请离线备份）",
        private.display()
    );
    println!("公钥：{}（可公开，用于核验发布与检查点）", public.display());
    println!(
        "{}：{}",
        lvzhi_seal::KEY_FINGERPRINT_LABEL,
        seal.key_fingerprint()
    );
    Ok(())
}

/// `lvzhi key show`: the public key and its fingerprint.
pub fn key_show(args: &StoreArgs) -> anyhow::Result<()> {
    let cfg = args.resolve(None)?;
    let seal = Seal::open(&cfg.key_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", seal.public_key_pem());
    println!(
        "{}：{}",
        lvzhi_seal::KEY_FINGERPRINT_LABEL,
        seal.key_fingerprint()
    );
    Ok(())
}

/// `lvzhi audit checkpoint`: writes a signed checkpoint of the trail's head now.
pub async fn audit_checkpoint(args: &StoreArgs, syslog: bool) -> anyhow::Result<()> {
    let (cfg, store) = args.open().await?;
    let store = store.with_anchor(anchor(&cfg, true, syslog)?);
    let cp = store
        .checkpoint(CheckpointReason::Manual)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "已写入检查点：第 {} 条，哈希 {}，时间 {}（{}）",
        cp.entry,
        cp.hash,
        cp.at,
        cfg.checkpoint_file.display()
    );
    Ok(())
}

/// `lvzhi audit verify`: the chain, every checkpoint found or given, and the tables replayed
/// against the trail. True when all hold.
pub async fn audit_verify(
    args: &StoreArgs,
    extra: &[PathBuf],
    key: Option<&Path>,
) -> anyhow::Result<bool> {
    let (cfg, store) = args.open().await?;
    let public = match key {
        Some(p) => Some(
            std::fs::read_to_string(p).with_context(|| format!("无法读取公钥 {}", p.display()))?,
        ),
        None => store.anchor().map(|a| a.seal.public_key_pem().to_owned()),
    };
    let mut files = vec![cfg.checkpoint_file.clone()];
    files.extend(extra.iter().cloned());
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for f in &files {
        if !f.exists() {
            if extra.contains(f) {
                bail!("检查点文件 {} 不存在", f.display());
            }
            continue;
        }
        let Some(public) = &public else {
            bail!(
                "有检查点文件 {}，却没有核验它的公钥：请用 --key 指定安委办的公钥",
                f.display()
            );
        };
        let list = lvzhi_seal::CheckpointLog::new(f)
            .read(public)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("读入检查点 {} 个：{}", list.len(), f.display());
        checkpoints.extend(list);
    }
    let report = store
        .audit_report(&checkpoints, true)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for line in report.lines() {
        println!("{line}");
    }
    if report.is_sound() {
        println!("审计链完整，且与检查点和各表相符。");
    } else {
        println!("审计核验未通过。");
    }
    Ok(report.is_sound())
}

/// What a signature file holds: the endpoint's JSON (signature and key), base64 text, or DER.
fn read_signature(path: &Path) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let bytes = std::fs::read(path).with_context(|| format!("无法读取签名 {}", path.display()))?;
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let Some(b64) = v["signature_base64"].as_str()
    {
        let der = lvzhi_seal::from_base64(b64)
            .with_context(|| format!("{} 中的 signature_base64 不是 base64", path.display()))?;
        return Ok((der, v["public_key_pem"].as_str().map(str::to_owned)));
    }
    if bytes.first() == Some(&0x30) {
        return Ok((bytes, None));
    }
    let text = String::from_utf8_lossy(&bytes);
    let der = lvzhi_seal::from_base64(&text).with_context(|| {
        format!(
            "{} 既不是签名接口的 JSON，也不是 base64 或 DER 签名",
            path.display()
        )
    })?;
    Ok((der, None))
}

/// `lvzhi publication verify`: checks a snapshot's SM2-SM3 signature. The key is `--key`, else the
/// one in the signature's JSON, else the office's own.
pub fn publication_verify(
    args: &StoreArgs,
    snapshot: &Path,
    signature: &Path,
    key: Option<&Path>,
) -> anyhow::Result<bool> {
    let body =
        std::fs::read(snapshot).with_context(|| format!("无法读取快照 {}", snapshot.display()))?;
    let (der, carried) = read_signature(signature)?;
    let public = match (key, carried) {
        (Some(p), _) => {
            std::fs::read_to_string(p).with_context(|| format!("无法读取公钥 {}", p.display()))?
        }
        (None, Some(k)) => {
            println!(
                "未指定 --key：使用签名文件所附的公钥。这只能说明签名与所附公钥相符，不能说明该公钥属于安委办；请用 --key 指定安委办的公钥，或将下面的公钥指纹与安委办公布的指纹核对。"
            );
            k
        }
        (None, None) => {
            let cfg = args.resolve(None)?;
            Seal::open(&cfg.key_dir)
                .map_err(|e| anyhow::anyhow!("{e}；或用 --key 指定公钥"))?
                .public_key_pem()
                .to_owned()
        }
    };
    println!(
        "{}：{}，快照 SHA-256：{}",
        lvzhi_seal::KEY_FINGERPRINT_LABEL,
        lvzhi_seal::key_fingerprint(&public).unwrap_or_else(|e| format!("（{e}）")),
        lvzhi_store::sha256_hex(&body)
    );
    match lvzhi_seal::verify(&public, &body, &der) {
        Ok(()) => {
            println!(
                "签名有效：快照由该公钥对应的私钥签署，内容未被改动（{}）。",
                lvzhi_seal::ALGORITHM
            );
            Ok(true)
        }
        Err(e) => {
            println!("{e}");
            Ok(false)
        }
    }
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
