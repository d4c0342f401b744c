//! The data folder a command or the service is about to use: made when missing, and refused in one
//! sentence when this user cannot write it — another user's folder (a command run as root made it,
//! or the service runs as `lvzhi` and the folder is root's), a folder without write permission, a
//! read-only file system (a systemd unit without the folder in `ReadWritePaths`) — before anything
//! is opened, so nothing is half done. It must not open the database.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::bail;

/// Checks that this user can make and write `dir`.
pub fn check(dir: &Path) -> anyhow::Result<()> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        bail!(cannot(dir, "无法创建数据目录", &e));
    }
    // A probe file decides, as modes, ACLs, read-only mounts and the service's sandbox all do.
    if let Err(e) = tempfile::Builder::new()
        .prefix(".lvzhi-write-check")
        .tempfile_in(dir)
    {
        bail!(cannot(dir, "无法写入数据目录", &e));
    }
    Ok(())
}

/// Checks that the files the program writes (those that exist: the database files, the checkpoint
/// file) can be written, and the files of the key folder read — a command once run as root
/// leaves them root's.
pub fn check_files(writable: &[PathBuf], key_dir: &Path) -> anyhow::Result<()> {
    for file in writable.iter().filter(|f| f.exists()) {
        if let Err(e) = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(file)
        {
            bail!(cannot(file, "无法写入文件", &e));
        }
    }
    let keys = std::fs::read_dir(key_dir).into_iter().flatten().flatten();
    for file in keys.map(|e| e.path()).filter(|p| p.is_file()) {
        if let Err(e) = std::fs::File::open(&file) {
            bail!(cannot(&file, "无法读取签名密钥文件", &e));
        }
    }
    Ok(())
}

/// One sentence: what could not be done where, why, and what to do.
fn cannot(path: &Path, what: &str, e: &std::io::Error) -> String {
    let at = path.display();
    let me = user_name(effective_uid());
    match e.kind() {
        ErrorKind::PermissionDenied => {
            let Some((held, meta)) = path
                .ancestors()
                .find_map(|p| Some((p, std::fs::metadata(p).ok()?)))
            else {
                return format!("{what} {at}：没有权限（当前用户 {me}）");
            };
            let owner = user_name(Some(meta.uid()));
            if held != path {
                format!(
                    "{what} {at}：上级目录 {} 属于用户 {owner}，用户 {me} 不能在其中创建目录。请由 {owner} 创建并交给 {me}：mkdir -p {at} && chown {me}: {at}",
                    held.display()
                )
            } else if Some(meta.uid()) == effective_uid() {
                format!(
                    "{what} {at}：它属于当前用户 {me}，但权限为 {:o}，不可写入。请执行 chmod u+rwx {at}",
                    meta.mode() & 0o7777
                )
            } else {
                format!(
                    "{what} {at}：它属于用户 {owner}，而本程序以用户 {me} 运行。请以 {owner} 运行（如 sudo -u {owner} lvzhi …），或把它交给 {me}：chown -R {me}: {at}"
                )
            }
        }
        ErrorKind::ReadOnlyFilesystem => format!(
            "{what} {at}：所在的文件系统只读（以 systemd 服务运行时，请确认单元的 ReadWritePaths 包含此目录）"
        ),
        _ => format!("{what} {at}：{e}"),
    }
}

/// This process's effective user id (Linux: from /proc).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A user's name from the password file, else its number.
fn user_name(uid: Option<u32>) -> String {
    let Some(uid) = uid else {
        return "（未知）".to_owned();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}
