//! Datagrams of every kind, both ways, and a snapshot's bit-packed poses and
//! things read against an empty base and a base of one known avatar: never
//! a panic; whatever decodes encodes again to the same datagram.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_protocol::delta::{View, decode_avatars, decode_objects};
use tsunagu_protocol::limits::MAX_DATAGRAM_BYTES;
use tsunagu_protocol::{AvatarPose, AvatarState, ClientDatagram, PeerId, QuantPose, ServerDatagram, decode, encode};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(datagram) = decode::<ClientDatagram>(bytes, MAX_DATAGRAM_BYTES) {
        let again = encode(&datagram, MAX_DATAGRAM_BYTES).expect("a decoded datagram encodes");
        assert_eq!(decode::<ClientDatagram>(&again, MAX_DATAGRAM_BYTES).expect("an encoded datagram decodes"), datagram);
    }
    if let Ok(datagram) = decode::<ServerDatagram>(bytes, MAX_DATAGRAM_BYTES) {
        let again = encode(&datagram, MAX_DATAGRAM_BYTES).expect("a decoded datagram encodes");
        assert_eq!(decode::<ServerDatagram>(&again, MAX_DATAGRAM_BYTES).expect("an encoded datagram decodes"), datagram);
        if let ServerDatagram::Snapshot(snapshot) = datagram {
            let pose = QuantPose::new([0.5, 0.0, -1.0], [0.0, 0.0, 0.0, 1.0]);
            let known = View::default().then(snapshot.tick.wrapping_sub(1), &[AvatarState { id: PeerId(3), pose: AvatarPose { body: pose, head: pose, hands: None } }]);
            for base in [View::default(), known] {
                let _ = decode_avatars(&base, snapshot.tick, usize::from(snapshot.count), &snapshot.poses);
                let _ = decode_objects(&base, snapshot.tick, &snapshot.objects);
            }
        }
    }
    // The bit-packed parts straight from the bytes too (a count from the first byte).
    if let Some((count, poses)) = bytes.split_first() {
        let _ = decode_avatars(&View::default(), 7, usize::from(*count), poses);
        let _ = decode_objects(&View::default(), 7, poses);
    }
});
