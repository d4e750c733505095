//! The nickname and chat rules the room applies to every name and line:
//! never a panic, and what the rules accept stays accepted once normalized.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_protocol::{chat_problem, has_staff_word, nickname_key, nickname_problem, normalize_chat, normalize_nickname};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let _ = nickname_key(text);
    let _ = has_staff_word(text);
    if nickname_problem(text).is_none() {
        assert_eq!(nickname_problem(&normalize_nickname(text)), None, "an accepted nickname is refused once normalized");
    }
    if chat_problem(text).is_none() {
        assert_eq!(chat_problem(&normalize_chat(text)), None, "an accepted chat line is refused once normalized");
    }
});
