//! What members do in the room: their events under the room's rules, and the
//! facilitators' actions. Every event is matched by name (no wildcard arm), so
//! a new one cannot compile without a rule here.
//!
//! Powers come in two strengths. Whoever is a facilitator **now** may look
//! after participants (mute, move, remove, let in). Only people who came in
//! with the facilitator invite may act on staff, make or unmake staff, let a
//! removed person back, change the invites or end the meetup: a child made
//! staff in the room holds no key to the room and cannot take it from the
//! nurse.

use std::time::Duration;

use tsunagu_protocol::{
    ClientEvent, Concern, NicknameProblem, PeerId, Refusal, RefusalReason, Role, ServerEvent, StaffNotice, chat_problem, normalize_chat,
};

use bevy_math::Vec3;
use tsunagu_protocol::{AvatarPose, ScreenAction, StaffAction};
use tsunagu_sim::pose::{from_wire, to_wire};

use crate::{Member, PLACED_FOR, Removal, Room, codes};

/// Who is told something the room decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Everyone in the room, the sender included.
    Everyone,
    /// The facilitators only (an `Invites` is shaped for each: see [`Room::invites_for`]).
    Staff,
    /// One person only.
    Only(PeerId),
    /// Everyone but this person (who knows already).
    AllBut(PeerId),
}

/// What an applied event tells whom, in order.
pub type Told = Vec<(Audience, ServerEvent)>;

impl Room {
    /// Apply a member's event under the room's rules. `Ok` is what to tell
    /// whom; `Err` goes back to the sender alone. Allowances are per
    /// connection, installation and address together (see `people`).
    pub fn apply_event(&mut self, id: PeerId, event: &ClientEvent, now: Duration) -> Result<Told, Refusal> {
        let kind = event.kind();
        let refuse = |reason| Refusal { kind, reason };
        let Some(member) = self.members.get_mut(&id) else { return Err(refuse(RefusalReason::NotAllowed)) };
        if !self.allowances.allow(&mut member.events, &member.who, kind, now) {
            return Err(refuse(RefusalReason::TooFast));
        }
        let everyone = |event| Ok(vec![(Audience::Everyone, event)]);
        // A facilitator's quiet stops everything a person can show or say.
        let expresses = matches!(
            event,
            ClientEvent::Gesture(_) | ClientEvent::Stamp(_) | ClientEvent::Chat(_) | ClientEvent::HangWish(..) | ClientEvent::Stroke(_)
        );
        if expresses && member.info.muted {
            return Err(refuse(RefusalReason::Quieted));
        }
        match event {
            ClientEvent::SetLook(look) => {
                member.info.look = *look;
                everyone(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::RaiseHand(raised) => {
                member.info.hand_raised = *raised;
                everyone(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::Gesture(gesture) => everyone(ServerEvent::Gesture(id, *gesture)),
            ClientEvent::Stamp(stamp) => everyone(ServerEvent::Stamp(id, *stamp)),
            ClientEvent::Chat(text) => match chat_problem(text) {
                None => everyone(ServerEvent::Chat(id, normalize_chat(text))),
                Some(NicknameProblem::TooLong) => Err(refuse(RefusalReason::TooLong)),
                Some(_) => Err(refuse(RefusalReason::TextNotAllowed)),
            },
            ClientEvent::Grab(object) => self.play.grab(member, *object).map(|e| vec![(Audience::Everyone, e)]).map_err(refuse),
            ClientEvent::Release(object, velocity) => {
                self.play.release(id, *object, *velocity, &self.layout).map(|e| vec![(Audience::Everyone, e)]).map_err(refuse)
            }
            ClientEvent::HangWish(paper, text) => {
                let who = member.who.clone();
                self.play.hang_wish(id, who, *paper, text).map(|e| vec![(Audience::Everyone, e)]).map_err(refuse)
            }
            ClientEvent::TakeDownWish(wish) => {
                let facilitator = member.info.role == Role::Facilitator;
                self.play.take_down_wish(*wish, |w| facilitator || w.by == id).map(|e| vec![(Audience::Everyone, e)]).map_err(refuse)
            }
            ClientEvent::Resting(resting) => {
                member.info.resting = *resting;
                everyone(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::SpeakForMe(on) => {
                member.info.speak_for_me = *on;
                everyone(ServerEvent::PeerChanged(member.info.clone()))
            }
            ClientEvent::LightLink(light) => {
                member.light_link = *light;
                Ok(Vec::new())
            }
            ClientEvent::TellStaff(about, concern) => {
                if *about == id || !self.members.contains_key(about) {
                    return Err(refuse(RefusalReason::Unknown));
                }
                Ok(vec![(Audience::Staff, ServerEvent::Concern(Concern { from: id, about: *about, kind: *concern }))])
            }
            ClientEvent::Staff(action) => {
                // The role as it is now: a demoted facilitator has lost these at once.
                if member.info.role != Role::Facilitator {
                    return Err(refuse(RefusalReason::NotAllowed));
                }
                self.facilitate(id, action, now).map_err(refuse)
            }
            ClientEvent::Screen(_) | ClientEvent::PagePiece(_) | ClientEvent::PagePreview(_) if member.info.role != Role::Facilitator => {
                Err(refuse(RefusalReason::NotAllowed))
            }
            ClientEvent::Screen(action) => self.screen_action(id, action).map_err(refuse),
            ClientEvent::PagePiece(piece) => self.screen.take_piece(piece).map_err(refuse),
            ClientEvent::PagePreview(preview) => self.screen.take_preview(id, preview).map_err(refuse),
            ClientEvent::Stroke(_) if !self.screen.drawing_allowed() && member.info.role != Role::Facilitator => {
                Err(refuse(RefusalReason::NotAllowed))
            }
            ClientEvent::Stroke(piece) => self.screen.stroke(id, piece).map_err(refuse),
            ClientEvent::Undo => self.screen.undo(id).map_err(refuse),
        }
    }

    /// A facilitator's action on the wall screen.
    fn screen_action(&mut self, by: PeerId, action: &ScreenAction) -> Result<Told, RefusalReason> {
        match action {
            ScreenAction::Show(pages) => self.screen.show(by, pages),
            ScreenAction::TurnTo(page) => self.screen.turn_to(*page),
            ScreenAction::Point(at) => Ok(vec![(Audience::AllBut(by), ServerEvent::Pointer(by, *at))]),
            ScreenAction::AllowDrawing(allowed) => Ok(self.screen.allow_drawing(*allowed)),
            ScreenAction::ClearBoard => Ok(self.screen.clear(None)),
            ScreenAction::ClearDrawingOf(id) if !self.screen.has_lines_of(*id) => Err(RefusalReason::Unknown),
            ScreenAction::ClearDrawingOf(id) => Ok(self.screen.clear(Some(*id))),
        }
    }

    /// Whether facilitator `by` may act on `target`: anyone on participants;
    /// only people with the facilitator invite on staff.
    fn may_act_on(&self, by: PeerId, target: &Member) -> bool {
        let staff = target.info.role == Role::Facilitator || target.has_staff_invite();
        !staff || self.members.get(&by).is_some_and(Member::has_staff_invite)
    }

    /// A facilitator's action on someone or on the room. A removal tells
    /// everyone `PeerLeft` (the caller also closes the removed person's
    /// connection). A move tells each moved person `MovedTo`. Ending the
    /// meetup tells no one: the caller closes everyone.
    fn facilitate(&mut self, by: PeerId, action: &StaffAction, now: Duration) -> Result<Told, RefusalReason> {
        let staff_invite = self.members.get(&by).is_some_and(Member::has_staff_invite);
        let target = |room: &Room, id: &PeerId| -> Result<(), RefusalReason> {
            let member = room.members.get(id).ok_or(RefusalReason::Unknown)?;
            if room.may_act_on(by, member) { Ok(()) } else { Err(RefusalReason::NotAllowed) }
        };
        let everyone = |event| Ok(vec![(Audience::Everyone, event)]);
        match action {
            StaffAction::BringHere(id) if *id == by => Err(RefusalReason::NotAllowed),
            StaffAction::BringHere(id) => {
                target(self, id)?;
                self.gather(by, &[*id], now);
                Ok(self.take_moves().into_iter().map(|(id, at)| (Audience::Only(id), ServerEvent::MovedTo(at))).collect())
            }
            StaffAction::GatherHere => {
                let people: Vec<PeerId> = self.members.values().filter(|m| m.info.id != by && self.may_act_on(by, m)).map(|m| m.info.id).collect();
                self.gather(by, &people, now);
                Ok(self.take_moves().into_iter().map(|(id, at)| (Audience::Only(id), ServerEvent::MovedTo(at))).collect())
            }
            StaffAction::EndMeetup if !staff_invite => Err(RefusalReason::NotAllowed),
            StaffAction::EndMeetup => Ok(Vec::new()),
            StaffAction::Mute(id, on) => {
                target(self, id)?;
                let member = self.members.get_mut(id).ok_or(RefusalReason::Unknown)?;
                member.info.muted = *on;
                let who = member.who.clone();
                let info = member.info.clone();
                // The quiet holds if they come back, on any connection of theirs.
                self.quieted.retain(|q| !q.matches(&who));
                if *on {
                    self.quieted.push(who);
                }
                everyone(ServerEvent::PeerChanged(info))
            }
            StaffAction::SetRole(..) if !staff_invite => Err(RefusalReason::NotAllowed),
            StaffAction::SetRole(id, role) => {
                target(self, id)?;
                let member = self.members.get_mut(id).ok_or(RefusalReason::Unknown)?;
                member.info.role = *role;
                let mut told = vec![(Audience::Everyone, ServerEvent::PeerChanged(member.info.clone()))];
                if *role == Role::Participant {
                    // Made staff in the room, they may hold more connections
                    // (or a kept place) from the same installation: all of
                    // them are participants again.
                    let who = member.who.clone();
                    for other in self.members.values_mut().filter(|m| m.info.id != *id && m.who.same_device(&who) && !m.has_staff_invite()) {
                        if other.info.role == Role::Facilitator {
                            other.info.role = Role::Participant;
                            told.push((Audience::Everyone, ServerEvent::PeerChanged(other.info.clone())));
                        }
                    }
                    for kept in self.departed.values_mut().filter(|d| d.who.same_device(&who) && d.invited_as != Role::Facilitator) {
                        kept.info.role = Role::Participant;
                    }
                }
                Ok(told)
            }
            StaffAction::Remove(id) if *id == by => Err(RefusalReason::NotAllowed),
            StaffAction::Remove(id) => {
                target(self, id)?;
                Ok(self.remove_person(*id))
            }
            StaffAction::LockRoom(on) => {
                self.locked = *on;
                everyone(ServerEvent::RoomLocked(*on))
            }
            StaffAction::SetWaitingRoom(on) => {
                self.waiting_room = *on;
                if !on {
                    self.let_everyone_in();
                }
                everyone(ServerEvent::WaitingRoom(*on))
            }
            StaffAction::LetIn(ticket) | StaffAction::TurnAway(ticket) => {
                let at = self.waiting.iter().position(|w| w.ticket == *ticket).ok_or(RefusalReason::Unknown)?;
                let waiter = self.waiting.remove(at);
                let admitted = matches!(action, StaffAction::LetIn(_)).then_some(waiter.hello);
                self.decided.push((waiter.ticket, admitted));
                Ok(vec![(Audience::Staff, self.waiting_people())])
            }
            StaffAction::AskRecentre(id) => {
                target(self, id)?;
                Ok(vec![(Audience::Only(*id), ServerEvent::Recentre)])
            }
            StaffAction::NewInvites if !staff_invite => Err(RefusalReason::NotAllowed),
            StaffAction::NewInvites => {
                let (code, facilitator_code) = codes::fresh_code_pair();
                let old_code = std::mem::replace(&mut self.config.code, code);
                let old_facilitator_code = std::mem::replace(&mut self.config.facilitator_code, facilitator_code);
                self.retired_codes.extend([(old_code, Role::Participant), (old_facilitator_code, Role::Facilitator)]);
                let beyond = self.retired_codes.len().saturating_sub(crate::RETIRED_CODES_KEPT * 2);
                self.retired_codes.drain(..beyond);
                Ok(vec![(Audience::Staff, self.invites_for(by))])
            }
            StaffAction::LetBackIn(_) if !staff_invite => Err(RefusalReason::NotAllowed),
            StaffAction::LetBackIn(removal) => {
                if self.removed.retain(|r| r.id != *removal) == 0 {
                    return Err(RefusalReason::Unknown);
                }
                Ok(vec![(Audience::Staff, self.removed_people())])
            }
            StaffAction::ReleasePlace(id) => {
                if self.release_kept(|d| d.info.id == *id) == 0 {
                    return Err(RefusalReason::Unknown);
                }
                Ok(self.take_kept_change().map(|e| (Audience::Staff, e)).into_iter().collect())
            }
            StaffAction::TakeDownWishesOf(id) => {
                let taken = self.play.take_down_wishes(|w| w.by == *id);
                if taken.is_empty() {
                    return Err(RefusalReason::Unknown);
                }
                Ok(taken.into_iter().map(|e| (Audience::Everyone, e)).collect())
            }
            StaffAction::PutThingsBack => Ok(self.play.put_back(&self.layout).into_iter().map(|e| (Audience::Everyone, e)).collect()),
        }
    }

    /// `id` is removed: out, kept out (their installation, or their name from
    /// their address) until a facilitator with the invite lets them back,
    /// their wishes down, their drawing wiped; the waiting room comes on by itself, and the staff
    /// are told.
    fn remove_person(&mut self, id: PeerId) -> Told {
        let Some(member) = self.members.remove(&id) else { return Vec::new() };
        let who = member.who;
        // A place kept for their other connection would bring them back.
        self.release_kept(|d| d.who.matches(&who));
        let mut told = vec![(Audience::Everyone, ServerEvent::PeerLeft(id))];
        let removal = Removal { id: self.next_removal, who: who.clone(), nickname: member.info.nickname };
        self.next_removal = self.next_removal.wrapping_add(1).max(1);
        self.removed.push(removal);
        told.push((Audience::Staff, self.removed_people()));
        let wishes = self.play.take_down_wishes(|w| w.by == id);
        told.extend(wishes.into_iter().map(|e| (Audience::Everyone, e)));
        if self.screen.has_lines_of(id) {
            told.extend(self.screen.clear(Some(id)));
        }
        if !self.waiting_room {
            self.waiting_room = true;
            told.push((Audience::Everyone, ServerEvent::WaitingRoom(true)));
            told.push((Audience::Staff, ServerEvent::StaffNotice(StaffNotice::WaitingRoomAfterRemoval)));
        }
        told
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
}
