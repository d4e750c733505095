//! The invite parser (pasted by a person, or from a link): never a panic;
//! whatever parses writes back to an invite that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_net::invite::Invite;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    if let Ok(invite) = Invite::parse(text) {
        assert_eq!(Invite::parse(&invite.to_string()).ok(), Some(invite));
    }
});
