//! Who is asking, on the floor that the JSON API and the pages both stand on: the caller of a request
//! (bearer token or session cookie), the same-site proof every cookie-carried write needs, the CSRF
//! token of a session, the one login and logout, and [`Authed`], the authenticated user with its
//! permission check against the core's matrix (refusals audited).
//!
//! The unit or supervised units of a user come from its account, never from a request. This module
//! must not know a page or a JSON body shape beyond the login's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use lvzhi_core::access::{self, Action, Subject};
use lvzhi_store::{Actor, User};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

/// The value of the cookie `name` in a request's headers.
pub(crate) fn cookie_in(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Where a request came from, for the audit trail and the login limit: the peer's address, or,
/// when the peer is a trusted proxy (`serve --trusted-proxy`), the client it forwarded for: the
/// nearest address in `X-Forwarded-For` (or `Forwarded: for=`) that is not itself a trusted
/// proxy. A header from any other peer is ignored (anybody can write one).
pub(crate) fn source_of(parts: &Parts, proxies: &[ipnet::IpNet]) -> String {
    let Some(peer) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".to_owned();
    };
    let trusted = |ip: &std::net::IpAddr| proxies.iter().any(|n| n.contains(ip));
    if !trusted(&peer) {
        return peer.to_string();
    }
    forwarded_chain(parts)
        .into_iter()
        .rev()
        .find(|ip| !trusted(ip))
        .unwrap_or(peer)
        .to_string()
}

/// The addresses a request says it was forwarded for, client first: `Forwarded: for=…` (RFC
/// 7239), else `X-Forwarded-For`. Entries that are not addresses (`unknown`, `_hidden`) end it.
fn forwarded_chain(parts: &Parts) -> Vec<std::net::IpAddr> {
    let header = |name: &str| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
    };
    let forwarded = header("forwarded");
    let items: Vec<String> = if forwarded.is_empty() {
        header("x-forwarded-for")
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect()
    } else {
        forwarded
            .split(',')
            .filter_map(|el| {
                el.split(';')
                    .filter_map(|kv| kv.trim().split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case("for"))
                    .map(|(_, v)| v.trim_matches('"').to_owned())
            })
            .collect()
    };
    items
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s.trim_start_matches('[');
            let s = s.split(']').next().unwrap_or(s);
            s.parse::<std::net::IpAddr>()
                .or_else(|_| s.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        })
        .map_while(Result::ok)
        .collect()
}

/// A state-changing request carried by a cookie must come from this site: a browser says so with
/// `Sec-Fetch-Site`, and with `Origin` matching `Host`.
pub(crate) fn same_site(parts: &Parts, https: bool) -> bool {
    let header = |n: header::HeaderName| parts.headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (header(header::ORIGIN), header(header::HOST)) {
        (Some(origin), Some(host)) => origin_matches(origin, host, https),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Whether a cookie-carried write proves it comes from this site: the page's CSRF token, or
/// `Sec-Fetch-Site: same-origin`, or (from a browser that sends no `Sec-Fetch-Site`) an `Origin`
/// equal to the host. A request with none of these (a form or `text/plain` post from a page of
/// another site, a script outside a browser replaying a cookie) is refused.
pub(crate) fn same_origin_proof(parts: &Parts, session: &str, https: bool) -> bool {
    let get = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    if get("x-csrf-token") == Some(csrf_of(session).as_str()) {
        return true;
    }
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin";
    }
    match (get("origin"), get("host")) {
        (Some(origin), Some(host)) => origin_matches(origin, host, https),
        _ => false,
    }
}

/// Whether an `Origin` is this site: the same host, and the scheme the site is served with —
/// `https` when this process serves HTTPS itself; `http` or `https` otherwise (a TLS proxy in
/// front may speak HTTPS to the browser).
fn origin_matches(origin: &str, host: &str, https: bool) -> bool {
    match origin.split_once("://") {
        Some(("https", h)) => h == host,
        Some(("http", h)) => !https && h == host,
        _ => false,
    }
}

/// The CSRF token of a session: derived from the session id, which only the browser holds (the
/// cookie is HttpOnly), so a page of another site can neither read nor compute it.
pub(crate) fn csrf_of(session: &str) -> String {
    let digest = Sha256::digest(format!("lvzhi-csrf\0{session}").as_bytes());
    hex::encode(&digest[..16])
}

/// Who is asking: the user of a bearer token, or of the session cookie (then with the session id).
#[derive(Clone)]
pub(crate) struct Caller {
    pub user: User,
    pub session: Option<String>,
}

/// Finds the caller of a request, without judging what it may do. A cookie-carried write from
/// another site is refused here, before anything else. The caller found is kept in the request, so
/// later extractors of the same request do not look it up again.
pub(crate) async fn caller(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Caller>, ApiError> {
    if let Some(c) = parts.extensions.get::<Caller>() {
        return Ok(Some(c.clone()));
    }
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let found = if let Some(token) = bearer {
        state.store.user_for_token(token).await?.map(|user| Caller {
            user,
            session: None,
        })
    } else {
        let Some(id) = cookie_in(&parts.headers, state.cookie_name()) else {
            return Ok(None);
        };
        if !parts.method.is_safe() && !same_site(parts, state.https) {
            return Err(ApiError::forbidden("跨站提交：请从本系统页面操作"));
        }
        state.store.user_for_session(&id).await?.map(|user| Caller {
            user,
            session: Some(id),
        })
    };
    if let Some(c) = &found {
        parts.extensions.insert(c.clone());
    }
    Ok(found)
}

/// The authenticated user of a request, and where it came from.
#[derive(Clone)]
pub struct Authed {
    pub user: User,
    pub actor: Actor,
    /// How administration is divided in this installation (from the service's settings).
    pub duties: access::Duties,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(a) = parts.extensions.get::<Authed>() {
            return Ok(a.clone());
        }
        let c = caller(parts, state)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        // A generated or expired password must be changed before anything else, whether the
        // caller comes with a session or with an API token.
        if c.user.must_change_password && !parts.uri.path().starts_with("/api/v1/session") {
            return Err(ApiError::forbidden(
                "使用系统前须先修改密码（初始密码或已过期的密码）",
            ));
        }
        // A write carried by the session cookie to the JSON API must prove it comes from this
        // site's own pages: their CSRF token, or the browser's same-origin word. Bearer tokens are
        // not sent by browsers on their own and need no such proof.
        if let Some(session) = &c.session
            && !parts.method.is_safe()
            && !same_origin_proof(parts, session, state.https)
        {
            return Err(ApiError::forbidden(
                "跨站提交：须从本系统页面操作（缺少同源证明或页面令牌）",
            ));
        }
        let a = Authed::new(
            c.user,
            source_of(parts, &state.trusted_proxies),
            state.duties,
        );
        parts.extensions.insert(a.clone());
        Ok(a)
    }
}

impl Authed {
    /// The account's rights as the store reads them (where it sees and what it may write).
    pub(crate) fn rights(&self) -> Option<&lvzhi_store::Rights> {
        self.actor.rights.as_ref()
    }

    /// The id of the period `raw` names for this caller: its key, or a year naming exactly one
    /// period the caller may see (404 for none or one it may not see, 409 with the candidates
    /// for several).
    pub(crate) async fn period(&self, s: &AppState, raw: &str) -> Result<i64, ApiError> {
        Ok(s.store.period_id(raw, self.rights()).await?)
    }

    /// The caller as every handler sees it: the account, and the actor its writes are made as,
    /// carrying its rights so that the store decides a right on the row as it is.
    pub(crate) fn new(user: User, source: String, duties: access::Duties) -> Self {
        Authed {
            actor: Actor::new(user.name.clone(), source).with_rights(lvzhi_store::Rights {
                office: user.office.clone(),
                role: user.role,
                duties,
                unit: user.unit.clone(),
                supervises: user.supervises.clone(),
            }),
            user,
            duties,
        }
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            role: self.user.role,
            duties: self.duties,
            unit: self.user.unit.as_deref(),
            supervises: &self.user.supervises,
        }
    }

    /// Whether the user may do `action` (account management or security) to an account of role
    /// `target`, by the core's rule.
    pub fn may_on_account(&self, action: Action, target: lvzhi_core::access::Role) -> bool {
        access::on_account(&self.subject(), action, target)
    }

    /// Refuses with 403 (audited) unless the user may do `action` to `target`'s account.
    pub async fn check_account(
        &self,
        s: &AppState,
        action: Action,
        target: &User,
    ) -> Result<(), ApiError> {
        self.check(s, action, None).await?;
        if self.may_on_account(action, target.role) {
            return Ok(());
        }
        self.audit_refusal(s, action, &format!("user:{}", target.name))
            .await;
        Err(ApiError::forbidden(ADMINISTRATOR_ACCOUNTS))
    }

    /// Refuses (403, audited as a refusal of the first) unless the user may do one of `actions`
    /// on the whole period (the list of accounts is for either administrator of accounts).
    pub async fn check_any(&self, s: &AppState, actions: &[Action]) -> Result<(), ApiError> {
        if actions.iter().any(|a| self.may(*a, None)) {
            return Ok(());
        }
        match actions.first() {
            Some(first) => self.check(s, *first, None).await,
            None => Ok(()),
        }
    }

    /// Writes a refusal into the trail (a failure to write it is logged, never shown).
    async fn audit_refusal(&self, s: &AppState, action: Action, target: &str) {
        if let Err(e) = s
            .store
            .audit_refusal(&self.actor, action.label(), target)
            .await
        {
            tracing::error!(error = %e, "could not audit a refusal");
        }
    }

    /// Whether the user may do `action` (on `unit`), by the core's matrix.
    pub fn may(&self, action: Action, unit: Option<&str>) -> bool {
        access::allowed(&self.subject(), action, unit)
    }

    /// Refuses with 403 (and an audit entry) unless the user may do `action` on `unit`. The
    /// refusal says what was refused, never whose it is.
    pub async fn check(
        &self,
        s: &AppState,
        action: Action,
        unit: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.may(action, unit) {
            return Ok(());
        }
        let target = unit.map_or_else(|| "period".to_owned(), |u| format!("unit:{u}"));
        self.audit_refusal(s, action, &target).await;
        Err(ApiError::forbidden(action.label()))
    }
}

/// Why an administrator's account is refused to the service with the duties separated.
pub const ADMINISTRATOR_ACCOUNTS: &str =
    "三员分立：管理员账号只能由运维人员在服务器上用命令行创建和管理";

/// A session begun: the user and the cookie that carries it.
pub(crate) struct LoggedIn {
    pub user: User,
    pub cookie: String,
    /// What the account is told at this login about itself (a password reset it has not read).
    pub told: Vec<String>,
}

/// The message of every failed login: it never says which part was wrong; the lockout's numbers
/// from where the store sets them.
pub(crate) fn login_failed() -> String {
    format!(
        "用户名或密码错误，或账号已被暂时锁定（连续 {} 次失败将锁定 {} 分钟）",
        lvzhi_store::MAX_FAILURES,
        lvzhi_store::LOCK_FOR.whole_minutes()
    )
}

/// Logs in with a password (the one login of the API and the pages): the attempt is counted per
/// source address, then checked by the store.
pub(crate) async fn login(
    s: &AppState,
    source: &str,
    username: &str,
    password: &str,
) -> Result<LoggedIn, ApiError> {
    s.count_login_attempt(source)?;
    // Per account too: guesses spread over many addresses still meet a limit.
    s.count_login_attempt(&format!("account:{}", username.trim()))?;
    let found = s
        .store
        .login(username.trim(), password, source, s.password_max_age_days)
        .await?;
    let Some((user, id)) = found else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, login_failed()));
    };
    let cookie = format!(
        "{}={id}; {}; Max-Age={}",
        s.cookie_name(),
        s.cookie_attributes(),
        lvzhi_store::SESSION_MAX.whole_seconds()
    );
    let told = s
        .store
        .unread_account_notices(&user.name)
        .await?
        .into_iter()
        .map(|n| n.message)
        .collect();
    Ok(LoggedIn { user, cookie, told })
}

/// Ends the request's session (if it has one) and answers the cookie that clears it.
pub(crate) async fn logout(
    s: &AppState,
    headers: &HeaderMap,
    who: &Authed,
) -> Result<String, ApiError> {
    if let Some(id) = cookie_in(headers, s.cookie_name()) {
        s.store.logout(&id, &who.actor).await?;
    }
    Ok(format!(
        "{}=; {}; Max-Age=0",
        s.cookie_name(),
        s.cookie_attributes()
    ))
}

/// Only a local path may be a destination after login (never another site, never a header break).
pub(crate) fn safe_next(next: Option<&str>) -> Option<String> {
    // A local path only: no scheme or host ("//", "\\"), and no control or space character, which
    // browsers drop ("/<TAB>/evil.example" is "//evil.example" to them) or which would break the
    // Location header (CR, LF, VT).
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n
                .chars()
                .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    })
    .map(str::to_owned)
}

/// Whether the caller may import these rows: every row's unit is checked like a single write; an
/// assessor's rows must all be its own group's.
pub(crate) async fn check_import(
    a: &Authed,
    s: &AppState,
    parsed: &lvzhi_exchange::Parsed,
) -> Result<(), ApiError> {
    use lvzhi_core::access::Role;
    use lvzhi_office::Table;
    let action = match parsed.table {
        Table::Records => Action::WriteRecords,
        Table::Assessments => Action::WriteAssessment,
        Table::Metrics => Action::WriteMetric,
        Table::Units => Action::EditRoster,
    };
    if parsed.table == Table::Assessments && a.user.role == Role::Assessor {
        let own = a.user.group.clone().unwrap_or_default();
        if parsed.rows.iter().any(|r| r[2] != own) {
            return Err(ApiError::forbidden("导入其他督导组的打分"));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &parsed.rows {
        if seen.insert(r[0].as_str()) {
            a.check(s, action, Some(&r[0])).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_local_path_of_safe_characters_or_nothing() {
        assert_eq!(
            safe_next(Some("/units/发改委?year=2022")).as_deref(),
            Some("/units/发改委?year=2022")
        );
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "/a\r\nSet-Cookie: x=1",
            "/a\u{b}b",
            "/ /evil.example",
            "https://evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
    }
}

#[cfg(test)]
mod proxy_tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = axum::http::Request::builder().uri("/login");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut req = b.body(()).expect("request");
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            peer.parse::<std::net::SocketAddr>().expect("peer"),
        ));
        req.into_parts().0
    }

    #[test]
    fn an_origin_is_this_site_with_its_scheme() {
        assert!(origin_matches(
            "https://lvzhi.gov:8443",
            "lvzhi.gov:8443",
            true
        ));
        // Served over HTTPS by this process: a plain-HTTP page of the same host is not this site.
        assert!(!origin_matches(
            "http://lvzhi.gov:8443",
            "lvzhi.gov:8443",
            true
        ));
        // Plain HTTP here (a TLS proxy may be in front): either scheme of the same host.
        assert!(origin_matches("http://lvzhi.gov", "lvzhi.gov", false));
        assert!(origin_matches("https://lvzhi.gov", "lvzhi.gov", false));
        assert!(!origin_matches("ftp://lvzhi.gov", "lvzhi.gov", false));
        assert!(!origin_matches("https://evil.example", "lvzhi.gov", false));
        assert!(!origin_matches("null", "lvzhi.gov", false));
    }

    #[test]
    fn the_client_address_comes_from_a_trusted_proxy_only() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().expect("net")];
        let xff = [("x-forwarded-for", "203.0.113.7, 10.0.0.9")];
        // Through two trusted hops: the nearest untrusted address.
        assert_eq!(
            source_of(&parts("10.0.0.5:4000", &xff), &proxies),
            "203.0.113.7"
        );
        // From anybody else the header is theirs to write: ignored.
        assert_eq!(
            source_of(&parts("198.51.100.2:4000", &xff), &proxies),
            "198.51.100.2"
        );
        assert_eq!(source_of(&parts("10.0.0.5:4000", &xff), &[]), "10.0.0.5");
        // A spoofed entry left of the real client does not win.
        let spoofed = [("x-forwarded-for", "1.2.3.4, 203.0.113.7")];
        assert_eq!(
            source_of(&parts("10.0.0.5:1", &spoofed), &proxies),
            "203.0.113.7"
        );
        // RFC 7239.
        let fwd = [(
            "forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.9",
        )];
        assert_eq!(
            source_of(&parts("10.0.0.5:1", &fwd), &proxies),
            "2001:db8::7"
        );
        // Nothing forwarded: the proxy itself.
        assert_eq!(source_of(&parts("10.0.0.5:1", &[]), &proxies), "10.0.0.5");
    }
}
