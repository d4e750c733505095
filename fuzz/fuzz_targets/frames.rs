//! Control and event frames, both ways (the server reads the client's, the
//! client the server's), and the version peek: never a panic; whatever
//! decodes encodes again to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_protocol::limits::MAX_FRAME_BYTES;
use tsunagu_protocol::{ClientControl, ClientEvent, ServerControl, ServerEvent, Validate, decode, encode, hello_version};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + Validate + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(message) = decode::<T>(bytes, MAX_FRAME_BYTES) {
        let again = encode(&message, MAX_FRAME_BYTES).expect("a decoded frame encodes");
        assert_eq!(decode::<T>(&again, MAX_FRAME_BYTES).expect("an encoded frame decodes"), message);
    }
}

fuzz_target!(|bytes: &[u8]| {
    let _ = hello_version(bytes);
    round_trip::<ClientControl>(bytes);
    round_trip::<ClientEvent>(bytes);
    round_trip::<ServerControl>(bytes);
    round_trip::<ServerEvent>(bytes);
});
