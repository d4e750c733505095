//! A WebSocket message's tag and limits, as the door reads each one: never a
//! panic, and nothing over its channel's limit gets through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_net::link::{Channel, LinkEvent};
use tsunagu_net::wss::read_message;
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};

fuzz_target!(|bytes: &[u8]| {
    match read_message(bytes) {
        Ok(LinkEvent::Frame(Channel::Control | Channel::Events, frame)) => assert!(frame.len() <= MAX_FRAME_BYTES),
        Ok(LinkEvent::Datagram(datagram)) => assert!(datagram.bytes.len() <= MAX_DATAGRAM_BYTES),
        Ok(other) => panic!("a message read as {other:?}"),
        Err(_) => {}
    }
});
