//! Invites: everything a client needs to join one room, as one line of text a
//! facilitator can send. `tsunagu://HOST:PORT/ROOM-CODE?fp=SHA256-HEX[&tcp=PORT]`
//!
//! `PORT` is QUIC's (UDP); `tcp=` names the WebSocket door's TCP port when it
//! is not 443. Parameters a client does not know are ignored, so invites can
//! grow without breaking older clients.
//!
//! The fingerprint pins the server's certificate: a client only talks to the
//! server the invite was made for, with no certificate authority involved.

use std::fmt;

use tsunagu_protocol::limits::MAX_ROOM_CODE_CHARS;

/// The link scheme.
pub const SCHEME: &str = "tsunagu://";

/// A parsed invite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// UDP port (QUIC).
    pub port: u16,
    /// TCP port of the WebSocket door, if not 443 (a parsed `tcp=443` is None).
    pub tcp_port: Option<u16>,
    /// The room code (participant or facilitator).
    pub room_code: String,
    /// SHA-256 of the server certificate (DER).
    pub fingerprint: [u8; 32],
}

/// Why an invite could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// It does not start with `tsunagu://`.
    #[error("an invite starts with tsunagu://")]
    Scheme,
    /// No `host:port`.
    #[error("the invite has no host:port")]
    Address,
    /// No room code, or one with characters other than letters, digits and '-'.
    #[error("the invite's room code is missing or malformed")]
    RoomCode,
    /// No `fp=` with 64 hex digits.
    #[error("the invite's certificate fingerprint is missing or malformed")]
    Fingerprint,
}

/// A host name or IPv4 address as DNS writes it: letters, digits, '-' and
/// '.', at most 253 (an IPv6 address goes in brackets). Found by fuzzing: a
/// host of colons, brackets and NULs was taken, and written back as an
/// invite that did not read.
fn host_name_ok(host: &str) -> bool {
    !host.is_empty() && host.len() <= 253 && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn room_code_ok(code: &str) -> bool {
    !code.is_empty() && code.chars().count() <= MAX_ROOM_CODE_CHARS && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Invite {
    /// Read an invite from text (surrounding spaces are ignored).
    pub fn parse(text: &str) -> Result<Invite, InviteError> {
        let rest = text.trim().strip_prefix(SCHEME).ok_or(InviteError::Scheme)?;
        let (address, rest) = rest.split_once('/').ok_or(InviteError::Address)?;
        let (host, port) = if let Some(v6) = address.strip_prefix('[') {
            let (host, port) = v6.split_once("]:").ok_or(InviteError::Address)?;
            host.parse::<std::net::Ipv6Addr>().map_err(|_| InviteError::Address)?;
            (host, port)
        } else {
            let (host, port) = address.rsplit_once(':').ok_or(InviteError::Address)?;
            if !host_name_ok(host) {
                return Err(InviteError::Address);
            }
            (host, port)
        };
        let port: u16 = port.parse().map_err(|_| InviteError::Address)?;
        if port == 0 {
            return Err(InviteError::Address);
        }
        let (room_code, query) = rest.split_once('?').ok_or(InviteError::Fingerprint)?;
        if !room_code_ok(room_code) {
            return Err(InviteError::RoomCode);
        }
        let hex = query.split('&').find_map(|kv| kv.strip_prefix("fp=")).ok_or(InviteError::Fingerprint)?;
        let fingerprint = parse_hex32(hex).ok_or(InviteError::Fingerprint)?;
        let tcp_port = match query.split('&').find_map(|kv| kv.strip_prefix("tcp=")) {
            Some(tcp) => {
                let port = tcp.parse::<u16>().ok().filter(|p| *p != 0).ok_or(InviteError::Address)?;
                // `tcp=443` says what no `tcp=` says: one meaning, one value.
                (port != crate::wss::DEFAULT_TCP_PORT).then_some(port)
            }
            None => None,
        };
        Ok(Invite { host: host.to_owned(), port, tcp_port, room_code: room_code.to_owned(), fingerprint })
    }
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Lowercase hex of a fingerprint.
pub fn fingerprint_hex(fingerprint: &[u8; 32]) -> String {
    fingerprint.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for Invite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        write!(f, "{SCHEME}{host}:{}/{}?fp={}", self.port, self.room_code, fingerprint_hex(&self.fingerprint))?;
        match self.tcp_port {
            Some(tcp) if tcp != crate::wss::DEFAULT_TCP_PORT => write!(f, "&tcp={tcp}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_v4_v6_and_names() {
        for host in ["192.168.1.20", "::1", "ward-pc.local"] {
            for tcp_port in [None, Some(8443)] {
                let invite = Invite { host: host.into(), port: 4433, tcp_port, room_code: "abc-23".into(), fingerprint: [0xab; 32] };
                assert_eq!(Invite::parse(&format!("  {invite}\n")).unwrap(), invite);
            }
        }
    }

    #[test]
    fn the_tcp_port_is_written_only_when_not_443_and_unknown_parameters_are_ignored() {
        let fp = "ab".repeat(32);
        let at_443 = Invite { host: "x".into(), port: 4433, tcp_port: Some(443), room_code: "a".into(), fingerprint: [0xab; 32] };
        assert_eq!(at_443.to_string(), format!("tsunagu://x:4433/a?fp={fp}"));
        let parsed = Invite::parse(&format!("tsunagu://x:4433/a?v=9&fp={fp}&tcp=8443&later=yes")).unwrap();
        assert_eq!(parsed.tcp_port, Some(8443));
        // Found by fuzzing: `tcp=443` parsed as Some(443) and was written
        // back without it, which parsed as None.
        let written_443 = Invite::parse(&format!("tsunagu://x:4433/a?fp={fp}&tcp=443")).unwrap();
        assert_eq!(written_443.tcp_port, None, "443 is the default, written or not");
        assert_eq!(Invite::parse(&written_443.to_string()), Ok(written_443));
        assert_eq!(Invite::parse(&format!("tsunagu://x:4433/a?fp={fp}&tcp=0")), Err(InviteError::Address));
        assert_eq!(Invite::parse(&format!("tsunagu://x:4433/a?fp={fp}&tcp=99999")), Err(InviteError::Address));
    }

    #[test]
    fn bad_invites_say_what_is_wrong() {
        let fp = "ab".repeat(32);
        assert_eq!(Invite::parse("http://x:1/a?fp=00"), Err(InviteError::Scheme));
        assert_eq!(Invite::parse(&format!("tsunagu://x/a?fp={fp}")), Err(InviteError::Address));
        assert_eq!(Invite::parse(&format!("tsunagu://x:0/a?fp={fp}")), Err(InviteError::Address));
        assert_eq!(Invite::parse(&format!("tsunagu://x:1/a b?fp={fp}")), Err(InviteError::RoomCode));
        assert_eq!(Invite::parse("tsunagu://x:1/a?fp=12"), Err(InviteError::Fingerprint));
        assert_eq!(Invite::parse(&format!("tsunagu://x:1/a?fp={}", "é".repeat(32))), Err(InviteError::Fingerprint));
        assert_eq!(Invite::parse("tsunagu://x:1/a"), Err(InviteError::Fingerprint));
    }

    /// Found by `cargo xtask fuzz` (the invite target): a host of colons,
    /// brackets and NULs was taken, and the invite written back from it did
    /// not read. A host is a name, an IPv4 address, or an IPv6 one in brackets.
    #[test]
    fn a_host_no_network_has_is_refused() {
        let fp = "ab".repeat(32);
        for host in ["19.19:6::::::\0\0::]::!", "ward pc", "wärd", "a/b", "", "[::1", "[not-v6]", "[::1]x"] {
            assert_eq!(Invite::parse(&format!("tsunagu://{host}:4433/a?fp={fp}")), Err(InviteError::Address), "{host:?}");
        }
        for host in ["ward-pc.local", "10.0.0.7", "[fe80::1]"] {
            let invite = Invite::parse(&format!("tsunagu://{host}:4433/a?fp={fp}")).unwrap();
            assert_eq!(Invite::parse(&invite.to_string()), Ok(invite), "{host}");
        }
    }
}
