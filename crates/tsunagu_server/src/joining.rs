//! Joining: a Hello picks the room, the room's rules decide (in, waiting,
//! or refused with a reason), and a newcomer is welcomed with everything
//! they need to see the room as everyone does.

use std::time::Duration;

use tsunagu_net::{Channel, ConnId, ServerLinks};
use tsunagu_protocol::{CloseReason, RejectReason, ServerControl, ServerEvent, Welcome};
use tsunagu_room::Admission;

use crate::{ConnState, Leaving, RoomServer, TICK_RATE_HZ};

impl<L: ServerLinks> RoomServer<L> {
    pub(crate) fn on_hello(&mut self, conn: ConnId, hello: &tsunagu_protocol::Hello, now: Duration) {
        if !matches!(self.conns.get(&conn).map(|c| c.state), Some(ConnState::AwaitingHello { .. })) {
            return self.violation(conn, "a second Hello");
        }
        let room = match self.rooms.iter().position(|r| r.has_code(&hello.room_code)) {
            _ if self.shutting_down => return self.refuse(conn, RejectReason::ServerShuttingDown),
            None if self.closed_codes.iter().any(|c| c.eq_ignore_ascii_case(&hello.room_code)) => return self.refuse(conn, RejectReason::RoomClosed),
            None => return self.refuse(conn, RejectReason::WrongRoomCode),
            Some(room) => room,
        };
        let address = self.links.address_key(conn);
        match self.rooms[room].wait_if_needed(hello, address) {
            Ok(None) => self.join(conn, room, hello, now),
            Ok(Some(ticket)) => {
                tracing::info!(room, ticket, "waiting to be let in");
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::Waiting { room, ticket };
                }
                self.send_frame(conn, Channel::Control, &ServerControl::Waiting);
                let waiting = self.rooms[room].waiting_people();
                self.tell_facilitators(room, &waiting);
            }
            Err(reason) => self.refuse(conn, reason),
        }
    }

    /// Let a connection whose Hello named `room` in, if the room's rules do.
    pub(crate) fn join(&mut self, conn: ConnId, room: usize, hello: &tsunagu_protocol::Hello, now: Duration) {
        let address = self.links.address_key(conn);
        let admitted = self.rooms[room].admit(hello, address, now, rand::random()).map(|(m, how)| (room, m.info.clone(), m.pose.body, m.resume, how));
        let (room, info, spawn, resume, how) = match admitted {
            Ok(admitted) => admitted,
            Err(reason) => return self.refuse(conn, reason),
        };
        self.reconnecting.retain(|(r, id, _)| !(*r == room && *id == info.id));
        if how == Admission::Replaced {
            // The member's old connection is stale (the client gave up on it):
            // drop it quietly; nobody sees them leave or arrive.
            let stale: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(c, s)| **c != conn && matches!(s.state, ConnState::Member { room: r, id } if r == room && id == info.id))
                .map(|(c, _)| *c)
                .collect();
            for old in stale {
                self.conns.remove(&old);
                self.links.close(old, CloseReason::Reconnecting);
            }
        }
        let welcome = Welcome {
            your_id: info.id,
            role: info.role,
            tick_rate_hz: TICK_RATE_HZ,
            spawn,
            peers: self.rooms[room].peers_except(info.id),
            resume,
            resumed: how != Admission::Fresh,
            play: self.rooms[room].play().state(),
        };
        tracing::info!(room, session = info.id.0, role = ?info.role, admission = ?how, "joined");
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::Member { room, id: info.id };
        }
        self.send_frame(conn, Channel::Control, &ServerControl::Welcome(welcome));
        if self.rooms[room].is_locked() {
            self.send_frame(conn, Channel::Events, &ServerEvent::RoomLocked(true));
        }
        if self.rooms[room].has_waiting_room() {
            self.send_frame(conn, Channel::Events, &ServerEvent::WaitingRoom(true));
        }
        if how != Admission::Fresh {
            // Back in: how the room has them now (muted while away, say).
            self.send_frame(conn, Channel::Events, &ServerEvent::PeerChanged(info.clone()));
        }
        if info.role == tsunagu_protocol::Role::Facilitator {
            self.brief_facilitator(conn, room);
        }
        // The wall screen as everyone sees it; its pages follow at the ticks (`pages`).
        for event in self.rooms[room].screen().catch_up() {
            self.send_frame(conn, Channel::Events, &event);
        }
        match how {
            // Others already know them; their name or look may have changed.
            Admission::Replaced => self.broadcast_event(room, &ServerEvent::PeerChanged(info.clone()), Some(info.id)),
            Admission::Fresh | Admission::Returned => self.broadcast_event(room, &ServerEvent::PeerJoined(info.clone()), Some(info.id)),
        }
    }

    pub(crate) fn refuse(&mut self, conn: ConnId, reason: RejectReason) {
        tracing::info!(connection = conn, ?reason, "join refused");
        self.send_frame(conn, Channel::Control, &ServerControl::Rejected(reason));
        self.links.close(conn, CloseReason::Refused);
        // However a connection ends, it leaves the waiting list too.
        self.forget(conn, Leaving::Gone);
    }
}
