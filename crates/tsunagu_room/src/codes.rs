//! Room codes: the secret in each invite. Fresh ones come from here, for a
//! new room and when a facilitator changes a room's invites.

use crate::RoomConfig;

/// The letters of a room code: lowercase letters and digits without
/// look-alikes (no 0/o, 1/l/i), so a person can read one aloud.
pub const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters in a room code: 13 of 31 letters is 64.4 bits, past guessing
/// however many tries a door allows.
pub const CODE_CHARS: usize = 13;

/// A fresh random room code (see [`CODE_ALPHABET`], [`CODE_CHARS`]).
pub fn new_room_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..CODE_CHARS).map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())])).collect()
}

/// Two fresh, independent codes (one cannot be guessed from the other):
/// (participant, facilitator).
pub fn fresh_code_pair() -> (String, String) {
    let code = new_room_code();
    let mut facilitator_code = new_room_code();
    while facilitator_code == code {
        facilitator_code = new_room_code();
    }
    (code, facilitator_code)
}

/// A room with fresh codes for `capacity` people.
pub fn fresh_room_config(capacity: usize) -> RoomConfig {
    let (code, facilitator_code) = fresh_code_pair();
    RoomConfig { code, facilitator_code, capacity }
}
