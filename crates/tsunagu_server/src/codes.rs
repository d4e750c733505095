//! Room codes kept across restarts, so a restarted server still lets every
//! child back in with the invite they have. Codes are not personal data; they
//! are secrets all the same, so they live owner-only in the server's own
//! directory. A room taken away (fewer `--rooms`) keeps its codes as *closed*,
//! so its invites are answered "this room has closed", not "wrong code".

use std::path::Path;

use tsunagu_net::private_files::{self, PrivateFileError};
use tsunagu_room::RoomConfig;

use crate::fresh_room_config;

/// The file, inside `tsunagu_net::private_files::own_dir`.
pub const ROOMS_FILE: &str = "rooms.txt";

/// The rooms to serve and the codes of rooms that have closed.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedRooms {
    /// Open rooms, in order.
    pub open: Vec<RoomConfig>,
    /// Codes (both kinds) of rooms no longer served.
    pub closed: Vec<String>,
}

fn valid(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The saved rooms of `data_dir`, made up to `rooms` open ones of `capacity`
/// (new codes for new rooms; rooms beyond `rooms` closed), saved back.
pub fn load_or_create(data_dir: &Path, rooms: usize, capacity: usize) -> Result<SavedRooms, PrivateFileError> {
    let dir = private_files::own_dir(data_dir)?;
    let text = private_files::read(&dir, ROOMS_FILE)?.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let mut open = Vec::new();
    let mut closed = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["open", code, staff] if valid(code) && valid(staff) => {
                open.push(RoomConfig { code: code.to_owned(), facilitator_code: staff.to_owned(), capacity })
            }
            ["closed", code, staff] if valid(code) && valid(staff) => closed.extend([code.to_owned(), staff.to_owned()]),
            // A line we cannot read is dropped, not fatal: the room gets new codes.
            _ => tracing::warn!("{ROOMS_FILE}: a line that is not a room was skipped"),
        }
    }
    for gone in open.split_off(rooms.min(open.len())) {
        closed.extend([gone.code, gone.facilitator_code]);
    }
    while open.len() < rooms {
        open.push(fresh_room_config(capacity));
    }
    save(data_dir, &open, &closed)?;
    Ok(SavedRooms { open, closed })
}

/// Keep `open` and `closed` rooms' codes in `data_dir` (nothing is written
/// when the file already says so).
pub fn save(data_dir: &Path, open: &[RoomConfig], closed: &[String]) -> Result<(), PrivateFileError> {
    let dir = private_files::own_dir(data_dir)?;
    let mut out = String::from("# Tsunagu room codes (not personal data; keep private). open|closed participant-code facilitator-code\n");
    for room in open {
        out.push_str(&format!("open {} {}\n", room.code, room.facilitator_code));
    }
    for pair in closed.chunks(2) {
        if let [code, staff] = pair {
            out.push_str(&format!("closed {code} {staff}\n"));
        }
    }
    private_files::write(&dir, ROOMS_FILE, out.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tsunagu-codes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn codes_survive_a_restart_and_fewer_rooms_close_the_rest() {
        let dir = fresh_dir("restart");
        let first = load_or_create(&dir, 2, 20).unwrap();
        assert_eq!(first.open.len(), 2);
        assert!(first.closed.is_empty());
        let again = load_or_create(&dir, 2, 20).unwrap();
        assert_eq!(again, first, "a restart drew new codes");
        let fewer = load_or_create(&dir, 1, 20).unwrap();
        assert_eq!(fewer.open, first.open[..1]);
        assert_eq!(fewer.closed, vec![first.open[1].code.clone(), first.open[1].facilitator_code.clone()]);
        let more = load_or_create(&dir, 3, 20).unwrap();
        assert_eq!(more.open[0], first.open[0]);
        assert_eq!(more.open.len(), 3);
        assert!(!more.open.iter().any(|r| r.code == first.open[1].code), "a closed room opened again");
    }

    #[test]
    fn a_damaged_file_costs_only_its_bad_lines() {
        let dir = fresh_dir("damaged");
        let own = private_files::own_dir(&dir).unwrap();
        private_files::write(&own, ROOMS_FILE, b"open good-code staff-code\nopen bad code here\nopen ../../x y\n\xff\xfe\n").unwrap();
        let rooms = load_or_create(&dir, 2, 10).unwrap();
        assert_eq!(rooms.open[0].code, "good-code");
        assert_eq!(rooms.open.len(), 2);
    }
}
