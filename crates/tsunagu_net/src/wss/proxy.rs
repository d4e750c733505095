//! Reaching the room through an HTTP proxy: which proxy (the one set on the
//! start screen or in `settings.ron`, else the standard environment
//! variables and the system's settings, read by hyper-util), and an HTTP
//! CONNECT through it. The password is never logged or shown: `Debug`
//! hides it.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most a proxy's answer to CONNECT may be before we give up on it.
const MOST_ANSWER_BYTES: usize = 8 * 1024;

/// A proxy to go through (also as `settings.ron` keeps it).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proxy {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name, if the proxy asks for one.
    #[serde(default)]
    pub user: Option<String>,
    /// Password, with the user name.
    #[serde(default)]
    pub password: Option<String>,
}

impl Proxy {
    /// Read `http://[user[:password]@]host:port` (the form of `HTTPS_PROXY`).
    pub fn parse(text: &str) -> Option<Proxy> {
        let rest = text.trim().strip_prefix("http://").unwrap_or(text.trim()).trim_end_matches('/');
        let (login, address) = match rest.rsplit_once('@') {
            Some((login, address)) => (Some(login), address),
            None => (None, rest),
        };
        let (host, port) = address.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return None;
        }
        let (user, password) = match login.map(|l| l.split_once(':').map_or((l, None), |(u, p)| (u, Some(p)))) {
            Some((user, password)) if !user.is_empty() => (Some(user.to_owned()), password.map(str::to_owned)),
            _ => (None, None),
        };
        Some(Proxy { host: host.to_owned(), port, user, password })
    }

    /// As [`Proxy::parse`] reads it: `[user[:password]@]host:port` (the
    /// password in it: for the settings field that edits it, never a log).
    pub fn written(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let login = match (&self.user, &self.password) {
            (Some(user), Some(password)) => format!("{user}:{password}@"),
            (Some(user), None) => format!("{user}@"),
            _ => String::new(),
        };
        format!("{login}{host}:{}", self.port)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

/// How to find the proxy for a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxyChoice {
    /// The environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) and the
    /// system's settings where the platform has them.
    #[default]
    FromSystem,
    /// This one, whatever the environment says.
    This(Proxy),
    /// None: straight to the room.
    Direct,
}

impl ProxyChoice {
    /// The proxy for a connection to `host:port`, if any.
    pub fn for_target(&self, host: &str, port: u16) -> Option<Proxy> {
        match self {
            ProxyChoice::This(proxy) => Some(proxy.clone()),
            ProxyChoice::Direct => None,
            ProxyChoice::FromSystem => from_matcher(&hyper_util::client::proxy::matcher::Matcher::from_system(), host, port),
        }
    }
}

/// What a matcher (built from the environment, or in tests from given
/// values) says about `https://host:port`.
pub fn from_matcher(matcher: &hyper_util::client::proxy::matcher::Matcher, host: &str, port: u16) -> Option<Proxy> {
    let host_in_uri = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
    let uri: http::Uri = format!("https://{host_in_uri}:{port}/").parse().ok()?;
    let intercept = matcher.intercept(&uri)?;
    let proxy_uri = intercept.uri();
    let proxy_host = proxy_uri.host()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let proxy_port = proxy_uri.port_u16().unwrap_or(if proxy_uri.scheme_str() == Some("https") { 443 } else { 80 });
    // hyper-util hands an HTTP proxy's user and password over as the header
    // it would send; it goes back to the two, so one form reaches CONNECT.
    let from_header = intercept
        .basic_auth()
        .and_then(|header| header.to_str().ok()?.strip_prefix("Basic ").map(str::to_owned))
        .and_then(|secret| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(secret).ok()?).ok())
        .and_then(|pair| pair.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));
    let raw = intercept.raw_auth().map(|(u, p)| (u.to_owned(), p.to_owned()));
    let (user, password) = from_header.or(raw).map_or((None, None), |(u, p)| (Some(u), Some(p)));
    Some(Proxy { host: proxy_host, port: proxy_port, user, password })
}

/// Why a proxy did not open the way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Nothing answered at the proxy's address.
    #[error("the proxy did not answer")]
    Unreachable,
    /// It wants a user name and password, or did not accept the ones given.
    #[error("the proxy wants a user name and password, or did not accept them")]
    NeedsPassword,
    /// It answered with something other than yes.
    #[error("the proxy refused the connection (HTTP {0})")]
    Refused(u16),
    /// Its answer was not HTTP, or too long.
    #[error("the proxy's answer could not be read")]
    Garbled,
}

/// Open a TCP connection to `host:port` through `proxy` (HTTP CONNECT).
pub async fn connect_through(proxy: &Proxy, host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ProxyError> {
    let work = async {
        let mut tcp = TcpStream::connect((proxy.host.as_str(), proxy.port)).await.map_err(|_| ProxyError::Unreachable)?;
        let _ = tcp.set_nodelay(true);
        tcp.write_all(connect_request(proxy, host, port).as_bytes()).await.map_err(|_| ProxyError::Unreachable)?;
        // Read the answer's head a little at a time, never past its end: what
        // follows belongs to TLS.
        let mut answer = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !answer.ends_with(b"\r\n\r\n") {
            if answer.len() >= MOST_ANSWER_BYTES {
                return Err(ProxyError::Garbled);
            }
            match tcp.read(&mut byte).await {
                Ok(1) => answer.push(byte[0]),
                _ => return Err(ProxyError::Garbled),
            }
        }
        match answer_status(&answer)? {
            200..=299 => Ok(tcp),
            407 => Err(ProxyError::NeedsPassword),
            status => Err(ProxyError::Refused(status)),
        }
    };
    tokio::time::timeout(timeout, work).await.unwrap_or(Err(ProxyError::Unreachable))
}

/// The CONNECT request for `host:port`.
pub fn connect_request(proxy: &Proxy, host: &str, port: u16) -> String {
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: tsunagu\r\n");
    if let Some(user) = &proxy.user {
        let secret = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", proxy.password.as_deref().unwrap_or("")));
        request.push_str(&format!("Proxy-Authorization: Basic {secret}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// The status code of an HTTP answer's head.
fn answer_status(head: &[u8]) -> Result<u16, ProxyError> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => response.code.ok_or(ProxyError::Garbled),
        _ => Err(ProxyError::Garbled),
    }
}

#[cfg(test)]
mod tests {
    use hyper_util::client::proxy::matcher::Matcher;

    use super::*;

    #[test]
    fn the_environment_names_the_proxy_and_no_proxy_skips_it() {
        let matcher = Matcher::builder().https("http://nurse:secret@proxy.ward.example:3128").no("room.local,10.0.0.0/8").build();
        let proxy = from_matcher(&matcher, "meet.example.org", 443).expect("a proxy");
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.ward.example", 3128));
        assert_eq!((proxy.user.as_deref(), proxy.password.as_deref()), (Some("nurse"), Some("secret")));
        assert_eq!(from_matcher(&matcher, "room.local", 443), None);
        assert_eq!(from_matcher(&matcher, "10.1.2.3", 443), None);
        let all = Matcher::builder().all("http://proxy:8080").build();
        assert_eq!(from_matcher(&all, "::1", 443).map(|p| p.port), Some(8080));
    }

    #[test]
    fn the_password_is_never_in_debug_output_and_goes_as_basic_auth() {
        let proxy = Proxy { host: "p".into(), port: 1, user: Some("nurse".into()), password: Some("hunter2".into()) };
        assert!(!format!("{proxy:?}").contains("hunter2"));
        let request = connect_request(&proxy, "room.example", 443);
        assert!(request.starts_with("CONNECT room.example:443 HTTP/1.1\r\nHost: room.example:443\r\n"));
        // "nurse:hunter2" in base64.
        assert!(request.contains("Proxy-Authorization: Basic bnVyc2U6aHVudGVyMg==\r\n"));
        assert!(request.ends_with("\r\n\r\n"));
        assert!(connect_request(&Proxy { user: None, ..proxy }, "::1", 8443).starts_with("CONNECT [::1]:8443 HTTP/1.1"));
    }

    #[test]
    fn answers_are_read_by_their_status() {
        assert_eq!(answer_status(b"HTTP/1.1 200 Connection established\r\n\r\n"), Ok(200));
        assert_eq!(answer_status(b"HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"), Ok(407));
        assert_eq!(answer_status(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(ProxyError::Garbled));
    }
}
