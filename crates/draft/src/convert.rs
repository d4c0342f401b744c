//! Old Word (`.doc`) and WPS (`.wps`) files, converted to `.docx` by LibreOffice
//! (`soffice --headless --convert-to docx`) when it is installed, in a folder of its own that is
//! removed afterwards, within a time limit. This is the draft crate's one piece of IO; it must not
//! read the converted document (the `.docx` reader does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a conversion may take.
const CONVERT_AT_MOST: Duration = Duration::from_secs(120);

/// The `.docx` bytes of an old Word or WPS document.
pub(crate) fn to_docx(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let Some(soffice) = program(&["soffice", "libreoffice"]) else {
        return Err(
            "这是旧版 Word（.doc）或 WPS（.wps）文件，服务器上没有安装 LibreOffice，无法转换：\
                    请在 Word 或 WPS 中另存为 .docx 后再导入（或由信息中心安装 libreoffice-writer）"
                .into(),
        );
    };
    let dir = tempfile::tempdir().map_err(|e| format!("无法创建转换用的临时目录：{e}"))?;
    let input = dir.path().join("rubric.doc");
    std::fs::write(&input, bytes).map_err(|e| format!("无法写入转换用的临时文件：{e}"))?;
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.path().join("profile").display()
    );
    let mut child = Command::new(&soffice)
        .arg(profile)
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "docx",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("无法启动 LibreOffice（{}）：{e}", soffice.display()))?;
    let deadline = Instant::now() + CONVERT_AT_MOST;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "LibreOffice 在 {} 秒内没有完成转换：请在 Word 或 WPS 中另存为 .docx 后再导入",
                    CONVERT_AT_MOST.as_secs()
                ));
            }
        }
    }
    std::fs::read(dir.path().join("rubric.docx")).map_err(|_| {
        "LibreOffice 无法转换这个文件（文件可能已损坏或加密，或服务器未安装 LibreOffice Writer）：请在 Word 或 WPS 中打开后另存为 .docx 再导入"
            .to_owned()
    })
}

/// The first of `names` found on `PATH`.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| is_file(p))
}

fn is_file(p: &Path) -> bool {
    p.metadata().is_ok_and(|m| m.is_file())
}
