//! Who comes in, and how: the invite's role, the name rules, the waiting
//! room, resumes into kept places, and seats.

use std::time::Duration;

use bevy_math::Vec3;
use tsunagu_protocol::limits::{MAX_KEPT_PLACES, MAX_WAITING};
use tsunagu_protocol::{
    AvatarPose, Hello, KeptPlace, PROTOCOL_VERSION, PeerId, PeerInfo, RejectReason, Role, RoomCodes, ServerEvent, WaitingHint, WaitingPerson,
    has_staff_word, nickname_is_valid, normalize_nickname,
};
use tsunagu_sim::pose::{from_wire, to_wire};

use crate::people::Who;
use crate::{Admission, Departed, Member, Room, RoomConfig, STAFF_SEATS, WAITING_PER_ADDRESS, Waiter};

impl Room {
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
    pub(crate) fn role_of_code(&self, code: &str) -> Option<(Role, bool)> {
        if code.eq_ignore_ascii_case(&self.config.code) {
            Some((Role::Participant, true))
        } else if code.eq_ignore_ascii_case(&self.config.facilitator_code) {
            Some((Role::Facilitator, true))
        } else {
            self.retired_codes.iter().find(|(old, _)| code.eq_ignore_ascii_case(old)).map(|(_, role)| (*role, false))
        }
    }

    /// The member still here whom resume `token` (with an invite of `role`) brings back.
    pub(crate) fn present_with_token(&self, token: u64, role: Role) -> Option<PeerId> {
        self.members.values().find(|m| m.resume == token && m.invited_as == role).map(|m| m.info.id)
    }

    /// Whether resume `token` (with an invite of `role`) names a kept place.
    pub(crate) fn kept_for_token(&self, token: u64, role: Role) -> bool {
        self.departed.get(&token).is_some_and(|d| d.invited_as == role)
    }

    /// Whether `hello` brings back someone here or someone whose place is kept.
    pub(crate) fn is_coming_back(&self, hello: &Hello, role: Role) -> bool {
        hello.resume.is_some_and(|token| self.present_with_token(token, role).is_some() || self.kept_for_token(token, role))
    }

    /// Whether a facilitator removed `who` from this room (see [`Who::matches`]).
    pub(crate) fn is_removed(&self, who: &Who) -> bool {
        self.removed.iter().any(|r| r.who.matches(who))
    }

    /// Why `who`'s name cannot be used here now, if it cannot: a staff word
    /// without the facilitator invite, or a name that looks like that of
    /// someone here, kept or waiting (`except` is the member coming back).
    pub(crate) fn name_problem(&self, who: &Who, nickname: &str, invited_as: Role, except: Option<PeerId>) -> Option<RejectReason> {
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
        // Arrive facing the people already here, a few steps from them.
        let present: Vec<Vec3> = self.members.values().map(|m| from_wire(m.pose.body).0).collect();
        let (spawn, turn) = tsunagu_sim::motion::arrival(&self.layout, &present, self.layout.spawn_point(self.joins_so_far));
        self.joins_so_far += 1;
        let head = spawn + Vec3::Y * tsunagu_sim::motion::EYE_HEIGHT;
        let pose = AvatarPose { body: to_wire(spawn, turn), head: to_wire(head, turn), hands: None };
        // A quiet a facilitator asked for holds when they come back afresh.
        let muted = self.quieted.iter().any(|q| q.matches(&who));
        if who.device != 0 && !self.seen_devices.iter().any(|d| *d == who.device) {
            self.seen_devices.push(who.device);
        }
        let info = PeerInfo { id, nickname, look: hello.look, role, hand_raised: false, muted, resting: false, speak_for_me: false };
        let member = Member::new(info, pose, now, resume_token, who);
        Ok((self.members.entry(id).or_insert(member), Admission::Fresh))
    }

    /// Give up the kept places `release` picks. Returns how many went.
    pub(crate) fn release_kept(&mut self, release: impl Fn(&Departed) -> bool) -> usize {
        let before = self.departed.len();
        self.departed.retain(|_, d| !release(d));
        let gone = before - self.departed.len();
        self.kept_changed |= gone > 0;
        gone
    }

    /// Give up the place kept longest. Returns whether there was one.
    pub(crate) fn release_oldest_kept(&mut self) -> bool {
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
    pub(crate) fn fresh_id(&mut self) -> PeerId {
        loop {
            let id = PeerId(self.next_id);
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            let taken = self.members.contains_key(&id) || self.departed.values().any(|d| d.info.id == id);
            if id.0 != 0 && !taken {
                return id;
            }
        }
    }
}
