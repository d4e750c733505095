//! The embedded default: a room hosted inside the client's own process, on its
//! own thread, served over real QUIC. The host's own client joins it over
//! loopback exactly as a remote client would; a second PC joins with the LAN
//! invite.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use tsunagu_net::invite::Invite;
use tsunagu_net::quic::{QuicError, QuicServer, QuicServerConfig};
use tsunagu_room::RoomConfig;

use crate::{RoomServer, advertised_host, fresh_room_config, serve_until_stopped};

/// The UDP port a hosted room tries first, so invites stay short and firewall
/// rules can name it; any free port is used when it is taken.
pub const DEFAULT_PORT: u16 = 4433;

/// A room running in this process. Dropping it tells its clients and stops it.
pub struct EmbeddedRoom {
    config: RoomConfig,
    local_addr: SocketAddr,
    tcp_port: Option<u16>,
    lan_host: String,
    fingerprint: [u8; 32],
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedRoom {
    /// Start a room for `capacity` people; the certificate lives in `data_dir`.
    pub fn start(capacity: usize, data_dir: &Path) -> Result<EmbeddedRoom, QuicError> {
        let (max_connections, max_per_address) = crate::connection_limits(1, capacity);
        let quic = |port: u16| {
            QuicServer::start(QuicServerConfig {
                bind: SocketAddr::from(([0, 0, 0, 0], port)),
                data_dir: data_dir.to_path_buf(),
                max_connections,
                max_per_address,
                traffic: tsunagu_room::limits::TRAFFIC,
                // The WebSocket door on the same port number, for a ward whose network drops UDP.
                tcp_bind: Some(SocketAddr::from(([0, 0, 0, 0], port))),
            })
        };
        let links = quic(DEFAULT_PORT).or_else(|_| quic(0))?;
        let local_addr = links.local_addr();
        let tcp_port = links.tcp_addr().map(|a| a.port());
        let fingerprint = links.fingerprint();
        let config = fresh_room_config(capacity);
        let server = RoomServer::new(links, config.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new().name("tsunagu-room".into()).spawn(move || serve_until_stopped(server, &thread_stop))?;
        let lan_host = advertised_host(local_addr.ip());
        Ok(EmbeddedRoom { config, local_addr, tcp_port, lan_host, fingerprint, stop, thread: Some(thread) })
    }

    /// The room's codes.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }

    /// An invite with `code` for a client on this PC (loopback).
    pub fn local_invite(&self, code: &str) -> Invite {
        Invite {
            host: "127.0.0.1".into(),
            port: self.local_addr.port(),
            tcp_port: self.tcp_port,
            room_code: code.to_owned(),
            fingerprint: self.fingerprint,
        }
    }

    /// The participant invite another PC on the network uses.
    pub fn lan_invite(&self) -> Invite {
        Invite { host: self.lan_host.clone(), ..self.local_invite(&self.config.code) }
    }
}

impl Drop for EmbeddedRoom {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
