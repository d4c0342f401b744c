//! Accounts from the command line: the first admin (and the three administrators) a first start
//! creates, `token`, `user add|list|disable|passwd`, `group set`. Glue only: the store decides.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context;
use lvzhi_store::{Role, Store, generate_password};

use crate::config::{StoreArgs, cli_actor};

/// Says where a generated initial password is: always in a file of the data folder that only the
/// service's user reads (`initial-password-ACCOUNT.txt`, 0600; what the install docs point to),
/// and on the terminal as well when there is one — never in a log (a service's output is the
/// journal, which more people read).
fn tell_initial(data: &Path, label: &str, account: &str, password: &str) -> anyhow::Result<()> {
    use std::io::{IsTerminal as _, Write as _};
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = data.join(format!("initial-password-{account}.txt"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)
        .with_context(|| format!("无法写出初始密码文件 {}", file.display()))?;
    writeln!(
        f,
        "{label}账号 {account} 的初始密码：{password}\n首次登录后须修改；修改后请删除本文件。"
    )?;
    if std::io::stdout().is_terminal() {
        println!("已创建{label}账号 {account}，初始密码（首次登录后须修改）：{password}");
    }
    println!(
        "已创建{label}账号 {account}，初始密码已写入 {}（只有运行本服务的用户可读；首次登录并修改密码后请删除该文件）",
        file.display()
    );
    Ok(())
}

/// Creates the first admin account when there is none.
pub(crate) async fn first_admin(store: &Store, data: &Path) -> anyhow::Result<()> {
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
        tell_initial(data, "管理员", "admin", &password)?;
    } else {
        println!("已创建管理员账号 admin（密码取自 LVZHI_ADMIN_PASSWORD，首次登录后须修改）。");
    }
    Ok(())
}

/// With the duties separated, each of the three administrators needs an account: one is created
/// for each role that has none (`sysadmin`, `secadmin`, `auditor`), its password from
/// `LVZHI_<ROLE>_PASSWORD` or generated and printed once, to be changed at the first login.
pub(crate) async fn first_administrators(store: &Store, data: &Path) -> anyhow::Result<()> {
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
            tell_initial(data, role.label(), role.code(), &password)?;
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
pub(crate) fn password_from_stdin() -> anyhow::Result<(String, bool)> {
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
