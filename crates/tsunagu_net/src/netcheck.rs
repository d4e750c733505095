//! The network check a nurse or hospital IT runs before a meetup: can this
//! PC reach the room over UDP (QUIC), over TCP (the WebSocket), through which
//! proxy, and is something inspecting TLS on the way. Both transports are
//! tried at once, each only as far as its handshake: nothing is said to the
//! room (no `Hello`), and each closes politely. Where TCP gets through, a
//! rough speed measure follows on a connection of its own (64 KiB down,
//! 4 KiB up: a second or two on a thin ward line).

use std::time::{Duration, Instant};

use tsunagu_protocol::CloseReason;

use crate::invite::Invite;
use crate::link::{ClientLink, LinkEnd, LinkEvent};
use crate::quic::{QuicClient, WireStats};
use crate::wss::proxy::ProxyChoice;
use crate::wss::{Bandwidth, DEFAULT_TCP_PORT, WssClient, measure_bandwidth};

/// How one transport fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// It came up; the handshake took this long (QUIC: about one round trip;
    /// the WebSocket: TCP, TLS and the upgrade, about three, and one more
    /// through a proxy).
    Up(Duration),
    /// It did not, for this reason.
    Failed(LinkEnd),
}

impl Probe {
    /// Whether it came up.
    pub fn is_up(self) -> bool {
        matches!(self, Probe::Up(_))
    }
}

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkReport {
    /// The room, as `host`, its UDP port and its TCP port.
    pub host: String,
    /// QUIC's UDP port.
    pub udp_port: u16,
    /// The WebSocket's TCP port.
    pub tcp_port: u16,
    /// QUIC over UDP.
    pub udp: Probe,
    /// The WebSocket over TCP.
    pub tcp: Probe,
    /// The proxy the WebSocket went through, as `host:port` (never a password).
    pub proxy: Option<String>,
    /// The rough speed over TCP (`None` when TCP did not get through or the
    /// measure did not finish).
    pub bandwidth: Option<Bandwidth>,
}

/// What a meetup of eight needs as usual, kbit/s down and up with headers
/// (docs/benchmarks.md: about 130 and 82 measured), with room to spare.
pub const USUAL_NEEDS: Bandwidth = Bandwidth { down_kbit_s: 512, up_kbit_s: 128 };
/// What it needs in low-bandwidth mode (the goal it was measured against).
pub const LIGHT_NEEDS: Bandwidth = Bandwidth { down_kbit_s: 256, up_kbit_s: 64 };

/// Whether a measured speed is enough for what `needs`.
pub fn enough(measured: Bandwidth, needs: Bandwidth) -> bool {
    measured.down_kbit_s >= needs.down_kbit_s && measured.up_kbit_s >= needs.up_kbit_s
}

impl NetworkReport {
    /// Whether a meetup can go ahead from here.
    pub fn can_join(&self) -> bool {
        self.udp.is_up() || self.tcp.is_up()
    }

    /// Whether something on the way showed its own certificate instead of the room's.
    pub fn tls_inspected(&self) -> bool {
        self.tcp == Probe::Failed(LinkEnd::Intercepted)
    }
}

fn probe(mut link: Box<dyn ClientLink>, started: Instant, limit: Duration) -> Probe {
    loop {
        if link.is_up() {
            let took = started.elapsed();
            link.close(CloseReason::Left);
            return Probe::Up(took);
        }
        if let Some(LinkEvent::Closed(end)) = link.try_recv() {
            return Probe::Failed(end);
        }
        if started.elapsed() > limit {
            return Probe::Failed(LinkEnd::Unreachable);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Try the room `invite` names both ways at once, each for at most `limit`.
pub fn check_network(invite: &Invite, proxy: &ProxyChoice, limit: Duration) -> NetworkReport {
    let tcp_port = invite.tcp_port.unwrap_or(DEFAULT_TCP_PORT);
    let proxy_used = proxy.for_target(&invite.host, tcp_port).map(|p| format!("{}:{}", p.host, p.port));
    let started = Instant::now();
    let quic = {
        let invite = invite.clone();
        std::thread::spawn(move || match QuicClient::start(&invite, limit, WireStats::default(), None) {
            Ok(client) => probe(Box::new(client), started, limit),
            Err(_) => Probe::Failed(LinkEnd::Lost),
        })
    };
    let tcp = match WssClient::connect(invite, tcp_port, proxy, limit) {
        Ok(client) => probe(Box::new(client), started, limit),
        Err(_) => Probe::Failed(LinkEnd::Lost),
    };
    let udp = quic.join().unwrap_or(Probe::Failed(LinkEnd::Lost));
    let bandwidth = if tcp.is_up() { measure_bandwidth(invite, tcp_port, proxy, limit) } else { None };
    NetworkReport { host: invite.host.clone(), udp_port: invite.port, tcp_port, udp, tcp, proxy: proxy_used, bandwidth }
}
