//! Explicit bounds on everything a peer can send. Checked before decoding (frame
//! size) and after (string and list lengths), so no input can make us allocate
//! more than a frame's worth or recurse deeper than the message shapes need.

/// Largest reliable frame (control or events stream), payload bytes.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Largest datagram payload we send or accept. QUIC datagrams must fit one packet.
pub const MAX_DATAGRAM_BYTES: usize = 1200;
/// Most nested arrays and maps in one message. The deepest messages, a VR pose
/// (map, frame, pose, hands, hand pose, position) and a Welcome (map, welcome,
/// peers, peer, look, colour), nest 6; the slack allows growth.
pub const MAX_DEPTH: usize = 12;
/// Nickname length in characters (Unicode scalar values).
pub const MAX_NICKNAME_CHARS: usize = 24;
/// Chat line length in characters: two or three sentences, a bubble's worth.
pub const MAX_CHAT_CHARS: usize = 100;
/// Room code length in characters.
pub const MAX_ROOM_CODE_CHARS: usize = 32;
/// Most people one room can hold; also bounds every list of peers.
pub const MAX_PEERS: usize = 64;
/// Most avatar states in one snapshot datagram.
pub const MAX_SNAPSHOT_AVATARS: usize = MAX_PEERS;
/// Most shared things in one snapshot datagram.
pub const MAX_SNAPSHOT_OBJECTS: usize = 64;
/// Most wishes on the bamboo at once (its places).
pub const MAX_WISHES: usize = 24;
/// Most people in a room's waiting room at once (more are refused `RoomFull`).
pub const MAX_WAITING: usize = 32;
/// Most people a room keeps on its list of removed people (the oldest
/// removal is forgotten past it); also the most a client accepts in
/// `RemovedPeople`, so the list always reaches the staff, whole.
pub const MAX_REMOVED: usize = 64;
/// Most places a room keeps at once for people whose connection dropped.
pub const MAX_KEPT_PLACES: usize = MAX_PEERS;
