//! The core against a scripted server on the in-memory hub: message order
//! the network may produce, pose pacing, and coming back after a silent drop.
//! (Scenarios with the real room server are in `tsunagu_testkit`.)

use tsunagu_net::memory::{Blocked, MemoryConnector, MemoryServer, hub};
use tsunagu_net::{Channel, ServerLinkEvent, ServerLinks};
use tsunagu_protocol::delta::encode_avatars;
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{
    AvatarLook, AvatarState, ClientControl, ClientDatagram, QuantQuat, QuantVec, ServerControl, ServerDatagram, Snapshot, Welcome, decode, encode,
};

use super::*;

const TICK: Duration = Duration::from_nanos(1_000_000_000 / 30);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn info(id: u32, name: &str) -> PeerInfo {
    PeerInfo {
        id: PeerId(id),
        nickname: name.into(),
        look: AvatarLook::with_color([1, 2, 3]),
        role: Role::Participant,
        hand_raised: false,
        muted: false,
        resting: false,
        speak_for_me: false,
    }
}

fn pose(x: i32) -> AvatarPose {
    let q = QuantPose { pos: QuantVec([x, 0, 0]), rot: QuantQuat(3, 0, 0, 0) };
    AvatarPose { body: q, head: q, hands: None }
}

fn welcome(id: u32, peers: Vec<PeerInfo>, resume: u64, resumed: bool) -> ServerControl {
    ServerControl::Welcome(Welcome {
        your_id: PeerId(id),
        role: Role::Participant,
        tick_rate_hz: 30,
        spawn: pose(0).body,
        peers,
        resume,
        resumed,
        play: Default::default(),
    })
}

fn snapshot(tick: u32, avatars: &[(u32, i32)]) -> Vec<u8> {
    let avatars: Vec<AvatarState> = avatars.iter().map(|&(id, x)| AvatarState { id: PeerId(id), pose: pose(x) }).collect();
    let poses = encode_avatars(&Default::default(), tick, &avatars);
    let snapshot = Snapshot { tick, base_ago: 0, count: avatars.len() as u8, poses, objects: Vec::new() };
    encode(&ServerDatagram::Snapshot(snapshot), MAX_DATAGRAM_BYTES).unwrap()
}

struct Script {
    server: MemoryServer,
    connector: MemoryConnector,
}

impl Script {
    fn new() -> Script {
        let (server, connector) = hub();
        Script { server, connector }
    }

    fn core(&self, now: Duration) -> ClientCore {
        ClientCore::join(Box::new(self.connector.clone()), Hello::new("room", "ゆき", AvatarLook::with_color([9, 9, 9])), now)
    }

    /// Everything clients sent, decoded as far as the script needs.
    fn received(&mut self) -> Vec<(u64, String)> {
        let mut got = Vec::new();
        while let Some(event) = self.server.try_recv() {
            match event {
                ServerLinkEvent::Received(conn, tsunagu_net::LinkEvent::Frame(Channel::Control, bytes)) => {
                    if let Ok(ClientControl::Hello(hello)) = decode::<ClientControl>(&bytes, MAX_FRAME_BYTES) {
                        got.push((conn, format!("hello resume={:?}", hello.resume)));
                    }
                }
                ServerLinkEvent::Received(conn, tsunagu_net::LinkEvent::Datagram(datagram)) => {
                    if let Ok(ClientDatagram::Pose(frame)) = decode::<ClientDatagram>(&datagram.bytes, MAX_DATAGRAM_BYTES) {
                        got.push((conn, format!("pose x={}", frame.pose.body.pos.0[0])));
                    }
                }
                ServerLinkEvent::Received(conn, tsunagu_net::LinkEvent::Frame(Channel::Events, bytes)) => {
                    match decode::<ClientEvent>(&bytes, MAX_FRAME_BYTES) {
                        Ok(ClientEvent::LightLink(light)) => got.push((conn, format!("light link {light}"))),
                        _ => got.push((conn, "event".into())),
                    }
                }
                ServerLinkEvent::Received(conn, tsunagu_net::LinkEvent::Closed(end)) => got.push((conn, format!("closed {end:?}"))),
                ServerLinkEvent::Connected(conn) => got.push((conn, "connected".into())),
            }
        }
        got
    }

    fn send<T: serde::Serialize>(&mut self, conn: u64, channel: Channel, msg: &T) {
        self.server.send(conn, channel, encode(msg, MAX_FRAME_BYTES).unwrap());
    }
}

#[test]
fn events_and_snapshots_may_arrive_before_welcome_and_before_their_introduction() {
    let mut script = Script::new();
    let mut core = script.core(Duration::ZERO);
    // The events stream overtakes the control stream: a PeerJoined before Welcome.
    script.send(1, Channel::Events, &ServerEvent::PeerJoined(info(5, "あおい")));
    assert!(core.poll(ms(10)).is_empty(), "nothing is shown before Welcome");
    script.send(1, Channel::Control, &welcome(2, vec![info(3, "Ren")], 77, false));
    let events = core.poll(ms(20));
    assert!(matches!(&events[0], RoomEvent::Joined { me, .. } if me.id == PeerId(2) && me.nickname == "ゆき"));
    assert!(events.contains(&RoomEvent::Server(ServerEvent::PeerJoined(info(3, "Ren")))));
    assert!(events.contains(&RoomEvent::Server(ServerEvent::PeerJoined(info(5, "あおい")))));
    // A snapshot names peer 9 before the PeerJoined that introduces them.
    script.server.send_datagram(1, snapshot(10, &[(9, 1500), (3, 200)]));
    core.poll(ms(30));
    assert_eq!(core.room().head_count(), 3, "an avatar counts once introduced");
    assert_eq!(core.room().peer(PeerId(9)).and_then(|p| p.latest).map(|p| p.body.pos.0[0]), Some(1500));
    script.send(1, Channel::Events, &ServerEvent::PeerJoined(info(9, "Hanako")));
    assert_eq!(core.poll(ms(40)), vec![RoomEvent::Server(ServerEvent::PeerJoined(info(9, "Hanako")))]);
    let t = core.room().render_time(ms(500)).expect("a playout clock after a snapshot");
    assert_eq!(core.room().sample(PeerId(9), t).map(|p| p.body.0.x), Some(1.5), "the early pose was kept");
    script.send(1, Channel::Events, &ServerEvent::PeerLeft(PeerId(9)));
    assert_eq!(core.poll(ms(50)), vec![RoomEvent::Server(ServerEvent::PeerLeft(PeerId(9)))]);
    assert!(core.room().peer(PeerId(9)).is_none());
}

#[test]
fn poses_go_at_the_tick_rate_newest_first_whatever_the_frame_rate() {
    let mut script = Script::new();
    let mut core = script.core(Duration::ZERO);
    script.send(1, Channel::Control, &welcome(2, vec![], 1, false));
    core.poll(ms(1));
    script.received();
    // A 144 Hz renderer offers a pose every 7 ms for one second.
    let mut now = ms(1);
    let mut offered = 0;
    while now < ms(1001) {
        core.send_pose(pose(offered), now);
        core.poll(now);
        offered += 1;
        now += Duration::from_micros(6944);
    }
    let poses: Vec<String> = script.received().into_iter().map(|(_, what)| what).filter(|w| w.starts_with("pose")).collect();
    assert!((29..=31).contains(&poses.len()), "{} poses in a second at 30 Hz", poses.len());
    // A 20 Hz renderer (slow software rendering) still sends every frame.
    let mut sent = 0;
    for _ in 0..10 {
        now += ms(50);
        core.send_pose(pose(1), now);
        sent += script.received().len();
    }
    assert_eq!(sent, 10);
}

#[test]
fn silence_in_one_direction_brings_the_client_back_with_its_resume_token() {
    let mut script = Script::new();
    let mut core = script.core(Duration::ZERO);
    script.send(1, Channel::Control, &welcome(2, vec![info(3, "Ren")], 0xabc, false));
    core.poll(ms(10));
    script.received();
    // The server's traffic stops reaching us; we still reach the server.
    script.connector.block(1, Blocked { to_server: false, to_client: true });
    let mut now = ms(10);
    let mut reconnecting_at = None;
    while now < ms(4000) && reconnecting_at.is_none() {
        now += TICK;
        core.send_pose(pose(5), now);
        if core.poll(now).contains(&RoomEvent::Reconnecting) {
            reconnecting_at = Some(now);
        }
    }
    let at = reconnecting_at.expect("the silence was never noticed");
    assert!(at >= SILENCE_LIMIT && at <= SILENCE_LIMIT + ms(100), "noticed after {at:?}");
    let sent = script.received();
    assert!(sent.contains(&(1, "closed Reason(Reconnecting)".into())), "the old connection was not given up as a reconnect: {sent:?}");
    // After the back-off a new connection says Hello with the token.
    for _ in 0..30 {
        now += TICK;
        core.poll(now);
    }
    let sent = script.received();
    assert!(sent.contains(&(2, "hello resume=Some(2748)".into())), "{sent:?}");
    script.send(2, Channel::Control, &welcome(2, vec![], 0xdef, true));
    let events = core.poll(now + TICK);
    assert_eq!(events[0], RoomEvent::Server(ServerEvent::PeerLeft(PeerId(3))), "Ren left while we were away");
    assert!(matches!(&events[1], RoomEvent::Rejoined { resumed: true, me, .. } if me.id == PeerId(2)));
    assert!(core.in_room());
}

#[test]
fn low_bandwidth_mode_asks_the_server_on_every_connection_and_sends_fewer_poses() {
    let mut script = Script::new();
    let mut core = script.core(Duration::ZERO);
    // Chosen before the room answered: said once in, not before.
    core.set_light_link(true);
    assert!(script.received().iter().all(|(_, what)| !what.starts_with("light")));
    script.send(1, Channel::Control, &welcome(2, vec![], 0xabc, false));
    core.poll(ms(1));
    assert!(script.received().contains(&(1, "light link true".into())));
    let mut now = ms(1);
    let mut poses = 0;
    while now < ms(1001) {
        core.send_pose(pose(1), now);
        core.poll(now);
        poses += script.received().iter().filter(|(_, what)| what.starts_with("pose")).count();
        now += ms(7);
    }
    assert!((9..=11).contains(&poses), "{poses} poses in a second in low-bandwidth mode");
    // A new connection (not a resume) is asked again.
    script.connector.block(1, Blocked { to_server: false, to_client: true });
    while !script.received().iter().any(|(conn, what)| *conn == 2 && what.starts_with("hello")) && now < ms(10_000) {
        now += TICK;
        core.poll(now);
    }
    script.send(2, Channel::Control, &welcome(2, vec![], 0xdef, false));
    core.poll(now + TICK);
    assert!(script.received().contains(&(2, "light link true".into())));
    core.set_light_link(false);
    assert_eq!(script.received(), vec![(2, "light link false".to_string())]);
}

#[test]
fn a_link_whose_echoes_go_unanswered_or_come_back_slowly_seems_poor() {
    let mut script = Script::new();
    let mut core = script.core(Duration::ZERO);
    script.send(1, Channel::Control, &welcome(2, vec![], 1, false));
    core.poll(ms(1));
    // Runs `seconds`, answering each echo after `delay` (never if `None`).
    let mut now = ms(1);
    let mut run = |core: &mut ClientCore, seconds: u64, delay: Option<Duration>| {
        let mut waiting: Vec<(Duration, u32)> = Vec::new();
        let end = now + Duration::from_secs(seconds);
        while now < end {
            now += ms(20);
            // Poses every tick, so silence from the server side is not what is tested.
            script.send(1, Channel::Events, &ServerEvent::WaitingRoom(false));
            while let Some(event) = script.server.try_recv() {
                if let ServerLinkEvent::Received(_, tsunagu_net::LinkEvent::Datagram(d)) = event
                    && let Ok(ClientDatagram::Echo(nonce)) = decode::<ClientDatagram>(&d.bytes, MAX_DATAGRAM_BYTES)
                    && let Some(delay) = delay
                {
                    waiting.push((now + delay, nonce));
                }
            }
            waiting.retain(|(at, nonce)| {
                let due = *at <= now;
                if due {
                    script.server.send_datagram(1, encode(&tsunagu_protocol::ServerDatagram::Echo(*nonce), MAX_DATAGRAM_BYTES).unwrap());
                }
                !due
            });
            core.poll(now);
        }
    };
    run(&mut core, 12, Some(ms(30)));
    assert!(!core.link_seems_poor(), "a calm link seems poor");
    run(&mut core, 12, Some(ms(600)));
    assert!(core.link_seems_poor(), "slow round trips were not noticed");
    run(&mut core, 12, Some(ms(30)));
    assert!(!core.link_seems_poor(), "still poor after it got better");
    run(&mut core, 12, None);
    assert!(core.link_seems_poor(), "lost echoes were not noticed");
}

#[test]
fn a_join_that_is_never_answered_ends_after_its_deadline() {
    let script = Script::new();
    let mut core = script.core(Duration::ZERO);
    assert!(core.poll(JOIN_DEADLINE).is_empty(), "given up before the deadline");
    assert_eq!(core.poll(JOIN_DEADLINE + ms(1)), vec![RoomEvent::Ended(ClientEnd::Closed(LinkEnd::Unreachable))]);
    assert!(core.ended());
}

#[test]
fn a_look_changed_in_the_room_is_sent_and_used_for_a_reconnect() {
    let mut script = Script::new();
    let mut core = script.core(Duration::ZERO);
    script.send(1, Channel::Control, &welcome(2, vec![], 1, false));
    core.poll(ms(1));
    script.received();
    let look = AvatarLook::with_color([90, 180, 230]);
    core.send_event(ClientEvent::SetLook(look));
    assert_eq!(script.received(), vec![(1, "event".to_string())]);
    // The server confirms to everyone, us included.
    script.send(1, Channel::Events, &ServerEvent::PeerChanged(PeerInfo { look, ..info(2, "ゆき") }));
    assert_eq!(core.poll(ms(2)), vec![RoomEvent::Server(ServerEvent::PeerChanged(PeerInfo { look, ..info(2, "ゆき") }))]);
    assert_eq!(core.room().me().map(|m| m.look), Some(look));
    assert_eq!(core.hello.look, look);
}

#[test]
fn only_a_lost_connection_is_retried() {
    assert!(worth_reconnecting(LinkEnd::Lost) && worth_reconnecting(LinkEnd::TimedOut));
    assert!(worth_reconnecting(LinkEnd::Reason(CloseReason::Reconnecting)));
    assert!(!worth_reconnecting(LinkEnd::WrongCertificate));
    assert!(!worth_reconnecting(LinkEnd::Reason(CloseReason::ServerShutdown)));
    assert!(!worth_reconnecting(LinkEnd::Reason(CloseReason::Removed)));
    assert!(!worth_reconnecting(LinkEnd::Reason(CloseReason::Left)));
}

/// A link the server turned away at the door.
struct TurnedAway(bool);

impl tsunagu_net::ClientLink for TurnedAway {
    fn send(&mut self, _: Channel, _: Vec<u8>) {}
    fn send_datagram(&mut self, _: Vec<u8>) {}
    fn try_recv(&mut self) -> Option<tsunagu_net::LinkEvent> {
        std::mem::take(&mut self.0).then_some(tsunagu_net::LinkEvent::Closed(LinkEnd::Busy))
    }
    fn close(&mut self, _: CloseReason) {}
}

/// Busy twice, then the hub.
struct BusyTwice(u32, MemoryConnector);

impl Connector for BusyTwice {
    fn open(&mut self) -> Result<Box<dyn tsunagu_net::ClientLink>, String> {
        self.0 += 1;
        if self.0 <= 2 { Ok(Box::new(TurnedAway(true))) } else { self.1.open() }
    }
}

#[test]
fn a_busy_server_is_tried_again_and_the_first_join_still_counts_as_a_join() {
    let mut script = Script::new();
    let hello = Hello::new("room", "ゆき", AvatarLook::with_color([9, 9, 9]));
    let mut core = ClientCore::join(Box::new(BusyTwice(0, script.connector.clone())), hello, Duration::ZERO);
    assert_eq!(core.poll(ms(10)), vec![RoomEvent::ServerBusy]);
    assert!(core.busy() && !core.reconnecting() && !core.ended());
    let mut now = ms(10);
    while script.received().is_empty() && now < ms(10_000) {
        now += ms(100);
        assert!(!core.poll(now).iter().any(|e| matches!(e, RoomEvent::Ended(_))), "gave up on a busy server");
    }
    assert!(now >= BUSY_RETRY * 2, "tried again too soon: {now:?}");
    script.send(1, Channel::Control, &welcome(2, vec![], 1, false));
    let events = core.poll(now + ms(10));
    assert!(matches!(&events[0], RoomEvent::Joined { .. }), "{events:?}");
    assert!(!core.busy());
}
