//! Room rules: who may come in, with which role, what each member's avatar
//! and events may do, and who is due what (`interest`, `limits`).
//! Free of I/O: the server feeds it decoded messages and a clock, and sends
//! what it answers. Deterministic but for fresh room codes (`codes`).

pub mod codes;
pub mod interest;
pub mod limits;
pub mod people;
pub mod play;
mod staff;
pub mod voice;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bevy_math::Vec3;
use tsunagu_protocol::limits::{MAX_KEPT_PLACES, MAX_REMOVED, MAX_WAITING};
use tsunagu_protocol::{
    AvatarLook, AvatarPose, AvatarState, Hello, KeptPlace, PROTOCOL_VERSION, PeerId, PeerInfo, PoseFrame, QuantPose, RejectReason, RemovedPerson,
    Role, RoomCodes, ServerEvent, WaitingHint, WaitingPerson, has_staff_word, nickname_is_valid, normalize_nickname,
};

use crate::limits::EventLimiter;
use crate::people::{Allowances, Bounded, Who};
use crate::play::Play;

pub use crate::staff::{Audience, Told};

use tsunagu_sim::WardLayout;
use tsunagu_sim::motion::{MAX_SPEED, MIN_BODY_GAP, bound_body_step, bound_limb, keep_apart};
use tsunagu_sim::pose::{from_wire, to_wire};

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
}

impl Member {
    fn new(info: PeerInfo, pose: AvatarPose, now: Duration, resume: u64, who: Who) -> Member {
        Member {
            invited_as: info.role,
            who,
            placed_until: None,
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

/// What became of a reported pose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoseOutcome {
    /// Old, repeated, or not from a member: not used.
    Ignored,
    /// Used (perhaps bounded a little).
    Accepted,
    /// Used, but the body was put somewhere else: tell the client.
    Corrected(QuantPose),
}

/// A body bounded this far from where its client said is corrected.
pub const CORRECTION_DISTANCE: f32 = 0.1;
/// At most one correction per member this often.
pub const CORRECTION_INTERVAL: Duration = Duration::from_millis(500);

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

    /// The room's setup.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }

    /// Whether `code` is this room's (either code, or one it had before;
    /// case does not matter, so a child typing capitals still gets in).
    pub fn has_code(&self, code: &str) -> bool {
        self.role_of_code(code).is_some()
    }

    /// The role `code` gives, and whether it is a current code (an earlier
    /// one only brings back people already inside).
    fn role_of_code(&self, code: &str) -> Option<(Role, bool)> {
        if code.eq_ignore_ascii_case(&self.config.code) {
            Some((Role::Participant, true))
        } else if code.eq_ignore_ascii_case(&self.config.facilitator_code) {
            Some((Role::Facilitator, true))
        } else {
            self.retired_codes.iter().find(|(old, _)| code.eq_ignore_ascii_case(old)).map(|(_, role)| (*role, false))
        }
    }

    /// The member still here whom resume `token` (with an invite of `role`) brings back.
    fn present_with_token(&self, token: u64, role: Role) -> Option<PeerId> {
        self.members.values().find(|m| m.resume == token && m.invited_as == role).map(|m| m.info.id)
    }

    /// Whether resume `token` (with an invite of `role`) names a kept place.
    fn kept_for_token(&self, token: u64, role: Role) -> bool {
        self.departed.get(&token).is_some_and(|d| d.invited_as == role)
    }

    /// Whether `hello` brings back someone here or someone whose place is kept.
    fn is_coming_back(&self, hello: &Hello, role: Role) -> bool {
        hello.resume.is_some_and(|token| self.present_with_token(token, role).is_some() || self.kept_for_token(token, role))
    }

    /// Whether a facilitator removed `who` from this room (see [`Who::matches`]).
    fn is_removed(&self, who: &Who) -> bool {
        self.removed.iter().any(|r| r.who.matches(who))
    }

    /// Why `who`'s name cannot be used here now, if it cannot: a staff word
    /// without the facilitator invite, or a name that looks like that of
    /// someone here, kept or waiting (`except` is the member coming back).
    fn name_problem(&self, who: &Who, nickname: &str, invited_as: Role, except: Option<PeerId>) -> Option<RejectReason> {
        if invited_as != Role::Facilitator && has_staff_word(nickname) {
            return Some(RejectReason::NameReserved);
        }
        let taken = self.members.values().filter(|m| Some(m.info.id) != except).any(|m| m.who.name_key == who.name_key)
            || self.departed.values().filter(|d| Some(d.info.id) != except).any(|d| d.who.name_key == who.name_key)
            || self.waiting.iter().any(|w| w.who.name_key == who.name_key);
        taken.then_some(RejectReason::NameTaken)
    }

    /// Decide whether `hello` (from `address`, the transport's opaque key)
    /// must wait to be let in: a newcomer with the participant invite while
    /// the waiting room is on, or one without an installation number once
    /// anyone has been removed. `Ok(Some(ticket))`: they now wait (see
    /// [`Room::take_decisions`]); `Ok(None)`: go on with [`Room::admit`],
    /// which gives every other answer.
    pub fn wait_if_needed(&mut self, hello: &Hello, address: u64) -> Result<Option<u32>, RejectReason> {
        let Some((Role::Participant, true)) = self.role_of_code(&hello.room_code) else { return Ok(None) };
        let who = Who::of(hello, address);
        let must_wait = self.waiting_room || (hello.device == 0 && !self.removed.is_empty());
        if !must_wait
            || self.locked
            || self.is_removed(&who)
            || hello.version != PROTOCOL_VERSION
            || !nickname_is_valid(&hello.nickname)
            || self.is_coming_back(hello, Role::Participant)
        {
            return Ok(None);
        }
        if let Some(problem) = self.name_problem(&who, &hello.nickname, Role::Participant, None) {
            return Err(problem);
        }
        let from_address = self.waiting.iter().filter(|w| w.who.same_address(&who)).count();
        if self.waiting.len() >= MAX_WAITING.min(self.config.capacity) || from_address >= WAITING_PER_ADDRESS {
            return Err(RejectReason::RoomFull);
        }
        let hint = if self.removed.iter().any(|r| r.who.same_address(&who)) {
            WaitingHint::SameNetworkAsRemoved
        } else if hello.device == 0 {
            WaitingHint::NoInstallation
        } else if self.seen_devices.iter().any(|d| *d == hello.device) {
            WaitingHint::SamePcAsBefore
        } else {
            WaitingHint::New
        };
        let ticket = self.next_ticket;
        self.next_ticket = self.next_ticket.wrapping_add(1).max(1);
        let mut hello = hello.clone();
        hello.nickname = normalize_nickname(&hello.nickname);
        self.waiting.push(Waiter { ticket, hello, who, hint });
        Ok(Some(ticket))
    }

    /// Someone stopped waiting (their connection closed, however). Returns
    /// whether they were waiting.
    pub fn stop_waiting(&mut self, ticket: u32) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|w| w.ticket != ticket);
        self.waiting.len() != before
    }

    /// Who waits, as facilitators see it.
    pub fn waiting_people(&self) -> ServerEvent {
        ServerEvent::WaitingPeople(
            self.waiting.iter().map(|w| WaitingPerson { ticket: w.ticket, nickname: w.hello.nickname.clone(), hint: w.hint }).collect(),
        )
    }

    /// Whether newcomers wait to be let in.
    pub fn has_waiting_room(&self) -> bool {
        self.waiting_room
    }

    /// What was decided about waiting people since the last call: each
    /// ticket with the Hello to admit them with, or `None` when turned away.
    pub fn take_decisions(&mut self) -> Vec<(u32, Option<Hello>)> {
        std::mem::take(&mut self.decided)
    }

    /// The room's codes as member `id` is told them: the facilitator code
    /// only to people who came in with it. Someone made staff in the room
    /// gets the participant code alone, so their powers end when a
    /// facilitator makes them a participant again: they hold no key to
    /// come back as staff.
    pub fn invites_for(&self, id: PeerId) -> ServerEvent {
        let staff_invite = self.members.get(&id).is_some_and(Member::has_staff_invite);
        let facilitator = if staff_invite { self.config.facilitator_code.clone() } else { String::new() };
        ServerEvent::Invites(RoomCodes { participant: self.config.code.clone(), facilitator })
    }

    /// Decide on a Hello from `address` (the transport's opaque key for
    /// where the connection came from; 0 if unknown). `hello.resume` naming a
    /// member still here (their old connection not yet noticed dead) or a
    /// kept place brings them back with the same id and place, even into a
    /// full room; otherwise a newcomer gets a spawn point if there is room,
    /// taking the oldest kept place's seat if they must. `resume_token`
    /// (fresh randomness from the caller) is theirs for the next drop.
    pub fn admit(&mut self, hello: &Hello, address: u64, now: Duration, resume_token: u64) -> Result<(&Member, Admission), RejectReason> {
        if hello.version != PROTOCOL_VERSION {
            return Err(RejectReason::VersionMismatch { server_version: PROTOCOL_VERSION });
        }
        let (role, current_code) = self.role_of_code(&hello.room_code).ok_or(RejectReason::WrongRoomCode)?;
        if !nickname_is_valid(&hello.nickname) {
            return Err(RejectReason::InvalidNickname);
        }
        let who = Who::of(hello, address);
        // Removed from this room: not with this invite, not with the other,
        // not with a resume token, until a facilitator lets them back in.
        if self.is_removed(&who) {
            return Err(RejectReason::Removed);
        }
        let nickname = normalize_nickname(&hello.nickname);
        // A token only brings back someone of the role the invite gives.
        if let Some(token) = hello.resume {
            if let Some(id) = self.present_with_token(token, role) {
                if let Some(problem) = self.name_problem(&who, &nickname, role, Some(id)) {
                    return Err(problem);
                }
                let member = self.members.get_mut(&id).ok_or(RejectReason::RoomFull)?;
                member.resume = resume_token;
                member.info.look = hello.look;
                member.info.nickname = nickname;
                member.who = who;
                return Ok((member, Admission::Replaced));
            }
            if self.kept_for_token(token, role)
                && let Some(kept) = self.departed.get(&token)
            {
                if let Some(problem) = self.name_problem(&who, &nickname, role, Some(kept.info.id)) {
                    return Err(problem);
                }
                let kept = self.departed.remove(&token).ok_or(RejectReason::RoomFull)?;
                self.kept_changed = true;
                let info = PeerInfo { nickname, look: hello.look, ..kept.info };
                let mut member = Member::new(info, kept.pose, now, resume_token, who);
                member.invited_as = kept.invited_as;
                let id = member.info.id;
                return Ok((self.members.entry(id).or_insert(member), Admission::Returned));
            }
        }
        if !current_code {
            return Err(RejectReason::OldInvite);
        }
        if self.locked {
            return Err(RejectReason::RoomLocked);
        }
        if let Some(problem) = self.name_problem(&who, &nickname, role, None) {
            return Err(problem);
        }
        // Staff are never kept out by a room full of participants.
        let seats = match role {
            Role::Facilitator => (self.config.capacity + STAFF_SEATS).min(tsunagu_protocol::limits::MAX_PEERS),
            Role::Participant => self.config.capacity,
        };
        if self.members.len() >= seats {
            return Err(RejectReason::RoomFull);
        }
        // Coming in afresh, this installation gives up any place kept for it.
        self.release_kept(|d| d.who.same_device(&who));
        while self.members.len() + self.departed.len() >= seats && self.release_oldest_kept() {}
        let id = self.fresh_id();
        let spawn = self.layout.spawn_point(self.joins_so_far);
        self.joins_so_far += 1;
        let facing_screen = bevy_math::Quat::IDENTITY;
        let head = spawn + Vec3::Y * tsunagu_sim::motion::EYE_HEIGHT;
        let pose = AvatarPose { body: to_wire(spawn, facing_screen), head: to_wire(head, facing_screen), hands: None };
        // A quiet a facilitator asked for holds when they come back afresh.
        let muted = self.quieted.iter().any(|q| q.matches(&who));
        if who.device != 0 && !self.seen_devices.iter().any(|d| *d == who.device) {
            self.seen_devices.push(who.device);
        }
        let info = PeerInfo { id, nickname, look: hello.look, role, hand_raised: false, muted };
        let member = Member::new(info, pose, now, resume_token, who);
        Ok((self.members.entry(id).or_insert(member), Admission::Fresh))
    }

    /// Give up the kept places `release` picks. Returns how many went.
    fn release_kept(&mut self, release: impl Fn(&Departed) -> bool) -> usize {
        let before = self.departed.len();
        self.departed.retain(|_, d| !release(d));
        let gone = before - self.departed.len();
        self.kept_changed |= gone > 0;
        gone
    }

    /// Give up the place kept longest. Returns whether there was one.
    fn release_oldest_kept(&mut self) -> bool {
        let Some(token) = self.departed.iter().min_by_key(|(_, d)| (d.at, d.info.id)).map(|(token, _)| *token) else { return false };
        self.departed.remove(&token);
        self.kept_changed = true;
        true
    }

    /// The places kept for dropped connections, as facilitators see them.
    pub fn kept_places(&self) -> ServerEvent {
        let mut places: Vec<KeptPlace> = self.departed.values().map(|d| KeptPlace { id: d.info.id, nickname: d.info.nickname.clone() }).collect();
        places.sort_by_key(|p| p.id);
        places.truncate(MAX_KEPT_PLACES);
        ServerEvent::KeptPlaces(places)
    }

    /// An id nobody here, and nobody whose place is kept, has. Ids count up
    /// and, after 2³² − 1 joins, wrap around past 0, skipping those in use:
    /// a newcomer must never get someone's id (and with it their role).
    fn fresh_id(&mut self) -> PeerId {
        loop {
            let id = PeerId(self.next_id);
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            let taken = self.members.contains_key(&id) || self.departed.values().any(|d| d.info.id == id);
            if id.0 != 0 && !taken {
                return id;
            }
        }
    }

    /// Stand `people` around in front of `by`, facing them: one in front, more
    /// on an arc 1.3 m away. Each is held there for [`PLACED_FOR`] while their
    /// client learns of it (`MovedTo`).
    fn gather(&mut self, by: PeerId, people: &[PeerId], now: Duration) {
        let Some(host) = self.members.get(&by) else { return };
        let (centre, rotation) = from_wire(host.pose.body);
        let forward = rotation * Vec3::NEG_Z;
        self.moves.clear();
        for (n, id) in people.iter().enumerate() {
            // 0, then alternately right and left of straight ahead, 25° apart.
            let step = n.div_ceil(2) as f32 * if n % 2 == 1 { 1.0 } else { -1.0 };
            let direction = bevy_math::Quat::from_rotation_y(step * 25f32.to_radians()) * forward;
            let spot = self.layout.clamp_walkable(centre + direction * 1.3, tsunagu_sim::motion::AVATAR_RADIUS);
            let facing_host = tsunagu_sim::motion::facing(centre - spot);
            let Some(member) = self.members.get_mut(id) else { continue };
            let (_, head_rotation) = from_wire(member.pose.head);
            member.pose = AvatarPose {
                body: to_wire(spot, facing_host),
                head: to_wire(spot + Vec3::Y * tsunagu_sim::motion::EYE_HEIGHT, head_rotation),
                hands: None,
            };
            member.placed_until = Some(now + PLACED_FOR);
            self.moves.push((*id, member.pose.body));
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
    /// darts scored). When nobody is here and no place is kept, the play is
    /// forgotten: the next people find the room as new.
    pub fn tick(&mut self) -> Vec<ServerEvent> {
        if self.members.is_empty() && self.departed.is_empty() {
            if self.play.touched() || !self.play.is_at_rest() {
                self.play = Play::new(&self.layout);
            }
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

    /// Take a member's pose report, bounded by the motion rules: no faster than
    /// walking allows, inside the walkable space, not into someone else's body
    /// (`keep_apart`), hands and head within reach.
    /// When the body is moved, head and hands move with it. Old or repeated
    /// frames are ignored. A body put more than [`CORRECTION_DISTANCE`] from
    /// where the client said is [`PoseOutcome::Corrected`]: the client is told
    /// where it stands (at most every [`CORRECTION_INTERVAL`]).
    pub fn accept_pose(&mut self, id: PeerId, frame: &PoseFrame, now: Duration) -> PoseOutcome {
        // Where everyone else stands, before borrowing this member to change.
        let mut others = std::mem::take(&mut self.others_scratch);
        others.clear();
        others.extend(self.members.values().filter(|m| m.info.id != id).map(|m| from_wire(m.pose.body).0));
        let outcome = self.bound_pose(id, frame, now, &others);
        self.others_scratch = others;
        outcome
    }

    /// [`Room::accept_pose`] with where everyone else stands.
    fn bound_pose(&mut self, id: PeerId, frame: &PoseFrame, now: Duration, others: &[Vec3]) -> PoseOutcome {
        let Some(member) = self.members.get_mut(&id) else { return PoseOutcome::Ignored };
        if member.last_seq.is_some_and(|last| !seq_is_newer(frame.seq, last)) {
            return PoseOutcome::Ignored;
        }
        let most_poses = f64::from(limits::MAX_POSES_PER_SECOND);
        if !member.pose_allowance.take(now, most_poses, most_poses) {
            return PoseOutcome::Ignored;
        }
        // The stride budget: time since the last pose (at most MAX_STRIDE_TIME)
        // at walking's top speed, plus the slack once; what a step uses is gone.
        let dt = now.saturating_sub(member.last_pose_at).min(limits::MAX_STRIDE_TIME).as_secs_f32();
        let most = MAX_SPEED * limits::MAX_STRIDE_TIME.as_secs_f32() + limits::STRIDE_SLACK;
        member.stride = (member.stride + MAX_SPEED * dt).min(most);
        let (prev_body, placed_rot) = from_wire(member.pose.body);
        let (reported, body_rot) = from_wire(frame.pose.body);
        // Just moved by a facilitator: poses from before the client knew must not walk them back.
        let placed = member.placed_until.is_some_and(|until| now < until);
        let body = if placed {
            prev_body
        } else {
            keep_apart(
                &self.layout,
                prev_body,
                bound_body_step(&self.layout, prev_body, reported, member.stride),
                others.iter().copied(),
                MIN_BODY_GAP,
            )
        };
        let body_rot = if placed { placed_rot } else { body_rot };
        // What the step spends is what the wire will carry (millimetres),
        // and a rounding up is owed to the next step, so rounding cannot add
        // up over many small steps.
        let stored = from_wire(to_wire(body, bevy_math::Quat::IDENTITY)).0;
        member.stride -= (stored - prev_body).with_y(0.0).length();
        let body_rot = yaw_only(body_rot);
        let shift = if reported.is_finite() { body - reported.with_y(0.0) } else { Vec3::ZERO };
        let limb = |pose: QuantPose| {
            let (p, r) = from_wire(pose);
            to_wire(bound_limb(body, p + shift), r)
        };
        member.pose = AvatarPose { body: to_wire(body, body_rot), head: limb(frame.pose.head), hands: frame.pose.hands.map(|hands| hands.map(limb)) };
        member.last_seq = Some(frame.seq);
        member.last_pose_at = now;
        let due = member.last_correction.is_none_or(|at| now.saturating_sub(at) >= CORRECTION_INTERVAL);
        if shift.length() > CORRECTION_DISTANCE && due && !placed {
            member.last_correction = Some(now);
            return PoseOutcome::Corrected(member.pose.body);
        }
        PoseOutcome::Accepted
    }

    /// What `viewer` should see: everyone else's avatar.
    pub fn visible_to(&self, viewer: PeerId) -> Vec<AvatarState> {
        self.members.values().filter(|m| m.info.id != viewer).map(|m| AvatarState { id: m.info.id, pose: m.pose }).collect()
    }

    /// Everyone else, as a newcomer's Welcome lists them.
    pub fn peers_except(&self, id: PeerId) -> Vec<PeerInfo> {
        self.members.values().filter(|m| m.info.id != id).map(|m| m.info.clone()).collect()
    }
}

/// Sequence (and tick) comparison that survives wrap-around: `seq` is newer
/// than `last` when `(seq − last) mod 2³²` is between 1 and 2³¹ − 1.
pub fn seq_is_newer(seq: u32, last: u32) -> bool {
    seq != last && seq.wrapping_sub(last) < u32::MAX / 2
}

/// A body stands upright: keep only the turn around the vertical axis.
fn yaw_only(rot: bevy_math::Quat) -> bevy_math::Quat {
    let forward = rot * Vec3::NEG_Z;
    tsunagu_sim::motion::facing(forward)
}

/// The look a client shows before it picks one.
pub const DEFAULT_LOOK: AvatarLook = AvatarLook::with_color([255, 170, 80]);

#[cfg(test)]
mod tests;
