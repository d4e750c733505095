//! The client's side of the room protocol over any [`ClientLink`]: say Hello,
//! wait for Welcome, then trade poses and events. Pure logic over the link, so
//! the stepper tests it without sockets or a window.

use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::delta::{View, ViewHistory, decode_avatars};
use tsunagu_protocol::{
    AvatarPose, ClientControl, ClientDatagram, CloseReason, Hello, PeerId, PeerInfo, PoseFrame,
    RejectReason, RoomSnapshot, ServerControl, ServerDatagram, ServerEvent, Welcome, decode, encode,
};

use crate::link::{Channel, ClientLink, LinkEnd, LinkEvent};

/// What the session tells the app.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// We are in the room.
    Joined(Welcome),
    /// The server said no.
    Rejected(RejectReason),
    /// Someone came in.
    PeerJoined(PeerInfo),
    /// Someone left.
    PeerLeft(PeerId),
    /// A newer snapshot of the room, decoded.
    Snapshot(RoomSnapshot),
    /// The connection is over.
    Closed(LinkEnd),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Joining,
    InRoom,
    Over,
}

/// One client's conversation with a room.
pub struct ClientSession {
    link: Box<dyn ClientLink>,
    state: State,
    next_seq: u32,
    newest_tick: Option<u32>,
    resume: Option<u64>,
    /// Events that arrived before Welcome (streams are not ordered with each other).
    early_events: Vec<ServerEvent>,
    /// What we hold after each recent snapshot: the bases the server codes against.
    views: ViewHistory,
    /// Bytes of every snapshot datagram that arrived (for measuring bandwidth).
    snapshot_bytes: u64,
}

impl ClientSession {
    /// Start joining: sends `hello` on the control channel.
    pub fn start(mut link: Box<dyn ClientLink>, hello: Hello) -> Self {
        let frame = encode(&ClientControl::Hello(hello), MAX_FRAME_BYTES);
        match frame {
            Ok(frame) => link.send(Channel::Control, frame),
            // Only an over-long field of our own can fail; the server will time us out.
            Err(e) => tracing::error!("could not encode Hello: {e}"),
        }
        ClientSession {
            link,
            state: State::Joining,
            next_seq: 0,
            newest_tick: None,
            resume: None,
            early_events: Vec::new(),
            views: ViewHistory::default(),
            snapshot_bytes: 0,
        }
    }

    /// The token for coming back after a dropped connection (from Welcome).
    pub fn resume_token(&self) -> Option<u64> {
        self.resume
    }

    /// Bytes of snapshot datagrams received so far.
    pub fn snapshot_bytes(&self) -> u64 {
        self.snapshot_bytes
    }

    /// True once Welcome has arrived and until the connection ends.
    pub fn in_room(&self) -> bool {
        self.state == State::InRoom
    }

    /// Drain everything the link delivered since the last call.
    pub fn poll(&mut self) -> Vec<SessionEvent> {
        let mut out = Vec::new();
        while self.state != State::Over {
            let Some(event) = self.link.try_recv() else { break };
            if let Err(reason) = self.handle(event, &mut out) {
                tracing::warn!("the server broke the protocol: {reason}");
                self.link.close(CloseReason::ProtocolViolation);
                self.state = State::Over;
                out.push(SessionEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation)));
            }
        }
        out
    }

    fn handle(&mut self, event: LinkEvent, out: &mut Vec<SessionEvent>) -> Result<(), String> {
        match event {
            LinkEvent::Frame(Channel::Control, bytes) => {
                match decode::<ServerControl>(&bytes, MAX_FRAME_BYTES).map_err(|e| e.to_string())? {
                    ServerControl::Welcome(welcome) if self.state == State::Joining => {
                        self.state = State::InRoom;
                        self.resume = Some(welcome.resume);
                        out.push(SessionEvent::Joined(welcome));
                        out.extend(self.early_events.drain(..).map(event_to_session));
                    }
                    ServerControl::Rejected(reason) if self.state == State::Joining => {
                        self.state = State::Over;
                        out.push(SessionEvent::Rejected(reason));
                    }
                    ServerControl::Closing(reason) => {
                        self.state = State::Over;
                        out.push(SessionEvent::Closed(LinkEnd::Reason(reason)));
                    }
                    other => return Err(format!("unexpected {other:?}")),
                }
            }
            LinkEvent::Frame(Channel::Events, bytes) => {
                let event = decode::<ServerEvent>(&bytes, MAX_FRAME_BYTES).map_err(|e| e.to_string())?;
                if self.state == State::InRoom {
                    out.push(event_to_session(event));
                } else {
                    self.early_events.push(event);
                }
            }
            LinkEvent::Datagram(bytes) => {
                self.snapshot_bytes += bytes.len() as u64;
                // A bad datagram is dropped, not fatal: it may be corruption, not malice.
                let Ok(ServerDatagram::Snapshot(snapshot)) = decode(&bytes, MAX_DATAGRAM_BYTES) else {
                    return Ok(());
                };
                let is_newer = self.newest_tick.is_none_or(|t| snapshot.tick > t);
                if self.state != State::InRoom || !is_newer {
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
                let view = base.then(snapshot.tick, &avatars);
                self.views.record(snapshot.tick, view);
                self.newest_tick = Some(snapshot.tick);
                out.push(SessionEvent::Snapshot(RoomSnapshot { tick: snapshot.tick, avatars }));
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

    /// Leave politely.
    pub fn leave(&mut self) {
        if self.state != State::Over {
            if let Ok(bytes) = encode(&ClientControl::Bye, MAX_FRAME_BYTES) {
                self.link.send(Channel::Control, bytes);
            }
            self.link.close(CloseReason::Left);
            self.state = State::Over;
        }
    }
}

fn event_to_session(event: ServerEvent) -> SessionEvent {
    match event {
        ServerEvent::PeerJoined(peer) => SessionEvent::PeerJoined(peer),
        ServerEvent::PeerLeft(id) => SessionEvent::PeerLeft(id),
    }
}
