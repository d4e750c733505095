//! The server end: accepts connections within the caps, reads each one's
//! streams and datagrams on the transport's thread (counting them against the
//! traffic limits as they arrive), and hands them to the room thread through
//! one bounded inbox; writes to each peer through small bounded queues.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use quinn::{Connection, Endpoint, SendStream, VarInt};
use tokio::sync::mpsc::{Receiver, Sender, channel};
use tsunagu_protocol::{ALPN, CloseReason};

use super::door::{Admission, accept_loop, tcp_accept_loop};
pub(crate) use super::door::{Admitted, HANDSHAKE_DEADLINE};
use super::framing::{Delivered, close_with, datagram_reader, frame_reader, link_end, write_frame};
use super::identity::{fingerprint, load_or_create_identity};
use super::{CONTROL_DEADLINE, INBOX_CAPACITY, OUTBOX_CAPACITY, QuicError, provider, runtime, transport_config};
use crate::limits::{TrafficAllowance, TrafficLimits};
use crate::link::{Channel, ConnId, LinkEvent, ServerLinkEvent, ServerLinks};
use crate::wss::outbox::Outbox;

/// Where and how a QUIC room server listens.
#[derive(Clone, Debug)]
pub struct QuicServerConfig {
    /// UDP address to bind.
    pub bind: SocketAddr,
    /// Where the certificate and key live.
    pub data_dir: PathBuf,
    /// Most connections at once, in all.
    pub max_connections: usize,
    /// Most connections at once from one IP address (a hospital's NAT may hold many patients).
    pub max_per_address: usize,
    /// What one connection may send; more closes it as it arrives.
    pub traffic: TrafficLimits,
    /// TCP address for the WebSocket door (WSS), for networks that drop UDP;
    /// `None`: QUIC only.
    pub tcp_bind: Option<SocketAddr>,
}

/// What the bounded queues have had to drop or refuse so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDrops {
    /// Datagrams dropped because the room thread's inbox was full.
    pub datagrams: u64,
    /// Connections closed because their frames did not fit the inbox or
    /// their peer stopped reading what we wrote.
    pub connections_closed: u64,
    /// Connections refused at the door: too many open, from one address, too
    /// fast, or too many handshakes in progress.
    pub connections_refused: u64,
}

#[derive(Default)]
pub(crate) struct DropCounters {
    datagrams: AtomicU64,
    pub(crate) connections_closed: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
}

pub(crate) enum Outgoing {
    Frame(Vec<u8>),
    Finish(CloseReason),
}

/// How a connection reaches its client.
pub(crate) enum Way {
    /// QUIC: a stream writer each for control and events, datagrams as datagrams.
    Quic { connection: Connection, control: Sender<Outgoing>, events: Sender<Vec<u8>> },
    /// A WebSocket: everything through one prioritised outbox.
    Wss(Arc<Outbox>),
}

impl Way {
    /// Close it at once with `reason` (no time for goodbyes).
    pub(crate) fn close_now(&self, reason: CloseReason) {
        match self {
            Way::Quic { connection, .. } => close_with(connection, reason),
            Way::Wss(outbox) => outbox.close(reason),
        }
    }
}

pub(crate) struct ServerConn {
    /// Where it came from, salted (see `ServerLinks::address_key`).
    pub(crate) address: u64,
    pub(crate) way: Way,
}

type Registry = Arc<Mutex<HashMap<ConnId, ServerConn>>>;

/// Everything the tasks share.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    inbox: std_mpsc::SyncSender<ServerLinkEvent>,
    /// Datagrams the room passes straight on (echoes; voice next): the room
    /// thread waits on this one, so they wake it at once. Everything else
    /// waits for its tick, which spares the server a wake-up per pose.
    urgent: std_mpsc::SyncSender<ServerLinkEvent>,
    pub(crate) drops: Arc<DropCounters>,
    pub(crate) traffic: TrafficLimits,
    pub(crate) started: Instant,
    /// Salts address keys: random for each run, so a key names no address.
    pub(crate) address_salt: std::hash::RandomState,
}

/// A listening QUIC room server endpoint; implements [`ServerLinks`].
pub struct QuicServer {
    inbox: std_mpsc::Receiver<ServerLinkEvent>,
    urgent: std_mpsc::Receiver<ServerLinkEvent>,
    /// An event [`ServerLinks::wait`] took out of the inbox, delivered next.
    waited: Option<ServerLinkEvent>,
    shared: Shared,
    endpoint: Endpoint,
    local_addr: SocketAddr,
    tcp_addr: Option<SocketAddr>,
    fingerprint: [u8; 32],
    runtime: Option<tokio::runtime::Runtime>,
}

impl QuicServer {
    /// Bind and start accepting connections.
    pub fn start(config: QuicServerConfig) -> Result<QuicServer, QuicError> {
        let (cert, key) = load_or_create_identity(&config.data_dir)?;
        let fingerprint = fingerprint(&cert);
        let mut tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| QuicError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.clone_key())
            .map_err(|e| QuicError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        // The same certificate for the WebSocket door, as HTTPS would offer it.
        let mut tcp_tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| QuicError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| QuicError::Tls(e.to_string()))?;
        tcp_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls).map_err(|e| QuicError::Tls(e.to_string()))?;
        let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        server_config.transport_config(transport_config()).max_incoming(64);

        // One worker: the room's tick runs on a thread of its own, so a burst of
        // handshakes cannot starve it; a second worker measured 1-2 points more
        // CPU with 50 clients and no better pose age under a burst
        // (docs/reliability.md).
        let runtime = runtime("tsunagu-quic-server", 1)?;
        let endpoint = {
            let _entered = runtime.enter();
            Endpoint::server(server_config, config.bind)?
        };
        let local_addr = endpoint.local_addr()?;
        let (to_inbox, inbox) = std_mpsc::sync_channel(INBOX_CAPACITY);
        let (to_urgent, urgent) = std_mpsc::sync_channel(INBOX_CAPACITY);
        let shared = Shared {
            registry: Arc::new(Mutex::new(HashMap::new())),
            inbox: to_inbox,
            urgent: to_urgent,
            drops: Arc::default(),
            traffic: config.traffic,
            started: Instant::now(),
            address_salt: std::hash::RandomState::new(),
        };
        let admission = Arc::new(Mutex::new(Admission::default()));
        let next_id = Arc::new(AtomicU64::new(1));
        let tcp_addr = match config.tcp_bind {
            Some(bind) => {
                let listener = {
                    let _entered = runtime.enter();
                    let socket = std::net::TcpListener::bind(bind)?;
                    socket.set_nonblocking(true)?;
                    tokio::net::TcpListener::from_std(socket)?
                };
                let tcp_addr = listener.local_addr()?;
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tcp_tls));
                runtime.spawn(tcp_accept_loop(listener, acceptor, shared.clone(), config.clone(), admission.clone(), next_id.clone()));
                Some(tcp_addr)
            }
            None => None,
        };
        runtime.spawn(accept_loop(endpoint.clone(), shared.clone(), config, admission, next_id));
        Ok(QuicServer { inbox, urgent, waited: None, shared, endpoint, local_addr, tcp_addr, fingerprint, runtime: Some(runtime) })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The WebSocket door's TCP address, if it has one.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// SHA-256 of the certificate, for invites.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// What the bounded queues have dropped so far.
    pub fn drops(&self) -> QueueDrops {
        QueueDrops {
            datagrams: self.shared.drops.datagrams.load(Ordering::Relaxed),
            connections_closed: self.shared.drops.connections_closed.load(Ordering::Relaxed),
            connections_refused: self.shared.drops.connections_refused.load(Ordering::Relaxed),
        }
    }

    /// Wait up to `timeout` for the next event of any kind (tests).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<ServerLinkEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.try_recv() {
                return Some(event);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn with_conn(&self, conn: ConnId, f: impl FnOnce(&ServerConn) -> bool) {
        let mut registry = self.shared.registry.lock().unwrap_or_else(|e| e.into_inner());
        let keep = registry.get(&conn).is_none_or(f);
        if !keep && let Some(c) = registry.remove(&conn) {
            // It is not reading what we send: close it rather than buffer for it.
            self.shared.drops.connections_closed.fetch_add(1, Ordering::Relaxed);
            c.way.close_now(CloseReason::TooSlow);
        }
    }
}

impl Drop for QuicServer {
    fn drop(&mut self) {
        self.endpoint.close(VarInt::from_u32(CloseReason::ServerShutdown.code()), CloseReason::ServerShutdown.text().as_bytes());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl ServerLinks for QuicServer {
    fn try_recv(&mut self) -> Option<ServerLinkEvent> {
        self.waited.take().or_else(|| self.urgent.try_recv().ok()).or_else(|| self.inbox.try_recv().ok())
    }

    fn address_key(&self, conn: ConnId) -> u64 {
        self.shared.registry.lock().unwrap_or_else(|e| e.into_inner()).get(&conn).map_or(0, |c| c.address)
    }

    /// Wakes for urgent datagrams and room events only; the rest is read at the next tick.
    fn wait(&mut self, timeout: Duration) {
        if self.waited.is_none() {
            self.waited = self.urgent.recv_timeout(timeout).ok();
        }
    }

    fn send(&mut self, conn: ConnId, channel: Channel, frame: Vec<u8>) {
        self.with_conn(conn, |c| match (&c.way, channel) {
            (Way::Quic { control, .. }, Channel::Control) => control.try_send(Outgoing::Frame(frame)).is_ok(),
            (Way::Quic { events, .. }, Channel::Events) => events.try_send(frame).is_ok(),
            (Way::Wss(outbox), channel) => outbox.frame(channel, frame),
        });
    }

    fn frames_waiting(&self, conn: ConnId) -> usize {
        let registry = self.shared.registry.lock().unwrap_or_else(|e| e.into_inner());
        registry.get(&conn).map_or(0, |c| match &c.way {
            Way::Quic { events, .. } => events.max_capacity() - events.capacity(),
            Way::Wss(outbox) => outbox.frames_waiting(),
        })
    }

    fn max_datagram(&self, conn: ConnId) -> usize {
        let registry = self.shared.registry.lock().unwrap_or_else(|e| e.into_inner());
        let size = registry.get(&conn).and_then(|c| match &c.way {
            Way::Quic { connection, .. } => connection.max_datagram_size(),
            Way::Wss(_) => Some(tsunagu_protocol::limits::MAX_DATAGRAM_BYTES),
        });
        size.map_or(0, |size| size.min(tsunagu_protocol::limits::MAX_DATAGRAM_BYTES))
    }

    fn send_datagram(&mut self, conn: ConnId, datagram: Vec<u8>) {
        self.with_conn(conn, |c| {
            match &c.way {
                // A full send buffer drops the datagram: the next snapshot replaces it.
                Way::Quic { connection, .. } => drop(connection.send_datagram(datagram.into())),
                Way::Wss(outbox) => outbox.datagram(datagram),
            }
            true
        });
    }

    fn close(&mut self, conn: ConnId, reason: CloseReason) {
        let removed = self.shared.registry.lock().unwrap_or_else(|e| e.into_inner()).remove(&conn);
        match removed.map(|c| c.way) {
            // Its queue is full: no time for goodbyes.
            Some(Way::Quic { connection, control, .. }) if control.try_send(Outgoing::Finish(reason)).is_err() => close_with(&connection, reason),
            // The writer says goodbye after what is queued.
            Some(Way::Wss(outbox)) => outbox.close(reason),
            _ => {}
        }
    }
}

/// Writes frames to a stream until told to finish; then closes the connection
/// once the peer has had a moment to read what was sent.
async fn control_writer(mut send: SendStream, mut queue: Receiver<Outgoing>, connection: Connection) {
    while let Some(item) = queue.recv().await {
        match item {
            Outgoing::Frame(frame) => {
                if write_frame(&mut send, &frame).await.is_err() {
                    break;
                }
            }
            Outgoing::Finish(reason) => {
                let _ = send.finish();
                // Give the last frames (a Closing, a Rejected) time to arrive before the close.
                let _ = tokio::time::timeout(Duration::from_secs(1), send.stopped()).await;
                close_with(&connection, reason);
                break;
            }
        }
    }
}

/// Writes frames to a unidirectional stream opened on first use.
async fn events_writer(connection: Connection, mut queue: Receiver<Vec<u8>>) {
    let mut send = None;
    while let Some(frame) = queue.recv().await {
        if send.is_none() {
            match connection.open_uni().await {
                Ok(s) => send = Some(s),
                Err(_) => return,
            }
        }
        if let Some(s) = send.as_mut()
            && write_frame(s, &frame).await.is_err()
        {
            return;
        }
    }
}

/// Hand something that arrived on connection `id` to the room thread: counted
/// against the traffic limits first (over them closes the connection at once),
/// then queued if there is room (a datagram that does not fit is dropped and
/// counted; a frame that does not fit closes the connection).
pub(crate) fn deliver(shared: &Shared, id: ConnId, allowance: &Mutex<TrafficAllowance>, close: &dyn Fn(CloseReason), event: LinkEvent) -> Delivered {
    let now = shared.started.elapsed();
    let is_datagram = matches!(event, LinkEvent::Datagram(_));
    // Echoes and voice are passed on as they arrive; so are room events (a
    // wave, a chat line: a person waiting to see it), which the frame limit
    // above already holds to a handful a second. A client sends events only
    // after its Hello was answered, so none can overtake the Hello.
    let urgent = match &event {
        LinkEvent::Datagram(d) => d.kind.is_forwarded_at_once(),
        LinkEvent::Frame(channel, _) => *channel == Channel::Events,
        _ => false,
    };
    let within = {
        let mut allowance = allowance.lock().unwrap_or_else(|e| e.into_inner());
        if is_datagram { allowance.datagram(now) } else { allowance.frame(now) }
    };
    if !within {
        tracing::warn!(connection = id, "rate limit exceeded as data arrived");
        close(CloseReason::RateLimited);
        return Delivered::Stop;
    }
    let queue = if urgent { &shared.urgent } else { &shared.inbox };
    match queue.try_send(ServerLinkEvent::Received(id, event)) {
        Ok(()) => Delivered::Taken,
        Err(std_mpsc::TrySendError::Full(_)) if is_datagram => {
            shared.drops.datagrams.fetch_add(1, Ordering::Relaxed);
            Delivered::Taken
        }
        Err(std_mpsc::TrySendError::Full(_)) => {
            shared.drops.connections_closed.fetch_add(1, Ordering::Relaxed);
            close(CloseReason::TooSlow);
            Delivered::Stop
        }
        Err(std_mpsc::TrySendError::Disconnected(_)) => Delivered::Stop,
    }
}

/// Lifecycle events are few and must not be lost: wait for room in the inbox,
/// off the transport's worker.
pub(crate) async fn announce(shared: &Shared, event: ServerLinkEvent) {
    let inbox = shared.inbox.clone();
    let _ = tokio::task::spawn_blocking(move || inbox.send(event)).await;
}

pub(super) async fn serve_connection(
    id: ConnId,
    address: u64,
    incoming: quinn::Incoming,
    shared: Shared,
    pending: &std::sync::atomic::AtomicUsize,
    mut admitted: Admitted,
) {
    let handshake = async {
        let connecting = incoming.accept().ok()?;
        tokio::time::timeout(HANDSHAKE_DEADLINE, connecting).await.ok()?.ok()
    };
    let connection = handshake.await;
    pending.fetch_sub(1, Ordering::Relaxed);
    admitted.handshake_over();
    let Some(connection) = connection else { return };
    let (control_tx, control_rx) = channel(OUTBOX_CAPACITY);
    let (events_tx, events_rx) = channel(OUTBOX_CAPACITY);
    shared
        .registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, ServerConn { address, way: Way::Quic { connection: connection.clone(), control: control_tx, events: events_tx } });
    announce(&shared, ServerLinkEvent::Connected(id)).await;

    match tokio::time::timeout(CONTROL_DEADLINE, connection.accept_bi()).await {
        Ok(Ok((send, recv))) => {
            tokio::spawn(control_writer(send, control_rx, connection.clone()));
            tokio::spawn(events_writer(connection.clone(), events_rx));
            let allowance = Arc::new(Mutex::new(TrafficAllowance::new(shared.traffic, shared.started.elapsed())));
            let hand_on = {
                let (shared, connection) = (shared.clone(), connection.clone());
                move |event| deliver(&shared, id, &allowance, &|reason| close_with(&connection, reason), event)
            };
            tokio::spawn(frame_reader(recv, Channel::Control, connection.clone(), hand_on.clone()));
            tokio::spawn(datagram_reader(connection.clone(), hand_on.clone()));
            let uni_connection = connection.clone();
            tokio::spawn(async move {
                // One events stream per client; the stream limit refuses a second.
                if let Ok(recv) = uni_connection.accept_uni().await {
                    frame_reader(recv, Channel::Events, uni_connection.clone(), hand_on).await;
                }
            });
        }
        _ => close_with(&connection, CloseReason::ProtocolViolation),
    }
    let error = connection.closed().await;
    announce(&shared, ServerLinkEvent::Received(id, LinkEvent::Closed(link_end(&error, false)))).await;
}
