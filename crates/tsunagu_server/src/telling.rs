//! Telling: what the room decided goes to whom (everyone, the staff, one
//! person), and what only the server can do after a staff action (closing a
//! removed person's connections, ending the meetup, briefing new staff,
//! keeping new codes, letting waiting people in or not).

use std::time::Duration;

use tsunagu_net::{Channel, ConnId, ServerLinks};
use tsunagu_protocol::limits::MAX_FRAME_BYTES;
use tsunagu_protocol::{ClientEvent, CloseReason, PeerId, RejectReason, ServerEvent, StaffAction, encode};
use tsunagu_room::{Audience, RoomConfig, Told};

use crate::{ConnState, RoomServer, members_in};

impl<L: ServerLinks> RoomServer<L> {
    /// Tell whom the room said what an applied event changed, then do what
    /// only the server can: close a removed person's connections, close
    /// everyone when the meetup ends, brief someone made staff, keep new
    /// codes, admit or turn away waiting people.
    pub(crate) fn carry_out(&mut self, room: usize, event: &ClientEvent, told: Told, now: Duration) {
        // What the server does besides telling follows only staff actions.
        let ClientEvent::Staff(action) = event else {
            for (audience, outcome) in &told {
                self.tell(room, *audience, outcome);
            }
            return;
        };
        if let StaffAction::Remove(target) = action {
            // The room has let them go already: closing tells no one twice.
            for conn in self.conns_of(room, *target) {
                self.close(conn, CloseReason::Removed);
            }
            self.reconnecting.retain(|(r, id, _)| !(*r == room && id == target));
            tracing::info!(room, session = target.0, "removed by a facilitator");
        }
        if let StaffAction::NewInvites = action {
            tracing::info!(room, "a facilitator gave the room new invites");
            self.save_codes(room);
        }
        for (audience, outcome) in &told {
            self.tell(room, *audience, outcome);
        }
        match action {
            // Everyone goes, with a kind goodbye; nobody's place is kept, and
            // nobody still waiting is let in.
            StaffAction::EndMeetup => {
                // Out of the room first, so closing each tells no one of the others leaving.
                let ended = self.rooms[room].end_meetup();
                let everyone: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| matches!(c.state, ConnState::Member { room: r, .. } | ConnState::Waiting { room: r, .. } if r == room))
                    .map(|(conn, _)| *conn)
                    .collect();
                self.rooms[room].take_decisions();
                for conn in everyone {
                    self.close(conn, CloseReason::MeetupEnded);
                }
                self.reconnecting.retain(|(r, _, _)| *r != room);
                tracing::info!(room, people = ended.len(), "a facilitator ended the meetup");
            }
            StaffAction::SetRole(target, tsunagu_protocol::Role::Facilitator) => {
                for conn in self.conns_of(room, *target) {
                    self.brief_facilitator(conn, room);
                }
            }
            StaffAction::LetIn(_) | StaffAction::TurnAway(_) | StaffAction::SetWaitingRoom(_) => self.carry_out_decisions(room, now),
            StaffAction::SetRole(_, tsunagu_protocol::Role::Participant)
            | StaffAction::Remove(_)
            | StaffAction::Mute(..)
            | StaffAction::LockRoom(_)
            | StaffAction::LetBackIn(_)
            | StaffAction::BringHere(_)
            | StaffAction::GatherHere
            | StaffAction::NewInvites
            | StaffAction::AskRecentre(_)
            | StaffAction::ReleasePlace(_)
            | StaffAction::TakeDownWishesOf(_)
            | StaffAction::PutThingsBack => {}
        }
    }

    /// Send `event` to `audience` in `room`.
    pub(crate) fn tell(&mut self, room: usize, audience: Audience, event: &ServerEvent) {
        match audience {
            Audience::Everyone => self.broadcast_event(room, event, None),
            Audience::AllBut(id) => self.broadcast_event(room, event, Some(id)),
            Audience::Staff => self.tell_facilitators(room, event),
            Audience::Only(id) => {
                for conn in self.conns_of(room, id) {
                    self.send_frame(conn, Channel::Events, event);
                }
            }
        }
    }

    /// Hand every room's codes to the keeper's thread (see [`CodesSaver`]).
    pub(crate) fn save_codes(&mut self, room: usize) {
        let Some(keeper) = self.codes_keeper.as_ref() else { return };
        let configs: Vec<RoomConfig> = self.rooms.iter().map(|r| r.config().clone()).collect();
        if keeper.to_keep.as_ref().is_none_or(|to_keep| to_keep.send((room, configs)).is_err()) {
            self.tell_facilitators(room, &ServerEvent::StaffNotice(tsunagu_protocol::StaffNotice::InvitesNotSaved));
        }
    }

    /// The facilitators of a room whose new codes could not be kept are told
    /// on screen, not only in the log.
    pub(crate) fn report_unsaved_codes(&mut self) {
        let failed: Vec<usize> = self.codes_keeper.as_ref().map(|k| k.failed.try_iter().collect()).unwrap_or_default();
        for room in failed {
            self.tell_facilitators(room, &ServerEvent::StaffNotice(tsunagu_protocol::StaffNotice::InvitesNotSaved));
        }
    }

    /// What only facilitators are told, for one who just came in or became one:
    /// whom the others removed, who waits, and the invites to pass on.
    pub(crate) fn brief_facilitator(&mut self, conn: ConnId, room: usize) {
        let Some(ConnState::Member { id, .. }) = self.conns.get(&conn).map(|c| c.state) else { return };
        let r = &self.rooms[room];
        let briefing = [r.removed_people(), r.waiting_people(), r.kept_places(), r.invites_for(id)];
        for event in &briefing {
            self.send_frame(conn, Channel::Events, event);
        }
    }

    /// Admit or turn away the people facilitators decided about.
    /// Admit or turn away the people facilitators decided about.
    pub(crate) fn carry_out_decisions(&mut self, room: usize, now: Duration) {
        for (ticket, admitted) in self.rooms[room].take_decisions() {
            let waiting = self.conns.iter().find(|(_, c)| matches!(c.state, ConnState::Waiting { room: r, ticket: t } if r == room && t == ticket));
            let Some(conn) = waiting.map(|(conn, _)| *conn) else { continue };
            match admitted {
                Some(hello) => {
                    tracing::info!(room, ticket, "let in from the waiting room");
                    self.join(conn, room, &hello, now);
                }
                None => {
                    tracing::info!(room, ticket, "turned away from the waiting room");
                    self.refuse(conn, RejectReason::TurnedAway);
                }
            }
        }
    }

    /// The connections of member `id` of `room`.
    pub(crate) fn conns_of(&self, room: usize, id: PeerId) -> Vec<ConnId> {
        members_in(&self.conns, room).filter(|(_, member)| *member == id).map(|(c, _)| c).collect()
    }

    /// Send `event` to the facilitators of `room`. The codes are shaped for
    /// each: only people who came with the facilitator invite are told it.
    pub(crate) fn tell_facilitators(&mut self, room: usize, event: &ServerEvent) {
        let Ok(bytes) = encode(event, MAX_FRAME_BYTES) else { return };
        let staff: Vec<(ConnId, PeerId)> = members_in(&self.conns, room)
            .filter(|(_, id)| self.rooms[room].member(*id).is_some_and(|m| m.info.role == tsunagu_protocol::Role::Facilitator))
            .collect();
        for (conn, id) in staff {
            if let ServerEvent::Invites(_) = event {
                let shaped = self.rooms[room].invites_for(id);
                self.send_frame(conn, Channel::Events, &shaped);
            } else {
                self.links.send(conn, Channel::Events, bytes.clone());
            }
        }
    }

    pub(crate) fn broadcast_event(&mut self, room: usize, event: &ServerEvent, except: Option<PeerId>) {
        let Ok(bytes) = encode(event, MAX_FRAME_BYTES) else { return };
        for (conn, id) in members_in(&self.conns, room) {
            if Some(id) != except {
                self.links.send(conn, Channel::Events, bytes.clone());
            }
        }
    }
}
