//! The room as this client knows it: who I am, who else is here, and where
//! each of them is to be drawn now (interpolation tracks and the playout clock).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bevy_math::{Quat, Vec3};
use tsunagu_protocol::delta::VIEW_MAX_AGE_TICKS;
use tsunagu_protocol::limits::MAX_PEERS;
use tsunagu_protocol::{AvatarPose, DartScore, PeerId, PeerInfo, PlayState, QuantPose, RemovedPerson, RoomCodes, RoomSnapshot, WaitingPerson, Wish};
use tsunagu_sim::interp::{Playout, Sample, Track};
use tsunagu_sim::pose::from_wire;

/// A position and a rotation.
pub type Placement = (Vec3, Quat);

/// Where to draw someone now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampledPose {
    /// Feet on the floor, facing.
    pub body: Placement,
    /// Head, in the room.
    pub head: Placement,
    /// Hands, when they are in a headset.
    pub hands: Option<[Placement; 2]>,
}

/// Someone else in the room, or someone a snapshot named before the event
/// that introduces them arrived (the two travel on different channels).
#[derive(Clone, Debug, Default)]
pub struct RemotePeer {
    /// Who they are; `None` until `Welcome` or `PeerJoined` names them.
    pub info: Option<PeerInfo>,
    /// Their newest pose, exactly as the server sent it.
    pub latest: Option<AvatarPose>,
    /// How many snapshots have updated them.
    pub updates: u32,
    last_tick: u32,
    body: Track,
    head: Track,
    hands: Option<[Track; 2]>,
}

impl RemotePeer {
    fn push(&mut self, time: f64, tick: u32, pose: &AvatarPose) {
        let sample = |q: QuantPose| {
            let (pos, rot) = from_wire(q);
            Sample { time, pos, rot }
        };
        self.body.push(sample(pose.body));
        self.head.push(sample(pose.head));
        match (pose.hands, self.hands.as_mut()) {
            (Some([l, r]), Some([tl, tr])) => {
                tl.push(sample(l));
                tr.push(sample(r));
            }
            (Some([l, r]), None) => {
                let (mut tl, mut tr) = (Track::default(), Track::default());
                tl.push(sample(l));
                tr.push(sample(r));
                self.hands = Some([tl, tr]);
            }
            // Hands gone (the headset was taken off): stop drawing them.
            (None, _) => self.hands = None,
        }
        self.latest = Some(*pose);
        self.updates += 1;
        self.last_tick = tick;
    }

    fn sample(&self, t: f64) -> Option<SampledPose> {
        Some(SampledPose {
            body: self.body.sample(t)?,
            head: self.head.sample(t)?,
            hands: self.hands.as_ref().and_then(|[l, r]| Some([l.sample(t)?, r.sample(t)?])),
        })
    }
}

/// A shared thing (ball, block, dart) as this client knows it.
#[derive(Clone, Debug, Default)]
pub struct SharedThing {
    /// Its newest pose, exactly as the server sent it.
    pub latest: Option<QuantPose>,
    /// Who holds it.
    pub holder: Option<PeerId>,
    track: Track,
}

/// The room as this client knows it.
#[derive(Clone, Debug)]
pub struct RoomView {
    me: Option<PeerInfo>,
    peers: BTreeMap<PeerId, RemotePeer>,
    things: BTreeMap<u16, SharedThing>,
    darts: VecDeque<(PeerId, DartScore)>,
    wishes: Vec<Wish>,
    locked: bool,
    removed: Vec<RemovedPerson>,
    waiting_room: bool,
    waiting: Vec<WaitingPerson>,
    invites: Option<RoomCodes>,
    playout: Playout,
    /// Low-bandwidth mode (kept across reconnects).
    light_link: bool,
    tick_rate: f64,
    snapshots: u64,
}

impl Default for RoomView {
    fn default() -> Self {
        // The rate is the server's (from Welcome); nothing is drawn before it.
        RoomView {
            me: None,
            peers: BTreeMap::new(),
            things: BTreeMap::new(),
            darts: VecDeque::new(),
            wishes: Vec::new(),
            locked: false,
            removed: Vec::new(),
            waiting_room: false,
            waiting: Vec::new(),
            invites: None,
            playout: Playout::default(),
            light_link: false,
            tick_rate: 1.0,
            snapshots: 0,
        }
    }
}

impl RoomView {
    /// Me as the room shows me, once welcomed.
    pub fn me(&self) -> Option<&PeerInfo> {
        self.me.as_ref()
    }

    /// Everyone else who is here (introduced by the server), in id order.
    pub fn peers(&self) -> impl Iterator<Item = &PeerInfo> {
        self.peers.values().filter_map(|p| p.info.as_ref())
    }

    /// How many people are here, me included.
    pub fn head_count(&self) -> usize {
        self.peers().count() + usize::from(self.me.is_some())
    }

    /// Someone else, introduced or not yet.
    pub fn peer(&self, id: PeerId) -> Option<&RemotePeer> {
        self.peers.get(&id)
    }

    /// How many snapshots have been applied so far.
    pub fn snapshots(&self) -> u64 {
        self.snapshots
    }

    /// The server's snapshot rate, from Welcome.
    pub fn tick_rate(&self) -> f64 {
        self.tick_rate
    }

    /// The server time at which remote avatars are drawn at local time `now`.
    pub fn render_time(&self, now: Duration) -> Option<f64> {
        self.playout.render_time(now.as_secs_f64())
    }

    /// Where to draw `id` at server time `render_time`.
    pub fn sample(&self, id: PeerId, render_time: f64) -> Option<SampledPose> {
        self.peers.get(&id)?.sample(render_time)
    }

    /// A shared thing, once a snapshot has placed it.
    pub fn thing(&self, id: u16) -> Option<&SharedThing> {
        self.things.get(&id)
    }

    /// Where to draw thing `id` at server time `render_time`: between the
    /// poses around it, or the newest one (no news means it lies still).
    pub fn sample_thing(&self, id: u16, render_time: f64) -> Option<Placement> {
        self.things.get(&id)?.track.sample_ahead(render_time, 0.0)
    }

    /// The thing `who` holds, if any.
    pub fn held_by(&self, who: PeerId) -> Option<u16> {
        self.things.iter().find(|(_, t)| t.holder == Some(who)).map(|(id, _)| *id)
    }

    /// The board's last darts, oldest first, and who threw them.
    pub fn darts(&self) -> impl Iterator<Item = &(PeerId, DartScore)> {
        self.darts.iter()
    }

    /// The wishes on the bamboo.
    pub fn wishes(&self) -> &[Wish] {
        &self.wishes
    }

    /// Whether a facilitator has closed the room to newcomers.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Whom facilitators have removed (known to facilitators only).
    pub fn removed(&self) -> &[RemovedPerson] {
        &self.removed
    }

    /// Whether newcomers wait for a facilitator to let them in.
    pub fn has_waiting_room(&self) -> bool {
        self.waiting_room
    }

    /// Who waits to be let in, oldest first (known to facilitators only).
    pub fn waiting(&self) -> &[WaitingPerson] {
        &self.waiting
    }

    /// The room's codes now (known to facilitators only).
    pub fn invites(&self) -> Option<&RoomCodes> {
        self.invites.as_ref()
    }

    pub(crate) fn set_waiting_room(&mut self, on: bool) {
        self.waiting_room = on;
    }

    pub(crate) fn set_waiting(&mut self, waiting: Vec<WaitingPerson>) {
        self.waiting = waiting;
    }

    pub(crate) fn set_invites(&mut self, codes: RoomCodes) {
        self.invites = Some(codes);
    }

    pub(crate) fn set_locked(&mut self, locked: bool) {
        self.locked = locked;
    }

    pub(crate) fn set_removed(&mut self, removed: Vec<RemovedPerson>) {
        self.removed = removed;
    }

    pub(crate) fn welcome(&mut self, me: PeerInfo, tick_rate_hz: u8, play: PlayState) {
        self.me = Some(me);
        self.tick_rate = f64::from(tick_rate_hz.max(1));
        for thing in self.things.values_mut() {
            thing.holder = None;
        }
        for (id, by) in play.held {
            self.things.entry(id).or_default().holder = Some(by);
        }
        self.darts = play.darts.into_iter().collect();
        self.wishes = play.wishes;
        // Told again after Welcome when they apply.
        self.locked = false;
        self.removed.clear();
        self.waiting_room = false;
        self.waiting.clear();
        self.invites = None;
    }

    /// Someone picked thing `id` up (`Some`) or let it go (`None`).
    pub(crate) fn set_holder(&mut self, id: u16, holder: Option<PeerId>) {
        if usize::from(id) < tsunagu_protocol::limits::MAX_SNAPSHOT_OBJECTS {
            self.things.entry(id).or_default().holder = holder;
        }
    }

    pub(crate) fn dart_scored(&mut self, by: PeerId, score: DartScore) {
        if self.darts.len() == tsunagu_sim::objects::DARTS_SHOWN {
            self.darts.pop_front();
        }
        self.darts.push_back((by, score));
    }

    /// Returns whether the wish is new (a repeat is not shown twice).
    pub(crate) fn wish_hung(&mut self, wish: &Wish) -> bool {
        if self.wishes.iter().any(|w| w.id == wish.id) || self.wishes.len() >= tsunagu_protocol::limits::MAX_WISHES {
            return false;
        }
        self.wishes.retain(|w| w.slot != wish.slot);
        self.wishes.push(wish.clone());
        true
    }

    pub(crate) fn wish_taken_down(&mut self, id: u32) -> bool {
        let before = self.wishes.len();
        self.wishes.retain(|w| w.id != id);
        self.wishes.len() != before
    }

    /// A new connection restarts the server's view of us: the playout clock
    /// is measured again from its snapshots.
    pub(crate) fn restart_playout(&mut self) {
        let light_link = self.light_link;
        self.playout = Playout::default();
        self.playout.set_light_link(light_link);
    }

    /// Low-bandwidth mode: avatars come less often, so draw them further behind.
    pub(crate) fn set_light_link(&mut self, light_link: bool) {
        self.light_link = light_link;
        self.playout.set_light_link(light_link);
    }

    /// Name someone. Returns `Some(true)` if they are new, `Some(false)` if
    /// known but changed, `None` if nothing changed.
    pub(crate) fn introduce(&mut self, info: PeerInfo) -> Option<bool> {
        if self.me.as_ref().is_some_and(|me| me.id == info.id) {
            let me = self.me.as_mut()?;
            let changed = *me != info;
            *me = info;
            return changed.then_some(false);
        }
        if !self.peers.contains_key(&info.id) && self.peers.len() >= MAX_PEERS * 2 {
            return None;
        }
        let peer = self.peers.entry(info.id).or_default();
        match &peer.info {
            None => {
                peer.info = Some(info);
                Some(true)
            }
            Some(known) if *known != info => {
                peer.info = Some(info);
                Some(false)
            }
            Some(_) => None,
        }
    }

    /// Someone left; returns whether they had been introduced.
    pub(crate) fn remove(&mut self, id: PeerId) -> bool {
        self.peers.remove(&id).is_some_and(|p| p.info.is_some())
    }

    pub(crate) fn on_snapshot(&mut self, snapshot: &RoomSnapshot, now: Duration) {
        self.snapshots += 1;
        let server_time = f64::from(snapshot.tick) / self.tick_rate;
        self.playout.on_snapshot(server_time, now.as_secs_f64());
        let me = self.me.as_ref().map(|m| m.id);
        for state in &snapshot.avatars {
            if Some(state.id) == me || (!self.peers.contains_key(&state.id) && self.peers.len() >= MAX_PEERS * 2) {
                continue;
            }
            self.peers.entry(state.id).or_default().push(server_time, snapshot.tick, &state.pose);
        }
        for state in &snapshot.objects {
            if usize::from(state.id) >= tsunagu_protocol::limits::MAX_SNAPSHOT_OBJECTS {
                continue;
            }
            let thing = self.things.entry(state.id).or_default();
            let (pos, rot) = from_wire(state.pose);
            thing.track.push(Sample { time: server_time, pos, rot });
            thing.latest = Some(state.pose);
        }
        // Someone never introduced (they came and went before we heard) is forgotten.
        self.peers.retain(|_, p| p.info.is_some() || snapshot.tick.wrapping_sub(p.last_tick) <= VIEW_MAX_AGE_TICKS);
    }
}
