//! Who hears whom, and how much voice a member may send. The server forwards
//! voice frames the moment they arrive; this decides where they go.

use std::time::Duration;

use bevy_math::Vec3;
use tsunagu_net::limits::TokenBucket;
use tsunagu_protocol::{PeerId, Role, VoiceFrame};
use tsunagu_sim::pose::wire_pos;

use crate::Room;

/// Beyond this (metres between bodies) a participant is not heard.
pub const VOICE_CUTOFF_METRES: f32 = 12.0;
/// Each listener hears at most this many talking participants, nearest first.
pub const NEAREST_SPEAKERS: usize = 8;
/// A member is talking when a frame marked speaking arrived within this.
pub const TALKING_WINDOW: Duration = Duration::from_millis(500);
/// Voice frames a member may send a second (50 at 20 ms, and some bunching).
pub const MAX_VOICE_FRAMES_PER_SECOND: u32 = 55;
/// Frames at once after a quiet while.
pub const VOICE_FRAME_BURST: u32 = 10;
/// Opus bits a member may send a second (a one-second burst).
pub const MAX_VOICE_BITS_PER_SECOND: u32 = 64_000;

/// One member's voice: limits and whether they are talking.
#[derive(Clone, Debug)]
pub struct VoiceState {
    frames: TokenBucket,
    bytes: TokenBucket,
    /// When their last frame marked speaking arrived.
    talked_at: Option<Duration>,
    /// Whether they were told they went over the limit (once per connection).
    told: bool,
    /// Frames dropped for the limit.
    pub dropped: u64,
}

impl VoiceState {
    pub(crate) fn new(now: Duration) -> Self {
        VoiceState {
            frames: TokenBucket::full(f64::from(VOICE_FRAME_BURST), now),
            bytes: TokenBucket::full(f64::from(MAX_VOICE_BITS_PER_SECOND / 8), now),
            talked_at: None,
            told: false,
            dropped: 0,
        }
    }

    /// Talking at `now`.
    pub fn is_talking(&self, now: Duration) -> bool {
        self.talked_at.is_some_and(|at| now.saturating_sub(at) <= TALKING_WINDOW)
    }
}

/// What to do with a voice frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoiceOutcome {
    /// Send it to these listeners (maybe none).
    Forward(Vec<PeerId>),
    /// Over the limit: dropped. `tell` the sender so, the first time.
    Dropped {
        /// Tell the sender (`Refused(Voice, TooFast)`).
        tell: bool,
    },
}

impl Room {
    /// Take a voice frame from `speaker` at `now`: within the limits it goes to
    /// the listeners [`Room::voice_listeners`] names.
    pub fn accept_voice(&mut self, speaker: PeerId, frame: &VoiceFrame, now: Duration) -> VoiceOutcome {
        let Some(member) = self.members.get_mut(&speaker) else {
            return VoiceOutcome::Forward(Vec::new());
        };
        // Muted by a facilitator: dropped here, whatever their client does.
        // They know: their own PeerInfo says muted.
        if member.info.muted {
            return VoiceOutcome::Dropped { tell: false };
        }
        let voice = &mut member.voice;
        let bytes_per_second = f64::from(MAX_VOICE_BITS_PER_SECOND / 8);
        let within = voice.frames.take(now, f64::from(MAX_VOICE_FRAMES_PER_SECOND), f64::from(VOICE_FRAME_BURST))
            && voice.bytes.take_n(frame.opus.len() as f64, now, bytes_per_second, bytes_per_second);
        if !within {
            voice.dropped += 1;
            let tell = !voice.told;
            voice.told = true;
            return VoiceOutcome::Dropped { tell };
        }
        if frame.speaking {
            voice.talked_at = Some(now);
        }
        VoiceOutcome::Forward(self.voice_listeners(speaker, now))
    }

    /// Who hears `speaker` now: everyone when the speaker is a facilitator;
    /// otherwise each listener within [`VOICE_CUTOFF_METRES`] for whom the
    /// speaker is among the [`NEAREST_SPEAKERS`] nearest talking participants.
    pub fn voice_listeners(&self, speaker: PeerId, now: Duration) -> Vec<PeerId> {
        let Some(talker) = self.members.get(&speaker) else {
            return Vec::new();
        };
        let others = self.members.values().filter(|m| m.info.id != speaker);
        if talker.info.role == Role::Facilitator {
            return others.map(|m| m.info.id).collect();
        }
        let at = |id: PeerId| self.members.get(&id).map(|m| wire_pos(m.pose.body.pos));
        let speaker_at = wire_pos(talker.pose.body.pos);
        // Other talking participants compete for a listener's places; the
        // speaker themself counts as talking (this frame proves it).
        let rivals: Vec<(PeerId, Vec3)> = self
            .members
            .values()
            .filter(|m| m.info.id != speaker && m.info.role != Role::Facilitator && m.voice.is_talking(now))
            .map(|m| (m.info.id, wire_pos(m.pose.body.pos)))
            .collect();
        others
            .filter(|listener| {
                let Some(here) = at(listener.info.id) else {
                    return false;
                };
                let distance = here.distance(speaker_at);
                if distance > VOICE_CUTOFF_METRES {
                    return false;
                }
                // Nearer rivals (ties broken by id, so every frame decides alike).
                let nearer = rivals
                    .iter()
                    .filter(|(id, _)| *id != listener.info.id)
                    .filter(|(id, pos)| {
                        let d = here.distance(*pos);
                        d < distance || (d == distance && *id < speaker)
                    })
                    .count();
                nearer < NEAREST_SPEAKERS
            })
            .map(|m| m.info.id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_LOOK, RoomConfig};
    use tsunagu_protocol::Hello;
    use tsunagu_sim::pose::to_wire;

    fn room_of(people: &[(&str, f32, f32)]) -> (Room, Vec<PeerId>) {
        let mut room = Room::new(RoomConfig { code: "sakura".into(), facilitator_code: "sakura-staff".into(), capacity: 40 });
        let ids = people
            .iter()
            .enumerate()
            .map(|(n, &(code, x, z))| {
                let id = room.admit(&Hello::new(code, &format!("p{n}"), DEFAULT_LOOK), 0, Duration::ZERO, 7).unwrap().0.info.id;
                // Placed directly: the walking rules are not what is tested here.
                room.members.get_mut(&id).unwrap().pose.body = to_wire(Vec3::new(x, 0.0, z), bevy_math::Quat::IDENTITY);
                id
            })
            .collect();
        (room, ids)
    }

    fn frame(opus_bytes: usize) -> VoiceFrame {
        VoiceFrame { seq: 0, timestamp: 0, speaking: true, opus: vec![0; opus_bytes] }
    }

    fn forwarded(outcome: VoiceOutcome) -> Vec<PeerId> {
        match outcome {
            VoiceOutcome::Forward(to) => to,
            dropped => panic!("dropped: {dropped:?}"),
        }
    }

    #[test]
    fn far_listeners_do_not_hear_participants_but_hear_facilitators() {
        let (mut room, ids) = room_of(&[("sakura", 0.0, 0.0), ("sakura", 2.0, 0.0), ("sakura", 0.0, 12.5), ("sakura-staff", -0.5, 13.0)]);
        let t = Duration::from_secs(1);
        assert_eq!(forwarded(room.accept_voice(ids[0], &frame(60), t)), vec![ids[1]], "12.5 m away heard a participant");
        // A facilitator is heard by everyone, even 13 m away.
        assert_eq!(forwarded(room.accept_voice(ids[3], &frame(60), t)), vec![ids[0], ids[1], ids[2]]);
    }

    #[test]
    fn each_listener_hears_the_nearest_eight_talkers() {
        // A listener at the origin and ten participants on a line, 1 m apart.
        let mut people = vec![("sakura", 0.0, 0.0)];
        people.extend((1..=10).map(|i| ("sakura", i as f32, 0.0)));
        let (mut room, ids) = room_of(&people);
        let t = Duration::from_secs(1);
        for &talker in &ids[1..] {
            room.accept_voice(talker, &frame(60), t);
        }
        let heard_by_listener: Vec<PeerId> = ids[1..].iter().copied().filter(|&talker| room.voice_listeners(talker, t).contains(&ids[0])).collect();
        assert_eq!(heard_by_listener, ids[1..9].to_vec(), "not the eight nearest");
        // When the near ones stop talking, the far ones are heard again.
        let later = t + TALKING_WINDOW + Duration::from_millis(1);
        assert!(forwarded(room.accept_voice(ids[10], &frame(60), later)).contains(&ids[0]));
        // A quiet frame (the end of a talk spurt) does not make anyone talking.
        let (mut room, ids) = room_of(&people);
        for &talker in &ids[1..10] {
            room.accept_voice(talker, &VoiceFrame { speaking: false, ..frame(60) }, t);
        }
        assert!(forwarded(room.accept_voice(ids[10], &frame(60), t)).contains(&ids[0]));
    }

    #[test]
    fn voice_over_the_limits_is_dropped_and_the_sender_told_once() {
        let (mut room, ids) = room_of(&[("sakura", 0.0, 0.0), ("sakura", 1.0, 0.0)]);
        // 50 frames a second of 60 bytes (24 kbit/s) for ten seconds: all pass.
        for i in 0..500u64 {
            let t = Duration::from_millis(20 * i);
            assert_eq!(forwarded(room.accept_voice(ids[0], &frame(60), t)), vec![ids[1]], "frame {i}");
        }
        // 100 frames a second: about 55 pass, the rest dropped; told once.
        let (mut tells, mut passed) = (0, 0);
        for i in 0..1000u64 {
            match room.accept_voice(ids[0], &frame(60), Duration::from_secs(10) + Duration::from_millis(10 * i)) {
                VoiceOutcome::Forward(_) => passed += 1,
                VoiceOutcome::Dropped { tell } => tells += u32::from(tell),
            }
        }
        assert_eq!(tells, 1);
        assert!((540..=570).contains(&passed), "{passed} frames passed in 10 s at 100/s");
        // Large frames: the byte limit (64 kbit/s = 8,000 bytes/s) holds too.
        let (mut room, ids) = room_of(&[("sakura", 0.0, 0.0), ("sakura", 1.0, 0.0)]);
        let passed =
            (0..500u64).filter(|i| matches!(room.accept_voice(ids[0], &frame(300), Duration::from_millis(20 * i)), VoiceOutcome::Forward(_))).count();
        // 300 bytes × 50/s is 15,000 bytes/s: about 8,000 of them pass, plus the first second's burst.
        assert!((270..=300).contains(&passed), "{passed} large frames passed in 10 s");
        assert_eq!(room.member(ids[0]).unwrap().voice.dropped, 500 - passed as u64);
    }
}
