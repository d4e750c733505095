//! `cargo xtask bench net`: what the room costs on the network and on the server.
//!
//! (a) Bandwidth: 20 people in VR (body, head, two hands) moving as in
//!     [`tsunagu_testkit::trace`], through the real server and client code on the
//!     stepper's in-memory transport at 30 Hz. Bytes each client receives per
//!     visible avatar, beside the same trace sent naively (MessagePack of f32
//!     transforms, every avatar every tick).
//! (b) Server load: the real `tsunagu-server` binary on loopback with 50 bot
//!     clients over QUIC; its CPU time from /proc, and how old a pose is when
//!     another client first sees it (client → server → client).
//!
//! (d) Play (`cargo xtask bench net play`): four rooms of 20 on one server
//!     (in process, the stepper's transport), the eight things of every room
//!     tossed up and caught again by eight of its people; the server's time per
//!     tick, beside the same rooms with the things at rest, and the bytes each
//!     client receives for the things.
//!
//! Run through xtask, which builds the server binary and sets TSUNAGU_SERVER_BIN.
//!
//! Long because each measured scenario sets up its own room and clients.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tsunagu_client_core::{ClientCore, RoomEvent};
use tsunagu_net::invite::Invite;
use tsunagu_net::quic::{QuicConnector, WireStats};
use tsunagu_protocol::{AvatarLook, Hello, PeerId};
use tsunagu_testkit::trace::Person;
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Returns (ours, naive) in kbit/s per visible avatar.
fn bandwidth(people: usize, seconds: usize) -> (f64, f64) {
    let mut s = Stepper::new(people + 4);
    let ids: Vec<usize> = (0..people).map(|i| s.connect(ROOM_CODE, &format!("vr{i}"))).collect();
    s.run(3, TICK);
    let trace: Vec<Person> = (0..people).map(Person::new).collect();
    let mut tick = 0usize;
    let mut advance = |s: &mut Stepper, naive: &mut usize| {
        let t = tick as f32 / 30.0;
        let poses: Vec<_> = trace.iter().map(|p| p.pose(t)).collect();
        for (n, &i) in ids.iter().enumerate() {
            s.send_pose(i, poses[n]);
        }
        // The naive snapshot one client would get: every other avatar, whole, as f32s.
        let naive_snapshot: Vec<(u32, [[f32; 7]; 4])> = poses[1..]
            .iter()
            .enumerate()
            .map(|(n, pose)| {
                let hands = pose.hands.unwrap_or([pose.head; 2]);
                let transform = |q: tsunagu_protocol::QuantPose| {
                    let (p, r) = (q.pos.to_metres(), q.rot.to_xyzw());
                    [p[0], p[1], p[2], r[0], r[1], r[2], r[3]]
                };
                (n as u32 + 2, [transform(pose.body), transform(pose.head), transform(hands[0]), transform(hands[1])])
            })
            .collect();
        *naive += rmp_serde::to_vec(&(tick as u32, naive_snapshot)).map(|b| b.len()).unwrap_or(0);
        s.step(TICK);
        tick += 1;
    };
    // Warm up: everyone's first, whole update is not the steady state.
    let mut naive_bytes = 0;
    for _ in 0..90 {
        advance(&mut s, &mut naive_bytes);
    }
    let start_bytes: Vec<usize> = ids.iter().map(|&i| s.clients[i].snapshot_bytes()).collect();
    let first_updates: Vec<u32> = {
        let first = &s.clients[ids[0]];
        ids.iter().map(|&i| s.clients[i].id().map_or(0, |id| first.updates(id))).collect()
    };
    naive_bytes = 0;
    for _ in 0..seconds * 30 {
        advance(&mut s, &mut naive_bytes);
    }
    let visible = (people - 1) as f64;
    let mut per_avatar: Vec<f64> = ids
        .iter()
        .zip(&start_bytes)
        .map(|(&i, start)| (s.clients[i].snapshot_bytes() - start) as f64 / seconds as f64 / visible * 8.0 / 1000.0)
        .collect();
    let worst = per_avatar.iter().copied().fold(0.0, f64::max);
    let ours = median(&mut per_avatar);
    let naive = naive_bytes as f64 / seconds as f64 / visible * 8.0 / 1000.0;
    let first = &s.clients[ids[0]];
    let mut rates: Vec<f64> = ids[1..]
        .iter()
        .zip(&first_updates[1..])
        .filter_map(|(&i, start)| s.clients[i].id().map(|id| f64::from(first.updates(id) - start) / seconds as f64))
        .collect();
    rates.sort_by(f64::total_cmp);
    println!("(a) bandwidth: {people} VR avatars, {seconds} s of recorded-like motion at 30 Hz");
    println!("    delta-coded snapshots: {ours:.2} kbit/s per visible avatar (median client; worst client {worst:.2})");
    println!("    naive f32 MessagePack:  {naive:.2} kbit/s per visible avatar");
    println!("    ratio naive / ours:     {:.1}x", naive / ours);
    println!(
        "    updates per avatar seen by one client: {:.1} Hz (slowest) / {:.1} Hz (median) / {:.1} Hz (fastest)",
        rates.first().copied().unwrap_or(0.0),
        percentile(&rates, 0.5),
        rates.last().copied().unwrap_or(0.0)
    );
    (ours, naive)
}

/// User + system CPU seconds a process has used (from /proc).
fn cpu_seconds(pid: u32, ticks_per_second: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / ticks_per_second)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf").arg("CLK_TCK").output().ok().and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0)
}

struct Bot {
    core: ClientCore,
    wire: WireStats,
    person: Person,
    /// When each marker (head height in mm above 1 m) was sent.
    sent: HashMap<i32, Instant>,
    seq: u32,
    /// The newest marker this bot has seen from each other bot.
    seen: HashMap<PeerId, i32>,
}

/// The server process's resident memory, KiB (from /proc).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Strangers on eight other loopback addresses (127.0.0.2–9) start QUIC
/// handshakes as fast as they can, each dropped after a moment, never saying
/// Hello: at most `per_address` each, until `stop`.
fn handshake_burst(invite: &Invite, per_address: usize, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Vec<std::thread::JoinHandle<usize>> {
    (2..=9u8)
        .map(|last| {
            let (invite, stop) = (invite.clone(), stop.clone());
            std::thread::spawn(move || {
                let ip = std::net::IpAddr::from([127, 0, 0, last]);
                let mut started = 0;
                let mut live = std::collections::VecDeque::new();
                while started < per_address && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Ok(c) = tsunagu_net::quic::QuicClient::connect_from(&invite, ip) {
                        live.push_back(c);
                        started += 1;
                    }
                    if live.len() > 4 {
                        live.pop_front();
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                started
            })
        })
        .collect()
}

/// Parts (b), (c) and (e): `clients` bots on a real server; with `over_wss`,
/// every other bot joins over the WebSocket (its UDP dropped by a socket that
/// swallows everything).
fn server_load(server_bin: &Path, clients: usize, seconds: u64, burst: bool, over_wss: bool) -> Result<(), String> {
    let data_dir = std::env::temp_dir().join(format!("tsunagu-bench-{}", std::process::id()));
    let mut child = Command::new(server_bin)
        .args(["--bind", "127.0.0.1:0", "--rooms", "1", "--capacity", "64", "--public-host", "127.0.0.1"])
        .arg("--data-dir")
        .arg(&data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_LOG", "info")
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server_bin.display()))?;
    let stdout = child.stdout.take().ok_or("no server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let invite = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split_once("participant invite:").and_then(|(_, i)| Invite::parse(i.trim()).ok()))
        .ok_or("the server printed no invite")?;
    // Keep reading whatever else it prints, as a terminal would; the log's
    // last word is the server's own measure of its forwarding delay.
    std::thread::spawn(move || lines.for_each(drop));
    let stderr = child.stderr.take().ok_or("no server stderr")?;
    let forwarding_line =
        std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).filter(|l| l.contains("forwarding delay")).last());
    let swallow = std::net::UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let udp_dropped = Invite { port: swallow.local_addr().map_err(|e| e.to_string())?.port(), ..invite.clone() };
    let mut bots: Vec<Bot> = (0..clients)
        .map(|i| {
            let hello = Hello::new(&invite.room_code, &format!("bot{i}"), AvatarLook::with_color([200, 160, 90]));
            // Ten bots per address, as from five hospitals: one address may open
            // only so many connections in a burst (see the server's door limits).
            let address = std::net::IpAddr::from([127, 0, 1, 10 + (i / 10) as u8]);
            let (connector, wire): (Box<dyn tsunagu_net::Connector>, WireStats) = if over_wss && i % 2 == 1 {
                let settings = tsunagu_net::race::RaceSettings {
                    proxy: tsunagu_net::wss::proxy::ProxyChoice::Direct,
                    memory: tsunagu_net::race::UdpMemory::default(),
                    local: Some(address),
                    ..tsunagu_net::race::RaceSettings::new(udp_dropped.clone())
                };
                let connector = tsunagu_net::race::RacingConnector::new(settings);
                let wire = connector.stats();
                (Box::new(connector), wire)
            } else {
                let connector = QuicConnector::from_address(invite.clone(), address);
                let wire = connector.stats();
                (Box::new(connector), wire)
            };
            let core = ClientCore::join(connector, hello, Duration::ZERO);
            Bot { core, wire, person: Person::new(i), sent: HashMap::new(), seq: 0, seen: HashMap::new() }
        })
        .collect();
    let started = Instant::now();
    let period = Duration::from_secs(1) / 30;
    let warm_up = Duration::from_secs(3);
    let mut latencies_ms: Vec<f64> = Vec::new();
    let mut measure_from: Option<(Instant, f64)> = None;
    let mut wire_start = Vec::new();
    let mut echoes_before: Vec<usize> = Vec::new();
    // With `burst`: the second half of the measured window is under attack.
    let burst_from = warm_up + Duration::from_secs(seconds / 2);
    let stop_burst = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut attackers = Vec::new();
    let mut calm_ms: Vec<f64> = Vec::new();
    let mut rss_before = None;
    let ticks_per_second = clock_ticks_per_second();
    let mut next_send: Vec<Duration> = (0..clients).map(|i| period * i as u32 / clients as u32).collect();
    let end = warm_up + Duration::from_secs(seconds);
    while started.elapsed() < end {
        let now = started.elapsed();
        if burst && attackers.is_empty() && now >= burst_from {
            rss_before = rss_kib(child.id());
            calm_ms = std::mem::take(&mut latencies_ms);
            attackers = handshake_burst(&invite, 200, stop_burst.clone());
        }
        if measure_from.is_none() && now >= warm_up {
            measure_from = Some((Instant::now(), cpu_seconds(child.id(), ticks_per_second).ok_or("cannot read the server's CPU time")?));
            latencies_ms.clear();
            wire_start = bots.iter().map(|b| b.wire.totals()).collect();
            echoes_before = bots.iter().map(|b| b.core.round_trips().count()).collect();
        }
        for (i, bot) in bots.iter_mut().enumerate() {
            if now >= next_send[i] && bot.core.in_room() {
                next_send[i] += period;
                let mut pose = bot.person.pose(now.as_secs_f32());
                // Head height carries a marker, so whoever sees this pose knows when it left.
                let marker = (bot.seq % 250) as i32;
                pose.head.pos.0[1] = 1000 + marker;
                bot.sent.insert(marker, Instant::now());
                bot.seq += 1;
                bot.core.send_pose(pose, now);
            }
        }
        let ids: HashMap<PeerId, usize> = bots.iter().enumerate().filter_map(|(i, b)| b.core.my_id().map(|id| (id, i))).collect();
        let mut seen_now = Vec::new();
        for (i, bot) in bots.iter_mut().enumerate() {
            for event in bot.core.poll(now) {
                if matches!(event, RoomEvent::Ended(_) | RoomEvent::Reconnecting) {
                    return Err(format!("bot {i} lost its connection: {event:?}"));
                }
            }
            // The newest pose of each avatar (the bots poll every millisecond,
            // so two snapshots rarely arrive between polls).
            for &id in ids.keys() {
                let Some(pose) = bot.core.room().peer(id).and_then(|p| p.latest) else { continue };
                let marker = pose.head.pos.0[1] - 1000;
                if bot.seen.insert(id, marker) != Some(marker) {
                    seen_now.push((i, id, marker));
                }
            }
        }
        let arrived = Instant::now();
        for (_, id, marker) in seen_now {
            if let Some(sent) = ids.get(&id).and_then(|&from| bots[from].sent.get(&marker)) {
                latencies_ms.push(arrived.duration_since(*sent).as_secs_f64() * 1000.0);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    stop_burst.store(true, std::sync::atomic::Ordering::Relaxed);
    let handshakes: usize = attackers.into_iter().filter_map(|a| a.join().ok()).sum();
    let rss_after = rss_kib(child.id());
    let (measured_at, cpu_start) = measure_from.ok_or("the run ended before measuring")?;
    let cpu = cpu_seconds(child.id(), ticks_per_second).ok_or("cannot read the server's CPU time")? - cpu_start;
    let wall = measured_at.elapsed().as_secs_f64();
    let joined = bots.iter().filter(|b| b.core.my_id().is_some()).count();
    // On the wire: UDP payload (QUIC headers and all) plus 28 bytes of IP and
    // UDP header per packet, received by each bot, per other avatar it sees.
    let mut wire_per_avatar: Vec<f64> = bots
        .iter()
        .zip(&wire_start)
        // The WebSocket bots' bytes are TCP's, not counted here.
        .filter(|(b, _)| b.wire.totals().rx_packets > 0)
        .map(|(b, start)| {
            let now = b.wire.totals();
            let bytes = (now.rx_bytes - start.rx_bytes) + 28 * (now.rx_packets - start.rx_packets);
            bytes as f64 * 8.0 / 1000.0 / wall / (joined.saturating_sub(1).max(1)) as f64
        })
        .collect();
    let wire_median = median(&mut wire_per_avatar);
    let mut round_trips_ms: Vec<f64> = bots
        .iter()
        .zip(&echoes_before)
        // The ring holds 256 samples, one a second: the warm-up ones come first.
        .flat_map(|(b, before)| b.core.round_trips().skip(*before).map(|d| d.as_secs_f64() * 1000.0).collect::<Vec<_>>())
        .collect();
    round_trips_ms.sort_by(f64::total_cmp);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    let forwarding = forwarding_line.join().ok().flatten();
    if burst {
        calm_ms.sort_by(f64::total_cmp);
        latencies_ms.sort_by(f64::total_cmp);
        println!("(c) handshake burst: {handshakes} handshakes from 8 other addresses in the second half, never saying Hello");
        println!(
            "    members' pose age p99: {:.1} ms before ({} samples), {:.1} ms during ({:.2} ticks, {} samples)",
            percentile(&calm_ms, 0.99),
            calm_ms.len(),
            percentile(&latencies_ms, 0.99),
            percentile(&latencies_ms, 0.99) / (1000.0 / 30.0),
            latencies_ms.len()
        );
        if let (Some(before), Some(after)) = (rss_before, rss_after) {
            println!(
                "    server memory (RSS): {:.1} MiB before, {:.1} MiB after ({:+.1} MiB)",
                before as f64 / 1024.0,
                after as f64 / 1024.0,
                (after as f64 - before as f64) / 1024.0
            );
        }
        println!("    bots still in: {joined} of {clients}");
        return Ok(());
    }
    drop(bots);
    let _ = std::fs::remove_dir_all(&data_dir);
    latencies_ms.sort_by(f64::total_cmp);
    let tick_ms = 1000.0 / 30.0;
    let label = if over_wss { "(e) server load, half the bots on the WebSocket" } else { "(b) server load" };
    println!("{label}: tsunagu-server on loopback, {joined} of {clients} bot clients in VR sending 30 poses/s, {seconds} s");
    println!("    server CPU: {:.1}% of one core in all, {:.2}% per client", cpu / wall * 100.0, cpu / wall * 100.0 / joined.max(1) as f64);
    println!(
        "    pose age when first seen by another client: p50 {:.1} ms, p99 {:.1} ms ({:.2} ticks), max {:.1} ms, {} samples",
        percentile(&latencies_ms, 0.5),
        percentile(&latencies_ms, 0.99),
        percentile(&latencies_ms, 0.99) / tick_ms,
        latencies_ms.last().copied().unwrap_or(f64::NAN),
        latencies_ms.len()
    );
    println!("    on the wire: {wire_median:.2} kbit/s per visible avatar received (median bot; UDP payload incl. QUIC + 28 B IP/UDP per packet)");
    println!(
        "    echo round trip (client -> server -> client, loopback, under this load): p50 {:.2} ms, p99 {:.2} ms, {} samples",
        percentile(&round_trips_ms, 0.5),
        percentile(&round_trips_ms, 0.99),
        round_trips_ms.len()
    );
    match forwarding.as_deref().and_then(|l| l.split_once("forwarding delay: ")) {
        Some((_, figures)) => println!("    server forwarding delay (datagram in -> out, measured by the server): {figures}"),
        None => println!("    server forwarding delay: the server printed no figure"),
    }
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench`; a name after it picks one part.
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    // `cargo xtask test` runs a short smoke so the bench cannot rot unnoticed.
    if only.as_deref() == Some("smoke") {
        let (ours, naive) = bandwidth(6, 3);
        assert!(ours > 0.0 && ours * 5.0 < naive, "delta coding is not paying off: {ours:.2} vs naive {naive:.2} kbit/s");
        play(1, 10, 2, true);
        return;
    }
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if wants("bandwidth") {
        bandwidth(20, 60);
    }
    if wants("server") {
        run_server_part("(b)", false);
    }
    if wants("play") {
        let resting = play(4, 20, 20, false);
        let playing = play(4, 20, 20, true);
        println!("    playing costs the server {:.2}x the time of the same rooms at rest", playing / resting);
    }
    if wants("mixed") {
        run_server_part("(e)", false);
    }
    // Not part of the default run: it shares the machine's cores with the attackers.
    if only.as_deref() == Some("attack") {
        run_server_part("(c)", true);
    }
}

/// Parts (b) and (c) need the release server that `cargo xtask bench net` builds.
fn run_server_part(label: &str, burst: bool) {
    let Some(bin) = std::env::var_os("TSUNAGU_SERVER_BIN") else {
        eprintln!("{label} skipped: TSUNAGU_SERVER_BIN is not set (run it through `cargo xtask bench net`)");
        return;
    };
    if let Err(e) = server_load(Path::new(&bin), 50, 20, burst, label == "(e)") {
        eprintln!("{label} failed: {e}");
        std::process::exit(1);
    }
}

/// (d) `rooms` rooms of `people` on one in-process server for `seconds`
/// (after the players walk to their things): with `playing`, eight people in
/// each room toss their thing up every two seconds and catch it again, so
/// all eight are in the air or bouncing most of the time. Returns the
/// server's median time per tick, in milliseconds.
fn play(rooms: usize, people: usize, seconds: usize, playing: bool) -> f64 {
    use tsunagu_protocol::{ClientEvent, QuantVec};
    use tsunagu_room::RoomConfig;
    use tsunagu_server::RoomServer;
    use tsunagu_sim::WardLayout;
    use tsunagu_sim::motion::{WALK_SPEED, facing};
    use tsunagu_sim::objects::{OBJECTS, ObjectWorld};
    use tsunagu_sim::pose::to_wire;

    let (links, connector) = tsunagu_net::memory::hub();
    let configs =
        (0..rooms).map(|r| RoomConfig { code: format!("play-{r}"), facilitator_code: format!("play-{r}-staff"), capacity: people + 2 }).collect();
    let mut server = RoomServer::with_rooms(links, configs);
    let mut now = Duration::ZERO;
    let mut clients: Vec<(usize, usize, ClientCore)> = Vec::new();
    for room in 0..rooms {
        for n in 0..people {
            let hello = Hello::new(&format!("play-{room}"), &format!("p{n}"), AvatarLook::with_color([200, 120, 80]));
            clients.push((room, n, ClientCore::join(Box::new(connector.clone()), hello, now)));
        }
    }
    // Each player stands just south of its thing, facing it: the hand point is over it.
    let layout = WardLayout::ward();
    let things = ObjectWorld::new(&layout).poses();
    let stands: Vec<bevy_math::Vec3> =
        things.iter().map(|t| layout.clamp_walkable(t.position.with_y(0.0) + bevy_math::Vec3::Z * 0.55, 0.3)).collect();
    let trace: Vec<Person> = (0..people).map(Person::new).collect();
    let mut at: Vec<bevy_math::Vec3> = vec![bevy_math::Vec3::ZERO; clients.len()];
    let walk_ticks = 30 * 8;
    let mut step_times = Vec::new();
    let mut object_bytes_at_start = Vec::new();
    let total_ticks = walk_ticks + 30 * seconds;
    for tick in 0..total_ticks {
        let t = tick as f32 / 30.0;
        for (i, (_, n, core)) in clients.iter_mut().enumerate() {
            let player = *n < OBJECTS;
            let pose = if player {
                if at[i] == bevy_math::Vec3::ZERO {
                    at[i] = trace[*n].pose(t).body.pos.to_metres().into();
                }
                let step = (stands[*n] - at[i]).clamp_length_max(WALK_SPEED / 30.0);
                at[i] += step;
                let rot = facing(bevy_math::Vec3::NEG_Z);
                tsunagu_protocol::AvatarPose { body: to_wire(at[i], rot), head: to_wire(at[i] + bevy_math::Vec3::Y * 1.15, rot), hands: None }
            } else {
                trace[*n].pose(t)
            };
            core.send_pose(pose, now);
            // Toss up (3.5 m/s: back at the hand in 0.7 s), catch, toss again.
            if playing && player && tick >= walk_ticks {
                let phase = (tick + *n * 7) % 60;
                if phase == 0 {
                    core.send_event(ClientEvent::Grab(*n as u16));
                } else if phase == 15 {
                    core.send_event(ClientEvent::Release(*n as u16, QuantVec([0, 3500, 0])));
                }
            }
        }
        now += TICK;
        let started = Instant::now();
        server.step(now);
        if tick >= walk_ticks {
            step_times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        for (_, _, core) in &mut clients {
            core.poll(now);
        }
        if tick + 1 == walk_ticks {
            object_bytes_at_start = clients.iter().map(|(_, _, c)| c.object_bytes()).collect();
        }
    }
    let mut per_client: Vec<f64> =
        clients.iter().zip(&object_bytes_at_start).map(|((_, _, c), start)| (c.object_bytes() - start) as f64 / seconds as f64).collect();
    let awake = server.rooms().iter().filter(|r| !r.play().is_at_rest()).count();
    let total_ms: f64 = step_times.iter().sum();
    let mut sorted = step_times.clone();
    sorted.sort_by(f64::total_cmp);
    let median_ms = percentile(&sorted, 0.5);
    let what = if playing { "all things tossed and caught" } else { "things at rest" };
    println!("(d) play: {rooms} rooms x {people} people, {seconds} s, {what}");
    println!(
        "    server per tick: median {median_ms:.3} ms, p99 {:.3} ms; {:.1}% of one core at 30 Hz",
        percentile(&sorted, 0.99),
        total_ms / (seconds as f64 * 1000.0) * 100.0
    );
    println!(
        "    things' bytes per client: median {:.0} B/s ({:.2} kbit/s), max {:.0} B/s",
        median(&mut per_client),
        median(&mut per_client) * 8.0 / 1000.0,
        per_client.iter().copied().fold(0.0, f64::max)
    );
    if !playing {
        assert!(per_client.iter().all(|b| *b == 0.0), "things at rest cost bytes: {per_client:?}");
    } else {
        assert!(awake == rooms, "only {awake} of {rooms} rooms were playing at the end");
    }
    median_ms
}
