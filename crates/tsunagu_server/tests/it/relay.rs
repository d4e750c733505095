//! An in-process UDP relay that loses and delays packets, standing in for a
//! ward Wi-Fi between clients and the server. Loopback only; stops on drop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

struct Delayed {
    at: Instant,
    from_client: bool,
    client: SocketAddr,
    bytes: Vec<u8>,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

/// Relays between clients (who dial [`LossyRelay::addr`]) and `server`, dropping
/// a fraction of packets and delaying each by `delay ± jitter`, both ways.
pub struct LossyRelay {
    addr: SocketAddr,
    /// Client → server and server → client traffic silently lost, as when a
    /// Wi-Fi drops one direction.
    blocked: Arc<[AtomicBool; 2]>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl LossyRelay {
    pub fn start(server: SocketAddr, loss: f64, delay: Duration, jitter: Duration, seed: u64) -> LossyRelay {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("bind relay"));
        front.set_read_timeout(Some(Duration::from_millis(5))).ok();
        let addr = front.local_addr().expect("relay address");
        let stop = Arc::new(AtomicBool::new(false));
        let queue: Arc<Mutex<BinaryHeap<Reverse<Delayed>>>> = Arc::new(Mutex::new(BinaryHeap::new()));
        // One upstream socket per client, so the server sees each client apart.
        let upstreams: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::new(Mutex::new(HashMap::new()));
        let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)));
        let blocked: Arc<[AtomicBool; 2]> = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let schedule = {
            let (queue, rng, blocked) = (queue.clone(), rng.clone(), blocked.clone());
            move |from_client: bool, client: SocketAddr, bytes: Vec<u8>| {
                if blocked[usize::from(!from_client)].load(Ordering::Relaxed) {
                    return;
                }
                let mut rng = rng.lock().unwrap();
                if rng.random_bool(loss) {
                    return;
                }
                let spread = jitter.as_secs_f64() * rng.random_range(-1.0..=1.0);
                let at = Instant::now() + Duration::from_secs_f64((delay.as_secs_f64() + spread).max(0.0));
                queue.lock().unwrap().push(Reverse(Delayed { at, from_client, client, bytes }));
            }
        };
        let mut threads = Vec::new();
        // Client → relay: remember the client, open its upstream, schedule the packet.
        {
            let (front, stop, upstreams, schedule) = (front.clone(), stop.clone(), upstreams.clone(), schedule.clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, client)) = front.recv_from(&mut buf) else { continue };
                    let is_new = !upstreams.lock().unwrap().contains_key(&client);
                    if is_new {
                        let up = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("bind upstream"));
                        up.connect(server).expect("connect upstream");
                        up.set_read_timeout(Some(Duration::from_millis(5))).ok();
                        upstreams.lock().unwrap().insert(client, up.clone());
                        let (stop, schedule) = (stop.clone(), schedule.clone());
                        // Server → client, through this client's upstream socket.
                        std::thread::spawn(move || {
                            let mut buf = vec![0u8; 65_536];
                            while !stop.load(Ordering::Relaxed) {
                                if let Ok(len) = up.recv(&mut buf) {
                                    schedule(false, client, buf[..len].to_vec());
                                }
                            }
                        });
                    }
                    schedule(true, client, buf[..len].to_vec());
                }
            }));
        }
        // Delivery: send each packet when its time comes.
        {
            let (front, stop, upstreams, queue) = (front.clone(), stop.clone(), upstreams.clone(), queue.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let due = {
                        let mut q = queue.lock().unwrap();
                        match q.peek() {
                            Some(Reverse(d)) if d.at <= Instant::now() => q.pop().map(|Reverse(d)| d),
                            _ => None,
                        }
                    };
                    match due {
                        Some(d) if d.from_client => {
                            if let Some(up) = upstreams.lock().unwrap().get(&d.client) {
                                let _ = up.send(&d.bytes);
                            }
                        }
                        Some(d) => {
                            let _ = front.send_to(&d.bytes, d.client);
                        }
                        None => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            }));
        }
        LossyRelay { addr, blocked, stop, threads }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Lose everything going to the server, to the clients, both or neither.
    pub fn block(&self, to_server: bool, to_client: bool) {
        self.blocked[0].store(to_server, Ordering::Relaxed);
        self.blocked[1].store(to_client, Ordering::Relaxed);
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A TCP path that holds everything back for `stall` at the start of every
/// `period` (a congested proxy or Wi-Fi), losing nothing: what waited comes
/// through in a burst. Loopback only; one connection at a time is enough.
pub struct StallingTcpRelay {
    addr: SocketAddr,
    stalls: Arc<std::sync::atomic::AtomicU64>,
    /// Bytes carried to the server and to the client (TCP payload: TLS
    /// records with the WebSocket's framing inside).
    carried: Arc<[std::sync::atomic::AtomicU64; 2]>,
}

impl StallingTcpRelay {
    pub fn start(server: SocketAddr, period: Duration, stall: Duration) -> StallingTcpRelay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let stalls = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let carried: Arc<[std::sync::atomic::AtomicU64; 2]> = Arc::default();
        let started = Instant::now();
        let counted = stalls.clone();
        let carried_here = carried.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = std::net::TcpStream::connect(server) else { continue };
                let _ = (client.set_nodelay(true), upstream.set_nodelay(true));
                for (direction, from, to) in [(0, client.try_clone(), upstream.try_clone()), (1, upstream.try_clone(), client.try_clone())] {
                    let (Ok(mut from), Ok(mut to)) = (from, to) else { continue };
                    let (counted, carried) = (counted.clone(), carried_here.clone());
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let mut buf = [0u8; 16 * 1024];
                        let mut last_stall = u64::MAX;
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            carried[direction].fetch_add(n as u64, Ordering::Relaxed);
                            // Inside a stall: hold it (and what queues behind it) until the stall ends.
                            let now = started.elapsed();
                            let k = (now.as_secs_f64() / period.as_secs_f64().max(1e-9)) as u64;
                            let into = now.saturating_sub(period.mul_f64(k as f64));
                            if into < stall {
                                if last_stall != k {
                                    last_stall = k;
                                    counted.fetch_add(1, Ordering::Relaxed);
                                }
                                std::thread::sleep(stall - into);
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
                drop(client);
            }
        });
        StallingTcpRelay { addr, stalls, carried }
    }

    /// Bytes carried so far: (to the server, to the client).
    pub fn carried(&self) -> (u64, u64) {
        (self.carried[0].load(Ordering::Relaxed), self.carried[1].load(Ordering::Relaxed))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stalls that held data back so far (each direction counts its own).
    pub fn stalls(&self) -> u64 {
        self.stalls.load(Ordering::Relaxed)
    }
}
