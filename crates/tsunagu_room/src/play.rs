//! Shared play: the room's ball, blocks and darts (physics the room owns,
//! see [`tsunagu_sim::objects`]), who holds what, the dartboard's last darts
//! and the wishes on the Tanabata bamboo. Room state like the members: it
//! lives in memory and is forgotten when the room empties.

use std::collections::{BTreeMap, HashMap, VecDeque};

use bevy_math::Vec3;
use tsunagu_protocol::limits::MAX_WISHES;
use tsunagu_protocol::{
    DartScore, NicknameProblem, ObjectState, Paper, PeerId, PlayState, QuantVec, RefusalReason, ServerEvent, Wish, chat_problem, normalize_chat,
};
use tsunagu_sim::WardLayout;
use tsunagu_sim::objects::{DARTS_SHOWN, GRAB_REACH, ObjectWorld, hold_point};
use tsunagu_sim::pose::{from_wire, to_wire};

use crate::Member;
use crate::people::Who;

/// Most wishes one person (one installation) may have on the bamboo at
/// once, so one child cannot fill it, however often they come back.
pub const WISHES_EACH: usize = 3;
/// Most wishes from one address at once: a ward behind one NAT writes
/// together; one machine with many "installations" does not fill the bamboo.
pub const WISHES_PER_ADDRESS: usize = 12;
/// A thing held this long without moving is put down: nobody can keep the
/// ball from everyone by holding it forever.
pub const STILL_HOLD_TICKS: u32 = 60 * 30;
/// How far a held thing may move in one tick: no faster than a throw may fly,
/// so a hand that jumps metres cannot ram things across the room.
const HELD_STEP: f32 = tsunagu_sim::objects::MAX_THROW_SPEED * tsunagu_sim::objects::STEP_SECONDS;

/// The room's things and what has been done with them.
pub struct Play {
    objects: ObjectWorld,
    /// The poses as sent: updated after each step.
    states: Vec<ObjectState>,
    holders: BTreeMap<u16, PeerId>,
    /// Who last let go of each thing: a dart scores for its thrower.
    thrown_by: HashMap<u16, PeerId>,
    darts: VecDeque<(PeerId, DartScore)>,
    wishes: Vec<Wish>,
    /// Where each wish's writer came from (by wish id), for the limits.
    wish_writers: HashMap<u32, Who>,
    /// Ticks each held thing has stayed where it is.
    still_for: HashMap<u16, u32>,
    next_wish: u32,
    /// Something happened since the room was set up (a reset is needed when it empties).
    touched: bool,
}

impl Play {
    /// The ward's things in their places, nothing held, no wishes.
    pub fn new(layout: &WardLayout) -> Play {
        let objects = ObjectWorld::new(layout);
        let mut play = Play {
            objects,
            states: Vec::new(),
            holders: BTreeMap::new(),
            thrown_by: HashMap::new(),
            darts: VecDeque::new(),
            wishes: Vec::new(),
            wish_writers: HashMap::new(),
            still_for: HashMap::new(),
            next_wish: 1,
            touched: false,
        };
        play.refresh_states();
        play
    }

    /// Every thing's pose as the wire carries it, by id.
    pub fn objects(&self) -> &[ObjectState] {
        &self.states
    }

    /// Who holds thing `id`.
    pub fn holder(&self, id: u16) -> Option<PeerId> {
        self.holders.get(&id).copied()
    }

    /// The wishes on the bamboo.
    pub fn wishes(&self) -> &[Wish] {
        &self.wishes
    }

    /// What a newcomer needs to see the play as everyone does.
    pub fn state(&self) -> PlayState {
        PlayState {
            held: self.holders.iter().map(|(id, by)| (*id, *by)).collect(),
            darts: self.darts.iter().copied().collect(),
            wishes: self.wishes.clone(),
        }
    }

    /// Whether nothing moves and nobody holds anything.
    pub fn is_at_rest(&self) -> bool {
        self.holders.is_empty() && self.objects.is_at_rest()
    }

    /// `member` asks to pick up thing `id`.
    pub(crate) fn grab(&mut self, member: &Member, id: u16) -> Result<ServerEvent, RefusalReason> {
        let by = member.info.id;
        let Some(at) = self.objects.pose(id).map(|p| p.position) else { return Err(RefusalReason::Unknown) };
        match self.holder(id) {
            Some(holder) if holder == by => return Ok(ServerEvent::Held(by, id)),
            Some(_) => return Err(RefusalReason::Taken),
            None => {}
        }
        // One thing at a time: a hand holding the ball cannot take a block too.
        if self.holders.values().any(|h| *h == by) {
            return Err(RefusalReason::NotAllowed);
        }
        if hand_point(member).distance(at) > GRAB_REACH {
            return Err(RefusalReason::OutOfReach);
        }
        self.holders.insert(id, by);
        // A fresh hold starts the minute afresh.
        self.still_for.remove(&id);
        self.touched = true;
        Ok(ServerEvent::Held(by, id))
    }

    /// `by` lets go of thing `id` with `velocity` (mm/s), bounded by the physics.
    pub(crate) fn release(&mut self, by: PeerId, id: u16, velocity: QuantVec, layout: &WardLayout) -> Result<ServerEvent, RefusalReason> {
        if self.holder(id) != Some(by) {
            return Err(RefusalReason::NotHolding);
        }
        self.let_go(id, Vec3::from(velocity.to_metres()), layout);
        self.thrown_by.insert(id, by);
        Ok(ServerEvent::Released(id))
    }

    /// `by` hangs a wish. The text follows the chat's rule; the room gives it
    /// the first free place on the bamboo.
    pub(crate) fn hang_wish(&mut self, by: PeerId, who: Who, paper: Paper, text: &str) -> Result<ServerEvent, RefusalReason> {
        match chat_problem(text) {
            None => {}
            Some(NicknameProblem::TooLong) => return Err(RefusalReason::TooLong),
            Some(_) => return Err(RefusalReason::TextNotAllowed),
        }
        let writer = |w: &Wish| self.wish_writers.get(&w.id);
        let theirs = self.wishes.iter().filter(|w| w.by == by || writer(w).is_some_and(|o| o.same_device(&who))).count();
        let from_address = self.wishes.iter().filter(|w| writer(w).is_some_and(|o| o.same_address(&who))).count();
        if theirs >= WISHES_EACH || from_address >= WISHES_PER_ADDRESS {
            return Err(RefusalReason::NoSpace);
        }
        let Some(slot) = (0..MAX_WISHES as u8).find(|slot| self.wishes.iter().all(|w| w.slot != *slot)) else {
            return Err(RefusalReason::NoSpace);
        };
        let wish = Wish { id: self.next_wish, by, slot, paper, text: normalize_chat(text) };
        self.next_wish = self.next_wish.wrapping_add(1).max(1);
        self.wish_writers.insert(wish.id, who);
        self.wishes.push(wish.clone());
        self.touched = true;
        Ok(ServerEvent::WishHung(wish))
    }

    /// Wish `id` comes down, if `may` says this person may take it.
    pub(crate) fn take_down_wish(&mut self, id: u32, may: impl Fn(&Wish) -> bool) -> Result<ServerEvent, RefusalReason> {
        let Some(at) = self.wishes.iter().position(|w| w.id == id) else { return Err(RefusalReason::Unknown) };
        if !may(&self.wishes[at]) {
            return Err(RefusalReason::NotAllowed);
        }
        self.wishes.remove(at);
        self.wish_writers.remove(&id);
        Ok(ServerEvent::WishTakenDown(id))
    }

    /// Every wish `take` picks comes down; what everyone is told.
    pub(crate) fn take_down_wishes(&mut self, take: impl Fn(&Wish) -> bool) -> Vec<ServerEvent> {
        let ids: Vec<u32> = self.wishes.iter().filter(|w| take(w)).map(|w| w.id).collect();
        ids.into_iter().filter_map(|id| self.take_down_wish(id, |_| true).ok()).collect()
    }

    /// Every thing back in its place (「かたづける」), what anyone held let go
    /// first; the wishes and the board's darts stay. What everyone is told.
    pub(crate) fn put_back(&mut self, layout: &WardLayout) -> Vec<ServerEvent> {
        let released: Vec<ServerEvent> = std::mem::take(&mut self.holders).into_keys().map(ServerEvent::Released).collect();
        self.objects = ObjectWorld::new(layout);
        self.thrown_by.clear();
        self.still_for.clear();
        self.touched = true;
        self.refresh_states();
        released
    }

    /// One physics step: held things follow their holders' hands; things
    /// whose holder is gone are let go. Returns what everyone is told (let go,
    /// darts scored). A room at rest is not stepped.
    pub(crate) fn tick(&mut self, members: &BTreeMap<PeerId, Member>, layout: &WardLayout) -> Vec<ServerEvent> {
        let mut told = Vec::new();
        let gone: Vec<u16> = self.holders.iter().filter(|(_, by)| !members.contains_key(by)).map(|(id, _)| *id).collect();
        for id in gone {
            self.let_go(id, Vec3::ZERO, layout);
            told.push(ServerEvent::Released(id));
        }
        if self.is_at_rest() {
            return told;
        }
        let mut put_down = Vec::new();
        for (id, by) in &self.holders {
            let Some(member) = members.get(by) else { continue };
            let Some(now_at) = self.objects.pose(*id).map(|p| p.position) else { continue };
            let hand = hand_point(member);
            let step = hand - now_at;
            let to = if step.length() > HELD_STEP { now_at + step.normalize_or_zero() * HELD_STEP } else { hand };
            let still = self.still_for.entry(*id).or_insert(0);
            *still = if step.length() < 0.01 { *still + 1 } else { 0 };
            if *still >= STILL_HOLD_TICKS {
                put_down.push(*id);
            }
            self.objects.hold(*id, to, layout);
        }
        for id in put_down {
            self.let_go(id, Vec3::ZERO, layout);
            told.push(ServerEvent::Released(id));
        }
        for hit in self.objects.step() {
            let by = self.thrown_by.get(&hit.id).copied().unwrap_or(PeerId(0));
            if self.darts.len() == DARTS_SHOWN {
                self.darts.pop_front();
            }
            self.darts.push_back((by, hit.score));
            told.push(ServerEvent::DartScored(by, hit.score));
        }
        self.refresh_states();
        told
    }

    /// Thing `id` leaves its holder's hand where it is, with `velocity`
    /// (bounded by the physics; zero puts it down).
    fn let_go(&mut self, id: u16, velocity: Vec3, layout: &WardLayout) {
        self.holders.remove(&id);
        self.still_for.remove(&id);
        let from = self.objects.pose(id).map_or(Vec3::ZERO, |p| p.position);
        self.objects.throw(id, from, velocity, layout);
    }

    /// Whether anything was done since the room was set up.
    pub(crate) fn touched(&self) -> bool {
        self.touched
    }

    fn refresh_states(&mut self) {
        self.states = self.objects.poses().into_iter().map(|p| ObjectState { id: p.id, pose: to_wire(p.position, p.rotation) }).collect();
    }
}

/// Where `member` holds things now, from their latest accepted pose.
fn hand_point(member: &Member) -> Vec3 {
    let (body, rotation) = from_wire(member.pose.body);
    let right = member.pose.hands.map(|[_, right]| from_wire(right).0);
    hold_point(body, rotation, right)
}
