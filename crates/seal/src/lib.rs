//! The office's seal: its SM2 key pair (GB/T 32918), kept in two PEM files outside the database;
//! SM2-with-SM3 signatures over exact bytes, in the DER form that `openssl dgst -sm3 -verify`
//! checks; fingerprints; and the signed checkpoints of the audit trail, one JSON line each in a file
//! outside the database (and optionally on the system log).
//!
//! It must not know the database, HTTP or the assessment: it signs and checks bytes, and reads and
//! writes its own files. What is signed, and when, is decided by the store.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::Generate as _;
use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _};
use sm2::pkcs8::{EncodePublicKey as _, LineEnding};
use sm3::Digest as _;

/// What a key's fingerprint is called wherever it is printed (pages, documents, commands), so a
/// person comparing two of them compares like with like.
pub const KEY_FINGERPRINT_LABEL: &str = "安委办 SM2 公钥指纹";

/// The name of the algorithm, as the signature endpoint and the checkpoints state it.
pub const ALGORITHM: &str = "SM2-SM3";

/// The signer's distinguishing identifier (GB/T 32918.2's ID_A). Empty: that is what OpenSSL 3 uses
/// when none is given, so `openssl dgst -sm3 -verify pub.pem -signature sig.der file` checks our
/// signatures as they are. A verifier that defaults to `1234567812345678` (GM/T 0009) must be told
/// the empty identifier.
pub const DISTINGUISHING_ID: &str = "";

/// The private key's file name in the key folder (PKCS#8 PEM, readable by its owner only).
pub const PRIVATE_KEY_FILE: &str = "office-sm2.key.pem";
/// The public key's file name in the key folder (SubjectPublicKeyInfo PEM).
pub const PUBLIC_KEY_FILE: &str = "office-sm2.pub.pem";
/// The checkpoint file's default name in the data folder.
pub const CHECKPOINT_FILE: &str = "audit-checkpoints.jsonl";

/// What can go wrong, in Chinese, naming the file or the line.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("无法读写 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Key(String),
    /// The folder has a key pair already (another process may have just made it).
    #[error("{0}")]
    Exists(String),
    #[error("签名无效：{0}")]
    BadSignature(String),
    #[error("检查点文件 {path} 第 {line} 行：{what}")]
    Checkpoint {
        path: String,
        line: usize,
        what: String,
    },
}

pub type Result<T> = std::result::Result<T, SealError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SealError + '_ {
    move |source| SealError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// SM3 of bytes, lowercase hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(sm3::Sm3::digest(bytes))
}

/// A short fingerprint of bytes for people to compare: the first 16 hex digits of their SM3, in
/// groups of four (`3F2A-09C1-…`). People compare keys, so the one fingerprint anybody is shown is
/// [`key_fingerprint`]'s; this is its arithmetic.
fn fingerprint(bytes: &[u8]) -> String {
    let h = sm3_hex(bytes).to_uppercase();
    h.as_bytes()[..16]
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// The one fingerprint of an SM2 public key, as every page, document and command prints it:
/// [`fingerprint`] of the key's DER SubjectPublicKeyInfo (the bytes inside the PEM armour, so line
/// endings and wrapping of a copied PEM file do not change it).
pub fn key_fingerprint(public_key_pem: &str) -> Result<String> {
    let public = sm2::PublicKey::from_public_key_pem(public_key_pem.trim())
        .map_err(|e| SealError::Key(format!("公钥不是 SM2 公钥（PEM）：{e}")))?;
    let der = public
        .to_public_key_der()
        .map_err(|e| SealError::Key(format!("无法编码公钥：{e}")))?;
    Ok(fingerprint(der.as_bytes()))
}

/// A name part no other writer uses at the same time: this process and a count within it.
fn unique() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// The office's key pair, loaded from (or created in) its key folder.
pub struct Seal {
    signing: SigningKey,
    public_pem: String,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field("public_key", &self.key_fingerprint())
            .finish_non_exhaustive()
    }
}

impl Seal {
    /// The key folder's private and public key paths.
    pub fn paths(dir: &Path) -> (PathBuf, PathBuf) {
        (dir.join(PRIVATE_KEY_FILE), dir.join(PUBLIC_KEY_FILE))
    }

    /// Whether a key pair is in the folder.
    pub fn exists(dir: &Path) -> bool {
        Self::paths(dir).0.exists()
    }

    /// Creates a new key pair in the folder; refuses when one is there already (a key is never
    /// replaced by accident: what it signed could no longer be checked against the file).
    pub fn create(dir: &Path) -> Result<Seal> {
        let (private, public) = Self::paths(dir);
        let exists = || {
            SealError::Exists(format!(
                "{} 已有签名密钥，不会覆盖；如确需更换，请先把旧密钥移走并保存好",
                dir.display()
            ))
        };
        if private.exists() {
            return Err(exists());
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(dir))?;
        }
        let secret = sm2::SecretKey::generate();
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SealError::Key(format!("无法编码私钥：{e}")))?;
        // Written whole under a name of this process's own, then linked into place, which fails
        // if another process (an instance started at the same moment) got there first: a key file
        // is never seen half written, and never two keys.
        let tmp = dir.join(format!(".{PRIVATE_KEY_FILE}.{}.tmp", unique()));
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, pem.as_bytes())?;
        let linked = std::fs::hard_link(&tmp, &private);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) => return Err(io(&private)(e)),
        }
        let seal = Self::from_secret(&secret)?;
        let tmp = dir.join(format!(".{PUBLIC_KEY_FILE}.{}.tmp", unique()));
        std::fs::write(&tmp, seal.public_pem.as_bytes()).map_err(io(&public))?;
        std::fs::rename(&tmp, &public).map_err(io(&public))?;
        Ok(seal)
    }

    /// Loads the key pair from the folder.
    pub fn open(dir: &Path) -> Result<Seal> {
        let (private, _) = Self::paths(dir);
        let pem = std::fs::read_to_string(&private).map_err(io(&private))?;
        let secret = sm2::SecretKey::from_pkcs8_pem(&pem).map_err(|e| {
            SealError::Key(format!(
                "{} 不是 SM2 私钥（PKCS#8 PEM）：{e}",
                private.display()
            ))
        })?;
        Self::from_secret(&secret)
    }

    /// Loads the key pair, creating it first when the folder has none. Says whether it was created.
    pub fn open_or_create(dir: &Path) -> Result<(Seal, bool)> {
        if Self::exists(dir) {
            return Ok((Self::open(dir)?, false));
        }
        match Self::create(dir) {
            Ok(seal) => Ok((seal, true)),
            // Another instance made it a moment ago: use that one.
            Err(SealError::Exists(_)) => Ok((Self::open(dir)?, false)),
            Err(e) => Err(e),
        }
    }

    fn from_secret(secret: &sm2::SecretKey) -> Result<Seal> {
        let signing = SigningKey::new(DISTINGUISHING_ID, secret)
            .map_err(|e| SealError::Key(format!("SM2 私钥无效：{e}")))?;
        let public_pem = signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SealError::Key(format!("无法编码公钥：{e}")))?;
        Ok(Seal {
            signing,
            public_pem,
        })
    }

    /// Signs bytes: the DER-encoded SM2 signature over SM3(Z_A ‖ bytes).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.signing.sign(message);
        signature.to_der().as_bytes().to_vec()
    }

    /// The public key, SubjectPublicKeyInfo PEM.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// The public key's fingerprint ([`key_fingerprint`]).
    pub fn key_fingerprint(&self) -> String {
        let der = self
            .signing
            .verifying_key()
            .to_public_key_der()
            .expect("an SM2 public key always encodes");
        fingerprint(der.as_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(io(path))
}

/// Checks a DER signature of `message` against a public key in PEM.
pub fn verify(public_key_pem: &str, message: &[u8], signature_der: &[u8]) -> Result<()> {
    let public = sm2::PublicKey::from_public_key_pem(public_key_pem.trim())
        .map_err(|e| SealError::Key(format!("公钥不是 SM2 公钥（PEM）：{e}")))?;
    let key = VerifyingKey::new(DISTINGUISHING_ID, public)
        .map_err(|e| SealError::Key(format!("SM2 公钥无效：{e}")))?;
    let signature = Signature::from_der(signature_der)
        .map_err(|_| SealError::BadSignature("不是 DER 编码的 SM2 签名".to_owned()))?;
    key.verify(message, &signature)
        .map_err(|_| SealError::BadSignature("与内容或公钥不符".to_owned()))
}

/// Base64 (standard alphabet, padded) of bytes.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes from base64 (standard alphabet).
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// Why a checkpoint was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointReason {
    /// The service's interval came round.
    Interval,
    /// A publication was made.
    Publication,
    /// Someone ran `lvzhi audit checkpoint`.
    Manual,
    /// A backup was restored: earlier checkpoints describe a trail that was replaced.
    Restore,
    /// The trail grew by a set number of entries since the last checkpoint.
    Entries,
}

impl CheckpointReason {
    /// The reason's code, as the file stores it and the signature covers it.
    pub fn code(self) -> &'static str {
        match self {
            CheckpointReason::Interval => "interval",
            CheckpointReason::Publication => "publication",
            CheckpointReason::Manual => "manual",
            CheckpointReason::Restore => "restore",
            CheckpointReason::Entries => "entries",
        }
    }

    /// The reason in Chinese.
    pub fn label(self) -> &'static str {
        match self {
            CheckpointReason::Interval => "定时",
            CheckpointReason::Publication => "发布",
            CheckpointReason::Manual => "手动",
            CheckpointReason::Restore => "恢复备份",
            CheckpointReason::Entries => "条数",
        }
    }
}

/// A signed statement that the trail's entry `entry` had hash `hash` at time `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The number of the trail's last entry (0 for an empty trail).
    pub entry: i64,
    /// That entry's hash (empty for an empty trail).
    pub hash: String,
    pub at: String,
    pub reason: CheckpointReason,
    pub algorithm: String,
    /// The fingerprint of the public key that signed it.
    pub key: String,
    /// Base64 of the DER SM2 signature over [`Checkpoint::signed_text`].
    pub signature: String,
}

impl Checkpoint {
    /// The exact text signed: a format line, then number, hash, time and reason, one per line.
    pub fn signed_text(entry: i64, hash: &str, at: &str, reason: CheckpointReason) -> String {
        let reason = reason.code();
        format!("lvzhi-checkpoint-1\n{entry}\n{hash}\n{at}\n{reason}\n")
    }

    /// A new signed checkpoint.
    pub fn new(seal: &Seal, entry: i64, hash: &str, at: &str, reason: CheckpointReason) -> Self {
        let text = Self::signed_text(entry, hash, at, reason);
        Checkpoint {
            entry,
            hash: hash.to_owned(),
            at: at.to_owned(),
            reason,
            algorithm: ALGORITHM.to_owned(),
            key: seal.key_fingerprint(),
            signature: base64(&seal.sign(text.as_bytes())),
        }
    }

    /// Checks the signature against a public key.
    pub fn verify(&self, public_key_pem: &str) -> Result<()> {
        if self.algorithm != ALGORITHM {
            return Err(SealError::BadSignature(format!(
                "算法「{}」不是 {ALGORITHM}",
                self.algorithm
            )));
        }
        let der = from_base64(&self.signature)
            .ok_or_else(|| SealError::BadSignature("签名不是 base64".to_owned()))?;
        let text = Self::signed_text(self.entry, &self.hash, &self.at, self.reason);
        verify(public_key_pem, text.as_bytes(), &der)
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        format!(
            "{}（{}）：第 {} 条，哈希 {}",
            self.at,
            self.reason.label(),
            self.entry,
            short(&self.hash)
        )
    }
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

/// The file of checkpoints: one JSON object a line, appended, never rewritten.
#[derive(Clone, Debug)]
pub struct CheckpointLog {
    path: PathBuf,
}

impl CheckpointLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CheckpointLog { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one checkpoint and flushes it to disk.
    pub fn append(&self, checkpoint: &Checkpoint) -> Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut line = serde_json::to_string(checkpoint).map_err(|e| SealError::Checkpoint {
            path: self.path.display().to_string(),
            line: 0,
            what: e.to_string(),
        })?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        f.write_all(line.as_bytes()).map_err(io(&self.path))?;
        f.sync_all().map_err(io(&self.path))
    }

    /// Reads every checkpoint, checking each signature against the public key; the first line that
    /// is not a checkpoint, or whose signature does not hold, is an error naming it. A missing file
    /// is an empty list.
    pub fn read(&self, public_key_pem: &str) -> Result<Vec<Checkpoint>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.path)(e)),
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |what: String| SealError::Checkpoint {
                path: self.path.display().to_string(),
                line: i + 1,
                what,
            };
            let cp: Checkpoint =
                serde_json::from_str(line).map_err(|e| bad(format!("不是检查点：{e}")))?;
            cp.verify(public_key_pem)
                .map_err(|e| bad(format!("{e}（检查点被改动，或不是本机密钥所签）")))?;
            out.push(cp);
        }
        Ok(out)
    }
}

/// The checkpoints that still describe the trail: those after the last restore marker (a restore
/// replaces the trail with a backup's, which earlier checkpoints do not describe).
pub fn in_force(checkpoints: &[Checkpoint]) -> &[Checkpoint] {
    match checkpoints
        .iter()
        .rposition(|c| c.reason == CheckpointReason::Restore)
    {
        Some(i) => &checkpoints[i..],
        None => checkpoints,
    }
}

/// The local system log's socket.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// Sends a checkpoint to the local system log's socket (normally [`SYSLOG_SOCKET`]; RFC 3164,
/// facility local0, notice), so that a copy lives where the service's own files do not.
#[cfg(unix)]
pub fn to_syslog(checkpoint: &Checkpoint, socket: &Path) -> Result<()> {
    let line = format!(
        "<133>lvzhi[{}]: audit-checkpoint entry={} hash={} at={} reason={} key={} sig={}",
        std::process::id(),
        checkpoint.entry,
        checkpoint.hash,
        checkpoint.at,
        checkpoint.reason.label(),
        checkpoint.key,
        checkpoint.signature
    );
    let s = std::os::unix::net::UnixDatagram::unbound().map_err(io(socket))?;
    s.send_to(line.as_bytes(), socket).map_err(io(socket))?;
    Ok(())
}

#[cfg(not(unix))]
pub fn to_syslog(_checkpoint: &Checkpoint, _socket: &Path) -> Result<()> {
    Err(SealError::Key("此系统不支持写入系统日志".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_byte_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let seal = Seal::create(dir.path()).unwrap();
        let sig = seal.sign(b"{\"a\":1}");
        verify(seal.public_key_pem(), b"{\"a\":1}", &sig).unwrap();
        assert!(verify(seal.public_key_pem(), b"{\"a\":2}", &sig).is_err());
        // A second create refuses; open gives the same key.
        assert!(Seal::create(dir.path()).is_err());
        let again = Seal::open(dir.path()).unwrap();
        assert_eq!(again.public_key_pem(), seal.public_key_pem());
        verify(again.public_key_pem(), b"{\"a\":1}", &sig).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(PRIVATE_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the private key is its owner's only");
            let dir_mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o077, 0, "and so is its folder");
        }
    }

    #[test]
    fn checkpoints_round_trip_and_a_changed_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let seal = Seal::create(&dir.path().join("keys")).unwrap();
        let log = CheckpointLog::new(dir.path().join(CHECKPOINT_FILE));
        assert!(log.read(seal.public_key_pem()).unwrap().is_empty());
        let a = Checkpoint::new(
            &seal,
            7,
            "ab",
            "2026-01-01T00:00:00Z",
            CheckpointReason::Manual,
        );
        let b = Checkpoint::new(
            &seal,
            9,
            "cd",
            "2026-01-02T00:00:00Z",
            CheckpointReason::Interval,
        );
        log.append(&a).unwrap();
        log.append(&b).unwrap();
        assert_eq!(log.read(seal.public_key_pem()).unwrap(), vec![a, b]);
        let text = std::fs::read_to_string(log.path()).unwrap();
        std::fs::write(log.path(), text.replace("\"entry\":9", "\"entry\":8")).unwrap();
        let err = log.read(seal.public_key_pem()).unwrap_err().to_string();
        assert!(err.contains("第 2 行"), "{err}");
    }

    #[test]
    fn a_restore_marker_retires_earlier_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let seal = Seal::create(dir.path()).unwrap();
        let cp = |e, r| Checkpoint::new(&seal, e, "h", "t", r);
        let list = vec![
            cp(50, CheckpointReason::Interval),
            cp(20, CheckpointReason::Restore),
            cp(25, CheckpointReason::Manual),
        ];
        let kept = in_force(&list);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].entry, 20);
    }

    #[cfg(unix)]
    #[test]
    fn a_checkpoint_reaches_the_system_log_socket() {
        let dir = tempfile::tempdir().unwrap();
        let seal = Seal::create(&dir.path().join("keys")).unwrap();
        let socket = dir.path().join("log");
        let log = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
        let cp = Checkpoint::new(
            &seal,
            42,
            "abcd",
            "2026-01-01T00:00:00Z",
            CheckpointReason::Manual,
        );
        to_syslog(&cp, &socket).unwrap();
        let mut buf = [0u8; 2048];
        let n = log.recv(&mut buf).unwrap();
        let line = String::from_utf8_lossy(&buf[..n]);
        assert!(
            line.starts_with("<13")
                && line.contains("entry=42 hash=abcd")
                && line.contains(&cp.signature),
            "{line}"
        );
        // No log listening: an error naming the socket, never a panic.
        let err = to_syslog(&cp, &dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("none"), "{err}");
    }

    #[test]
    fn a_reasons_code_is_what_the_file_stores() {
        for r in [
            CheckpointReason::Interval,
            CheckpointReason::Publication,
            CheckpointReason::Manual,
            CheckpointReason::Restore,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.code());
        }
    }

    #[test]
    fn fingerprints_are_grouped() {
        let f = fingerprint(b"abc");
        // SM3("abc") = 66c7f0f4 62eeedd9 …, GB/T 32905's own example.
        assert_eq!(f, "66C7-F0F4-62EE-EDD9");
    }

    #[test]
    fn instances_starting_at_once_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let made: Vec<(String, bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let (seal, created) = Seal::open_or_create(&keys).expect("a key");
                        (seal.key_fingerprint(), created)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            made.iter().filter(|m| m.1).count(),
            1,
            "one key made: {made:?}"
        );
        assert!(
            made.iter().all(|m| m.0 == made[0].0),
            "one key used: {made:?}"
        );
        let left: Vec<_> = std::fs::read_dir(&keys)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
    }

    #[test]
    fn a_key_has_one_fingerprint_however_its_pem_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let seal = Seal::create(dir.path()).unwrap();
        let pem = seal.public_key_pem().to_owned();
        let printed = seal.key_fingerprint();
        assert_eq!(key_fingerprint(&pem).unwrap(), printed);
        assert_eq!(
            key_fingerprint(&pem.replace('\n', "\r\n")).unwrap(),
            printed
        );
        // Not the fingerprint of the PEM text: the DER inside it.
        assert_ne!(fingerprint(pem.as_bytes()), printed);
        let other = Seal::create(tempfile::tempdir().unwrap().path()).unwrap();
        assert_ne!(other.key_fingerprint(), printed);
        assert!(key_fingerprint("not a key").is_err());
    }
}
