//! One WebSocket connection at the server: TLS and the upgrade within the
//! handshake deadline, the first message within the control deadline, then
//! reading (counted against the traffic limits as it arrives, exactly as
//! QUIC's) and writing from the outbox, with a deadline on each write so a
//! peer that stops reading is closed rather than buffered for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tsunagu_protocol::CloseReason;

use super::outbox::{Next, Outbox};
use super::{IDLE_TIMEOUT, PATH, SUBPROTOCOL, WRITE_DEADLINE, close_code, read_message, ws_config};
use crate::limits::TrafficAllowance;
use crate::link::{ConnId, LinkEnd, LinkEvent, ServerLinkEvent};
use crate::quic::server::{Admitted, HANDSHAKE_DEADLINE, ServerConn, Shared, Way, announce, deliver};
use crate::quic::{CONTROL_DEADLINE, OUTBOX_CAPACITY};

/// Only our path and subprotocol are upgraded; anything else (a browser, a
/// scanner) gets a plain refusal.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
fn check_upgrade(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let offers_ours = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL);
    if request.uri().path() != PATH || !offers_ours {
        let mut refusal = ErrorResponse::new(Some("this is a Tsunagu room server\n".into()));
        *refusal.status_mut() = StatusCode::NOT_FOUND;
        return Err(refusal);
    }
    response.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(SUBPROTOCOL));
    Ok(response)
}

pub(crate) async fn serve_wss(
    id: ConnId,
    address: u64,
    tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Shared,
    pending: &AtomicUsize,
    mut admitted: Admitted,
) {
    // Voice and poses must not wait for a full segment.
    let _ = tcp.set_nodelay(true);
    let handshake = async {
        let tls = acceptor.accept(tcp).await.ok()?;
        tokio_tungstenite::accept_hdr_async_with_config(tls, check_upgrade, Some(ws_config())).await.ok()
    };
    let ws = tokio::time::timeout(HANDSHAKE_DEADLINE, handshake).await.ok().flatten();
    pending.fetch_sub(1, Ordering::Relaxed);
    admitted.handshake_over();
    let Some(ws) = ws else { return };
    let (mut sink, mut stream) = ws.split();

    let outbox = Arc::new(Outbox::new(OUTBOX_CAPACITY));
    shared.registry.lock().unwrap_or_else(|e| e.into_inner()).insert(id, ServerConn { address, way: Way::Wss(outbox.clone()) });
    announce(&shared, ServerLinkEvent::Connected(id)).await;

    let mut writer = {
        let (outbox, shared) = (outbox.clone(), shared.clone());
        tokio::spawn(async move {
            loop {
                match outbox.next().await {
                    Next::Message(bytes) => match tokio::time::timeout(WRITE_DEADLINE, sink.send(Message::Binary(bytes.into()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return,
                        Err(_) => {
                            // It stopped reading what we write.
                            shared.drops.connections_closed.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    },
                    Next::Close(reason) => {
                        let frame = CloseFrame { code: CloseCode::from(close_code(reason)), reason: reason.text().into() };
                        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame)))).await;
                        return;
                    }
                }
            }
        })
    };

    let allowance = Mutex::new(TrafficAllowance::new(shared.traffic, shared.started.elapsed()));
    let close = |reason| outbox.close(reason);
    let mut first = true;
    let mut writer_done = false;
    // The client speaks first (its Hello) by then, pings or not; then at least pings.
    let hello_by = tokio::time::Instant::now() + CONTROL_DEADLINE;
    let end = loop {
        let deadline = if first { hello_by } else { tokio::time::Instant::now() + IDLE_TIMEOUT };
        let read = tokio::select! {
            // The writer said goodbye (or could not write): nothing more to read.
            _ = &mut writer => {
                writer_done = true;
                break outbox.closing().map_or(LinkEnd::Lost, LinkEnd::Reason);
            }
            read = tokio::time::timeout_at(deadline, stream.next()) => read,
        };
        let message = match read {
            Ok(Some(Ok(message))) => message,
            // Over the size limit: a broken client, told so.
            Ok(Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(_)))) => {
                tracing::warn!("closing a connection: a message over the size limit");
                outbox.close(CloseReason::ProtocolViolation);
                break LinkEnd::Reason(CloseReason::ProtocolViolation);
            }
            Ok(Some(Err(_))) | Ok(None) => break LinkEnd::Lost,
            Err(_) if first => {
                outbox.close(CloseReason::ProtocolViolation);
                break LinkEnd::Reason(CloseReason::ProtocolViolation);
            }
            Err(_) => break LinkEnd::TimedOut,
        };
        match message {
            // The network check times its answer; it never joins.
            Message::Binary(bytes) if first && bytes.first() == Some(&(super::Tag::Measure as u8)) => {
                first = false;
                outbox.answer_measure();
            }
            Message::Binary(bytes) => match read_message(&bytes) {
                Ok(event) => {
                    first = false;
                    if let crate::quic::framing::Delivered::Stop = deliver(&shared, id, &allowance, &close, event) {
                        break LinkEnd::Lost;
                    }
                }
                Err(why) => {
                    tracing::warn!("closing a connection: {why}");
                    outbox.close(CloseReason::ProtocolViolation);
                    break LinkEnd::Reason(CloseReason::ProtocolViolation);
                }
            },
            Message::Close(frame) => {
                break frame.and_then(|f| super::close_reason(f.code.into())).map_or(LinkEnd::Reason(CloseReason::Left), LinkEnd::Reason);
            }
            // Pings are answered by the library as it reads.
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Text(_) | Message::Frame(_) => {
                outbox.close(CloseReason::ProtocolViolation);
                break LinkEnd::Reason(CloseReason::ProtocolViolation);
            }
        }
    };
    if !writer_done {
        // Let what is queued and a goodbye go out, briefly.
        outbox.close(CloseReason::Left);
        if tokio::time::timeout(Duration::from_secs(1), &mut writer).await.is_err() {
            writer.abort();
        }
    }
    announce(&shared, ServerLinkEvent::Received(id, LinkEvent::Closed(end))).await;
    // Read what the peer still sends for a moment before letting go: closing a
    // socket with unread bytes resets it, and the reset can overtake our close
    // frame, so a flooder would hear "lost" instead of why (seen in CI).
    let _ = tokio::time::timeout(LINGER, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}

/// How long a closed connection's unread bytes are drained (see `serve_wss`).
const LINGER: Duration = Duration::from_millis(500);
