//! The QUIC transport: quinn with rustls (ring), TLS 1.3 only, ALPN `tsunagu/1`.
//!
//! Each side runs its network work on a small tokio runtime of its own and
//! talks to the rest of the program through the link traits, so the room
//! server and the client never see async code.
//!
//! Streams: the client opens one bidirectional stream (control); each side may
//! open one unidirectional stream (events). Frames on both are a 4-byte
//! big-endian length and that many bytes of MessagePack, at most
//! `MAX_FRAME_BYTES`. Poses go as QUIC datagrams.
//!
//! Limits an untrusted peer cannot talk us out of: one bidirectional and one
//! unidirectional stream per connection, small flow-control windows, a total
//! and a per-address connection cap, and a deadline for the control stream.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quinn::{Connection, ConnectionError, Endpoint, RecvStream, SendStream, VarInt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{ALPN, CloseReason};

use crate::invite::Invite;
use crate::link::{Channel, ClientLink, ConnId, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks};

/// How long a client may take to open its control stream.
pub const CONTROL_DEADLINE: Duration = Duration::from_secs(5);
/// How long a client waits for the server to answer before calling it unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long one reconnect attempt waits for the handshake. Shorter than a
/// first join: the server was just there, and after a one-way outage a fresh
/// attempt gets through sooner than a handshake deep in its retransmission
/// back-off (see `tsunagu_client_core::RECONNECT_BACKOFF`).
pub const RECONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
/// The round-trip time assumed before one is measured. quinn's default
/// (333 ms) spaces handshake retransmissions 1, 2, 4 s apart; ward networks
/// are well under 100 ms, and a lost Initial is resent sooner.
const INITIAL_RTT: Duration = Duration::from_millis(100);
/// Keep-alive ping interval: keeps ward NAT mappings open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(4);
/// A connection silent this long is gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// Anything that stops a QUIC endpoint from starting.
#[derive(Debug, thiserror::Error)]
pub enum QuicError {
    /// Socket or file trouble.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// TLS setup failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The certificate could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
}

fn transport_config() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    // quinn's defaults let one connection make us buffer ~250 MB; ours are tiny messages.
    t.max_concurrent_bidi_streams(VarInt::from_u32(1))
        .max_concurrent_uni_streams(VarInt::from_u32(1))
        .stream_receive_window(VarInt::from_u32(64 * 1024))
        .receive_window(VarInt::from_u32(256 * 1024))
        .send_window(1024 * 1024)
        .datagram_receive_buffer_size(Some(64 * 1024))
        .initial_rtt(INITIAL_RTT)
        .keep_alive_interval(Some(KEEP_ALIVE))
        .max_idle_timeout(Some(IDLE_TIMEOUT.try_into().unwrap_or(quinn::IdleTimeout::from(VarInt::from_u32(15_000)))));
    Arc::new(t)
}

fn runtime(name: &str) -> Result<tokio::runtime::Runtime, QuicError> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(1).thread_name(name).enable_all().build()?)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of a DER certificate: what invites carry.
pub fn fingerprint(cert: &[u8]) -> [u8; 32] {
    Sha256::digest(cert).into()
}

// ---------------------------------------------------------------- certificates

/// The server's certificate and key, made once and kept in `data_dir` with
/// owner-only permissions, so invites stay valid across restarts.
pub fn load_or_create_identity(data_dir: &Path) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), QuicError> {
    let cert_path = data_dir.join("server-cert.der");
    let key_path = data_dir.join("server-key.der");
    if cert_path.is_file() && key_path.is_file() {
        let cert = std::fs::read(&cert_path)?;
        let key = std::fs::read(&key_path)?;
        return Ok((CertificateDer::from(cert), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key))));
    }
    let made = rcgen::generate_simple_self_signed(vec!["tsunagu".to_owned()]).map_err(|e| QuicError::Certificate(e.to_string()))?;
    let cert = made.cert.der().to_vec();
    let key = made.signing_key.serialize_der();
    create_private_dir(data_dir)?;
    write_private(&key_path, &key)?;
    write_private(&cert_path, &cert)?;
    Ok((CertificateDer::from(cert), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key))))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

// ---------------------------------------------------------------- framing

async fn read_frame(recv: &mut RecvStream) -> Result<Option<Vec<u8>>, &'static str> {
    let mut len = [0u8; 4];
    match recv.read_exact(&mut len).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        // The connection ended between frames (a goodbye, a timeout): not the
        // peer breaking the framing; the end itself is reported elsewhere.
        Err(quinn::ReadExactError::ReadError(quinn::ReadError::ConnectionLost(_))) => return Ok(None),
        Err(_) => return Err("the stream broke inside a frame header"),
    }
    let len = u32::from_be_bytes(len) as usize;
    // Checked before allocating: a peer cannot make us reserve more than a frame.
    if len > MAX_FRAME_BYTES {
        return Err("a frame is larger than the limit");
    }
    let mut frame = vec![0u8; len];
    recv.read_exact(&mut frame).await.map_err(|_| "the stream broke inside a frame")?;
    Ok(Some(frame))
}

async fn write_frame(send: &mut SendStream, frame: &[u8]) -> Result<(), quinn::WriteError> {
    send.write_all(&(frame.len() as u32).to_be_bytes()).await?;
    send.write_all(frame).await
}

fn close_with(connection: &Connection, reason: CloseReason) {
    connection.close(VarInt::from_u32(reason.code()), reason.text().as_bytes());
}

fn link_end(error: &ConnectionError, wrong_certificate: bool) -> LinkEnd {
    match error {
        ConnectionError::ApplicationClosed(close) => {
            CloseReason::from_code(close.error_code.into_inner()).map(LinkEnd::Reason).unwrap_or(LinkEnd::Lost)
        }
        ConnectionError::TimedOut => LinkEnd::TimedOut,
        ConnectionError::LocallyClosed => LinkEnd::Reason(CloseReason::Left),
        _ if wrong_certificate => LinkEnd::WrongCertificate,
        _ => LinkEnd::Lost,
    }
}

enum Outgoing {
    Frame(Vec<u8>),
    Finish(CloseReason),
}

/// Writes frames to a stream until told to finish; then closes the connection
/// once the peer has had a moment to read what was sent.
async fn control_writer(mut send: SendStream, mut queue: UnboundedReceiver<Outgoing>, connection: Connection) {
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
async fn events_writer(connection: Connection, mut queue: UnboundedReceiver<Vec<u8>>) {
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

/// Reads frames from `recv` and hands them on; a framing violation closes the connection.
async fn frame_reader(mut recv: RecvStream, channel: Channel, connection: Connection, deliver: impl Fn(LinkEvent) -> bool) {
    loop {
        match read_frame(&mut recv).await {
            Ok(Some(frame)) => {
                if !deliver(LinkEvent::Frame(channel, frame)) {
                    return;
                }
            }
            Ok(None) => return,
            Err(why) => {
                tracing::warn!("closing a connection: {why}");
                close_with(&connection, CloseReason::ProtocolViolation);
                return;
            }
        }
    }
}

async fn datagram_reader(connection: Connection, deliver: impl Fn(LinkEvent) -> bool) {
    while let Ok(datagram) = connection.read_datagram().await {
        if datagram.len() <= MAX_DATAGRAM_BYTES && !deliver(LinkEvent::Datagram(datagram.to_vec())) {
            return;
        }
    }
}

// ---------------------------------------------------------------- server

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
}

struct ServerConn {
    connection: Connection,
    control: UnboundedSender<Outgoing>,
    events: UnboundedSender<Vec<u8>>,
}

type Registry = Arc<Mutex<HashMap<ConnId, ServerConn>>>;

/// A listening QUIC room server endpoint; implements [`ServerLinks`].
pub struct QuicServer {
    inbox: std_mpsc::Receiver<ServerLinkEvent>,
    /// An event [`ServerLinks::wait`] took out of the inbox, delivered next.
    waited: Option<ServerLinkEvent>,
    registry: Registry,
    endpoint: Endpoint,
    local_addr: SocketAddr,
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
            .with_single_cert(vec![cert], key)
            .map_err(|e| QuicError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls).map_err(|e| QuicError::Tls(e.to_string()))?;
        let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        server_config.transport_config(transport_config()).max_incoming(64);

        let runtime = runtime("tsunagu-quic-server")?;
        let endpoint = {
            let _entered = runtime.enter();
            Endpoint::server(server_config, config.bind)?
        };
        let local_addr = endpoint.local_addr()?;
        let (to_inbox, inbox) = std_mpsc::channel();
        let registry: Registry = Arc::new(Mutex::new(HashMap::new()));
        runtime.spawn(accept_loop(endpoint.clone(), registry.clone(), to_inbox, config));
        Ok(QuicServer { inbox, waited: None, registry, endpoint, local_addr, fingerprint, runtime: Some(runtime) })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// SHA-256 of the certificate, for invites.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// Wait up to `timeout` for the next event.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<ServerLinkEvent> {
        self.waited.take().or_else(|| self.inbox.recv_timeout(timeout).ok())
    }

    fn with_conn(&self, conn: ConnId, f: impl FnOnce(&ServerConn)) {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = registry.get(&conn) {
            f(c);
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
        self.waited.take().or_else(|| self.inbox.try_recv().ok())
    }

    fn wait(&mut self, timeout: Duration) {
        if self.waited.is_none() {
            self.waited = self.inbox.recv_timeout(timeout).ok();
        }
    }

    fn send(&mut self, conn: ConnId, channel: Channel, frame: Vec<u8>) {
        self.with_conn(conn, |c| {
            let _ = match channel {
                Channel::Control => c.control.send(Outgoing::Frame(frame)).is_ok(),
                Channel::Events => c.events.send(frame).is_ok(),
            };
        });
    }

    fn send_datagram(&mut self, conn: ConnId, datagram: Vec<u8>) {
        self.with_conn(conn, |c| {
            // A full send buffer drops the datagram: the next snapshot replaces it.
            let _ = c.connection.send_datagram(datagram.into());
        });
    }

    fn close(&mut self, conn: ConnId, reason: CloseReason) {
        let removed = self.registry.lock().unwrap_or_else(|e| e.into_inner()).remove(&conn);
        if let Some(c) = removed {
            let _ = c.control.send(Outgoing::Finish(reason));
        }
    }
}

async fn accept_loop(endpoint: Endpoint, registry: Registry, inbox: std_mpsc::Sender<ServerLinkEvent>, config: QuicServerConfig) {
    let next_id = Arc::new(AtomicU64::new(1));
    let per_address: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::new(Mutex::new(HashMap::new()));
    while let Some(incoming) = endpoint.accept().await {
        let ip = incoming.remote_address().ip();
        let total = registry.lock().unwrap_or_else(|e| e.into_inner()).len();
        let from_ip = per_address.lock().unwrap_or_else(|e| e.into_inner()).get(&ip).copied().unwrap_or(0);
        if total >= config.max_connections || from_ip >= config.max_per_address {
            tracing::warn!("refusing a connection: {total} open, {from_ip} from that address");
            incoming.refuse();
            continue;
        }
        *per_address.lock().unwrap_or_else(|e| e.into_inner()).entry(ip).or_insert(0) += 1;
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (registry, inbox, per_address) = (registry.clone(), inbox.clone(), per_address.clone());
        tokio::spawn(async move {
            serve_connection(id, incoming, registry.clone(), inbox).await;
            registry.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
            let mut counts = per_address.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = counts.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&ip);
                }
            }
        });
    }
}

async fn serve_connection(id: ConnId, incoming: quinn::Incoming, registry: Registry, inbox: std_mpsc::Sender<ServerLinkEvent>) {
    let Ok(connecting) = incoming.accept() else { return };
    let Ok(Ok(connection)) = tokio::time::timeout(CONNECT_TIMEOUT * 2, connecting).await else { return };
    let (control_tx, control_rx) = unbounded_channel();
    let (events_tx, events_rx) = unbounded_channel();
    registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, ServerConn { connection: connection.clone(), control: control_tx, events: events_tx });
    let _ = inbox.send(ServerLinkEvent::Connected(id));

    match tokio::time::timeout(CONTROL_DEADLINE, connection.accept_bi()).await {
        Ok(Ok((send, recv))) => {
            tokio::spawn(control_writer(send, control_rx, connection.clone()));
            tokio::spawn(events_writer(connection.clone(), events_rx));
            let deliver = {
                let inbox = inbox.clone();
                move |event| inbox.send(ServerLinkEvent::Received(id, event)).is_ok()
            };
            tokio::spawn(frame_reader(recv, Channel::Control, connection.clone(), deliver.clone()));
            tokio::spawn(datagram_reader(connection.clone(), deliver.clone()));
            let uni_connection = connection.clone();
            tokio::spawn(async move {
                // One events stream per client; the stream limit refuses a second.
                if let Ok(recv) = uni_connection.accept_uni().await {
                    frame_reader(recv, Channel::Events, uni_connection.clone(), deliver).await;
                }
            });
        }
        _ => close_with(&connection, CloseReason::ProtocolViolation),
    }
    let error = connection.closed().await;
    let _ = inbox.send(ServerLinkEvent::Received(id, LinkEvent::Closed(link_end(&error, false))));
}

// ---------------------------------------------------------------- client

/// Accepts exactly the certificate whose SHA-256 the invite names. There is no
/// other path: no certificate authorities, no "accept anything".
#[derive(Debug)]
struct PinnedCertificate {
    fingerprint: [u8; 32],
    mismatch: Arc<AtomicBool>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            self.mismatch.store(true, Ordering::Relaxed);
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        // TLS 1.2 is never negotiated (QUIC is TLS 1.3 only).
        Err(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        // The handshake must still prove the server holds the pinned certificate's key.
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

enum ClientOut {
    Frame(Channel, Vec<u8>),
    Datagram(Vec<u8>),
    Close(CloseReason),
}

/// A client connection to a room server over QUIC; implements [`ClientLink`].
/// Connecting happens in the background: frames sent before it is up are queued,
/// and failure arrives as [`LinkEvent::Closed`].
pub struct QuicClient {
    inbox: std_mpsc::Receiver<LinkEvent>,
    outgoing: UnboundedSender<ClientOut>,
    closed: bool,
    runtime: Option<tokio::runtime::Runtime>,
}

impl QuicClient {
    /// Start connecting to the server an invite names.
    pub fn connect(invite: &Invite) -> Result<QuicClient, QuicError> {
        Self::connect_within(invite, CONNECT_TIMEOUT)
    }

    /// Start connecting; no handshake within `timeout` is reported as unreachable.
    pub fn connect_within(invite: &Invite, timeout: Duration) -> Result<QuicClient, QuicError> {
        let runtime = runtime("tsunagu-quic-client")?;
        let (to_inbox, inbox) = std_mpsc::channel();
        let (outgoing, out_rx) = unbounded_channel();
        runtime.spawn(run_client(invite.clone(), timeout, to_inbox, out_rx));
        Ok(QuicClient { inbox, outgoing, closed: false, runtime: Some(runtime) })
    }
}

/// Opens QUIC connections to the room an invite names: the first with
/// [`CONNECT_TIMEOUT`] (a join), later ones with [`RECONNECT_TIMEOUT`].
pub struct QuicConnector {
    invite: Invite,
    opened: u32,
}

impl QuicConnector {
    /// Connections to the room `invite` names.
    pub fn new(invite: Invite) -> Self {
        QuicConnector { invite, opened: 0 }
    }
}

impl crate::link::Connector for QuicConnector {
    fn open(&mut self) -> Result<Box<dyn ClientLink>, String> {
        let timeout = if self.opened == 0 { CONNECT_TIMEOUT } else { RECONNECT_TIMEOUT };
        self.opened += 1;
        QuicClient::connect_within(&self.invite, timeout).map(|c| Box::new(c) as Box<dyn ClientLink>).map_err(|e| e.to_string())
    }
}

impl ClientLink for QuicClient {
    fn send(&mut self, channel: Channel, frame: Vec<u8>) {
        let _ = self.outgoing.send(ClientOut::Frame(channel, frame));
    }

    fn send_datagram(&mut self, datagram: Vec<u8>) {
        let _ = self.outgoing.send(ClientOut::Datagram(datagram));
    }

    fn try_recv(&mut self) -> Option<LinkEvent> {
        if self.closed {
            return None;
        }
        let event = self.inbox.try_recv().ok()?;
        if matches!(event, LinkEvent::Closed(_)) {
            self.closed = true;
        }
        Some(event)
    }

    fn close(&mut self, reason: CloseReason) {
        let _ = self.outgoing.send(ClientOut::Close(reason));
    }
}

impl Drop for QuicClient {
    fn drop(&mut self) {
        let _ = self.outgoing.send(ClientOut::Close(CloseReason::Left));
        if let Some(runtime) = self.runtime.take() {
            // Let the close reach the server, on a thread of its own: the caller
            // may be the render thread, and a headset must never freeze.
            let _ = std::thread::Builder::new()
                .name("tsunagu-quic-client-close".into())
                .spawn(move || runtime.shutdown_timeout(Duration::from_millis(300)));
        }
    }
}

async fn run_client(invite: Invite, timeout: Duration, inbox: std_mpsc::Sender<LinkEvent>, mut outgoing: UnboundedReceiver<ClientOut>) {
    let end = |e: LinkEnd| {
        let _ = inbox.send(LinkEvent::Closed(e));
    };
    let Some(addr) = tokio::net::lookup_host((invite.host.as_str(), invite.port)).await.ok().and_then(|mut a| a.next()) else {
        return end(LinkEnd::Unreachable);
    };
    let mismatch = Arc::new(AtomicBool::new(false));
    let verifier = PinnedCertificate { fingerprint: invite.fingerprint, mismatch: mismatch.clone(), provider: provider() };
    let Ok(builder) = rustls::ClientConfig::builder_with_provider(provider()).with_protocol_versions(&[&rustls::version::TLS13]) else {
        return end(LinkEnd::Lost);
    };
    let mut tls = builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let Ok(crypto) = quinn::crypto::rustls::QuicClientConfig::try_from(tls) else { return end(LinkEnd::Lost) };
    let mut client_config = quinn::ClientConfig::new(Arc::new(crypto));
    client_config.transport_config(transport_config());
    let bind: SocketAddr = if addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let Ok(endpoint) = Endpoint::client(bind) else { return end(LinkEnd::Lost) };
    let Ok(connecting) = endpoint.connect_with(client_config, addr, "tsunagu") else { return end(LinkEnd::Unreachable) };
    let connection = match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return end(if mismatch.load(Ordering::Relaxed) { LinkEnd::WrongCertificate } else { link_end(&e, false) }),
        Err(_) => return end(LinkEnd::Unreachable),
    };
    let Ok((mut control, control_recv)) = connection.open_bi().await else { return end(LinkEnd::Lost) };

    let deliver = {
        let inbox = inbox.clone();
        move |event| inbox.send(event).is_ok()
    };
    tokio::spawn(frame_reader(control_recv, Channel::Control, connection.clone(), deliver.clone()));
    tokio::spawn(datagram_reader(connection.clone(), deliver.clone()));
    let uni_connection = connection.clone();
    let events_deliver = deliver.clone();
    tokio::spawn(async move {
        if let Ok(recv) = uni_connection.accept_uni().await {
            frame_reader(recv, Channel::Events, uni_connection.clone(), events_deliver).await;
        }
    });
    let writer_connection = connection.clone();
    let writer = tokio::spawn(async move {
        let mut events: Option<SendStream> = None;
        while let Some(item) = outgoing.recv().await {
            match item {
                ClientOut::Frame(Channel::Control, frame) => {
                    if write_frame(&mut control, &frame).await.is_err() {
                        break;
                    }
                }
                ClientOut::Frame(Channel::Events, frame) => {
                    if events.is_none() {
                        events = writer_connection.open_uni().await.ok();
                    }
                    if let Some(s) = events.as_mut() {
                        let _ = write_frame(s, &frame).await;
                    }
                }
                ClientOut::Datagram(datagram) => {
                    let _ = writer_connection.send_datagram(datagram.into());
                }
                ClientOut::Close(reason) => {
                    let _ = control.finish();
                    close_with(&writer_connection, reason);
                    break;
                }
            }
        }
    });
    let error = connection.closed().await;
    writer.abort();
    end(link_end(&error, false));
    endpoint.wait_idle().await;
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tsunagu-net-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn server(name: &str) -> QuicServer {
        QuicServer::start(QuicServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: temp_dir(name),
            max_connections: 8,
            max_per_address: 8,
        })
        .expect("server starts")
    }

    fn invite(server: &QuicServer) -> Invite {
        Invite { host: "127.0.0.1".into(), port: server.local_addr().port(), room_code: "room".into(), fingerprint: server.fingerprint() }
    }

    fn wait_client(client: &mut QuicClient, limit: Duration) -> Option<LinkEvent> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(e) = client.try_recv() {
                return Some(e);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    fn wait_server(server: &mut QuicServer, limit: Duration, want: impl Fn(&ServerLinkEvent) -> bool) -> Option<ServerLinkEvent> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(e) = server.recv_timeout(Duration::from_millis(20))
                && want(&e)
            {
                return Some(e);
            }
        }
        None
    }

    #[test]
    fn frames_and_datagrams_cross_real_quic_and_close_carries_the_reason() {
        let mut server = server("roundtrip");
        let mut client = QuicClient::connect(&invite(&server)).unwrap();
        client.send(Channel::Control, b"hello".to_vec());
        let Some(ServerLinkEvent::Received(conn, LinkEvent::Frame(Channel::Control, frame))) =
            wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(..)))
        else {
            panic!("no control frame arrived");
        };
        assert_eq!(frame, b"hello");
        server.send(conn, Channel::Control, b"welcome".to_vec());
        server.send(conn, Channel::Events, b"joined".to_vec());
        let mut got = Vec::new();
        while got.len() < 2 {
            got.push(wait_client(&mut client, Duration::from_secs(5)).expect("frames arrive"));
        }
        assert!(got.contains(&LinkEvent::Frame(Channel::Control, b"welcome".to_vec())));
        assert!(got.contains(&LinkEvent::Frame(Channel::Events, b"joined".to_vec())));
        client.send_datagram(vec![7; 100]);
        let datagram = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Datagram(_))));
        assert_eq!(datagram, Some(ServerLinkEvent::Received(conn, LinkEvent::Datagram(vec![7; 100]))));
        server.close(conn, CloseReason::ServerShutdown);
        assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ServerShutdown))));
    }

    #[test]
    fn a_server_with_another_certificate_is_refused() {
        let server = server("pinning");
        let mut wrong = invite(&server);
        wrong.fingerprint[0] ^= 0xff;
        let mut client = QuicClient::connect(&wrong).unwrap();
        assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::WrongCertificate)));
    }

    #[test]
    fn nobody_listening_is_reported_within_five_seconds() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        drop(socket);
        let started = Instant::now();
        let mut client = QuicClient::connect(&Invite { host: "127.0.0.1".into(), port, room_code: "x".into(), fingerprint: [0; 32] }).unwrap();
        assert_eq!(wait_client(&mut client, Duration::from_secs(6)), Some(LinkEvent::Closed(LinkEnd::Unreachable)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_identity_is_kept_private_and_reused() {
        let dir = temp_dir("identity");
        let (cert, _) = load_or_create_identity(&dir).unwrap();
        let (again, _) = load_or_create_identity(&dir).unwrap();
        assert_eq!(cert, again, "a restart must keep invites valid");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join("server-key.der")), 0o600);
            assert_eq!(mode(&dir.join("server-cert.der")), 0o600);
        }
    }

    #[test]
    fn an_oversized_frame_closes_the_connection_with_a_reason() {
        let mut server = server("oversize");
        let mut client = QuicClient::connect(&invite(&server)).unwrap();
        client.send(Channel::Control, vec![0; MAX_FRAME_BYTES + 1]);
        let closed = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Closed(_))));
        assert!(closed.is_some(), "the server kept a connection that sent an oversized frame");
        assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation))));
    }
}
