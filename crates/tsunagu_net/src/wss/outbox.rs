//! What waits to be written to one WebSocket, in the order a room needs it
//! on a stream that cannot drop anything once written: voice first (and a
//! voice frame older than a couple of frames is dropped here rather than
//! sent late), then only the latest pose or snapshot, then echoes, then the
//! reliable frames. Everything is bounded: datagrams beyond their small
//! queues are dropped; a frame that does not fit means the peer is not
//! reading, and the caller closes it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tsunagu_protocol::{CloseReason, DatagramKind};

use super::{Tag, message};
use crate::link::Channel;

/// Voice older than this when its turn to be written comes is dropped: two
/// 20 ms frames and a little, so a stalled link catches up instead of
/// playing everything late.
pub const VOICE_STALE: Duration = Duration::from_millis(60);
/// Voice frames waiting at most (several talkers' worth of the stale time).
const VOICE_QUEUE: usize = 32;
/// Echoes waiting at most.
const ECHO_QUEUE: usize = 8;

/// What the writer does next.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// Write this message.
    Message(Vec<u8>),
    /// Say goodbye with this reason, then stop.
    Close(CloseReason),
}

#[derive(Default)]
struct Queues {
    voice: VecDeque<(Instant, Vec<u8>)>,
    latest_pose: Option<Vec<u8>>,
    echoes: VecDeque<Vec<u8>>,
    frames: VecDeque<(Channel, Vec<u8>)>,
    /// The answer to a speed measure (whole messages, tag included).
    measure: VecDeque<Vec<u8>>,
    closing: Option<CloseReason>,
    /// Dropped so far (stale or over a queue's size).
    dropped: u64,
}

/// One connection's outgoing queues, shared by whoever sends and the task
/// that writes.
pub struct Outbox {
    queues: Mutex<Queues>,
    ready: Notify,
    capacity: usize,
}

impl Outbox {
    /// Queues holding at most `capacity` reliable frames.
    pub fn new(capacity: usize) -> Outbox {
        Outbox { queues: Mutex::default(), ready: Notify::new(), capacity }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Queues) -> R) -> R {
        let result = f(&mut self.queues.lock().unwrap_or_else(|e| e.into_inner()));
        self.ready.notify_one();
        result
    }

    /// Queue a reliable frame; `false` if the queue is full (the peer is not
    /// reading) or the connection is closing.
    pub fn frame(&self, channel: Channel, bytes: Vec<u8>) -> bool {
        let capacity = self.capacity;
        self.with(|q| {
            if q.closing.is_some() || q.frames.len() >= capacity {
                return false;
            }
            q.frames.push_back((channel, bytes));
            true
        })
    }

    /// Reliable frames queued and not yet written.
    pub fn frames_waiting(&self) -> usize {
        self.with(|q| q.frames.len())
    }

    /// Queue a datagram by its kind; what does not fit is dropped, as the
    /// network would drop it.
    pub fn datagram(&self, bytes: Vec<u8>) {
        self.with(|q| {
            if q.closing.is_some() {
                return;
            }
            match DatagramKind::of(&bytes) {
                DatagramKind::Voice => {
                    if q.voice.len() >= VOICE_QUEUE {
                        q.voice.pop_front();
                        q.dropped += 1;
                    }
                    q.voice.push_back((Instant::now(), bytes));
                }
                DatagramKind::Pose | DatagramKind::Snapshot => {
                    // Only the newest matters: it replaces the one not yet written.
                    if q.latest_pose.replace(bytes).is_some() {
                        q.dropped += 1;
                    }
                }
                DatagramKind::Echo | DatagramKind::Unknown => {
                    if q.echoes.len() >= ECHO_QUEUE {
                        q.dropped += 1;
                    } else {
                        q.echoes.push_back(bytes);
                    }
                }
            }
        });
    }

    /// Answer a speed measure ([`Tag::Measure`]): its filler messages, then
    /// a goodbye. At most once: the answer to a second is nothing.
    pub fn answer_measure(&self) {
        self.with(|q| {
            if q.closing.is_some() {
                return;
            }
            // First the tag alone, at once: its arrival times the way up.
            q.measure.push_back(message(Tag::Measure, &[]));
            let filler = message(Tag::Measure, &[0; tsunagu_protocol::limits::MAX_FRAME_BYTES]);
            q.measure.extend(std::iter::repeat_n(filler, super::MEASURE_DOWN_MESSAGES));
            q.closing = Some(CloseReason::Left);
        });
    }

    /// Stop taking more; the writer says goodbye after what is queued.
    pub fn close(&self, reason: CloseReason) {
        self.with(|q| {
            q.closing.get_or_insert(reason);
        });
    }

    /// Why it is closing, once it is.
    pub fn closing(&self) -> Option<CloseReason> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner()).closing
    }

    /// Datagrams dropped so far.
    pub fn dropped(&self) -> u64 {
        self.queues.lock().unwrap_or_else(|e| e.into_inner()).dropped
    }

    /// What to write now, if anything (`now`: the writer's clock).
    pub fn take(&self, now: Instant) -> Option<Next> {
        let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((queued, bytes)) = q.voice.pop_front() {
            if now.saturating_duration_since(queued) <= VOICE_STALE {
                return Some(Next::Message(message(Tag::Datagram, &bytes)));
            }
            q.dropped += 1;
        }
        if let Some(bytes) = q.latest_pose.take() {
            return Some(Next::Message(message(Tag::Datagram, &bytes)));
        }
        if let Some(bytes) = q.echoes.pop_front() {
            return Some(Next::Message(message(Tag::Datagram, &bytes)));
        }
        if let Some((channel, bytes)) = q.frames.pop_front() {
            return Some(Next::Message(message(Tag::of(channel), &bytes)));
        }
        if let Some(bytes) = q.measure.pop_front() {
            return Some(Next::Message(bytes));
        }
        q.closing.map(Next::Close)
    }

    /// Wait for something to write.
    pub async fn next(&self) -> Next {
        loop {
            if let Some(next) = self.take(Instant::now()) {
                return next;
            }
            self.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(n: u8) -> Vec<u8> {
        vec![0x81, 0xa1, b'V', n]
    }
    fn pose(n: u8) -> Vec<u8> {
        vec![0x81, 0xa1, b'P', n]
    }

    #[test]
    fn voice_goes_first_then_the_latest_pose_then_frames_and_the_goodbye_last() {
        let outbox = Outbox::new(4);
        assert!(outbox.frame(Channel::Events, vec![9]));
        outbox.datagram(pose(1));
        outbox.datagram(pose(2));
        outbox.datagram(voice(7));
        outbox.close(CloseReason::Left);
        assert!(!outbox.frame(Channel::Control, vec![1]), "a closing connection takes no more frames");
        let now = Instant::now();
        assert_eq!(outbox.take(now), Some(Next::Message(message(Tag::Datagram, &voice(7)))));
        assert_eq!(outbox.take(now), Some(Next::Message(message(Tag::Datagram, &pose(2)))), "only the newest pose is written");
        assert_eq!(outbox.take(now), Some(Next::Message(message(Tag::Events, &[9]))));
        assert_eq!(outbox.take(now), Some(Next::Close(CloseReason::Left)));
        assert_eq!(outbox.dropped(), 1);
    }

    #[test]
    fn stale_voice_is_dropped_not_sent_late_and_a_full_queue_refuses_frames() {
        let outbox = Outbox::new(2);
        outbox.datagram(voice(1));
        outbox.datagram(voice(2));
        let later = Instant::now() + VOICE_STALE + Duration::from_millis(5);
        assert_eq!(outbox.take(later), None, "voice older than {VOICE_STALE:?} was still sent");
        assert_eq!(outbox.dropped(), 2);
        assert!(outbox.frame(Channel::Control, vec![1]) && outbox.frame(Channel::Control, vec![2]));
        assert!(!outbox.frame(Channel::Control, vec![3]), "a full queue took another frame");
        for n in 0..100 {
            outbox.datagram(voice(n));
        }
        let queued = outbox.queues.lock().unwrap().voice.len();
        assert_eq!(queued, VOICE_QUEUE, "voice queued without bound");
    }
}
