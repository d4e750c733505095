//! The doors: who may start a connection (caps in all and per address, a
//! rate per address, handshakes in progress), shared by QUIC's UDP door and
//! the WebSocket's TCP door, and the two accept loops.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quinn::Endpoint;

use super::server::{QuicServerConfig, Shared, serve_connection};
use crate::limits::TokenBucket;

/// New connections one address (an IPv4 address, or an IPv6 /64) may open:
/// a burst — a ward's PCs joining as a meetup starts — then a steady rate.
pub const NEW_CONNECTIONS_BURST: f64 = 20.0;
/// New connections per second one address may open after the burst.
pub const NEW_CONNECTIONS_PER_SECOND: f64 = 5.0;
/// Handshakes in progress above which an address that has not proved it can
/// receive (QUIC address validation) is sent a Retry first: a spoofed flood of
/// first packets then costs us no key exchange.
pub const RETRY_ABOVE_PENDING: usize = 8;
/// Most handshakes in progress at once; more are refused.
pub const MAX_PENDING_HANDSHAKES: usize = 128;
/// Most handshakes in progress at once from one address: a handful of
/// addresses that start handshakes and never finish them cannot hold the
/// door shut for everyone else.
pub const MAX_PENDING_PER_ADDRESS: usize = 8;
/// A handshake not finished by then is dropped (a real client on a slow ward
/// network finishes in well under a second).
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(3);

/// What limits apply to together: an IPv4 address, or the /64 of an IPv6 one
/// (a single host is usually given a whole /64).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
    }
}

/// Who may start a new connection now, through either door.
#[derive(Default)]
pub(crate) struct Admission {
    open: HashMap<IpAddr, usize>,
    /// Handshakes in progress, per address.
    pending: HashMap<IpAddr, usize>,
    buckets: HashMap<IpAddr, TokenBucket>,
}

impl Admission {
    /// `now` on the server's own clock (since it started).
    fn new_connection_allowed(&mut self, key: IpAddr, now: Duration) -> bool {
        if self.buckets.len() > 4096 {
            self.buckets.retain(|_, bucket| now.saturating_sub(bucket.last_used()) < Duration::from_secs(60));
        }
        self.buckets.entry(key).or_insert_with(|| TokenBucket::full(NEW_CONNECTIONS_BURST, now)).take(
            now,
            NEW_CONNECTIONS_PER_SECOND,
            NEW_CONNECTIONS_BURST,
        )
    }
}

impl Admission {
    /// Whether a new connection from `key` may start now (either door); if so
    /// it is counted as open and in its handshake until told otherwise.
    fn admit(&mut self, shared: &Shared, config: &QuicServerConfig, key: IpAddr) -> bool {
        let total = shared.registry.lock().unwrap_or_else(|e| e.into_inner()).len();
        let from_key = self.open.get(&key).copied().unwrap_or(0);
        let pending_from_key = self.pending.get(&key).copied().unwrap_or(0);
        let allowed = total < config.max_connections
            && from_key < config.max_per_address
            && pending_from_key < MAX_PENDING_PER_ADDRESS
            && self.new_connection_allowed(key, shared.started.elapsed());
        if allowed {
            *self.open.entry(key).or_insert(0) += 1;
            *self.pending.entry(key).or_insert(0) += 1;
        } else {
            // Counted, not logged per connection: a flood must not flood the log,
            // and addresses are never logged.
            shared.drops.connections_refused.fetch_add(1, Ordering::Relaxed);
        }
        allowed
    }

    fn count_down(counts: &mut HashMap<IpAddr, usize>, key: IpAddr) {
        if let Some(n) = counts.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&key);
            }
        }
    }
}

/// What a connection's task tells the door as it goes: its handshake is
/// over, and (when dropped) it is closed. Both counted down once.
pub(crate) struct Admitted {
    admission: Arc<Mutex<Admission>>,
    key: IpAddr,
    in_handshake: bool,
}

impl Admitted {
    pub(crate) fn handshake_over(&mut self) {
        if std::mem::take(&mut self.in_handshake) {
            Admission::count_down(&mut self.admission.lock().unwrap_or_else(|e| e.into_inner()).pending, self.key);
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.handshake_over();
        Admission::count_down(&mut self.admission.lock().unwrap_or_else(|e| e.into_inner()).open, self.key);
    }
}

pub(super) async fn accept_loop(
    endpoint: Endpoint,
    shared: Shared,
    config: QuicServerConfig,
    admission: Arc<Mutex<Admission>>,
    next_id: Arc<AtomicU64>,
) {
    let pending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    while let Some(incoming) = endpoint.accept().await {
        let key = address_key(incoming.remote_address().ip());
        let in_progress = pending.load(Ordering::Relaxed);
        if in_progress >= MAX_PENDING_HANDSHAKES {
            shared.drops.connections_refused.fetch_add(1, Ordering::Relaxed);
            incoming.refuse();
            continue;
        }
        if in_progress >= RETRY_ABOVE_PENDING && !incoming.remote_address_validated() {
            // Costs us one small packet; a real client answers it at once.
            let _ = incoming.retry();
            continue;
        }
        if !admission.lock().unwrap_or_else(|e| e.into_inner()).admit(&shared, &config, key) {
            incoming.refuse();
            continue;
        }
        let admitted = Admitted { admission: admission.clone(), key, in_handshake: true };
        pending.fetch_add(1, Ordering::Relaxed);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (shared, pending) = (shared.clone(), pending.clone());
        tokio::spawn(async move {
            let address = std::hash::BuildHasher::hash_one(&shared.address_salt, key).max(1);
            serve_connection(id, address, incoming, shared.clone(), &pending, admitted).await;
            shared.registry.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        });
    }
}

/// The WebSocket door: TCP connections within the same caps as QUIC's (the
/// two doors share them), each given the handshake deadline for TLS and the
/// WebSocket upgrade together, so a slow or silent opener cannot hold a place.
pub(super) async fn tcp_accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Shared,
    config: QuicServerConfig,
    admission: Arc<Mutex<Admission>>,
    next_id: Arc<AtomicU64>,
) {
    let pending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    loop {
        let (tcp, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors or the like: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let key = address_key(from.ip());
        if pending.load(Ordering::Relaxed) >= MAX_PENDING_HANDSHAKES
            || !admission.lock().unwrap_or_else(|e| e.into_inner()).admit(&shared, &config, key)
        {
            if pending.load(Ordering::Relaxed) >= MAX_PENDING_HANDSHAKES {
                shared.drops.connections_refused.fetch_add(1, Ordering::Relaxed);
            }
            drop(tcp);
            continue;
        }
        let admitted = Admitted { admission: admission.clone(), key, in_handshake: true };
        pending.fetch_add(1, Ordering::Relaxed);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (shared, pending, acceptor) = (shared.clone(), pending.clone(), acceptor.clone());
        tokio::spawn(async move {
            let address = std::hash::BuildHasher::hash_one(&shared.address_salt, key).max(1);
            crate::wss::serve_wss(id, address, tcp, acceptor, shared.clone(), &pending, admitted).await;
            shared.registry.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        });
    }
}
