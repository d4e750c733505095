//! The client end: connects to the room an invite names, accepting only the
//! certificate whose SHA-256 the invite pins, and carries frames and datagrams
//! through bounded queues on its own small runtime.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quinn::{Connection, Endpoint, SendStream};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::sync::mpsc::{Receiver, Sender, channel};
use tsunagu_protocol::{ALPN, CloseReason};

use super::framing::{Delivered, close_with, datagram_reader, frame_reader, link_end, write_frame};
use super::identity::fingerprint;
use super::{CONNECT_TIMEOUT, INBOX_CAPACITY, OUTBOX_CAPACITY, QuicError, RECONNECT_TIMEOUT, provider, runtime, transport_config};
use crate::invite::Invite;
use crate::link::{Channel, ClientLink, DatagramTap, LinkEnd, LinkEvent};

/// Accepts exactly the certificate whose SHA-256 the invite names. There is no
/// other path: no certificate authorities, no "accept anything".
#[derive(Debug)]
pub(crate) struct PinnedCertificate {
    fingerprint: [u8; 32],
    mismatch: Arc<AtomicBool>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl PinnedCertificate {
    /// A TLS 1.3 client configuration that accepts only `fingerprint`'s
    /// certificate, offering `alpn`; the flag says afterwards whether
    /// another certificate was offered.
    pub(crate) fn client_config(fingerprint: [u8; 32], alpn: &[u8]) -> Result<(rustls::ClientConfig, Arc<AtomicBool>), LinkEnd> {
        let mismatch = Arc::new(AtomicBool::new(false));
        let verifier = PinnedCertificate { fingerprint, mismatch: mismatch.clone(), provider: provider() };
        let builder =
            rustls::ClientConfig::builder_with_provider(provider()).with_protocol_versions(&[&rustls::version::TLS13]).map_err(|_| LinkEnd::Lost)?;
        let mut tls = builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth();
        tls.alpn_protocols = vec![alpn.to_vec()];
        Ok((tls, mismatch))
    }
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
    outgoing: Sender<ClientOut>,
    closed: bool,
    runtime: Option<tokio::runtime::Runtime>,
    /// What did not fit the outgoing queue (the connection was not keeping up).
    dropped: Arc<AtomicU64>,
    /// Sees datagrams on the transport's thread as they arrive (see [`DatagramTap`]).
    tap: Tap,
    /// The handshake is done.
    up: Arc<AtomicBool>,
}

pub(crate) type Tap = Arc<Mutex<Option<DatagramTap>>>;

/// What one client's connections have put on the wire so far, read from
/// quinn's own counters: UDP payload bytes (QUIC headers included) and
/// packets, both ways.
#[derive(Clone, Default)]
pub struct WireStats {
    current: Arc<Mutex<Option<Connection>>>,
    before: Arc<Mutex<WireTotals>>,
}

/// Totals of [`WireStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireTotals {
    /// UDP payload bytes received.
    pub rx_bytes: u64,
    /// UDP datagrams received.
    pub rx_packets: u64,
    /// UDP payload bytes sent.
    pub tx_bytes: u64,
    /// UDP datagrams sent.
    pub tx_packets: u64,
}

impl WireStats {
    /// Totals so far, over every connection (the current one included).
    pub fn totals(&self) -> WireTotals {
        let mut totals = *self.before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = self.current.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let stats = c.stats();
            totals.rx_bytes += stats.udp_rx.bytes;
            totals.rx_packets += stats.udp_rx.datagrams;
            totals.tx_bytes += stats.udp_tx.bytes;
            totals.tx_packets += stats.udp_tx.datagrams;
        }
        totals
    }

    fn start(&self, connection: Connection) {
        let totals = self.totals();
        *self.before.lock().unwrap_or_else(|e| e.into_inner()) = totals;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(connection);
    }
}

impl QuicClient {
    /// Start connecting to the server an invite names.
    pub fn connect(invite: &Invite) -> Result<QuicClient, QuicError> {
        Self::connect_within(invite, CONNECT_TIMEOUT, WireStats::default())
    }

    /// Start connecting; no handshake within `timeout` is reported as
    /// unreachable. `stats` follows the connection's wire counters.
    pub fn connect_within(invite: &Invite, timeout: Duration, stats: WireStats) -> Result<QuicClient, QuicError> {
        Self::start(invite, timeout, stats, None)
    }

    /// Start connecting from a given local address (tests on loopback use
    /// 127.0.0.2, 127.0.0.3, … to stand in for other hosts).
    pub fn connect_from(invite: &Invite, local: std::net::IpAddr) -> Result<QuicClient, QuicError> {
        Self::start(invite, CONNECT_TIMEOUT, WireStats::default(), Some(local))
    }

    pub(crate) fn start(invite: &Invite, timeout: Duration, stats: WireStats, local: Option<std::net::IpAddr>) -> Result<QuicClient, QuicError> {
        let runtime = runtime("tsunagu-quic-client", 1)?;
        let (to_inbox, inbox) = std_mpsc::sync_channel(INBOX_CAPACITY);
        let (outgoing, out_rx) = channel(OUTBOX_CAPACITY * 4);
        let dropped = Arc::new(AtomicU64::new(0));
        let tap = Tap::default();
        let to_app = ToApp { inbox: to_inbox, dropped: dropped.clone(), tap: tap.clone() };
        let up = Arc::new(AtomicBool::new(false));
        runtime.spawn(run_client(invite.clone(), timeout, local, stats, to_app, out_rx, up.clone()));
        Ok(QuicClient { inbox, outgoing, closed: false, runtime: Some(runtime), dropped, tap, up })
    }

    /// Datagrams dropped because a queue was full, so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn queue(&mut self, item: ClientOut) {
        if self.outgoing.try_send(item).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens QUIC connections to the room an invite names: the first with
/// [`CONNECT_TIMEOUT`] (a join), later ones with [`RECONNECT_TIMEOUT`].
pub struct QuicConnector {
    invite: Invite,
    opened: u32,
    stats: WireStats,
    local: Option<std::net::IpAddr>,
}

impl QuicConnector {
    /// Connections to the room `invite` names.
    pub fn new(invite: Invite) -> Self {
        QuicConnector { invite, opened: 0, stats: WireStats::default(), local: None }
    }

    /// The same, from a given local address (tests standing in for other hosts).
    pub fn from_address(invite: Invite, local: std::net::IpAddr) -> Self {
        QuicConnector { local: Some(local), ..Self::new(invite) }
    }

    /// What its connections have put on the wire (kept across reconnects).
    pub fn stats(&self) -> WireStats {
        self.stats.clone()
    }
}

impl crate::link::Connector for QuicConnector {
    fn open(&mut self) -> Result<Box<dyn ClientLink>, String> {
        let timeout = if self.opened == 0 { CONNECT_TIMEOUT } else { RECONNECT_TIMEOUT };
        self.opened += 1;
        QuicClient::start(&self.invite, timeout, self.stats.clone(), self.local)
            .map(|c| Box::new(c) as Box<dyn ClientLink>)
            .map_err(|e| e.to_string())
    }
}

impl ClientLink for QuicClient {
    fn send(&mut self, channel: Channel, frame: Vec<u8>) {
        self.queue(ClientOut::Frame(channel, frame));
    }

    fn send_datagram(&mut self, datagram: Vec<u8>) {
        self.queue(ClientOut::Datagram(datagram));
    }

    fn set_datagram_tap(&mut self, tap: DatagramTap) -> bool {
        *self.tap.lock().unwrap_or_else(|e| e.into_inner()) = Some(tap);
        true
    }

    fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn datagram_sender(&self) -> Option<crate::link::DatagramSender> {
        let (outgoing, dropped) = (self.outgoing.clone(), self.dropped.clone());
        Some(Arc::new(move |datagram| {
            if outgoing.try_send(ClientOut::Datagram(datagram)).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        }))
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
        self.queue(ClientOut::Close(reason));
    }
}

impl Drop for QuicClient {
    fn drop(&mut self) {
        let _ = self.outgoing.try_send(ClientOut::Close(CloseReason::Left));
        if let Some(runtime) = self.runtime.take() {
            // Let the close reach the server, on a thread of its own: the caller
            // may be the render thread, and a headset must never freeze.
            let _ = std::thread::Builder::new()
                .name("tsunagu-quic-client-close".into())
                .spawn(move || runtime.shutdown_timeout(Duration::from_millis(300)));
        }
    }
}

/// Where what arrives goes: the app's inbox (and how much did not fit), and
/// the tap that sees datagrams first.
#[derive(Clone)]
pub(crate) struct ToApp {
    pub(crate) inbox: std_mpsc::SyncSender<LinkEvent>,
    pub(crate) dropped: Arc<AtomicU64>,
    pub(crate) tap: Tap,
}

impl ToApp {
    /// Hand on what arrived: a datagram to the tap or, if it does not fit,
    /// dropped and counted; a frame is never dropped: wait for the app to
    /// read (the wait reaches the server as flow control, and it closes us
    /// if we lag).
    pub(crate) fn deliver(&self, event: LinkEvent) -> Delivered {
        if let LinkEvent::Datagram(datagram) = &event {
            let tap = self.tap.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if tap.is_some_and(|tap| tap(datagram)) {
                return Delivered::Taken;
            }
            return match self.inbox.try_send(event) {
                Err(std_mpsc::TrySendError::Disconnected(_)) => Delivered::Stop,
                Err(std_mpsc::TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    Delivered::Taken
                }
                Ok(()) => Delivered::Taken,
            };
        }
        match tokio::task::block_in_place(|| self.inbox.send(event)) {
            Ok(()) => Delivered::Taken,
            Err(_) => Delivered::Stop,
        }
    }
}

async fn run_client(
    invite: Invite,
    timeout: Duration,
    local: Option<std::net::IpAddr>,
    stats: WireStats,
    to_app: ToApp,
    outgoing: Receiver<ClientOut>,
    up: Arc<AtomicBool>,
) {
    let end = match connect_and_serve(&invite, timeout, local, &stats, &to_app, outgoing, &up).await {
        Ok((end, endpoint)) => {
            send_end(&to_app.inbox, end).await;
            endpoint.wait_idle().await;
            return;
        }
        Err(end) => end,
    };
    send_end(&to_app.inbox, end).await;
}

/// The end of a connection must reach the app: wait for room, off the worker.
pub(crate) async fn send_end(inbox: &std_mpsc::SyncSender<LinkEvent>, end: LinkEnd) {
    let inbox = inbox.clone();
    let _ = tokio::task::spawn_blocking(move || inbox.send(LinkEvent::Closed(end))).await;
}

/// Connect, then carry traffic until the connection ends; `Err` if it never started.
async fn connect_and_serve(
    invite: &Invite,
    timeout: Duration,
    local: Option<std::net::IpAddr>,
    stats: &WireStats,
    to_app: &ToApp,
    mut outgoing: Receiver<ClientOut>,
    up: &AtomicBool,
) -> Result<(LinkEnd, Endpoint), LinkEnd> {
    let addr = tokio::net::lookup_host((invite.host.as_str(), invite.port)).await.ok().and_then(|mut a| a.next()).ok_or(LinkEnd::Unreachable)?;
    let (tls, mismatch) = PinnedCertificate::client_config(invite.fingerprint, ALPN)?;
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).map_err(|_| LinkEnd::Lost)?;
    let mut client_config = quinn::ClientConfig::new(Arc::new(crypto));
    client_config.transport_config(transport_config());
    let any: SocketAddr = if addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let bind = local.map_or(any, |ip| SocketAddr::new(ip, 0));
    let endpoint = Endpoint::client(bind).map_err(|_| LinkEnd::Lost)?;
    let connecting = endpoint.connect_with(client_config, addr, "tsunagu").map_err(|_| LinkEnd::Unreachable)?;
    let connection = match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(if mismatch.load(Ordering::Relaxed) { LinkEnd::WrongCertificate } else { link_end(&e, false) }),
        Err(_) => return Err(LinkEnd::Unreachable),
    };
    stats.start(connection.clone());
    let (mut control, control_recv) = connection.open_bi().await.map_err(|_| LinkEnd::Lost)?;
    up.store(true, Ordering::Relaxed);

    let deliver = {
        let to_app = to_app.clone();
        move |event: LinkEvent| to_app.deliver(event)
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
    Ok((link_end(&error, false), endpoint))
}
