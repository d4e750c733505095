//! Frames on streams (a 4-byte big-endian length, then that many bytes) and
//! datagrams, read on the transport's thread and handed on as they arrive.

use quinn::{Connection, ConnectionError, RecvStream, SendStream, VarInt};
use tsunagu_protocol::CloseReason;
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};

use crate::link::{Channel, Datagram, LinkEnd, LinkEvent};

/// What became of something handed on.
pub(crate) enum Delivered {
    /// Taken (or, for a datagram, dropped and counted): go on reading.
    Taken,
    /// Stop reading: the connection is being closed, or nobody listens.
    Stop,
}

pub(super) async fn read_frame(recv: &mut RecvStream) -> Result<Option<Vec<u8>>, &'static str> {
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

pub(super) async fn write_frame(send: &mut SendStream, frame: &[u8]) -> Result<(), quinn::WriteError> {
    send.write_all(&(frame.len() as u32).to_be_bytes()).await?;
    send.write_all(frame).await
}

pub(super) fn close_with(connection: &Connection, reason: CloseReason) {
    connection.close(VarInt::from_u32(reason.code()), reason.text().as_bytes());
}

pub(super) fn link_end(error: &ConnectionError, wrong_certificate: bool) -> LinkEnd {
    match error {
        ConnectionError::ApplicationClosed(close) => {
            CloseReason::from_code(close.error_code.into_inner()).map(LinkEnd::Reason).unwrap_or(LinkEnd::Lost)
        }
        ConnectionError::TimedOut => LinkEnd::TimedOut,
        ConnectionError::ConnectionClosed(close) if close.error_code == quinn::TransportErrorCode::CONNECTION_REFUSED => LinkEnd::Busy,
        ConnectionError::LocallyClosed => LinkEnd::Reason(CloseReason::Left),
        _ if wrong_certificate => LinkEnd::WrongCertificate,
        _ => LinkEnd::Lost,
    }
}

/// Reads frames from `recv` and hands them on; a framing violation closes the
/// connection at once.
pub(super) async fn frame_reader(mut recv: RecvStream, channel: Channel, connection: Connection, deliver: impl Fn(LinkEvent) -> Delivered) {
    loop {
        match read_frame(&mut recv).await {
            Ok(Some(frame)) => {
                if let Delivered::Stop = deliver(LinkEvent::Frame(channel, frame)) {
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

/// Reads datagrams, stamps their arrival and kind, and hands them on. One
/// over the protocol's size is a violation that closes the connection (it
/// was once dropped before the traffic limits counted it, so a flood of them
/// was never closed).
pub(super) async fn datagram_reader(connection: Connection, deliver: impl Fn(LinkEvent) -> Delivered) {
    while let Ok(bytes) = connection.read_datagram().await {
        if bytes.len() > MAX_DATAGRAM_BYTES {
            tracing::warn!("closing a connection: a datagram over the size limit");
            close_with(&connection, CloseReason::ProtocolViolation);
            return;
        }
        if matches!(deliver(LinkEvent::Datagram(Datagram::arriving(bytes.to_vec()))), Delivered::Stop) {
            return;
        }
    }
}
