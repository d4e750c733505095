//! Room rules: who may come in, with which role, what each member's avatar
//! and events may do, and who is due what (`interest`, `limits`).
//! Free of I/O: the server feeds it decoded messages and a clock, and sends
//! what it answers. Deterministic but for fresh room codes (`codes`).

mod admission;
pub mod codes;
pub mod interest;
pub mod limits;
pub mod people;
pub mod play;
mod poses;
pub mod screen;
mod staff;
pub mod voice;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bevy_math::Vec3;
use tsunagu_protocol::limits::MAX_REMOVED;
use tsunagu_protocol::{AvatarLook, AvatarPose, Hello, PeerId, PeerInfo, QuantPose, RemovedPerson, Role, ServerEvent, WaitingHint};

use crate::limits::EventLimiter;
use crate::people::{Allowances, Bounded, Who};
use crate::play::Play;

pub use crate::poses::{CORRECTION_DISTANCE, CORRECTION_INTERVAL, PoseOutcome, seq_is_newer};
pub use crate::staff::{Audience, Told};

use tsunagu_sim::WardLayout;

/// Codes a room had before a facilitator changed them, kept this many times
/// over: they bring back people already inside, and nobody new.
pub const RETIRED_CODES_KEPT: usize = 4;

/// Places kept at once for dropped connections from one address: a ward's
/// Wi-Fi hiccup keeps a few children's places, and one machine dropping
/// connections on purpose cannot fill the room with them.
pub const KEPT_PER_ADDRESS: usize = 4;
/// People waiting at once from one address.
pub const WAITING_PER_ADDRESS: usize = 4;
/// Facilitators (with the facilitator invite) come in even when the room is
/// full of participants, up to this many more.
pub const STAFF_SEATS: usize = 8;
/// Installations the room remembers having seen this meetup (for the
/// waiting room's "same PC as before").
const DEVICES_REMEMBERED: usize = 256;

/// How a room is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomConfig {
    /// The code in participant invites.
    pub code: String,
    /// The code in facilitator invites; never equal to `code`.
    pub facilitator_code: String,
    /// Most people at once.
    pub capacity: usize,
}

/// One person in the room.
#[derive(Clone, Debug)]
pub struct Member {
    /// What others see of them.
    pub info: PeerInfo,
    /// Their latest accepted pose.
    pub pose: AvatarPose,
    /// Sequence number of that pose.
    last_seq: Option<u32>,
    /// When that pose was accepted.
    last_pose_at: Duration,
    /// The token that brings them back here after a dropped connection.
    pub resume: u64,
    events: EventLimiter,
    last_correction: Option<Duration>,
    /// Metres the body may still walk (refilled with time, see `limits`).
    stride: f32,
    /// Poses the room may still use now (refilled with time, see `limits`).
    pose_allowance: tsunagu_net::limits::TokenBucket,
    /// Voice limits and talking.
    pub voice: voice::VoiceState,
    /// The role of the invite they came in with (a resume must use the same):
    /// only people who came with the facilitator invite hold the powers no
    /// one made staff in the room may have.
    invited_as: Role,
    /// Where they come from, as the room tells people apart.
    who: Who,
    /// A facilitator moved them: their body stays there until then, while
    /// poses sent before their client knew come in.
    placed_until: Option<Duration>,
    /// They asked for less (low-bandwidth mode): far people's poses less often.
    pub light_link: bool,
}

impl Member {
    fn new(info: PeerInfo, pose: AvatarPose, now: Duration, resume: u64, who: Who) -> Member {
        Member {
            invited_as: info.role,
            who,
            placed_until: None,
            light_link: false,
            info,
            pose,
            last_seq: None,
            last_pose_at: now,
            resume,
            events: EventLimiter::default(),
            last_correction: None,
            stride: limits::STRIDE_SLACK,
            pose_allowance: tsunagu_net::limits::TokenBucket::full(f64::from(limits::MAX_POSES_PER_SECOND), now),
            voice: voice::VoiceState::new(now),
        }
    }

    /// Whether they came in with the facilitator invite.
    pub fn has_staff_invite(&self) -> bool {
        self.invited_as == Role::Facilitator
    }
}

/// How a Hello was let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Someone new, at a spawn point.
    Fresh,
    /// A member whose old connection the server still holds came back: same
    /// id and place; the old connection is stale and must be dropped quietly.
    Replaced,
    /// A member whose connection had dropped came back to their kept place,
    /// with the same id.
    Returned,
}

/// A dropped member's kept place.
#[derive(Clone, Debug)]
struct Departed {
    info: PeerInfo,
    pose: AvatarPose,
    at: Duration,
    invited_as: Role,
    who: Who,
}

/// Someone a facilitator removed: kept out until let back in.
#[derive(Clone, Debug)]
struct Removal {
    id: u32,
    who: Who,
    nickname: String,
}

/// Someone waiting to be let in.
#[derive(Clone, Debug)]
struct Waiter {
    ticket: u32,
    /// The Hello to admit them with (nickname normalized).
    hello: Hello,
    who: Who,
    hint: WaitingHint,
}

/// How long a person moved by a facilitator stays put while their client
/// learns where they are (several round trips on a slow ward network).
pub const PLACED_FOR: Duration = Duration::from_millis(600);

/// After the last person leaves, the room forgets everything about the
/// people who were in it within this long.
pub const EMPTY_ROOM_FORGETS: Duration = Duration::from_secs(60);

/// How long a dropped member's place is kept for a reconnect.
pub const RESUME_WINDOW: Duration = Duration::from_secs(120);

/// A room and its members.
pub struct Room {
    config: RoomConfig,
    layout: WardLayout,
    members: BTreeMap<PeerId, Member>,
    /// Places kept for members whose connection dropped, by resume token.
    /// They count toward capacity, so a reconnect into a full room succeeds,
    /// until a newcomer needs the seat: then the oldest place goes.
    departed: HashMap<u64, Departed>,
    /// The kept places changed since facilitators were last told.
    kept_changed: bool,
    next_id: u32,
    joins_so_far: u32,
    play: Play,
    /// The wall screen: pages shown, the board.
    screen: screen::Screen,
    /// Closed to newcomers by a facilitator.
    locked: bool,
    removed: Bounded<Removal>,
    next_removal: u32,
    /// People a facilitator quieted: still quiet if they come back.
    quieted: Bounded<Who>,
    /// Installations seen in this meetup (for waiting-room hints).
    seen_devices: Bounded<u64>,
    /// Event allowances per installation and address.
    allowances: Allowances,
    /// Where the last facilitator's move put people (see `take_moves`).
    moves: Vec<(PeerId, QuantPose)>,
    /// Since when nobody has been in.
    empty_since: Option<Duration>,
    /// Newcomers wait for a facilitator to let them in.
    waiting_room: bool,
    /// Who waits, oldest first.
    waiting: Vec<Waiter>,
    next_ticket: u32,
    /// What facilitators decided about waiting people since the caller last
    /// asked (see `take_decisions`).
    decided: Vec<(u32, Option<Hello>)>,
    /// Earlier codes (newest last), each with the role it gave.
    retired_codes: Vec<(String, Role)>,
    /// Where the others stand, gathered for each pose (kept, so the pose
    /// path allocates nothing).
    others_scratch: Vec<Vec3>,
}

impl Room {
    /// An empty room.
    pub fn new(config: RoomConfig) -> Self {
        let layout = WardLayout::ward();
        let play = Play::new(&layout);
        Room {
            config,
            layout,
            members: BTreeMap::new(),
            departed: HashMap::new(),
            kept_changed: false,
            next_id: 1,
            joins_so_far: 0,
            play,
            screen: screen::Screen::default(),
            locked: false,
            removed: Bounded::new(MAX_REMOVED),
            next_removal: 1,
            quieted: Bounded::new(MAX_REMOVED),
            seen_devices: Bounded::new(DEVICES_REMEMBERED),
            allowances: Allowances::default(),
            moves: Vec::new(),
            empty_since: None,
            waiting_room: false,
            waiting: Vec::new(),
            next_ticket: 1,
            decided: Vec::new(),
            retired_codes: Vec::new(),
            others_scratch: Vec::new(),
        }
    }

    /// The people the last move placed, and where: tell each of them alone.
    pub fn take_moves(&mut self) -> Vec<(PeerId, QuantPose)> {
        std::mem::take(&mut self.moves)
    }

    /// Everyone leaves: the meetup is over. Returns who was here. Nobody
    /// still waiting is let in, then or later: each is turned away (see
    /// [`Room::take_decisions`]).
    pub fn end_meetup(&mut self) -> Vec<PeerId> {
        self.kept_changed |= !self.departed.is_empty();
        self.departed.clear();
        let waiting = std::mem::take(&mut self.waiting);
        self.decided.extend(waiting.into_iter().map(|w| (w.ticket, None)));
        let everyone: Vec<PeerId> = self.members.keys().copied().collect();
        self.members.clear();
        everyone
    }

    /// Who has been removed, as facilitators see it.
    pub fn removed_people(&self) -> ServerEvent {
        ServerEvent::RemovedPeople(self.removed.iter().map(|r| RemovedPerson { id: r.id, nickname: r.nickname.clone() }).collect())
    }

    /// Whether a facilitator has closed the room to newcomers.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// One tick of the room's play: the things move, held ones with their
    /// holders' hands. Returns what everyone is to be told (things let go,
    /// darts scored). When nobody is here and no place is kept, the play
    /// and the wall screen are forgotten: the next people find the room as new.
    pub fn tick(&mut self) -> Vec<ServerEvent> {
        if self.members.is_empty() && self.departed.is_empty() {
            if self.play.touched() || !self.play.is_at_rest() {
                self.play = Play::new(&self.layout);
            }
            // Nobody is left to see it: the pages' bytes and the drawing go.
            self.screen = screen::Screen::default();
            return Vec::new();
        }
        self.play.tick(&self.members, &self.layout)
    }

    /// What facilitators are to be told of the kept places, if they changed
    /// since the last call.
    pub fn take_kept_change(&mut self) -> Option<ServerEvent> {
        std::mem::take(&mut self.kept_changed).then(|| self.kept_places())
    }

    /// The room's things, wishes and darts.
    pub fn play(&self) -> &Play {
        &self.play
    }

    /// The wall screen.
    pub fn screen(&self) -> &screen::Screen {
        &self.screen
    }

    /// Someone left, or was sent away. Returns whether they were here.
    pub fn remove(&mut self, id: PeerId) -> bool {
        self.members.remove(&id).is_some()
    }

    /// Someone's connection dropped: they are gone, but their place is kept for
    /// [`RESUME_WINDOW`] in case they come back. Returns whether they were here.
    /// At most one place is kept per installation and [`KEPT_PER_ADDRESS`]
    /// per address: the oldest goes first.
    pub fn depart(&mut self, id: PeerId, now: Duration) -> bool {
        let Some(member) = self.members.remove(&id) else { return false };
        let who = member.who;
        self.release_kept(|d| d.who.same_device(&who));
        while self.departed.values().filter(|d| d.who.same_address(&who)).count() >= KEPT_PER_ADDRESS {
            let Some(token) = self.departed.iter().filter(|(_, d)| d.who.same_address(&who)).min_by_key(|(_, d)| (d.at, d.info.id)).map(|(t, _)| *t)
            else {
                break;
            };
            self.departed.remove(&token);
        }
        let departed = Departed { info: member.info, pose: member.pose, at: now, invited_as: member.invited_as, who };
        self.departed.insert(member.resume, departed);
        self.kept_changed = true;
        true
    }

    /// Forget places kept longer than [`RESUME_WINDOW`]; and once nobody has
    /// been in for [`EMPTY_ROOM_FORGETS`], everything about the people who
    /// were: kept places, whom staff removed, the lock (the play goes at the
    /// next `tick`).
    pub fn expire_departed(&mut self, now: Duration) {
        self.release_kept(|d| now.saturating_sub(d.at) > RESUME_WINDOW);
        if !self.members.is_empty() {
            self.empty_since = None;
            return;
        }
        let since = *self.empty_since.get_or_insert(now);
        if now.saturating_sub(since) >= EMPTY_ROOM_FORGETS {
            self.departed.clear();
            self.removed.clear();
            self.quieted.clear();
            self.seen_devices.clear();
            self.allowances.clear();
            self.locked = false;
            self.retired_codes.clear();
            // No staff left to decide: the door opens as for a new room.
            self.waiting_room = false;
            self.let_everyone_in();
        }
    }

    /// Everyone waiting is let in (the caller admits them, `take_decisions`).
    fn let_everyone_in(&mut self) {
        let waiting = std::mem::take(&mut self.waiting);
        self.decided.extend(waiting.into_iter().map(|w| (w.ticket, Some(w.hello))));
    }

    /// Places kept for members whose connection dropped.
    pub fn places_kept(&self) -> usize {
        self.departed.len()
    }

    /// A member.
    pub fn member(&self, id: PeerId) -> Option<&Member> {
        self.members.get(&id)
    }

    /// Everyone, in id order.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// How many people are in.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when nobody is in.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// The look a client shows before it picks one.
pub const DEFAULT_LOOK: AvatarLook = AvatarLook::with_color([255, 170, 80]);

#[cfg(test)]
mod tests;
