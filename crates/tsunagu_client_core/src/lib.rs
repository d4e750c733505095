//! The Tsunagu client as a headless library: the client's half of the
//! protocol, the room as this client knows it, joining, and coming back after
//! a drop. No renderer, no window, no sound: the Bevy client, the practice
//! guests, the stepper, the end-to-end tests and the benches all drive this.
//!
//! The API is small: [`ClientCore::join`], then every frame
//! [`ClientCore::poll`] with the current time (which hands back
//! [`RoomEvent`]s), [`ClientCore::send_pose`] and [`ClientCore::send_event`];
//! [`ClientCore::room`] says who is here and where to draw them.
//!
//! Long because `ClientCore` is one lifecycle (join, wait, take in, reconnect,
//! resume, end) whose phases share its state; the session and the room view are
//! their own files.

pub mod pages;
pub mod room;
pub mod screen;
pub mod session;
pub mod settings;

use std::time::Duration;

use tsunagu_net::{Connector, LinkEnd, arrival_on_clock};
use tsunagu_protocol::{AvatarPose, ClientEvent, CloseReason, Hello, PeerId, PeerInfo, QuantPose, RejectReason, Role, ServerEvent, VoiceFrame};

pub use room::{Placement, RemotePeer, RoomView, SampledPose};
use session::{Session, SessionEvent};

/// A join that has not been welcomed by then has failed. Longer than the
/// transport's own connect timeout, so an attempt is never cut short.
pub const JOIN_DEADLINE: Duration = Duration::from_secs(5);
/// Waits before each reconnect attempt after a drop; the last repeats. Short
/// at first: most drops are a few seconds of bad Wi-Fi, and a child should be
/// back within moments of it clearing. Then slower, to spare a server that is
/// really gone.
pub const RECONNECT_BACKOFF: [Duration; 8] = [
    Duration::from_millis(250),
    Duration::from_millis(250),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// Give up reconnecting after this long (the server keeps a place 120 s).
pub const RECONNECT_FOR: Duration = Duration::from_secs(100);
/// Between attempts while the server says it is busy.
pub const BUSY_RETRY: Duration = Duration::from_secs(2);
/// In a room the server sends something at least every few ticks (snapshots,
/// empty ones when alone). Hearing nothing this long means the connection is
/// broken in at least one direction, even if QUIC has not noticed yet (its idle
/// timeout is 15 s): give it up and come back with the resume token.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(2);
/// Poses sent without the server showing it heard any (its snapshots keep
/// coding against an old acknowledgement): after a second's worth of them and
/// [`SILENCE_LIMIT`], our direction of the connection is broken.
const UNHEARD_POSES_LIMIT: u32 = 30;
/// How often the round trip to the server is measured.
pub const ECHO_INTERVAL: Duration = Duration::from_secs(1);
/// Round-trip samples kept.
const ROUND_TRIPS_KEPT: usize = 256;
/// How many of the last echoes [`ClientCore::link_seems_poor`] looks at.
pub const POOR_LINK_ECHOES: usize = 10;
/// Unanswered echoes among them that make a link poor.
pub const POOR_LINK_LOST_ECHOES: usize = 3;
/// A round trip this long makes a link poor when half of them are.
pub const POOR_LINK_ROUND_TRIP: Duration = Duration::from_millis(400);
/// Our own pose updates a second in low-bandwidth mode (the server's tick rate otherwise).
pub const LIGHT_LINK_POSES_PER_SECOND: u32 = 10;
/// Client events waiting for a (re)join are kept up to this many.
const MAX_PENDING_EVENTS: usize = 32;
/// Voice frames received and not yet taken are kept up to this many (a
/// second of eight speakers); older ones are dropped first.
const MAX_PENDING_VOICE: usize = 400;

/// Sends our voice frames straight onto one connection, from any thread (the
/// capture thread), without waiting for the next [`ClientCore::poll`].
pub type VoiceSender = std::sync::Arc<dyn Fn(VoiceFrame) + Send + Sync>;

/// A voice frame from someone in the room.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingVoice {
    /// Who spoke.
    pub from: PeerId,
    /// The frame, as sent.
    pub frame: VoiceFrame,
    /// When it came off the network, on the caller's clock.
    pub arrived: Duration,
}

/// Where voice goes the moment it arrives: called on the transport's own
/// thread with each speaker's frame, so a slow rendered frame (or a
/// headset's hiccup) delays no voice. See [`ClientCore::set_voice_sink`].
pub type VoiceSink = std::sync::Arc<dyn Fn(PeerId, VoiceFrame) + Send + Sync>;

/// The tap that hands `sink` every voice datagram as it arrives (others go
/// on to the core's poll as before).
fn voice_tap(sink: VoiceSink) -> tsunagu_net::DatagramTap {
    std::sync::Arc::new(move |datagram: &tsunagu_net::Datagram| {
        if datagram.kind != tsunagu_protocol::DatagramKind::Voice {
            return false;
        }
        match tsunagu_protocol::decode::<tsunagu_protocol::ServerDatagram>(&datagram.bytes, tsunagu_protocol::limits::MAX_DATAGRAM_BYTES) {
            Ok(tsunagu_protocol::ServerDatagram::Voice(from, frame)) => {
                sink(from, frame);
                true
            }
            // Not ours to judge here: the poll drops a bad one as before.
            _ => false,
        }
    })
}

/// Why the core stopped for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEnd {
    /// The server would not let us in.
    Rejected(RejectReason),
    /// The connection ended and coming back was not possible or not wise.
    Closed(LinkEnd),
    /// We left.
    Left,
}

/// What happened in the room, for the app to show. A closed set: each feature
/// reads the variants it cares about.
#[derive(Clone, Debug, PartialEq)]
pub enum RoomEvent {
    /// We are in for the first time: our id and role, and where we stand.
    Joined {
        /// Me as the room shows me.
        me: PeerInfo,
        /// Where to stand.
        spawn: QuantPose,
    },
    /// The connection dropped; the room stays on screen while we come back.
    Reconnecting,
    /// The server turned us away as busy; trying again by ourselves.
    ServerBusy,
    /// Back in after a drop. `resumed`: same id and place, nobody saw us go;
    /// otherwise the server gave a new place and the avatar moves to `spawn`.
    Rejoined {
        /// Me as the room shows me now.
        me: PeerInfo,
        /// Where the server has us.
        spawn: QuantPose,
        /// Whether our place was kept.
        resumed: bool,
    },
    /// We are in the room's waiting room until a facilitator lets us in
    /// (then `Joined`) or not (then `Ended`). No deadline runs meanwhile.
    Waiting,
    /// What the server told the room, once the room view has taken it in.
    /// Filtered where the view knows better: `PeerJoined` only for someone
    /// new (a change is `PeerChanged`, whichever the server sent),
    /// `PeerLeft` only for someone here (also for those who left while we
    /// were away), `WishHung` and `WishTakenDown` only when the bamboo changed.
    Server(ServerEvent),
    /// Page `u16` of the wall screen's showing is all here (its bytes
    /// matched the offered hash): see [`ClientCore::screen`].
    PageArrived(u16),
    /// Over for good; nothing more will happen.
    Ended(ClientEnd),
}

/// Whether a connection that ended this way is worth coming back to.
pub fn worth_reconnecting(end: LinkEnd) -> bool {
    matches!(
        end,
        LinkEnd::Lost | LinkEnd::TimedOut | LinkEnd::Unreachable | LinkEnd::Busy | LinkEnd::Reason(CloseReason::Reconnecting | CloseReason::TooSlow)
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// First join, attempt started then.
    Joining {
        since: Duration,
    },
    /// First join, in the room's waiting room: no deadline (a facilitator
    /// decides; the link's own keep-alive notices a dead connection).
    Waiting,
    InRoom,
    /// Coming back after a drop, or trying again after a busy server turned
    /// the first join away (`joined` false). `attempt_since` is set while an
    /// attempt is in flight; otherwise the next one starts at `next_try`.
    Reconnecting {
        since: Duration,
        attempt: usize,
        next_try: Duration,
        attempt_since: Option<Duration>,
        joined: bool,
    },
    Ended,
}

/// One person's client, without a screen.
pub struct ClientCore {
    connector: Box<dyn Connector>,
    hello: Hello,
    session: Option<Session>,
    phase: Phase,
    room: RoomView,
    screen: screen::ScreenView,
    resume: Option<u64>,
    last_heard: Duration,
    /// When the server last showed it heard us, and what it had heard.
    server_heard: (Option<u32>, Duration),
    /// Poses sent since then.
    poses_unheard: u32,
    /// Poses sent, over every connection.
    poses_sent: u64,
    pending_pose: Option<AvatarPose>,
    next_pose_at: Duration,
    pending_events: Vec<ClientEvent>,
    snapshot_bytes_before: u64,
    object_bytes_before: u64,
    /// The echo in flight (its number and when it left) and the next one's time.
    echo: (Option<(u32, Duration)>, Duration),
    round_trips: std::collections::VecDeque<Duration>,
    /// The last echoes' fates, newest last: answered before the next was due, or not.
    echoes_answered: std::collections::VecDeque<bool>,
    /// The last echo's number (each echo has a new one, so a late answer is not taken for a new).
    echo_nonce: u32,
    /// Low-bandwidth mode: asked of the server on every connection.
    light_link: bool,
    ending: Option<ClientEnd>,
    /// The last attempt was turned away as busy.
    busy: bool,
    out: Vec<RoomEvent>,
    voice_in: std::collections::VecDeque<IncomingVoice>,
    /// Where voice goes as it arrives, on every connection (see [`VoiceSink`]).
    voice_sink: Option<VoiceSink>,
    connections_opened: u32,
}

impl ClientCore {
    /// Start joining the room `connector` reaches, introducing ourselves with `hello`.
    pub fn join(mut connector: Box<dyn Connector>, hello: Hello, now: Duration) -> Self {
        let mut out = Vec::new();
        let session = match connector.open() {
            Ok(link) => Some(Session::start(link, &hello)),
            Err(e) => {
                tracing::warn!("could not start a connection: {e}");
                out.push(RoomEvent::Ended(ClientEnd::Closed(LinkEnd::Lost)));
                None
            }
        };
        let phase = if session.is_some() { Phase::Joining { since: now } } else { Phase::Ended };
        let ending = session.is_none().then_some(ClientEnd::Closed(LinkEnd::Lost));
        ClientCore {
            connector,
            hello,
            session,
            phase,
            room: RoomView::default(),
            screen: screen::ScreenView::new(),
            resume: None,
            last_heard: now,
            server_heard: (None, now),
            poses_unheard: 0,
            poses_sent: 0,
            pending_pose: None,
            next_pose_at: now,
            pending_events: Vec::new(),
            snapshot_bytes_before: 0,
            object_bytes_before: 0,
            echo: (None, now),
            round_trips: std::collections::VecDeque::new(),
            echoes_answered: std::collections::VecDeque::new(),
            echo_nonce: 0,
            light_link: false,
            ending,
            busy: false,
            out,
            voice_in: std::collections::VecDeque::new(),
            voice_sink: None,
            connections_opened: 1,
        }
    }

    /// The room as we know it.
    pub fn room(&self) -> &RoomView {
        &self.room
    }

    /// Our id, once welcomed.
    pub fn my_id(&self) -> Option<PeerId> {
        self.room.me().map(|m| m.id)
    }

    /// Our role, once welcomed.
    pub fn role(&self) -> Option<Role> {
        self.room.me().map(|m| m.role)
    }

    /// True while in the room (not joining, not reconnecting, not over).
    pub fn in_room(&self) -> bool {
        self.phase == Phase::InRoom
    }

    /// True while coming back after a drop.
    pub fn reconnecting(&self) -> bool {
        matches!(self.phase, Phase::Reconnecting { joined: true, .. })
    }

    /// True while we wait in the room's waiting room to be let in.
    pub fn waiting(&self) -> bool {
        self.phase == Phase::Waiting
    }

    /// True while the server turns us away as busy (we keep trying).
    pub fn busy(&self) -> bool {
        self.busy && !self.ended()
    }

    /// True once over for good.
    pub fn ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// Why it is over, once it is.
    pub fn ending(&self) -> Option<ClientEnd> {
        self.ending
    }

    /// Why the server refused us, if it did.
    pub fn rejected(&self) -> Option<RejectReason> {
        match self.ending {
            Some(ClientEnd::Rejected(reason)) => Some(reason),
            _ => None,
        }
    }

    /// Bytes of snapshot datagrams received so far, over every connection.
    pub fn snapshot_bytes(&self) -> u64 {
        self.snapshot_bytes_before + self.session.as_ref().map_or(0, Session::snapshot_bytes)
    }

    /// Of those, the bytes that carried the room's things, over every connection.
    pub fn object_bytes(&self) -> u64 {
        self.object_bytes_before + self.session.as_ref().map_or(0, Session::object_bytes)
    }

    /// The newest round trip to the server and back (measured every
    /// [`ECHO_INTERVAL`]); `None` before the first.
    pub fn round_trip(&self) -> Option<Duration> {
        self.round_trips.back().copied()
    }

    /// Whether the link measures poor enough to propose low-bandwidth mode:
    /// over the last [`POOR_LINK_ECHOES`] echoes (one a second), at least
    /// [`POOR_LINK_LOST_ECHOES`] went unanswered for a whole second, or half
    /// of those answered took longer than [`POOR_LINK_ROUND_TRIP`]. `false`
    /// until that many were sent.
    pub fn link_seems_poor(&self) -> bool {
        if self.echoes_answered.len() < POOR_LINK_ECHOES {
            return false;
        }
        let lost = self.echoes_answered.iter().filter(|answered| !**answered).count();
        let answered = POOR_LINK_ECHOES - lost;
        let slow = self.round_trips.iter().rev().take(answered).filter(|rtt| **rtt > POOR_LINK_ROUND_TRIP).count();
        lost >= POOR_LINK_LOST_ECHOES || (answered > 0 && slow * 2 >= answered)
    }

    /// Low-bandwidth mode on or off: the server is asked for fewer pose
    /// updates (now and on every later connection), our own pose goes at
    /// most [`LIGHT_LINK_POSES_PER_SECOND`] a second, and others are drawn
    /// further behind. (The voice's own bitrate is the caller's.)
    pub fn set_light_link(&mut self, light_link: bool) {
        if self.light_link == light_link {
            return;
        }
        self.light_link = light_link;
        self.room.set_light_link(light_link);
        if let Some(session) = self.session.as_mut()
            && self.phase == Phase::InRoom
        {
            session.send_event(&ClientEvent::LightLink(light_link));
        }
    }

    /// Poses sent so far, over every connection.
    pub fn poses_sent(&self) -> u64 {
        self.poses_sent
    }

    /// Whether low-bandwidth mode is on.
    pub fn light_link(&self) -> bool {
        self.light_link
    }

    /// The last few hundred round trips, oldest first.
    pub fn round_trips(&self) -> impl Iterator<Item = Duration> + '_ {
        self.round_trips.iter().copied()
    }

    /// Our pose now. Sent at once when a send is due (at most the server's tick
    /// rate), otherwise kept and the newest sent when due, from [`Self::poll`].
    pub fn send_pose(&mut self, pose: AvatarPose, now: Duration) {
        self.pending_pose = Some(pose);
        self.flush_pose(now);
    }

    /// The wall screen as we know it.
    pub fn screen(&self) -> &screen::ScreenView {
        &self.screen
    }

    /// Facilitator: show these pages on the wall screen (their bytes go
    /// when the room asks for them, paced, each after its small preview
    /// from `previews` if it has one: see [`pages::preview_of`]). An empty
    /// list stops showing.
    pub fn show_pages(&mut self, pages: Vec<(tsunagu_protocol::PageInfo, Vec<u8>)>, previews: Vec<(u16, Vec<u8>)>) {
        self.screen.offer(&pages, previews);
        let infos = pages.into_iter().map(|(info, _)| info).collect();
        self.send_event(ClientEvent::Screen(tsunagu_protocol::ScreenAction::Show(infos)));
    }

    /// Something we did in the room. Sent reliably; kept while (re)joining,
    /// except gestures, stamps, grabs and throws, which mean nothing a few seconds late.
    pub fn send_event(&mut self, event: ClientEvent) {
        // A reconnect introduces us as we are now.
        if let ClientEvent::SetLook(look) = &event {
            self.hello.look = *look;
        }
        if let (ClientEvent::Screen(tsunagu_protocol::ScreenAction::Point(at)), Some(me)) = (&event, self.my_id()) {
            self.screen.pointed(me, *at);
        }
        let momentary = matches!(event, ClientEvent::Gesture(_) | ClientEvent::Stamp(_) | ClientEvent::Grab(_) | ClientEvent::Release(..));
        match self.session.as_mut() {
            Some(session) if self.phase == Phase::InRoom => session.send_event(&event),
            _ if momentary => {}
            _ if self.pending_events.len() < MAX_PENDING_EVENTS => self.pending_events.push(event),
            _ => tracing::warn!("dropped a room event while reconnecting"),
        }
    }

    /// 20 ms of our voice, sent at once while in the room (dropped otherwise:
    /// old voice is worth nothing after a reconnect).
    pub fn send_voice(&mut self, frame: VoiceFrame) {
        if let Some(session) = self.session.as_mut()
            && self.phase == Phase::InRoom
        {
            session.send_voice(frame);
        }
    }

    /// A [`VoiceSender`] for the current connection while in the room
    /// (`None` otherwise, or if the transport has none: then use
    /// [`Self::send_voice`]). A new connection needs a new one: ask again
    /// when [`Self::connection_number`] changes.
    pub fn voice_sender(&self) -> Option<VoiceSender> {
        self.session.as_ref().filter(|_| self.phase == Phase::InRoom).and_then(Session::voice_sender)
    }

    /// Counts the connections this core has opened (a reconnect adds one).
    pub fn connection_number(&self) -> u32 {
        self.connections_opened
    }

    /// Hand every voice frame to `sink` the moment it arrives, on this
    /// connection and every later one, instead of keeping it for
    /// [`Self::take_voice`] (where a transport cannot, it is kept there as
    /// before). Returns whether the current connection does.
    pub fn set_voice_sink(&mut self, sink: VoiceSink) -> bool {
        self.voice_sink = Some(sink.clone());
        self.session.as_mut().is_some_and(|session| session.set_datagram_tap(voice_tap(sink)))
    }

    /// The voice frames that arrived since the last call, oldest first
    /// (none that went to the voice sink).
    pub fn take_voice(&mut self) -> Vec<IncomingVoice> {
        self.voice_in.drain(..).collect()
    }

    /// Leave the room politely.
    pub fn leave(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.leave();
        }
        if self.phase != Phase::Ended {
            self.phase = Phase::Ended;
            self.ending = Some(ClientEnd::Left);
            self.out.push(RoomEvent::Ended(ClientEnd::Left));
        }
    }

    /// Handle everything that arrived, keep the connection alive or bring it
    /// back, and return what happened since the last call. `now` is any
    /// monotonic clock (a manual one in tests).
    pub fn poll(&mut self, now: Duration) -> Vec<RoomEvent> {
        self.start_attempt_if_due(now);
        let mut delivered = Vec::new();
        if let Some(session) = self.session.as_mut() {
            session.poll(&mut delivered);
        }
        if !delivered.is_empty() {
            self.last_heard = now;
        }
        let base = self.session.as_ref().and_then(Session::newest_base);
        if base != self.server_heard.0 {
            self.server_heard = (base, now);
            self.poses_unheard = 0;
        }
        for event in delivered {
            self.on_session(event, now);
        }
        self.check_deadlines(now);
        self.flush_pose(now);
        self.echo_if_due(now);
        self.send_page_pieces(now);
        std::mem::take(&mut self.out)
    }

    fn on_session(&mut self, event: SessionEvent, now: Duration) {
        match event {
            SessionEvent::Joined(welcome) => {
                let me = PeerInfo {
                    id: welcome.your_id,
                    nickname: tsunagu_protocol::normalize_nickname(&self.hello.nickname),
                    look: self.hello.look,
                    role: welcome.role,
                    // A kept place keeps a raised hand.
                    hand_raised: welcome.resumed && self.room.me().is_some_and(|m| m.hand_raised),
                    // So does a facilitator's mute (the server says so again at once).
                    muted: welcome.resumed && self.room.me().is_some_and(|m| m.muted),
                    // And a lamp left on.
                    resting: welcome.resumed && self.room.me().is_some_and(|m| m.resting),
                    speak_for_me: welcome.resumed && self.room.me().is_some_and(|m| m.speak_for_me),
                };
                self.resume = Some(welcome.resume);
                self.busy = false;
                self.server_heard = (None, now);
                self.poses_unheard = 0;
                let first = matches!(self.phase, Phase::Joining { .. } | Phase::Waiting | Phase::Reconnecting { joined: false, .. });
                self.phase = Phase::InRoom;
                self.room.welcome(me.clone(), welcome.tick_rate_hz, welcome.play);
                self.screen.welcome();
                self.room.restart_playout();
                if first {
                    // By number: names stay out of logs.
                    tracing::debug!(session = me.id.0, "joined the room");
                    self.out.push(RoomEvent::Joined { me, spawn: welcome.spawn });
                } else {
                    // Whoever came or went while we were away.
                    let present: Vec<PeerId> = welcome.peers.iter().map(|p| p.id).collect();
                    let gone: Vec<PeerId> = self.room.peers().map(|p| p.id).filter(|id| !present.contains(id)).collect();
                    for id in gone {
                        self.room.remove(id);
                        self.out.push(RoomEvent::Server(ServerEvent::PeerLeft(id)));
                    }
                    self.out.push(RoomEvent::Rejoined { me, spawn: welcome.spawn, resumed: welcome.resumed });
                }
                for peer in welcome.peers {
                    self.introduce(peer);
                }
                if let Some(session) = self.session.as_mut() {
                    // A new member starts normal; a resumed one kept it, and asking again costs nothing.
                    if self.light_link {
                        session.send_event(&ClientEvent::LightLink(true));
                    }
                    for event in self.pending_events.drain(..) {
                        session.send_event(&event);
                    }
                }
            }
            SessionEvent::Rejected(reason) => self.end(ClientEnd::Rejected(reason)),
            SessionEvent::Waiting => {
                if let Phase::Joining { .. } = self.phase {
                    self.phase = Phase::Waiting;
                }
                self.out.push(RoomEvent::Waiting);
            }
            SessionEvent::Event(event) => self.take_in(event),
            SessionEvent::Snapshot(snapshot, arrived) => {
                // On the caller's clock, when it arrived (not when we polled:
                // a slow frame must not look like network jitter).
                self.room.on_snapshot(&snapshot, arrival_on_clock(arrived, now));
            }
            SessionEvent::Echo(nonce, arrived) => {
                if let (Some((sent_nonce, sent_at)), _) = self.echo
                    && sent_nonce == nonce
                {
                    self.round_trips.push_back(arrival_on_clock(arrived, now).saturating_sub(sent_at));
                    if self.round_trips.len() > ROUND_TRIPS_KEPT {
                        self.round_trips.pop_front();
                    }
                    self.echo.0 = None;
                    self.note_echo_fate(true);
                }
            }
            SessionEvent::Voice(from, frame, arrived) => {
                if self.voice_in.len() >= MAX_PENDING_VOICE {
                    self.voice_in.pop_front();
                }
                self.voice_in.push_back(IncomingVoice { from, frame, arrived: arrival_on_clock(arrived, now) });
            }
            SessionEvent::Closed(end) => self.on_closed(end, now),
        }
    }

    /// The room view takes in what the server said; what changed goes on
    /// to the app. Every event is named: a new one must be decided here.
    fn take_in(&mut self, event: ServerEvent) {
        let pass_on = match &event {
            ServerEvent::PeerJoined(info) | ServerEvent::PeerChanged(info) => {
                // Which of the two it is, the view decides (see `introduce`).
                self.introduce(info.clone());
                false
            }
            ServerEvent::PeerLeft(id) => {
                self.screen.left(*id);
                self.room.remove(*id)
            }
            ServerEvent::WaitingRoom(on) => {
                self.room.set_waiting_room(*on);
                true
            }
            ServerEvent::WaitingPeople(people) => {
                self.room.set_waiting(people.clone());
                true
            }
            ServerEvent::Invites(codes) => {
                self.room.set_invites(codes.clone());
                true
            }
            ServerEvent::Held(by, id) => {
                self.room.set_holder(*id, Some(*by));
                true
            }
            ServerEvent::Released(id) => {
                self.room.set_holder(*id, None);
                true
            }
            ServerEvent::DartScored(by, score) => {
                self.room.dart_scored(*by, *score);
                true
            }
            ServerEvent::WishHung(wish) => self.room.wish_hung(wish),
            ServerEvent::WishTakenDown(id) => self.room.wish_taken_down(*id),
            ServerEvent::RoomLocked(locked) => {
                self.room.set_locked(*locked);
                true
            }
            ServerEvent::RemovedPeople(people) => {
                self.room.set_removed(people.clone());
                true
            }
            ServerEvent::Recentre
            | ServerEvent::KeptPlaces(_)
            | ServerEvent::Concern(_)
            | ServerEvent::StaffNotice(_)
            | ServerEvent::Refused(_)
            | ServerEvent::MovedTo(_)
            | ServerEvent::Gesture(..)
            | ServerEvent::Stamp(..)
            | ServerEvent::Chat(..) => true,
            ServerEvent::Showing(_)
            | ServerEvent::PagesWanted(_)
            | ServerEvent::PagePiece(_)
            | ServerEvent::PagePreview(_)
            | ServerEvent::PageTurned(_)
            | ServerEvent::Pointer(..)
            | ServerEvent::Stroke(..)
            | ServerEvent::Board(_)
            | ServerEvent::Undone(..)
            | ServerEvent::BoardCleared(_)
            | ServerEvent::DrawingAllowed(_) => {
                let Some(arrived) = self.screen.take_in(&event) else { return };
                // Pieces are the screen's own business; what they made is told.
                let pass_on = !matches!(event, ServerEvent::PagePiece(_) | ServerEvent::PagePreview(_));
                if pass_on {
                    self.out.push(RoomEvent::Server(event));
                }
                self.out.extend(arrived.into_iter().map(RoomEvent::PageArrived));
                return;
            }
        };
        if pass_on {
            self.out.push(RoomEvent::Server(event));
        }
    }

    /// Our pages' bytes the room asked for, a piece at a time.
    fn send_page_pieces(&mut self, now: Duration) {
        if self.phase != Phase::InRoom {
            return;
        }
        while let Some(outgoing) = self.screen.next_outgoing(now) {
            let event = match outgoing {
                screen::Outgoing::Preview(preview) => ClientEvent::PagePreview(preview),
                screen::Outgoing::Piece(piece) => ClientEvent::PagePiece(piece),
            };
            if let Some(session) = self.session.as_mut() {
                session.send_event(&event);
            }
        }
    }

    fn echo_if_due(&mut self, now: Duration) {
        if self.phase != Phase::InRoom || now < self.echo.1 {
            return;
        }
        if self.echo.0.is_some() {
            self.note_echo_fate(false);
        }
        self.echo_nonce = self.echo_nonce.wrapping_add(1);
        let nonce = self.echo_nonce;
        if let Some(session) = self.session.as_mut() {
            session.send_echo(nonce);
        }
        // A lost echo is simply replaced by the next.
        self.echo = (Some((nonce, now)), now + ECHO_INTERVAL);
    }

    fn note_echo_fate(&mut self, answered: bool) {
        self.echoes_answered.push_back(answered);
        if self.echoes_answered.len() > POOR_LINK_ECHOES {
            self.echoes_answered.pop_front();
        }
    }

    fn introduce(&mut self, info: PeerInfo) {
        match self.room.introduce(info.clone()) {
            Some(true) => self.out.push(RoomEvent::Server(ServerEvent::PeerJoined(info))),
            Some(false) => {
                if self.my_id() == Some(info.id) {
                    self.hello.look = info.look;
                }
                self.out.push(RoomEvent::Server(ServerEvent::PeerChanged(info)));
            }
            None => {}
        }
    }

    fn on_closed(&mut self, end: LinkEnd, now: Duration) {
        self.retire_session();
        if end == LinkEnd::Busy && !self.busy {
            self.out.push(RoomEvent::ServerBusy);
        }
        self.busy = end == LinkEnd::Busy;
        match self.phase {
            Phase::InRoom if worth_reconnecting(end) => {
                tracing::info!("the connection dropped ({end:?}); coming back");
                self.phase = Phase::Reconnecting { since: now, attempt: 0, next_try: now + RECONNECT_BACKOFF[0], attempt_since: None, joined: true };
                self.out.push(RoomEvent::Reconnecting);
            }
            // A busy server is worth waiting for even before we were ever in.
            Phase::Joining { since } if end == LinkEnd::Busy => {
                self.phase = Phase::Reconnecting { since, attempt: 1, next_try: now + BUSY_RETRY, attempt_since: None, joined: false };
            }
            Phase::Reconnecting { since, attempt, joined, .. } if worth_reconnecting(end) => {
                let wait = if end == LinkEnd::Busy { BUSY_RETRY } else { RECONNECT_BACKOFF[attempt.min(RECONNECT_BACKOFF.len() - 1)] };
                self.phase = Phase::Reconnecting { since, attempt, next_try: now + wait, attempt_since: None, joined };
            }
            _ => self.end(ClientEnd::Closed(end)),
        }
    }

    fn start_attempt_if_due(&mut self, now: Duration) {
        let Phase::Reconnecting { since, attempt, next_try, attempt_since: None, joined } = self.phase else { return };
        if now < next_try {
            return;
        }
        let mut hello = self.hello.clone();
        hello.resume = self.resume;
        tracing::info!("reconnecting (attempt {})", attempt + 1);
        if let Ok(link) = self.connector.open() {
            let mut session = Session::start(link, &hello);
            if let Some(sink) = self.voice_sink.clone() {
                session.set_datagram_tap(voice_tap(sink));
            }
            self.session = Some(session);
            self.connections_opened += 1;
        }
        // A failed start counts as a failed attempt: the deadline moves us on.
        self.phase = Phase::Reconnecting { since, attempt: attempt + 1, next_try, attempt_since: Some(now), joined };
    }

    fn check_deadlines(&mut self, now: Duration) {
        match self.phase {
            Phase::Joining { since } if now.saturating_sub(since) > JOIN_DEADLINE => {
                self.end(ClientEnd::Closed(LinkEnd::Unreachable));
            }
            Phase::InRoom
                if now.saturating_sub(self.last_heard) > SILENCE_LIMIT
                    || (self.poses_unheard >= UNHEARD_POSES_LIMIT && now.saturating_sub(self.server_heard.1) > SILENCE_LIMIT) =>
            {
                tracing::info!("the connection is silent one way; coming back on a new one");
                if let Some(session) = self.session.as_mut() {
                    session.abandon();
                }
                self.on_closed(LinkEnd::TimedOut, now);
            }
            Phase::Reconnecting { since, .. } if now.saturating_sub(since) > RECONNECT_FOR => {
                self.end(ClientEnd::Closed(if self.busy { LinkEnd::Busy } else { LinkEnd::Lost }));
            }
            Phase::Reconnecting { attempt_since: Some(started), .. } if now.saturating_sub(started) > JOIN_DEADLINE => {
                if let Some(session) = self.session.as_mut() {
                    session.abandon();
                }
                self.on_closed(LinkEnd::Unreachable, now);
            }
            _ => {}
        }
    }

    fn flush_pose(&mut self, now: Duration) {
        if self.phase != Phase::InRoom || now < self.next_pose_at {
            return;
        }
        let (Some(pose), Some(session)) = (self.pending_pose.take(), self.session.as_mut()) else { return };
        session.send_pose(pose);
        self.poses_unheard = self.poses_unheard.saturating_add(1);
        self.poses_sent += 1;
        let tick = Duration::from_secs_f64(1.0 / self.room.tick_rate());
        let interval = if self.light_link { tick.max(Duration::from_secs(1) / LIGHT_LINK_POSES_PER_SECOND) } else { tick };
        // On schedule, so frames that are not a multiple of the tick still send
        // at the tick rate on average; after a pause, start again from now.
        self.next_pose_at = (self.next_pose_at + interval).max(now.saturating_sub(interval));
    }

    fn retire_session(&mut self) {
        if let Some(session) = self.session.take() {
            self.snapshot_bytes_before += session.snapshot_bytes();
            self.object_bytes_before += session.object_bytes();
        }
    }

    fn end(&mut self, end: ClientEnd) {
        if self.phase == Phase::Ended {
            return;
        }
        if let Some(session) = self.session.as_mut() {
            session.leave();
        }
        self.retire_session();
        self.phase = Phase::Ended;
        self.ending = Some(end);
        self.out.push(RoomEvent::Ended(end));
    }
}

#[cfg(test)]
mod tests;
