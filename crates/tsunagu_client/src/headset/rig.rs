//! Where the headset's tracking space sits in the ward ([`HeadsetRig`]),
//! with the comfort choices and the timings the tests read.

use bevy::prelude::*;
use tsunagu_client_core::settings::HeadsetChoices;
use tsunagu_sim::rig::Rig;

/// How the headset's space sits in the ward, and the comfort choices.
#[derive(Resource, Clone, Debug)]
pub struct HeadsetRig {
    /// The rig itself.
    pub rig: Rig,
    /// How far the person lies back in bed, degrees (0: sitting or standing).
    pub tilt_degrees: f32,
    /// One snap turn, degrees (30 or 45).
    pub snap_degrees: f32,
    /// The left stick walks (with the edges of sight darkened while moving);
    /// off, only teleports move.
    pub smooth_walking: bool,
    /// How dark the edges of sight are now (0 to 1).
    pub vignette: f32,
    /// Recentre at the next frame (on joining, when asked by a facilitator).
    pub recentre: bool,
    /// The person asked to leave the headset for the screen (so its end is
    /// their choice, not something to explain).
    pub screen_chosen: bool,
    /// Frames the headset has shown the room.
    pub frames: u64,
    /// The first and latest head positions in the room (for the log).
    pub head_path: Option<(Vec3, Vec3)>,
    /// Per frame: the time from reading the headset to a pose ready to send
    /// (the input-to-pose path), and from reading it to the send (motion to
    /// send), microseconds; the latest frames, for the log and benchmarks.
    pub timings: std::collections::VecDeque<(u32, u32)>,
    pub(super) sampled_at: Option<(std::time::Instant, u32)>,
    /// When the frame after the first few was shown (the room's start-up
    /// settled), and the latest frame: the headset's pace.
    pub(super) paced_from: Option<std::time::Instant>,
    pub(super) latest_frame_at: Option<std::time::Instant>,
}

/// Frames left out of the pace: the first ones build the room's pictures.
pub(super) const FRAMES_BEFORE_PACE: u64 = 10;

/// Frames of timings kept.
pub(super) const TIMINGS_KEPT: usize = 600;

impl HeadsetRig {
    /// A rig set up as `choices` say.
    pub fn with_choices(choices: HeadsetChoices) -> Self {
        let mut headset = HeadsetRig {
            tilt_degrees: f32::from(choices.bed_tilt_degrees),
            snap_degrees: f32::from(choices.snap_turn_degrees),
            smooth_walking: choices.smooth_walking,
            ..default()
        };
        headset.rig.set_eye_offset(f32::from(choices.eye_offset_cm) / 100.0);
        headset
    }

    /// Median input-to-pose and motion-to-send times, microseconds.
    pub fn median_timings(&self) -> Option<(u32, u32)> {
        let mut pose: Vec<u32> = self.timings.iter().map(|t| t.0).collect();
        let mut send: Vec<u32> = self.timings.iter().map(|t| t.1).collect();
        pose.sort_unstable();
        send.sort_unstable();
        Some((*pose.get(pose.len() / 2)?, *send.get(send.len() / 2)?))
    }

    /// Frames the headset showed per second, after the first few.
    pub fn frames_per_second(&self) -> Option<f32> {
        let seconds = self.latest_frame_at?.duration_since(self.paced_from?).as_secs_f32();
        let frames = self.frames.checked_sub(FRAMES_BEFORE_PACE)?;
        (frames > 0 && seconds > 0.0).then(|| frames as f32 / seconds)
    }
}

impl Default for HeadsetRig {
    fn default() -> Self {
        HeadsetRig {
            rig: Rig::default(),
            tilt_degrees: 0.0,
            snap_degrees: 30.0,
            smooth_walking: false,
            vignette: 0.0,
            recentre: true,
            screen_chosen: false,
            frames: 0,
            head_path: None,
            timings: std::collections::VecDeque::new(),
            sampled_at: None,
            paced_from: None,
            latest_frame_at: None,
        }
    }
}
