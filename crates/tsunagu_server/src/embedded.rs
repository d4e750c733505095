//! The embedded default: a room hosted inside the client's own process, on its
//! own thread, reached through the same link interface a remote room uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tsunagu_net::memory::{MemoryConnector, hub};
use tsunagu_room::RoomConfig;

use crate::{RoomServer, fresh_room_config};

/// A room running in this process. Dropping it tells its clients and stops it.
pub struct EmbeddedRoom {
    connector: MemoryConnector,
    config: RoomConfig,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedRoom {
    /// Start a room with fresh codes for `capacity` people.
    pub fn start(capacity: usize) -> std::io::Result<EmbeddedRoom> {
        let config = fresh_room_config(capacity);
        let (links, connector) = hub();
        let stop = Arc::new(AtomicBool::new(false));
        let mut server = RoomServer::new(links, config.clone());
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new().name("tsunagu-room".into()).spawn(move || {
            let started = Instant::now();
            while !thread_stop.load(Ordering::Relaxed) {
                let now = started.elapsed();
                server.step(now);
                // Wake for the next tick, or sooner to pick up joins and poses.
                std::thread::sleep(server.until_next_tick(now).min(Duration::from_millis(5)));
            }
            server.shutdown();
        })?;
        Ok(EmbeddedRoom { connector, config, stop, thread: Some(thread) })
    }

    /// Connect a client to this room.
    pub fn connector(&self) -> &MemoryConnector {
        &self.connector
    }

    /// The room's codes.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }
}

impl Drop for EmbeddedRoom {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
