//! The client's side of the room protocol over one [`ClientLink`]: say Hello,
//! wait for Welcome, then trade poses and events. One session is one
//! connection; [`crate::ClientCore`] starts a new one for each reconnect.

use std::time::Instant;

use tsunagu_net::{Channel, ClientLink, Datagram, LinkEnd, LinkEvent};
use tsunagu_protocol::delta::{View, ViewHistory, decode_avatars, decode_objects};
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{
    AvatarPose, ClientControl, ClientDatagram, ClientEvent, CloseReason, DatagramKind, Hello, PeerId, PoseFrame, RejectReason, RoomSnapshot,
    ServerControl, ServerDatagram, ServerEvent, VoiceFrame, Welcome, decode, encode,
};

/// What one connection delivered, decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// We are in the room.
    Joined(Welcome),
    /// The server said no.
    Rejected(RejectReason),
    /// The room has a waiting room: a facilitator will let us in (or not).
    Waiting,
    /// A reliable room event (joins, leaves, changes, refusals).
    Event(ServerEvent),
    /// A newer snapshot of the room, decoded, and when it came off the network.
    Snapshot(RoomSnapshot, Instant),
    /// The server's answer to an echo we sent, and when it came off the network.
    Echo(u32, Instant),
    /// Someone's voice frame, and when it came off the network.
    Voice(PeerId, VoiceFrame, Instant),
    /// The connection is over.
    Closed(LinkEnd),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Joining,
    InRoom,
    Over,
}

/// One connection's conversation with a room.
pub struct Session {
    link: Box<dyn ClientLink>,
    state: State,
    next_seq: u32,
    newest_tick: Option<u32>,
    /// Events that arrived before Welcome (the streams are not ordered with each other).
    early_events: Vec<ServerEvent>,
    /// What we hold after each recent snapshot: the bases the server codes against.
    views: ViewHistory,
    /// Bytes of every snapshot datagram that arrived (for measuring bandwidth).
    snapshot_bytes: u64,
    /// Bytes of the snapshots' `objects` fields (the shared things), field header included.
    object_bytes: u64,
    /// The newest base the server coded against: proof it hears our acks.
    newest_base: Option<u32>,
}

impl Session {
    /// Start: sends `hello` on the control channel.
    pub fn start(mut link: Box<dyn ClientLink>, hello: &Hello) -> Self {
        match encode(&ClientControl::Hello(hello.clone()), MAX_FRAME_BYTES) {
            Ok(frame) => link.send(Channel::Control, frame),
            // Only an over-long field of our own can fail; the join deadline reports it.
            Err(_) => tracing::error!("could not encode Hello"),
        }
        Session {
            link,
            state: State::Joining,
            next_seq: 0,
            newest_tick: None,
            early_events: Vec::new(),
            views: ViewHistory::default(),
            snapshot_bytes: 0,
            object_bytes: 0,
            newest_base: None,
        }
    }

    /// The newest snapshot the server has coded against, i.e. the newest of
    /// our acknowledgements it has shown it heard.
    pub fn newest_base(&self) -> Option<u32> {
        self.newest_base
    }

    /// Bytes of snapshot datagrams received on this connection.
    pub fn snapshot_bytes(&self) -> u64 {
        self.snapshot_bytes
    }

    /// Bytes of snapshots that carried the room's things (their field only).
    pub fn object_bytes(&self) -> u64 {
        self.object_bytes
    }

    /// True once Welcome has arrived and until the connection ends.
    pub fn in_room(&self) -> bool {
        self.state == State::InRoom
    }

    /// Drain everything the link delivered since the last call into `out`.
    pub fn poll(&mut self, out: &mut Vec<SessionEvent>) {
        while self.state != State::Over {
            let Some(event) = self.link.try_recv() else { break };
            if let Err(what) = self.handle(event, out) {
                // The kind only: a message's text may hold people's names.
                tracing::warn!("the server broke the protocol: {what}");
                self.link.close(CloseReason::ProtocolViolation);
                self.state = State::Over;
                out.push(SessionEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation)));
            }
        }
    }

    fn handle(&mut self, event: LinkEvent, out: &mut Vec<SessionEvent>) -> Result<(), &'static str> {
        match event {
            LinkEvent::Frame(Channel::Control, bytes) => {
                match decode::<ServerControl>(&bytes, MAX_FRAME_BYTES).map_err(|_| "an undecodable control frame")? {
                    ServerControl::Welcome(welcome) if self.state == State::Joining => {
                        self.state = State::InRoom;
                        out.push(SessionEvent::Joined(welcome));
                        out.extend(self.early_events.drain(..).map(SessionEvent::Event));
                    }
                    ServerControl::Rejected(reason) if self.state == State::Joining => {
                        self.state = State::Over;
                        out.push(SessionEvent::Rejected(reason));
                    }
                    ServerControl::Waiting if self.state == State::Joining => out.push(SessionEvent::Waiting),
                    ServerControl::Waiting => return Err("Waiting after Welcome"),
                    ServerControl::Closing(reason) => {
                        self.state = State::Over;
                        out.push(SessionEvent::Closed(LinkEnd::Reason(reason)));
                    }
                    ServerControl::Welcome(_) => return Err("a second Welcome"),
                    ServerControl::Rejected(_) => return Err("Rejected after Welcome"),
                }
            }
            LinkEvent::Frame(Channel::Events, bytes) => {
                let event = decode::<ServerEvent>(&bytes, MAX_FRAME_BYTES).map_err(|_| "an undecodable event")?;
                if self.state == State::InRoom {
                    out.push(SessionEvent::Event(event));
                } else if self.early_events.len() < tsunagu_protocol::limits::MAX_PEERS * 2 {
                    self.early_events.push(event);
                } else {
                    return Err("too many events before Welcome");
                }
            }
            LinkEvent::Datagram(Datagram { bytes, arrived, kind }) => {
                if kind == DatagramKind::Snapshot {
                    self.snapshot_bytes += bytes.len() as u64;
                }
                // A snapshot before Welcome is dropped (it is not acknowledged, so
                // nothing is coded against it); a bad one is dropped, not fatal:
                // it may be corruption, not malice.
                if self.state != State::InRoom {
                    return Ok(());
                }
                let snapshot = match decode(&bytes, MAX_DATAGRAM_BYTES) {
                    Ok(ServerDatagram::Snapshot(snapshot)) => snapshot,
                    Ok(ServerDatagram::Echo(nonce)) => {
                        out.push(SessionEvent::Echo(nonce, arrived));
                        return Ok(());
                    }
                    Ok(ServerDatagram::Voice(from, frame)) => {
                        out.push(SessionEvent::Voice(from, frame, arrived));
                        return Ok(());
                    }
                    Err(_) => return Ok(()),
                };
                if self.newest_tick.is_some_and(|t| !tick_is_newer(snapshot.tick, t)) {
                    return Ok(());
                }
                let empty = View::default();
                let base = match snapshot.base_ago {
                    0 => Some(&empty),
                    ago => self.views.get(snapshot.tick.wrapping_sub(u32::from(ago))),
                };
                // A base we never got (it can only be one we did not acknowledge):
                // this snapshot cannot be read; the next one will be.
                let Some(base) = base else { return Ok(()) };
                let Ok(avatars) = decode_avatars(base, snapshot.tick, usize::from(snapshot.count), &snapshot.poses) else {
                    return Ok(());
                };
                let Ok(objects) = decode_objects(base, snapshot.tick, &snapshot.objects) else { return Ok(()) };
                if !snapshot.objects.is_empty() {
                    // The bin's header: 2 bytes up to 255, 3 beyond.
                    self.object_bytes += snapshot.objects.len() as u64 + if snapshot.objects.len() > 255 { 3 } else { 2 };
                }
                let view = base.then_with(snapshot.tick, &avatars, &objects);
                self.views.record(snapshot.tick, view);
                if snapshot.base_ago > 0 {
                    let base_tick = snapshot.tick.wrapping_sub(u32::from(snapshot.base_ago));
                    if self.newest_base.is_none_or(|b| tick_is_newer(base_tick, b)) {
                        self.newest_base = Some(base_tick);
                    }
                }
                self.newest_tick = Some(snapshot.tick);
                out.push(SessionEvent::Snapshot(RoomSnapshot { tick: snapshot.tick, avatars, objects }, arrived));
            }
            LinkEvent::Closed(reason) => {
                self.state = State::Over;
                out.push(SessionEvent::Closed(reason));
            }
        }
        Ok(())
    }

    /// Send my pose (as a datagram; a lost one is replaced by the next).
    pub fn send_pose(&mut self, pose: AvatarPose) {
        if self.state != State::InRoom {
            return;
        }
        let frame = PoseFrame { seq: self.next_seq, ack_tick: self.newest_tick.unwrap_or(0), pose };
        self.next_seq = self.next_seq.wrapping_add(1);
        if let Ok(bytes) = encode(&ClientDatagram::Pose(frame), MAX_DATAGRAM_BYTES) {
            self.link.send_datagram(bytes);
        }
    }

    /// Ask the server to send `nonce` straight back.
    pub fn send_echo(&mut self, nonce: u32) {
        if self.state == State::InRoom
            && let Ok(bytes) = encode(&ClientDatagram::Echo(nonce), MAX_DATAGRAM_BYTES)
        {
            self.link.send_datagram(bytes);
        }
    }

    /// Send 20 ms of my voice (as a datagram: a late frame is worth nothing).
    pub fn send_voice(&mut self, frame: VoiceFrame) {
        if self.state == State::InRoom
            && let Ok(bytes) = encode(&ClientDatagram::Voice(frame), MAX_DATAGRAM_BYTES)
        {
            self.link.send_datagram(bytes);
        }
    }

    /// Show this connection's arriving datagrams to `tap` first, on the
    /// transport's thread (see `tsunagu_net::DatagramTap`). Returns whether
    /// the transport does.
    pub fn set_datagram_tap(&mut self, tap: tsunagu_net::DatagramTap) -> bool {
        self.link.set_datagram_tap(tap)
    }

    /// A sender for our voice on this connection that any thread may use
    /// (only once we are in the room; `None` if the transport has none).
    pub fn voice_sender(&self) -> Option<crate::VoiceSender> {
        if self.state != State::InRoom {
            return None;
        }
        let datagrams = self.link.datagram_sender()?;
        Some(std::sync::Arc::new(move |frame: VoiceFrame| {
            if let Ok(bytes) = encode(&ClientDatagram::Voice(frame), MAX_DATAGRAM_BYTES) {
                datagrams(bytes);
            }
        }))
    }

    /// Send a room event on the reliable events stream.
    pub fn send_event(&mut self, event: &ClientEvent) {
        if self.state != State::InRoom {
            return;
        }
        if let Ok(bytes) = encode(event, MAX_FRAME_BYTES) {
            self.link.send(Channel::Events, bytes);
        }
    }

    /// Leave politely.
    pub fn leave(&mut self) {
        self.end(CloseReason::Left);
    }

    /// Give up on this connection but not on the room: the server keeps our
    /// place for the resume token.
    pub fn abandon(&mut self) {
        self.end(CloseReason::Reconnecting);
    }

    fn end(&mut self, reason: CloseReason) {
        if self.state == State::Over {
            return;
        }
        if reason == CloseReason::Left
            && let Ok(bytes) = encode(&ClientControl::Bye, MAX_FRAME_BYTES)
        {
            self.link.send(Channel::Control, bytes);
        }
        self.link.close(reason);
        self.state = State::Over;
    }
}

/// Tick comparison that survives wrap-around (ticks run for years at 30 Hz
/// before wrapping, but a comparison should never be the thing that breaks).
pub fn tick_is_newer(tick: u32, than: u32) -> bool {
    tick != than && tick.wrapping_sub(than) < u32::MAX / 2
}
