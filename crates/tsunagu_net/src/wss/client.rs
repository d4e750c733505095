//! The client end of the WebSocket transport: TCP (straight, or through a
//! proxy's CONNECT), TLS accepting only the invite's pinned certificate, the
//! WebSocket upgrade, then frames and datagrams through the outbox, on a
//! small runtime of its own like the QUIC client.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tsunagu_protocol::CloseReason;

use super::outbox::{Next, Outbox};
use super::proxy::{ProxyChoice, ProxyError, connect_through};
use super::{IDLE_TIMEOUT, KEEP_ALIVE, PATH, SUBPROTOCOL, WRITE_DEADLINE, close_code, close_reason, read_message, ws_config};
use crate::invite::Invite;
use crate::link::{Channel, ClientLink, DatagramSender, DatagramTap, LinkEnd, LinkEvent};
use crate::quic::client::{PinnedCertificate, Tap, ToApp, send_end};
use crate::quic::framing::Delivered;
use crate::quic::{INBOX_CAPACITY, OUTBOX_CAPACITY};

/// A client connection to a room server over WebSocket and TLS; implements
/// [`ClientLink`]. Connecting happens in the background: frames sent before
/// it is up are queued, and failure arrives as [`LinkEvent::Closed`].
pub struct WssClient {
    inbox: std_mpsc::Receiver<LinkEvent>,
    outbox: Arc<Outbox>,
    closed: bool,
    up: Arc<AtomicBool>,
    runtime: Option<tokio::runtime::Runtime>,
    tap: Tap,
    /// Resolves when the connection's task has ended (its goodbye written).
    done: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl WssClient {
    /// Start connecting to `invite`'s room at TCP `port`, through the proxy
    /// `proxy` chooses; no WebSocket within `timeout` is reported as unreachable.
    pub fn connect(invite: &Invite, port: u16, proxy: &ProxyChoice, timeout: Duration) -> Result<WssClient, String> {
        Self::connect_from(invite, port, proxy, timeout, None)
    }

    /// The same, straight from a given local address (tests and benches on
    /// loopback use 127.0.1.x to stand in for other hosts).
    pub fn connect_from(
        invite: &Invite,
        port: u16,
        proxy: &ProxyChoice,
        timeout: Duration,
        local: Option<std::net::IpAddr>,
    ) -> Result<WssClient, String> {
        let runtime = crate::quic::runtime("tsunagu-wss-client", 1).map_err(|e| e.to_string())?;
        let (to_inbox, inbox) = std_mpsc::sync_channel(INBOX_CAPACITY);
        let outbox = Arc::new(Outbox::new(OUTBOX_CAPACITY * 4));
        let up = Arc::new(AtomicBool::new(false));
        let tap = Tap::default();
        let to_app = ToApp { inbox: to_inbox, dropped: Arc::new(AtomicU64::new(0)), tap: tap.clone() };
        let target = Target { invite: invite.clone(), port, proxy: proxy.clone(), timeout, local };
        let (finished, done) = tokio::sync::oneshot::channel();
        let (task_outbox, task_up) = (outbox.clone(), up.clone());
        runtime.spawn(async move {
            run(target, to_app, task_outbox, task_up).await;
            drop(finished);
        });
        Ok(WssClient { inbox, outbox, closed: false, up, runtime: Some(runtime), tap, done: Some(done) })
    }

    /// Datagrams dropped so far (stale voice, superseded poses).
    pub fn dropped(&self) -> u64 {
        self.outbox.dropped()
    }
}

impl ClientLink for WssClient {
    fn send(&mut self, channel: Channel, frame: Vec<u8>) {
        if !self.outbox.frame(channel, frame) {
            // Not even the queue keeps up: the link is as good as gone.
            self.outbox.close(CloseReason::TooSlow);
        }
    }

    fn send_datagram(&mut self, datagram: Vec<u8>) {
        self.outbox.datagram(datagram);
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
        self.outbox.close(reason);
    }

    fn datagram_sender(&self) -> Option<DatagramSender> {
        let outbox = self.outbox.clone();
        Some(Arc::new(move |datagram| outbox.datagram(datagram)))
    }

    fn set_datagram_tap(&mut self, tap: DatagramTap) -> bool {
        *self.tap.lock().unwrap_or_else(|e| e.into_inner()) = Some(tap);
        true
    }

    fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }
}

impl Drop for WssClient {
    fn drop(&mut self) {
        // A reason already given (Reconnecting, say) stands.
        self.outbox.close(CloseReason::Left);
        if let Some(runtime) = self.runtime.take() {
            let done = self.done.take();
            // The goodbye goes out on a thread of its own (the caller may be
            // the render thread), and is waited for: shutting the runtime
            // down cancels its tasks, and a WebSocket that ends without its
            // close frame is, to the room, someone who dropped (their friends
            // would see them leave) rather than one coming back.
            let _ = std::thread::Builder::new().name("tsunagu-wss-client-close".into()).spawn(move || {
                if let Some(done) = done {
                    runtime.block_on(async {
                        let _ = tokio::time::timeout(GOODBYE_WAIT, done).await;
                    });
                }
                runtime.shutdown_timeout(Duration::from_millis(100));
            });
        }
    }
}

/// How long a dropped client waits for its close frame to be written.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

struct Target {
    invite: Invite,
    port: u16,
    proxy: ProxyChoice,
    timeout: Duration,
    local: Option<std::net::IpAddr>,
}

impl From<ProxyError> for LinkEnd {
    fn from(error: ProxyError) -> LinkEnd {
        match error {
            ProxyError::Unreachable => LinkEnd::ProxyUnreachable,
            ProxyError::NeedsPassword => LinkEnd::ProxyNeedsPassword,
            ProxyError::Refused(_) | ProxyError::Garbled => LinkEnd::ProxyRefused,
        }
    }
}

async fn connect_direct(host: &str, port: u16, local: Option<std::net::IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = local else { return TcpStream::connect((host, port)).await };
    let addr = tokio::net::lookup_host((host, port)).await?.next().ok_or(std::io::ErrorKind::NotFound)?;
    let socket = if local.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.bind(std::net::SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>;

async fn open(target: &Target) -> Result<Ws, LinkEnd> {
    let Target { invite, port, proxy, timeout, local } = target;
    let work = async {
        let tcp = match proxy.for_target(&invite.host, *port) {
            Some(proxy) => connect_through(&proxy, &invite.host, *port, *timeout).await?,
            None => connect_direct(&invite.host, *port, *local).await.map_err(|_| LinkEnd::Unreachable)?,
        };
        let _ = tcp.set_nodelay(true);
        let (tls, mismatch) = PinnedCertificate::client_config(invite.fingerprint, b"http/1.1")?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
        // The certificate is pinned, not checked against a name: any name will do.
        let name = rustls::pki_types::ServerName::try_from("tsunagu").map_err(|_| LinkEnd::Lost)?;
        let tls = match connector.connect(name, tcp).await {
            Ok(tls) => tls,
            // Something between us and the room showed its own certificate:
            // a TLS-inspecting proxy or firewall. Nothing of ours was sent.
            Err(_) if mismatch.load(Ordering::Relaxed) => return Err(LinkEnd::Intercepted),
            Err(_) => return Err(LinkEnd::Unreachable),
        };
        let host = if invite.host.contains(':') { format!("[{}]", invite.host) } else { invite.host.clone() };
        let mut request = format!("wss://{host}:{port}{PATH}").into_client_request().map_err(|_| LinkEnd::Lost)?;
        request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(SUBPROTOCOL));
        let (ws, _) = tokio_tungstenite::client_async_with_config(request, tls, Some(ws_config())).await.map_err(|_| LinkEnd::Unreachable)?;
        Ok(ws)
    };
    tokio::time::timeout(*timeout, work).await.unwrap_or(Err(LinkEnd::Unreachable))
}

async fn run(target: Target, to_app: ToApp, outbox: Arc<Outbox>, up: Arc<AtomicBool>) {
    let ws = match open(&target).await {
        Ok(ws) => ws,
        Err(end) => {
            send_end(&to_app.inbox, end).await;
            return;
        }
    };
    up.store(true, Ordering::Relaxed);
    let (mut sink, mut stream) = ws.split();
    let mut writer = tokio::spawn({
        let outbox = outbox.clone();
        async move {
            let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
            ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let next = tokio::select! {
                    next = outbox.next() => next,
                    _ = ping.tick() => Next::Message(Vec::new()),
                };
                let message = match next {
                    // An empty message never leaves the outbox: it stands for a ping.
                    Next::Message(bytes) if bytes.is_empty() => Message::Ping(Vec::new().into()),
                    Next::Message(bytes) => Message::Binary(bytes.into()),
                    Next::Close(reason) => {
                        let frame = CloseFrame { code: CloseCode::from(close_code(reason)), reason: reason.text().into() };
                        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame)))).await;
                        return Some(reason);
                    }
                };
                if !matches!(tokio::time::timeout(WRITE_DEADLINE, sink.send(message)).await, Ok(Ok(()))) {
                    return None;
                }
            }
        }
    });
    let end = loop {
        let read = tokio::select! {
            closed = &mut writer => break match closed {
                Ok(Some(CloseReason::Left)) => LinkEnd::Reason(CloseReason::Left),
                Ok(Some(reason)) => LinkEnd::Reason(reason),
                _ => LinkEnd::Lost,
            },
            read = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => read,
        };
        match read {
            Ok(Some(Ok(Message::Binary(bytes)))) => match read_message(&bytes) {
                Ok(event) => {
                    if let Delivered::Stop = to_app.deliver(event) {
                        break LinkEnd::Lost;
                    }
                }
                Err(why) => {
                    tracing::warn!("closing the connection: the server broke the framing ({why})");
                    outbox.close(CloseReason::ProtocolViolation);
                    break LinkEnd::Lost;
                }
            },
            Ok(Some(Ok(Message::Close(frame)))) => {
                break frame.and_then(|f| close_reason(f.code.into())).map_or(LinkEnd::Lost, LinkEnd::Reason);
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => break LinkEnd::Lost,
            Err(_) => break LinkEnd::TimedOut,
        }
    };
    writer.abort();
    send_end(&to_app.inbox, end).await;
}

/// A rough measure of a link's speed, over the WebSocket (TCP), kbit/s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    /// From the room to this PC.
    pub down_kbit_s: u32,
    /// From this PC to the room.
    pub up_kbit_s: u32,
}

/// The most a measure says: beyond it the check only says "fast enough".
const MEASURE_CEILING_KBIT_S: f64 = 100_000.0;

/// Time a speed measure ([`super::Tag::Measure`]) to `invite`'s room at TCP
/// `port`, as a new connection that says nothing to the room. `None` when it
/// could not connect or heard no answer within `timeout` (a partial answer
/// is still measured).
pub fn measure_bandwidth(invite: &Invite, port: u16, proxy: &ProxyChoice, timeout: Duration) -> Option<Bandwidth> {
    let runtime = crate::quic::runtime("tsunagu-wss-measure", 1).ok()?;
    let target = Target { invite: invite.clone(), port, proxy: proxy.clone(), timeout, local: None };
    let started = std::time::Instant::now();
    runtime.block_on(async move {
        let ws = open(&target).await.ok()?;
        let left = timeout.saturating_sub(started.elapsed());
        tokio::time::timeout(left, measure(ws)).await.ok().flatten()
    })
}

/// The upload sample, bytes.
const MEASURE_UP_BYTES: usize = 4 * 1024;

async fn measure(ws: Ws) -> Option<Bandwidth> {
    let (mut sink, mut stream) = ws.split();
    // One round trip first (the server's library answers a ping as it reads).
    let pinged = std::time::Instant::now();
    sink.send(Message::Ping(Vec::new().into())).await.ok()?;
    loop {
        match stream.next().await? {
            Ok(Message::Pong(_)) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    let round_trip = pinged.elapsed();
    // Small enough to arrive within the server's 1 s for a first message on
    // a 64 kbit/s line, large enough to time.
    let mut sample = vec![super::Tag::Measure as u8];
    sample.resize(MEASURE_UP_BYTES + 1, 0x55);
    let sent = std::time::Instant::now();
    sink.send(Message::Binary(sample.into())).await.ok()?;
    let (mut first, mut last, mut after_first) = (None, sent, 0usize);
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Binary(bytes) if bytes.first() == Some(&(super::Tag::Measure as u8)) => {
                let now = std::time::Instant::now();
                if first.is_none() {
                    first = Some(now);
                } else {
                    after_first += bytes.len();
                }
                last = now;
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    let first = first?;
    // Cut off before any filler came: nothing to say about the way down.
    if after_first == 0 {
        return None;
    }
    let kbit_s = |bytes: usize, seconds: f64| (bytes as f64 * 8.0 / 1000.0 / seconds.max(1e-6)).min(MEASURE_CEILING_KBIT_S);
    // Down: the filler, over the time from the first (tiny) answer to the last.
    let down = kbit_s(after_first, (last - first).as_secs_f64());
    // Up: the wait for that first answer, less one round trip.
    let up = kbit_s(MEASURE_UP_BYTES + 1, ((first - sent).saturating_sub(round_trip)).as_secs_f64());
    Some(Bandwidth { down_kbit_s: down.round() as u32, up_kbit_s: up.round() as u32 })
}
