//! Keeping the rooms' codes when a facilitator changes them: on a thread of
//! its own, so a slow or full disk, or a terminal nobody reads, never holds
//! up a room; what failed comes back to be told to the staff.

use tsunagu_room::RoomConfig;

/// Called with every room's setup after a facilitator gave a room new codes;
/// an `Err` says why they could not be kept (the facilitators are told).
/// It runs on a thread of its own: a slow or full disk, or a terminal
/// nobody reads, never holds up the room.
pub type CodesSaver = Box<dyn FnMut(&[RoomConfig]) -> Result<(), String> + Send>;

/// The thread that runs the [`CodesSaver`]: the room sends it what to keep
/// (and which room asked), and reads back what failed.
pub(crate) struct CodesKeeper {
    pub(crate) to_keep: Option<std::sync::mpsc::Sender<(usize, Vec<RoomConfig>)>>,
    pub(crate) failed: std::sync::mpsc::Receiver<usize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for CodesKeeper {
    /// What was handed over is written before the server goes: nothing lost.
    fn drop(&mut self) {
        self.to_keep = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl CodesKeeper {
    pub(crate) fn start(mut saver: CodesSaver) -> CodesKeeper {
        let (to_keep, requests) = std::sync::mpsc::channel::<(usize, Vec<RoomConfig>)>();
        let (report, failed) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("tsunagu-codes".into()).spawn(move || {
            for (room, configs) in requests {
                if let Err(why) = saver(&configs) {
                    tracing::error!("could not save the new invites: {why}");
                    let _ = report.send(room);
                }
            }
        });
        let thread = spawned.map_err(|e| tracing::error!("could not start the thread that keeps the codes: {e}")).ok();
        CodesKeeper { to_keep: Some(to_keep), failed, thread }
    }
}
