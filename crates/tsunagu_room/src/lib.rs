//! Room rules: who may come in, with which role, what each member's avatar
//! and events may do, and who is due what (`interest`, `limits`).
//! Free of I/O: the server feeds it decoded messages and a clock, and sends
//! what it answers. Deterministic but for fresh room codes (`codes`).

pub mod codes;
pub mod interest;
pub mod limits;
pub mod play;
pub mod voice;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bevy_math::Vec3;
use tsunagu_protocol::{
    AvatarLook, AvatarPose, AvatarState, ClientEvent, EventKind, Hello, PROTOCOL_VERSION, PeerId, PeerInfo, PoseFrame, QuantPose, RemovedPerson,
    NicknameProblem, Refusal, RefusalReason, RejectReason, Role, RoomCodes, ServerEvent, WaitingPerson, chat_problem, nickname_is_valid,
    normalize_chat, normalize_nickname,
};
use tsunagu_protocol::limits::MAX_WAITING;

use crate::limits::EventLimiter;
use crate::play::Play;

use tsunagu_sim::motion::{MAX_SPEED, MIN_BODY_GAP, bound_body_step, bound_limb, keep_apart};
use tsunagu_sim::pose::{from_wire, to_wire};
use tsunagu_sim::WardLayout;

/// Codes a room had before a facilitator changed them, kept this many times
/// over: they bring back people already inside, and nobody new.
pub const RETIRED_CODES_KEPT: usize = 4;

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
    /// Poses used in the current second: (window start, count).
    pose_window: (Duration, u32),
    /// Voice limits and talking.
    pub voice: voice::VoiceState,
    /// The role of the invite they came in with (a resume must use the same).
    invited_as: Role,
    /// Their installation's number from Hello (0: none), for a removal.
    device: u64,
    /// A facilitator moved them: their body stays there until then, while
    /// poses sent before their client knew come in.
    placed_until: Option<Duration>,
}

impl Member {
    fn new(info: PeerInfo, pose: AvatarPose, now: Duration, resume: u64, device: u64) -> Member {
        Member {
            invited_as: info.role,
            device,
            placed_until: None,
            info,
            pose,
            last_seq: None,
            last_pose_at: now,
            resume,
            events: EventLimiter::default(),
            last_correction: None,
            stride: limits::STRIDE_SLACK,
            pose_window: (now, 0),
            voice: voice::VoiceState::new(now),
        }
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
}

/// Someone a facilitator removed: kept out until let back in.
#[derive(Clone, Debug)]
struct Removal {
    id: u32,
    device: u64,
    nickname: String,
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
    /// They count toward capacity, so a reconnect into a full room succeeds.
    departed: HashMap<u64, Departed>,
    next_id: u32,
    joins_so_far: u32,
    play: Play,
    /// Closed to newcomers by a facilitator.
    locked: bool,
    removed: Vec<Removal>,
    next_removal: u32,
    /// Where the last facilitator's move put people (see `take_moves`).
    moves: Vec<(PeerId, QuantPose)>,
    /// Since when nobody has been in.
    empty_since: Option<Duration>,
    /// Newcomers wait for a facilitator to let them in.
    waiting_room: bool,
    /// Who waits, oldest first: their ticket and the Hello to admit them with.
    waiting: Vec<(u32, Hello)>,
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
            next_id: 1,
            joins_so_far: 0,
            play,
            locked: false,
            removed: Vec::new(),
            next_removal: 1,
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

    /// Whether installation `device` was removed from this room (0 is no installation).
    fn is_removed(&self, device: u64) -> bool {
        device != 0 && self.removed.iter().any(|r| r.device == device)
    }

    /// Decide whether `hello` must wait to be let in: a newcomer with the
    /// participant invite while the waiting room is on. `Ok(Some(ticket))`:
    /// they now wait (see [`Room::take_decisions`]); `Ok(None)`: go on with
    /// [`Room::admit`], which gives every other answer.
    pub fn wait_if_needed(&mut self, hello: &Hello) -> Result<Option<u32>, RejectReason> {
        let Some((Role::Participant, true)) = self.role_of_code(&hello.room_code) else { return Ok(None) };
        if !self.waiting_room
            || self.locked
            || self.is_removed(hello.device)
            || hello.version != PROTOCOL_VERSION
            || !nickname_is_valid(&hello.nickname)
            || self.is_coming_back(hello, Role::Participant)
        {
            return Ok(None);
        }
        if self.waiting.len() >= MAX_WAITING.min(self.config.capacity) {
            return Err(RejectReason::RoomFull);
        }
        let ticket = self.next_ticket;
        self.next_ticket = self.next_ticket.wrapping_add(1).max(1);
        let mut hello = hello.clone();
        hello.nickname = normalize_nickname(&hello.nickname);
        self.waiting.push((ticket, hello));
        Ok(Some(ticket))
    }

    /// Someone stopped waiting (their connection closed). Returns whether
    /// they were waiting.
    pub fn stop_waiting(&mut self, ticket: u32) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|(t, _)| *t != ticket);
        self.waiting.len() != before
    }

    /// Who waits, as facilitators see it.
    pub fn waiting_people(&self) -> ServerEvent {
        ServerEvent::WaitingPeople(self.waiting.iter().map(|(ticket, hello)| WaitingPerson { ticket: *ticket, nickname: hello.nickname.clone() }).collect())
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

    /// The room's codes, as facilitators are told them.
    pub fn invites(&self) -> ServerEvent {
        ServerEvent::Invites(RoomCodes { participant: self.config.code.clone(), facilitator: self.config.facilitator_code.clone() })
    }

    /// Decide on a Hello. `hello.resume` naming a member still here (their
    /// old connection not yet noticed dead) or a kept place brings them back
    /// with the same id and place, even into a full room; otherwise a newcomer
    /// gets a spawn point if there is room. `resume_token` (fresh randomness
    /// from the caller) is theirs for the next drop.
    pub fn admit(&mut self, hello: &Hello, now: Duration, resume_token: u64) -> Result<(&Member, Admission), RejectReason> {
        if hello.version != PROTOCOL_VERSION {
            return Err(RejectReason::VersionMismatch { server_version: PROTOCOL_VERSION });
        }
        let (role, current_code) = self.role_of_code(&hello.room_code).ok_or(RejectReason::WrongRoomCode)?;
        if !nickname_is_valid(&hello.nickname) {
            return Err(RejectReason::InvalidNickname);
        }
        // Removed from this room: not with this invite, not with the other,
        // not with a resume token, until a facilitator lets them back in.
        if self.is_removed(hello.device) {
            return Err(RejectReason::Removed);
        }
        let nickname = normalize_nickname(&hello.nickname);
        // A token only brings back someone of the role the invite gives.
        if let Some(token) = hello.resume {
            if let Some(id) = self.present_with_token(token, role) {
                let member = self.members.get_mut(&id).ok_or(RejectReason::RoomFull)?;
                member.resume = resume_token;
                member.info.look = hello.look;
                member.info.nickname = nickname;
                return Ok((member, Admission::Replaced));
            }
            if self.kept_for_token(token, role)
                && let Some(kept) = self.departed.remove(&token)
            {
                let info = PeerInfo { nickname, look: hello.look, ..kept.info };
                let mut member = Member::new(info, kept.pose, now, resume_token, hello.device);
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
        if self.members.len() + self.departed.len() >= self.config.capacity {
            return Err(RejectReason::RoomFull);
        }
        let id = self.fresh_id();
        let spawn = self.layout.spawn_point(self.joins_so_far);
        self.joins_so_far += 1;
        let facing_screen = bevy_math::Quat::IDENTITY;
        let head = spawn + Vec3::Y * tsunagu_sim::motion::EYE_HEIGHT;
        let pose = AvatarPose { body: to_wire(spawn, facing_screen), head: to_wire(head, facing_screen), hands: None };
        let member = Member::new(PeerInfo { id, nickname, look: hello.look, role, hand_raised: false, muted: false }, pose, now, resume_token, hello.device);
        Ok((self.members.entry(id).or_insert(member), Admission::Fresh))
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

    /// Apply a member's event under the room's rules. `Ok` is what everyone in
    /// the room (the sender included) is told; `Err` goes back to the sender.
    pub fn apply_event(&mut self, id: PeerId, event: &ClientEvent, now: Duration) -> Result<ServerEvent, Refusal> {
        let kind = event.kind();
        let Some(member) = self.members.get_mut(&id) else { return Err(Refusal { kind, reason: RefusalReason::NotAllowed }) };
        if !member.events.allow(kind, now) {
            return Err(Refusal { kind, reason: RefusalReason::TooFast });
        }
        if kind == EventKind::Facilitate {
            // The role as it is now: a demoted facilitator has lost these at once.
            if member.info.role != Role::Facilitator {
                return Err(Refusal { kind, reason: RefusalReason::NotAllowed });
            }
            return self.facilitate(id, event, now).map_err(|reason| Refusal { kind, reason });
        }
        match event {
            ClientEvent::SetLook(look) => {
                member.info.look = *look;
                Ok(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::RaiseHand(raised) => {
                member.info.hand_raised = *raised;
                Ok(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::Gesture(gesture) => Ok(ServerEvent::Gesture(id, *gesture)),
            ClientEvent::Stamp(stamp) => Ok(ServerEvent::Stamp(id, *stamp)),
            ClientEvent::Chat(text) => match chat_problem(text) {
                None => Ok(ServerEvent::Chat(id, normalize_chat(text))),
                Some(NicknameProblem::TooLong) => Err(Refusal { kind, reason: RefusalReason::TooLong }),
                Some(_) => Err(Refusal { kind, reason: RefusalReason::TextNotAllowed }),
            },
            ClientEvent::Grab(object) => self.play.grab(member, *object).map_err(|reason| Refusal { kind, reason }),
            ClientEvent::Release(object, velocity) => self.play.release(id, *object, *velocity, &self.layout).map_err(|reason| Refusal { kind, reason }),
            ClientEvent::HangWish(paper, text) => self.play.hang_wish(id, *paper, text).map_err(|reason| Refusal { kind, reason }),
            ClientEvent::TakeDownWish(wish) => {
                let facilitator = member.info.role == Role::Facilitator;
                self.play.take_down_wish(*wish, |w| facilitator || w.by == id).map_err(|reason| Refusal { kind, reason })
            }
            // Facilitator actions went to `facilitate` above.
            _ => Err(Refusal { kind, reason: RefusalReason::NotAllowed }),
        }
    }

    /// A facilitator's action on someone or on the room. A removal answers
    /// `PeerLeft`: the caller also closes the removed person's connection. A
    /// move answers `MovedTo` (the first person's place): [`Room::take_moves`]
    /// has each moved person's, to tell them alone. Ending the meetup answers
    /// `PeerLeft` of the facilitator: the caller closes everyone.
    fn facilitate(&mut self, by: PeerId, event: &ClientEvent, now: Duration) -> Result<ServerEvent, RefusalReason> {
        match event {
            ClientEvent::BringHere(target) if *target == by => Err(RefusalReason::NotAllowed),
            ClientEvent::BringHere(target) => {
                if !self.members.contains_key(target) {
                    return Err(RefusalReason::Unknown);
                }
                self.gather(by, &[*target], now);
                self.moves.first().map(|(_, at)| ServerEvent::MovedTo(*at)).ok_or(RefusalReason::Unknown)
            }
            ClientEvent::GatherHere => {
                let everyone: Vec<PeerId> = self.members.keys().copied().filter(|id| *id != by).collect();
                self.gather(by, &everyone, now);
                self.moves.first().map(|(_, at)| ServerEvent::MovedTo(*at)).ok_or(RefusalReason::Unknown)
            }
            ClientEvent::EndMeetup => Ok(ServerEvent::PeerLeft(by)),
            ClientEvent::Mute(target, on) => {
                let member = self.members.get_mut(target).ok_or(RefusalReason::Unknown)?;
                member.info.muted = *on;
                Ok(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::SetRole(target, role) => {
                let member = self.members.get_mut(target).ok_or(RefusalReason::Unknown)?;
                member.info.role = *role;
                Ok(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::Remove(target) if *target == by => Err(RefusalReason::NotAllowed),
            ClientEvent::Remove(target) => {
                let member = self.members.remove(target).ok_or(RefusalReason::Unknown)?;
                self.removed.push(Removal { id: self.next_removal, device: member.device, nickname: member.info.nickname });
                self.next_removal = self.next_removal.wrapping_add(1).max(1);
                Ok(ServerEvent::PeerLeft(*target))
            }
            ClientEvent::LockRoom(on) => {
                self.locked = *on;
                Ok(ServerEvent::RoomLocked(*on))
            }
            ClientEvent::SetWaitingRoom(on) => {
                self.waiting_room = *on;
                if !on {
                    self.let_everyone_in();
                }
                Ok(ServerEvent::WaitingRoom(*on))
            }
            ClientEvent::LetIn(ticket) | ClientEvent::TurnAway(ticket) => {
                let at = self.waiting.iter().position(|(t, _)| t == ticket).ok_or(RefusalReason::Unknown)?;
                let (ticket, hello) = self.waiting.remove(at);
                let admitted = matches!(event, ClientEvent::LetIn(_)).then_some(hello);
                self.decided.push((ticket, admitted));
                Ok(self.waiting_people())
            }
            ClientEvent::AskRecentre(target) => self.members.get(target).map(|_| ServerEvent::Recentre).ok_or(RefusalReason::Unknown),
            ClientEvent::NewInvites => {
                let (code, facilitator_code) = codes::fresh_code_pair();
                let old_code = std::mem::replace(&mut self.config.code, code);
                let old_facilitator_code = std::mem::replace(&mut self.config.facilitator_code, facilitator_code);
                self.retired_codes.extend([(old_code, Role::Participant), (old_facilitator_code, Role::Facilitator)]);
                let beyond = self.retired_codes.len().saturating_sub(RETIRED_CODES_KEPT * 2);
                self.retired_codes.drain(..beyond);
                Ok(self.invites())
            }
            ClientEvent::LetBackIn(removal) => {
                let before = self.removed.len();
                self.removed.retain(|r| r.id != *removal);
                if self.removed.len() == before {
                    return Err(RefusalReason::Unknown);
                }
                Ok(self.removed_people())
            }
            _ => Err(RefusalReason::NotAllowed),
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

    /// Everyone leaves: the meetup is over. Returns who was here.
    pub fn end_meetup(&mut self) -> Vec<PeerId> {
        self.departed.clear();
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
    pub fn depart(&mut self, id: PeerId, now: Duration) -> bool {
        let Some(member) = self.members.remove(&id) else { return false };
        let departed = Departed { info: member.info, pose: member.pose, at: now, invited_as: member.invited_as };
        self.departed.insert(member.resume, departed);
        true
    }

    /// Forget places kept longer than [`RESUME_WINDOW`]; and once nobody has
    /// been in for [`EMPTY_ROOM_FORGETS`], everything about the people who
    /// were: kept places, whom staff removed, the lock (the play goes at the
    /// next `tick`).
    pub fn expire_departed(&mut self, now: Duration) {
        self.departed.retain(|_, d| now.saturating_sub(d.at) <= RESUME_WINDOW);
        if !self.members.is_empty() {
            self.empty_since = None;
            return;
        }
        let since = *self.empty_since.get_or_insert(now);
        if now.saturating_sub(since) >= EMPTY_ROOM_FORGETS {
            self.departed.clear();
            self.removed.clear();
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
        self.decided.extend(waiting.into_iter().map(|(ticket, hello)| (ticket, Some(hello))));
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
        if now.saturating_sub(member.pose_window.0) >= Duration::from_secs(1) {
            member.pose_window = (now, 0);
        }
        if member.pose_window.1 >= limits::MAX_POSES_PER_SECOND {
            return PoseOutcome::Ignored;
        }
        member.pose_window.1 += 1;
        // The stride budget: time since the last pose (at most MAX_STRIDE_TIME)
        // at walking's top speed, plus the slack once; what a step uses is gone.
        let dt = now.saturating_sub(member.last_pose_at).min(limits::MAX_STRIDE_TIME).as_secs_f32();
        let most = MAX_SPEED * limits::MAX_STRIDE_TIME.as_secs_f32() + limits::STRIDE_SLACK;
        member.stride = (member.stride + MAX_SPEED * dt).min(most);
        let (prev_body, placed_rot) = from_wire(member.pose.body);
        let (reported, body_rot) = from_wire(frame.pose.body);
        // Just moved by a facilitator: poses from before the client knew must not walk them back.
        let placed = member.placed_until.is_some_and(|until| now < until);
        let body = if placed { prev_body } else { keep_apart(&self.layout, prev_body, bound_body_step(&self.layout, prev_body, reported, member.stride), others.iter().copied(), MIN_BODY_GAP) };
        let body_rot = if placed { placed_rot } else { body_rot };
        member.stride = (member.stride - (body - prev_body).with_y(0.0).length()).max(0.0);
        let body_rot = yaw_only(body_rot);
        let shift = if reported.is_finite() { body - reported.with_y(0.0) } else { Vec3::ZERO };
        let limb = |pose: QuantPose| {
            let (p, r) = from_wire(pose);
            to_wire(bound_limb(body, p + shift), r)
        };
        member.pose = AvatarPose {
            body: to_wire(body, body_rot),
            head: limb(frame.pose.head),
            hands: frame.pose.hands.map(|hands| hands.map(limb)),
        };
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
        self.members
            .values()
            .filter(|m| m.info.id != viewer)
            .map(|m| AvatarState { id: m.info.id, pose: m.pose })
            .collect()
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
mod tests {
    use super::*;

    fn room(capacity: usize) -> Room {
        Room::new(RoomConfig { code: "sakura".into(), facilitator_code: "sakura-staff".into(), capacity })
    }

    fn hello(code: &str, name: &str) -> Hello {
        Hello::new(code, name, DEFAULT_LOOK)
    }

    #[test]
    fn admission_rules() {
        let mut room = room(2);
        let t = Duration::ZERO;
        assert_eq!(room.admit(&hello("nope", "a"), t, 7).err(), Some(RejectReason::WrongRoomCode));
        let mut old = hello("sakura", "a");
        old.version = 0;
        assert_eq!(room.admit(&old, t, 1).err(), Some(RejectReason::VersionMismatch { server_version: PROTOCOL_VERSION }));
        assert_eq!(room.admit(&hello("sakura", "  "), t, 7).err(), Some(RejectReason::InvalidNickname));
        assert_eq!(room.admit(&hello("sakura", "ゆき"), t, 7).unwrap().0.info.role, Role::Participant);
        assert_eq!(room.admit(&hello("Sakura-STAFF", "先生"), t, 7).unwrap().0.info.role, Role::Facilitator, "codes ignore case");
        assert_eq!(room.admit(&hello("sakura", "c"), t, 7).err(), Some(RejectReason::RoomFull));
        assert_eq!(room.len(), 2);
    }

    #[test]
    fn poses_are_bounded_and_ordered() {
        let mut room = room(4);
        let id = room.admit(&hello("sakura", "a"), Duration::ZERO, 7).unwrap().0.info.id;
        let start = from_wire(room.member(id).unwrap().pose.body).0;
        let far = to_wire(Vec3::new(6.0, 0.0, -4.0), bevy_math::Quat::IDENTITY);
        let frame = |seq| PoseFrame { seq, ack_tick: 0, pose: AvatarPose { body: far, head: far, hands: None } };
        let outcome = room.accept_pose(id, &frame(5), Duration::from_millis(33));
        let moved = from_wire(room.member(id).unwrap().pose.body).0;
        assert!((moved - start).length() < 0.2, "a teleport was accepted: {start} -> {moved}");
        assert_eq!(outcome, PoseOutcome::Corrected(room.member(id).unwrap().pose.body), "the client was not told where it stands");
        // The head came along with the body instead of staying where it was sent.
        let head = from_wire(room.member(id).unwrap().pose.head).0;
        assert!((head - moved).length() < 0.01, "head left behind at {head}, body at {moved}");
        assert_eq!(room.accept_pose(id, &frame(6), Duration::from_millis(66)), PoseOutcome::Accepted, "corrected again too soon");
        assert_eq!(room.accept_pose(id, &frame(4), Duration::from_millis(99)), PoseOutcome::Ignored, "an older frame was used");
        assert_eq!(room.accept_pose(PeerId(99), &frame(7), Duration::from_millis(99)), PoseOutcome::Ignored);
        assert!(seq_is_newer(0, u32::MAX));
    }

    #[test]
    fn a_dropped_member_comes_back_where_they_were() {
        let mut room = room(4);
        let id = room.admit(&hello("sakura", "a"), Duration::ZERO, 41).unwrap().0.info.id;
        let spot = to_wire(Vec3::new(0.3, 0.0, 1.5), bevy_math::Quat::IDENTITY);
        let frame = PoseFrame { seq: 1, ack_tick: 0, pose: AvatarPose { body: spot, head: spot, hands: None } };
        assert_eq!(room.accept_pose(id, &frame, Duration::from_secs(1)), PoseOutcome::Accepted);
        let was = room.member(id).unwrap().pose.body;
        assert!(room.depart(id, Duration::from_secs(2)));
        let mut back = hello("sakura", "a");
        back.resume = Some(41);
        let (back_id, back_pose) = room.admit(&back, Duration::from_secs(5), 42).map(|(m, _)| (m.info.id, m.pose.body)).unwrap();
        assert_eq!(back_pose, was);
        assert_eq!(back_id, id, "a returning member keeps their id");
        // A token works once, and not after the window.
        assert!(room.depart(back_id, Duration::from_secs(6)));
        room.expire_departed(Duration::from_secs(6) + RESUME_WINDOW + Duration::from_secs(1));
        back.resume = Some(42);
        assert_ne!(room.admit(&back, Duration::from_secs(500), 43).unwrap().0.pose.body, was);
    }

    #[test]
    fn nobody_sees_themselves() {
        let mut room = room(4);
        let a = room.admit(&hello("sakura", "a"), Duration::ZERO, 7).unwrap().0.info.id;
        let b = room.admit(&hello("sakura", "b"), Duration::ZERO, 7).unwrap().0.info.id;
        let seen: Vec<_> = room.visible_to(a).iter().map(|s| s.id).collect();
        assert_eq!(seen, vec![b]);
        assert_ne!(room.member(a).unwrap().pose.body, room.member(b).unwrap().pose.body, "two people spawned on one spot");
    }

    #[test]
    fn a_kept_place_counts_toward_capacity_and_its_owner_gets_back_into_a_full_room() {
        let mut room = room(2);
        let t = Duration::ZERO;
        let a = room.admit(&hello("sakura", "a"), t, 100).unwrap().0.info.id;
        room.admit(&hello("sakura", "b"), t, 200).unwrap();
        assert!(room.depart(a, t));
        assert_eq!(room.admit(&hello("sakura", "c"), t, 300).err(), Some(RejectReason::RoomFull), "a newcomer took a kept place");
        let mut back = hello("sakura", "a");
        back.resume = Some(100);
        let (member, how) = room.admit(&back, t, 101).unwrap();
        assert_eq!((member.info.id, how), (a, Admission::Returned));
        assert_eq!(room.len(), 2);
    }

    #[test]
    fn a_member_still_here_is_replaced_not_doubled_even_when_full() {
        let mut room = room(2);
        let t = Duration::ZERO;
        let (a, spawn) = room.admit(&hello("sakura", "a"), t, 100).map(|(m, _)| (m.info.id, m.pose)).unwrap();
        room.admit(&hello("sakura", "b"), t, 200).unwrap();
        let mut back = hello("sakura", "a");
        back.resume = Some(100);
        // With the facilitator code the same token does not work: no role change by resume.
        back.room_code = "sakura-staff".into();
        assert_eq!(room.admit(&back, t, 102).err(), Some(RejectReason::RoomFull));
        back.room_code = "sakura".into();
        let (member, how) = room.admit(&back, t, 101).unwrap();
        assert_eq!((member.info.id, member.pose, how), (a, spawn, Admission::Replaced));
        assert_eq!(room.len(), 2);
        assert_eq!(room.member(a).unwrap().resume, 101, "a token works once");
    }

    #[test]
    fn events_follow_the_rules_and_their_limits() {
        let mut room = room(4);
        let a = room.admit(&hello("sakura", "a"), Duration::ZERO, 1).unwrap().0.info.id;
        let look = AvatarLook::with_color([1, 2, 3]);
        let event = ClientEvent::SetLook(look);
        let changed = room.apply_event(a, &event, Duration::ZERO).unwrap();
        assert!(matches!(changed, ServerEvent::PeerChanged(info) if info.id == a && info.look == look));
        let burst = limits::limit(tsunagu_protocol::EventKind::SetLook).burst;
        let refused = (0..burst + 5).filter(|_| room.apply_event(a, &event, Duration::from_millis(10)).is_err()).count();
        assert_eq!(refused as u32, 5 + 1, "the burst allows {burst} at once");
        assert_eq!(
            room.apply_event(a, &event, Duration::from_millis(20)),
            Err(Refusal { kind: tsunagu_protocol::EventKind::SetLook, reason: RefusalReason::TooFast })
        );
        assert!(room.apply_event(a, &event, Duration::from_secs(5)).is_ok(), "the limit refills");
        assert_eq!(room.apply_event(PeerId(99), &event, Duration::ZERO).map(|_| ()), Err(Refusal { kind: event.kind(), reason: RefusalReason::NotAllowed }));
    }

    #[test]
    fn expression_reaches_everyone_as_the_room_keeps_it() {
        use tsunagu_protocol::{EventKind, Gesture, Stamp};
        let mut room = room(4);
        let a = room.admit(&hello("sakura", "a"), Duration::ZERO, 1).unwrap().0.info.id;
        let t = Duration::from_secs(1);
        assert_eq!(room.apply_event(a, &ClientEvent::Gesture(Gesture::Wave), t), Ok(ServerEvent::Gesture(a, Gesture::Wave)));
        assert_eq!(room.apply_event(a, &ClientEvent::Stamp(Stamp::Thanks), t), Ok(ServerEvent::Stamp(a, Stamp::Thanks)));
        // A raised hand is state: newcomers see it in the member's info.
        assert!(matches!(room.apply_event(a, &ClientEvent::RaiseHand(true), t), Ok(ServerEvent::PeerChanged(info)) if info.hand_raised));
        assert!(room.member(a).unwrap().info.hand_raised);
        // Chat is normalized, and refused with a reason a person can read.
        assert_eq!(room.apply_event(a, &ClientEvent::Chat("\u{3000}やあ ".into()), t), Ok(ServerEvent::Chat(a, "やあ".into())));
        let refused = |reason| Err(Refusal { kind: EventKind::Chat, reason });
        let long = "あ".repeat(tsunagu_protocol::limits::MAX_CHAT_CHARS + 1);
        assert_eq!(room.apply_event(a, &ClientEvent::Chat(long), t), refused(RefusalReason::TooLong));
        assert_eq!(room.apply_event(a, &ClientEvent::Chat("a\u{202e}b".into()), t + Duration::from_secs(2)), refused(RefusalReason::TextNotAllowed));
        // Each kind has its own limit: a flood of stamps does not stop a wave.
        let later = Duration::from_secs(10);
        let stamps = (0..20).filter(|_| room.apply_event(a, &ClientEvent::Stamp(Stamp::Heart), later).is_ok()).count();
        assert_eq!(stamps as u32, limits::limit(EventKind::Stamp).burst);
        assert!(room.apply_event(a, &ClientEvent::Gesture(Gesture::Clap), later).is_ok());
        let chats = (0..10).filter(|_| room.apply_event(a, &ClientEvent::Chat("こんにちは".into()), later).is_ok()).count();
        assert_eq!(chats as u32, limits::limit(EventKind::Chat).burst);
    }

    /// Many small steps at once (120 poses a second, or several drained with one
    /// `now`) used to get 5 cm of slack each: about 8.5 m/s. Now the stride is
    /// time-based: at most walking's top speed, however the poses come.
    #[test]
    fn the_speed_limit_holds_however_many_poses_come() {
        let mut room = room(4);
        let id = room.admit(&hello("sakura", "a"), Duration::ZERO, 1).unwrap().0.info.id;
        let start = from_wire(room.member(id).unwrap().pose.body).0;
        let dir = Vec3::new(1.0, 0.0, 0.0);
        let mut seq = 0;
        let mut walked_to = start;
        // One second: 120 poses, 4 at a time with the same `now`, each 5 cm on.
        for tick in 1..=30u64 {
            let now = Duration::from_millis(tick * 1000 / 30);
            for _ in 0..4 {
                seq += 1;
                walked_to += dir * 0.05;
                let pose = AvatarPose { body: to_wire(walked_to, bevy_math::Quat::IDENTITY), head: to_wire(walked_to, bevy_math::Quat::IDENTITY), hands: None };
                room.accept_pose(id, &PoseFrame { seq, ack_tick: 0, pose }, now);
            }
        }
        let moved = (from_wire(room.member(id).unwrap().pose.body).0 - start).length();
        assert!(moved <= MAX_SPEED + limits::STRIDE_SLACK + 1e-3, "moved {moved} m in one second");
        assert!(moved > 2.0, "an honest fast walk was held back: {moved} m");
    }

    #[test]
    fn after_a_silence_nobody_jumps_across_the_room() {
        let mut room = room(4);
        let id = room.admit(&hello("sakura", "a"), Duration::ZERO, 1).unwrap().0.info.id;
        let start = from_wire(room.member(id).unwrap().pose.body).0;
        let far = start + Vec3::new(-4.0, 0.0, 0.0);
        let pose = AvatarPose { body: to_wire(far, bevy_math::Quat::IDENTITY), head: to_wire(far, bevy_math::Quat::IDENTITY), hands: None };
        room.accept_pose(id, &PoseFrame { seq: 1, ack_tick: 0, pose }, Duration::from_secs(10));
        let moved = (from_wire(room.member(id).unwrap().pose.body).0 - start).length();
        let most = MAX_SPEED * limits::MAX_STRIDE_TIME.as_secs_f32() + limits::STRIDE_SLACK;
        assert!(moved <= most + 1e-3, "jumped {moved} m after 10 s of silence");
    }

    #[test]
    fn no_more_poses_than_the_room_uses_in_a_second() {
        let mut room = room(4);
        let id = room.admit(&hello("sakura", "a"), Duration::ZERO, 1).unwrap().0.info.id;
        let here = room.member(id).unwrap().pose;
        let used = (1..=100).filter(|&seq| room.accept_pose(id, &PoseFrame { seq, ack_tick: 0, pose: here }, Duration::from_millis(500)) != PoseOutcome::Ignored).count();
        assert_eq!(used as u32, limits::MAX_POSES_PER_SECOND);
    }

    #[test]
    fn ids_wrap_around_without_handing_out_one_in_use() {
        let mut room = room(4);
        room.next_id = u32::MAX;
        let a = room.admit(&hello("sakura", "a"), Duration::ZERO, 1).unwrap().0.info.id;
        assert_eq!(a, PeerId(u32::MAX));
        room.next_id = u32::MAX;
        let b = room.admit(&hello("sakura", "b"), Duration::ZERO, 2).unwrap().0.info.id;
        assert_eq!(b, PeerId(1), "after the wrap, skip 0 and the id in use");
        room.next_id = 1;
        let c = room.admit(&hello("sakura", "c"), Duration::ZERO, 3).unwrap().0.info.id;
        assert_eq!(c, PeerId(2));
    }
}
