//! Every message on the wire. Structs encode as MessagePack arrays (fields in
//! declaration order); enums as `{"Variant": payload}` or, without payload, as the
//! variant name string. Reordering fields or variants changes the wire format:
//! the snapshot tests in `tests` will say so, and `docs/protocol.md` must follow.
//!
//! Long because it is the wire contract in one place: every message a client
//! writer reads, top to bottom, with the rules in their docs.

use serde::{Deserialize, Serialize};

use crate::limits::{
    MAX_CHAT_CHARS, MAX_KEPT_PLACES, MAX_NICKNAME_CHARS, MAX_PEERS, MAX_REMOVED, MAX_ROOM_CODE_CHARS, MAX_SNAPSHOT_AVATARS, MAX_WAITING, MAX_WISHES,
};
use crate::nickname::{chat_problem, nickname_is_valid};
use crate::quant::{QuantPose, QuantVec};
use crate::screen::{
    MAX_BOARD_PIECES, MAX_PAGES, MAX_PIECE_BYTES, MAX_PREVIEW_BYTES, PageInfo, PagePiece, PagePreview, ScreenAction, Showing, StrokePiece,
};

/// A participant's id inside one room for one connection. Never derived from a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PeerId(pub u32);

/// What a participant may do in the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A patient or any invited guest.
    Participant,
    /// Staff or a volunteer running the meetup.
    Facilitator,
}

/// How an avatar looks. Grows with new customisation; never holds personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarLook {
    /// Body colour as sRGB bytes.
    pub body_color: [u8; 3],
    /// What is on the head.
    pub headwear: Headwear,
    /// The hair's or the hat's colour as sRGB bytes.
    pub headwear_color: [u8; 3],
    /// Small things worn.
    pub accessories: Accessories,
}

impl AvatarLook {
    /// A look in `body_color` with the plain tuft and nothing worn.
    pub const fn with_color(body_color: [u8; 3]) -> AvatarLook {
        AvatarLook { body_color, headwear: Headwear::Tuft, headwear_color: body_color, accessories: Accessories::NONE }
    }
}

/// What is on an avatar's head: a hairstyle or a hat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Headwear {
    /// A small round tuft on top.
    #[default]
    Tuft,
    /// Short, soft hair.
    Short,
    /// Long hair down the back.
    Long,
    /// A bun on top.
    Bun,
    /// A knitted beanie with a pompom.
    Beanie,
    /// A cap with a peak.
    Cap,
    /// A wide straw hat.
    StrawHat,
}

impl Headwear {
    /// Every kind, in the order the start screen offers them.
    pub const ALL: [Headwear; 7] =
        [Headwear::Tuft, Headwear::Short, Headwear::Long, Headwear::Bun, Headwear::Beanie, Headwear::Cap, Headwear::StrawHat];
}

/// Small things an avatar wears; any together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Accessories {
    /// Round glasses.
    pub glasses: bool,
    /// A ribbon on the side of the head.
    pub ribbon: bool,
    /// A scarf around the neck.
    pub scarf: bool,
}

impl Accessories {
    /// Nothing worn.
    pub const NONE: Accessories = Accessories { glasses: false, ribbon: false, scarf: false };
}

/// A gesture played once on the avatar, seen by everyone near.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gesture {
    /// Wave hello or goodbye.
    Wave,
    /// Clap.
    Clap,
    /// Nod: yes.
    Nod,
    /// Shake the head: no.
    HeadShake,
    /// Thumbs up.
    ThumbsUp,
    /// Hands in a heart over the head.
    HeartHands,
}

impl Gesture {
    /// Every gesture, in the order of the number keys (1 to 6; 7 raises the hand).
    pub const ALL: [Gesture; 6] = [Gesture::Wave, Gesture::Clap, Gesture::Nod, Gesture::HeadShake, Gesture::ThumbsUp, Gesture::HeartHands];
}

/// A big picture that pops up over the avatar and fades.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stamp {
    /// A heart.
    Heart,
    /// Clapping hands.
    Clap,
    /// A smiling face.
    Smile,
    /// A star.
    Star,
    /// Bamboo with paper wishes (Tanabata).
    Tanabata,
    /// 「ありがとう」: thank you.
    Thanks,
}

impl Stamp {
    /// Every stamp, in the order of the stamp bar.
    pub const ALL: [Stamp; 6] = [Stamp::Heart, Stamp::Clap, Stamp::Smile, Stamp::Star, Stamp::Tanabata, Stamp::Thanks];
}

/// Where a dart landed on the board: rings a child can read, not a pub board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DartScore {
    /// The middle.
    Bull,
    /// The first ring.
    Inner,
    /// The second ring.
    Middle,
    /// The rest of the board.
    Outer,
}

impl DartScore {
    /// Points for it.
    pub fn points(self) -> u32 {
        match self {
            DartScore::Bull => 50,
            DartScore::Inner => 30,
            DartScore::Middle => 20,
            DartScore::Outer => 10,
        }
    }
}

/// The colour of a Tanabata wish's paper strip (短冊): the five colours of
/// the festival, with purple for the black that nobody picks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Paper {
    /// 赤
    #[default]
    Red,
    /// 青
    Blue,
    /// 黄
    Yellow,
    /// 白
    White,
    /// 紫
    Purple,
}

impl Paper {
    /// Every colour, in the order the wish panel offers them.
    pub const ALL: [Paper; 5] = [Paper::Red, Paper::Blue, Paper::Yellow, Paper::White, Paper::Purple];
}

/// A wish hanging on the bamboo. It lives only as long as the room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wish {
    /// The room's number for it.
    pub id: u32,
    /// Who hung it.
    pub by: PeerId,
    /// Where on the bamboo, 0 to [`MAX_WISHES`] − 1: everyone sees it in the same place.
    pub slot: u8,
    /// The paper's colour.
    pub paper: Paper,
    /// The wish: the chat's rule and length.
    pub text: String,
}

/// The room's play as a newcomer finds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayState {
    /// Things someone is holding, and who.
    pub held: Vec<(u16, PeerId)>,
    /// The last darts that hit the board, oldest first, and who threw them.
    pub darts: Vec<(PeerId, DartScore)>,
    /// The wishes on the bamboo.
    pub wishes: Vec<Wish>,
}

/// Client → server, first message on the control stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The client's [`crate::PROTOCOL_VERSION`].
    pub version: u16,
    /// The room code from the invite.
    pub room_code: String,
    /// Shown above the avatar; 1 to [`MAX_NICKNAME_CHARS`] characters.
    pub nickname: String,
    /// The avatar's look.
    pub look: AvatarLook,
    /// The `resume` token of an earlier `Welcome`, when reconnecting after the
    /// connection dropped: the server puts you back where you were.
    pub resume: Option<u64>,
    /// A random number this installation chose once and keeps (0: none). It
    /// names no one; a room uses it only to keep a removed person out until a
    /// facilitator lets them back in.
    pub device: u64,
}

impl Hello {
    /// A first-time Hello in this protocol version.
    pub fn new(room_code: &str, nickname: &str, look: AvatarLook) -> Hello {
        Hello { version: crate::PROTOCOL_VERSION, room_code: room_code.to_owned(), nickname: nickname.to_owned(), look, resume: None, device: 0 }
    }

    /// The same Hello from installation `device`.
    pub fn from_device(self, device: u64) -> Hello {
        Hello { device, ..self }
    }
}

/// Another participant as the room shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Their id in this room.
    pub id: PeerId,
    /// Their nickname.
    pub nickname: String,
    /// Their look.
    pub look: AvatarLook,
    /// Their role.
    pub role: Role,
    /// Their hand is raised (until they lower it).
    pub hand_raised: bool,
    /// A facilitator has muted them: the room drops their voice.
    pub muted: bool,
    /// They are resting (やすみちゅう): here and listening, please do not
    /// call on them. A soft lamp over their head; nothing is announced.
    pub resting: bool,
    /// Speak for me (かわりに よんで) is on: each listener's PC reads their
    /// chat lines aloud from their head. Nothing but this flag is sent.
    pub speak_for_me: bool,
}

/// Server → client: you are in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// Your id in this room.
    pub your_id: PeerId,
    /// Your role, from the invite you used.
    pub role: Role,
    /// Server snapshot rate in Hz.
    pub tick_rate_hz: u8,
    /// Where you stand when you arrive.
    pub spawn: QuantPose,
    /// Everyone already in the room.
    pub peers: Vec<PeerInfo>,
    /// A random token to send in `Hello.resume` if the connection drops. Valid
    /// for a short while after a drop; means nothing after that.
    pub resume: u64,
    /// True when `Hello.resume` was honoured: same id, same place, nobody saw
    /// you leave. False on a first join or when the token was unknown (then
    /// `spawn` is a fresh place and the client moves its avatar there).
    pub resumed: bool,
    /// Who holds what, the board's last darts and the wishes on the bamboo.
    pub play: PlayState,
}

/// Why the server would not let a client in. Each maps to a localised message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    /// The room code does not match any room on this server.
    WrongRoomCode,
    /// The room already holds as many people as it may.
    RoomFull,
    /// Client and server speak different protocol versions.
    VersionMismatch {
        /// The version the server speaks.
        server_version: u16,
    },
    /// The nickname is empty, too long or has control characters.
    InvalidNickname,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The invite is for a room this server no longer holds.
    RoomClosed,
    /// A facilitator removed you from this room; only a facilitator can let you back in.
    Removed,
    /// A facilitator has closed the room to newcomers for now.
    RoomLocked,
    /// You waited to be let in and a facilitator said not now.
    TurnedAway,
    /// The invite was changed by a facilitator: this one only brings back
    /// people already inside (with their resume token).
    OldInvite,
    /// Someone in the room (or waiting) has this name, or one that looks the
    /// same: choose another (see `docs/protocol.md`, nicknames).
    NameTaken,
    /// The name holds a word only staff names may hold (ナース, スタッフ,
    /// 先生, nurse, …), and the invite is not a facilitator's.
    NameReserved,
}

/// Why a connection ends. Sent on the control stream before closing, and mirrored
/// in the QUIC close code (see `docs/protocol.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    /// The client asked to leave.
    Left,
    /// The server is shutting down.
    ServerShutdown,
    /// The peer sent something that is not our protocol.
    ProtocolViolation,
    /// The peer sent too much, too fast.
    RateLimited,
    /// A facilitator removed the participant.
    Removed,
    /// The client gave up on this connection (it heard nothing for too long)
    /// and is coming back on a new one with its resume token: keep its place.
    Reconnecting,
    /// The server refused the join; `Rejected` on the control stream says why.
    Refused,
    /// The peer did not keep up with what was sent to it (it stopped reading,
    /// or the far side's queue for it filled): closed rather than buffered.
    TooSlow,
    /// A facilitator ended the meetup for everyone.
    MeetupEnded,
}

impl CloseReason {
    /// The QUIC application close code that carries this reason.
    pub fn code(self) -> u32 {
        match self {
            CloseReason::Left => 0,
            CloseReason::ServerShutdown => 1,
            CloseReason::ProtocolViolation => 2,
            CloseReason::RateLimited => 3,
            CloseReason::Removed => 4,
            CloseReason::Reconnecting => 5,
            CloseReason::Refused => 6,
            CloseReason::TooSlow => 7,
            CloseReason::MeetupEnded => 8,
        }
    }

    /// The reason for a QUIC application close code, if it is one of ours.
    pub fn from_code(code: u64) -> Option<CloseReason> {
        [
            CloseReason::Left,
            CloseReason::ServerShutdown,
            CloseReason::ProtocolViolation,
            CloseReason::RateLimited,
            CloseReason::Removed,
            CloseReason::Reconnecting,
            CloseReason::Refused,
            CloseReason::TooSlow,
            CloseReason::MeetupEnded,
        ]
        .into_iter()
        .find(|r| u64::from(r.code()) == code)
    }

    /// The short English text sent beside the code (for logs and other clients).
    pub fn text(self) -> &'static str {
        match self {
            CloseReason::Left => "left the room",
            CloseReason::ServerShutdown => "the server is shutting down",
            CloseReason::ProtocolViolation => "the peer broke the Tsunagu protocol",
            CloseReason::RateLimited => "the peer sent too much, too fast",
            CloseReason::Removed => "removed by a facilitator",
            CloseReason::Reconnecting => "the client is reconnecting",
            CloseReason::Refused => "the server refused the join",
            CloseReason::TooSlow => "the peer did not keep up",
            CloseReason::MeetupEnded => "a facilitator ended the meetup",
        }
    }
}

/// Client → server on the control stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientControl {
    /// Ask to join.
    Hello(Hello),
    /// Leave politely.
    Bye,
}

/// Server → client on the control stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerControl {
    /// The join succeeded.
    Welcome(Welcome),
    /// The join failed.
    Rejected(RejectReason),
    /// The room has a waiting room: wait until a facilitator lets you in
    /// (then `Welcome`) or not (then `Rejected(TurnedAway)`). Send nothing
    /// but `Bye` meanwhile; there is no deadline.
    Waiting,
    /// The server is about to close this connection.
    Closing(CloseReason),
}

/// Server → client on the events stream: reliable room changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerEvent {
    /// Someone came in.
    PeerJoined(PeerInfo),
    /// Someone left.
    PeerLeft(PeerId),
    /// Someone's nickname, look or role changed: the whole new `PeerInfo`.
    /// Sent to everyone, the person themselves included.
    PeerChanged(PeerInfo),
    /// The server did not apply one of your `ClientEvent`s, and why.
    Refused(Refusal),
    /// The server has put your body here (you walked where nobody may stand,
    /// or faster than walking allows): move your avatar there and go on from it.
    MovedTo(QuantPose),
    /// Someone made a gesture (you included).
    Gesture(PeerId, Gesture),
    /// Someone sent a stamp (you included).
    Stamp(PeerId, Stamp),
    /// Someone said something in the chat (you included), as the room keeps
    /// it: normalized, checked, at most [`MAX_CHAT_CHARS`] characters.
    Chat(PeerId, String),
    /// Someone picked up shared thing `u16` (you included): it follows their
    /// hand until `Released`.
    Held(PeerId, u16),
    /// Thing `u16` was let go (thrown or put down, or its holder left).
    Released(u16),
    /// A dart someone threw stuck in the board and scored.
    DartScored(PeerId, DartScore),
    /// A wish now hangs on the bamboo.
    WishHung(Wish),
    /// A wish was taken down (by a facilitator or by whoever hung it).
    WishTakenDown(u32),
    /// The room was closed to newcomers (`true`) or opened again. Sent to
    /// everyone when it changes, and after `Welcome` while it is locked.
    RoomLocked(bool),
    /// To facilitators only: the people removed from this room, who cannot come
    /// back until one of them is let back in. Sent after `Welcome` and when it changes.
    RemovedPeople(Vec<RemovedPerson>),
    /// Newcomers wait to be let in (`true`), or come straight in. Sent to
    /// everyone when it changes, and after `Welcome` while it is on.
    WaitingRoom(bool),
    /// To facilitators only: who is waiting to be let in, oldest first. Sent
    /// after `Welcome` and whenever it changes (an empty list when nobody waits).
    WaitingPeople(Vec<WaitingPerson>),
    /// To facilitators only: the room's codes as they are now (for invites
    /// to pass on). Sent after `Welcome` and when a facilitator changes them.
    Invites(RoomCodes),
    /// To one person only: a facilitator asks your headset view to be
    /// recentred (you face the way your body faces, at eye height). A
    /// desktop client may ignore it.
    Recentre,
    /// To facilitators only: the places kept for people whose connection
    /// dropped (they count toward the room's capacity until they come back
    /// or the place is released). Sent after `Welcome` and when it changes.
    KeptPlaces(Vec<KeptPlace>),
    /// To facilitators only, at once: a child told the staff they do not
    /// like what someone is doing. Nothing of it is kept by the server.
    Concern(Concern),
    /// To facilitators only: something the staff should know about the room.
    StaffNotice(StaffNotice),
    /// The wall screen's pages and the page on it now. Sent to everyone
    /// when a facilitator shows pages (or stops), and after `Welcome` while
    /// pages are shown. Their bytes follow as `PagePiece`s, the page on the
    /// screen first.
    Showing(Showing),
    /// To the facilitator who showed pages: send the bytes of these pages
    /// (the room lacks them), in this order.
    PagesWanted(Vec<u16>),
    /// Bytes of a page of the showing, checked against its hash by the room
    /// and passed on unread, in order, a page at a time.
    PagePiece(PagePiece),
    /// A small picture of a page, sent just before its first piece when the
    /// facilitator made one: show it until the page is whole.
    PagePreview(PagePreview),
    /// The screen turned to page `u16`.
    PageTurned(u16),
    /// Someone points at this place on the screen (`None`: stopped). Not
    /// sent back to the pointer.
    Pointer(PeerId, Option<[u16; 2]>),
    /// Someone drew (you included): a piece of their line `stroke`.
    Stroke(PeerId, StrokePiece),
    /// The board as it is, for someone coming in: these pieces of
    /// everyone's lines, oldest first, at most 64 to an event (several
    /// follow one another for a big drawing). Sent after `Welcome`.
    Board(Vec<(PeerId, StrokePiece)>),
    /// Someone took back their line `u16`.
    Undone(PeerId, u16),
    /// The board was wiped: all of it (`None`) or one person's lines.
    BoardCleared(Option<PeerId>),
    /// Everyone may draw (`true`) or only staff. Sent to everyone when it
    /// changes, and after `Welcome` while drawing is for staff only.
    DrawingAllowed(bool),
}

/// A place kept for someone whose connection dropped, as facilitators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptPlace {
    /// Their id (for `ReleasePlace`).
    pub id: PeerId,
    /// Their nickname.
    pub nickname: String,
}

/// What a child told the staff about someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// Who told.
    pub from: PeerId,
    /// About whom.
    pub about: PeerId,
    /// What kind of thing.
    pub kind: ConcernKind,
}

/// The kinds of thing a child can tell the staff about, in two presses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConcernKind {
    /// What they say or show (chat, stamps, gestures, name).
    Words,
    /// They come too close, or follow me.
    TooClose,
    /// Something else: please come and ask me.
    Other,
}

/// Something the facilitators should know about the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffNotice {
    /// Someone was removed, so the waiting room is now on: newcomers wait
    /// for a facilitator (turn it off when it is safe).
    WaitingRoomAfterRemoval,
    /// The server could not save the room's new invites: they work until
    /// the server restarts; the old ones come back then.
    InvitesNotSaved,
}

/// What the room can tell facilitators about someone waiting, so two who
/// give the same name can be told apart. Names no one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitingHint {
    /// Nothing known: a PC not seen in this meetup.
    New,
    /// The same PC (installation) was in this room earlier in the meetup.
    SamePcAsBefore,
    /// The client sent no installation number (an unusual or changed client).
    NoInstallation,
    /// From the same network address as someone a facilitator removed.
    SameNetworkAsRemoved,
}

/// Someone waiting to be let in, as facilitators see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingPerson {
    /// Their number in the waiting room (for `LetIn` and `TurnAway`).
    pub ticket: u32,
    /// The nickname they asked to join with (checked like any nickname).
    pub nickname: String,
    /// What the room knows that tells them apart.
    pub hint: WaitingHint,
}

/// A room's two codes: the participant one and the facilitator one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCodes {
    /// The code in participant invites.
    pub participant: String,
    /// The code in facilitator invites.
    pub facilitator: String,
}

/// Someone a facilitator removed, as other facilitators see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedPerson {
    /// The room's number for the removal (for `LetBackIn`).
    pub id: u32,
    /// Their nickname when removed.
    pub nickname: String,
}

/// Client → server on the events stream: something a person did in the room.
/// Each kind is checked and rate-limited by the room's rules; a refused one is
/// answered with [`ServerEvent::Refused`], never applied halfway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientEvent {
    /// Change my avatar's look while in the room.
    SetLook(AvatarLook),
    /// Make a gesture.
    Gesture(Gesture),
    /// Raise (`true`) or lower my hand; it stays as set.
    RaiseHand(bool),
    /// Send a stamp.
    Stamp(Stamp),
    /// Say something in the chat: one line, at most [`MAX_CHAT_CHARS`]
    /// characters, the nickname character rules with punctuation allowed.
    Chat(String),
    /// Pick up shared thing `u16`: granted to one person at a time, within reach.
    Grab(u16),
    /// Let go of thing `u16` that I hold, with this velocity in millimetres
    /// per second (zero puts it down). The room bounds the speed.
    Release(u16, QuantVec),
    /// Hang a wish on the bamboo on paper of this colour.
    HangWish(Paper, String),
    /// Take wish `u32` down (facilitators, or whoever hung it).
    TakeDownWish(u32),
    /// A facilitator's action (see [`StaffAction`]): refused `NotAllowed`
    /// from anyone who is not a facilitator now.
    Staff(StaffAction),
    /// Anyone: tell the staff, quietly, that I do not like what this person
    /// is doing. Only facilitators are told (`Concern`); nothing is kept.
    TellStaff(PeerId, ConcernKind),
    /// My link is thin (`true`: low-bandwidth mode) or back to normal: send
    /// me far people's poses less often, within a smaller budget. Nobody
    /// else is told. Kept across a resume; a new connection starts normal.
    LightLink(bool),
    /// I am resting (`true`: やすみちゅう, a lamp over my head) or back; it
    /// stays as set. Everyone sees it through `PeerChanged`; nobody is told
    /// in words.
    Resting(bool),
    /// Read my chat lines aloud (`true`: かわりに よんで, for a child who
    /// cannot talk today) or stop; it stays as set. Everyone sees it through
    /// `PeerChanged`; each listener's PC speaks the lines itself.
    SpeakForMe(bool),
    /// A facilitator's action on the wall screen (see [`ScreenAction`]).
    Screen(ScreenAction),
    /// Facilitator: bytes of a page the room asked for (`PagesWanted`), in
    /// order. The last piece completes the page; bytes that do not match
    /// the offered hash are dropped and refused `Unknown`.
    PagePiece(PagePiece),
    /// Facilitator who showed the pages: a small picture of a page, sent
    /// before its first piece (counted with the pieces for the rate limit).
    PagePreview(PagePreview),
    /// Draw: a piece of my line on the wall screen (anyone, while drawing
    /// is allowed; staff always).
    Stroke(StrokePiece),
    /// Take back my newest line.
    Undo,
}

/// What facilitators do, on their own: one variant of [`ClientEvent::Staff`].
/// Someone made staff in the room may only act on participants; the actions
/// marked *facilitator invite* need the facilitator invite (`docs/protocol.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StaffAction {
    /// Mute (`true`) or unmute someone; the room drops their voice.
    Mute(PeerId, bool),
    /// Remove someone from the room; they cannot come back until let back in.
    Remove(PeerId),
    /// Make someone a facilitator or a participant, at once.
    SetRole(PeerId, Role),
    /// Close the room to newcomers (`true`) or open it again.
    LockRoom(bool),
    /// Let a removed person back in (the `RemovedPerson` id).
    LetBackIn(u32),
    /// Bring someone to stand in front of me.
    BringHere(PeerId),
    /// Bring everyone to stand around in front of me.
    GatherHere,
    /// End the meetup for everyone (each is closed with `MeetupEnded`).
    EndMeetup,
    /// Newcomers wait to be let in (`true`); `false` lets in
    /// Everyone waiting and opens the door again.
    SetWaitingRoom(bool),
    /// Let the person with this waiting ticket in.
    LetIn(u32),
    /// Do not let the person with this waiting ticket in.
    TurnAway(u32),
    /// Give the room new codes. Nobody inside is removed; the
    /// Old codes bring back only people with a resume token.
    NewInvites,
    /// Ask this person's client to recentre their headset view.
    AskRecentre(PeerId),
    /// Give up the place kept for this person (their
    /// Connection dropped); they come back as a newcomer, if there is room.
    ReleasePlace(PeerId),
    /// Take down every wish this person hung.
    TakeDownWishesOf(PeerId),
    /// Put every thing back in its place (「かたづける」); what
    /// Anyone holds is let go first.
    PutThingsBack,
}

impl ClientEvent {
    /// Which kind of event this is (for refusals and per-kind limits).
    pub fn kind(&self) -> EventKind {
        match self {
            ClientEvent::SetLook(_) => EventKind::SetLook,
            ClientEvent::Gesture(_) => EventKind::Gesture,
            ClientEvent::RaiseHand(_) => EventKind::RaiseHand,
            ClientEvent::Stamp(_) => EventKind::Stamp,
            ClientEvent::Chat(_) => EventKind::Chat,
            ClientEvent::Grab(_) => EventKind::Grab,
            ClientEvent::Release(..) => EventKind::Release,
            ClientEvent::HangWish(..) => EventKind::HangWish,
            ClientEvent::TakeDownWish(_) => EventKind::TakeDownWish,
            ClientEvent::Staff(_) => EventKind::Facilitate,
            ClientEvent::TellStaff(..) => EventKind::TellStaff,
            ClientEvent::LightLink(_) => EventKind::LightLink,
            ClientEvent::Resting(_) => EventKind::Resting,
            ClientEvent::SpeakForMe(_) => EventKind::SpeakForMe,
            ClientEvent::Screen(ScreenAction::Point(_)) => EventKind::Point,
            ClientEvent::Screen(_) => EventKind::Screen,
            ClientEvent::PagePiece(_) | ClientEvent::PagePreview(_) => EventKind::PagePiece,
            ClientEvent::Stroke(_) => EventKind::Stroke,
            ClientEvent::Undo => EventKind::Undo,
        }
    }
}

/// The kinds of [`ClientEvent`], without their data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// [`ClientEvent::SetLook`].
    SetLook,
    /// Voice datagrams ([`ClientDatagram::Voice`]): refused (once) when a
    /// client sends more than the room's voice limit; the excess is dropped.
    Voice,
    /// [`ClientEvent::Gesture`].
    Gesture,
    /// [`ClientEvent::RaiseHand`].
    RaiseHand,
    /// [`ClientEvent::Stamp`].
    Stamp,
    /// [`ClientEvent::Chat`].
    Chat,
    /// [`ClientEvent::Grab`].
    Grab,
    /// [`ClientEvent::Release`].
    Release,
    /// [`ClientEvent::HangWish`].
    HangWish,
    /// [`ClientEvent::TakeDownWish`].
    TakeDownWish,
    /// A facilitator's action: `Mute`, `Remove`, `SetRole`, `LockRoom`, `LetBackIn`, ….
    Facilitate,
    /// [`ClientEvent::TellStaff`].
    TellStaff,
    /// [`ClientEvent::LightLink`].
    LightLink,
    /// [`ClientEvent::Resting`].
    Resting,
    /// [`ClientEvent::SpeakForMe`].
    SpeakForMe,
    /// [`ClientEvent::Screen`] but for pointing.
    Screen,
    /// [`ScreenAction::Point`].
    Point,
    /// [`ClientEvent::PagePiece`].
    PagePiece,
    /// [`ClientEvent::Stroke`].
    Stroke,
    /// [`ClientEvent::Undo`].
    Undo,
}

/// A refused client event: which kind, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The kind of event refused.
    pub kind: EventKind,
    /// Why.
    pub reason: RefusalReason,
}

/// Why the server refused a client event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// More of this kind than the room allows per second; try again shortly.
    TooFast,
    /// Your role may not do this.
    NotAllowed,
    /// The text is longer than the room allows.
    TooLong,
    /// The text is empty or has a character that is not allowed (invisible,
    /// direction-changing, a line break).
    TextNotAllowed,
    /// Someone else is holding that thing.
    Taken,
    /// That thing is too far away: go closer.
    OutOfReach,
    /// You are not holding that thing (only its holder moves it).
    NotHolding,
    /// There is no more space: the bamboo is full, or you have hung as many
    /// wishes as one person may.
    NoSpace,
    /// There is no such thing or wish (any more).
    Unknown,
    /// A facilitator asked you to be quiet for now: chat, stamps, gestures,
    /// wishes and voice are not passed on until they say so.
    Quieted,
}

/// A pose sample: where the body stands and where the head looks; hands in VR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarPose {
    /// Feet position on the floor and body facing.
    pub body: QuantPose,
    /// Head, relative to the room.
    pub head: QuantPose,
    /// Left and right hand in VR; absent on desktop.
    pub hands: Option<[QuantPose; 2]>,
}

/// Client → server as a datagram: my latest pose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoseFrame {
    /// Increases by one per frame sent; older frames are dropped.
    pub seq: u32,
    /// The newest snapshot tick this client has received.
    pub ack_tick: u32,
    /// The pose.
    pub pose: AvatarPose,
}

/// One avatar in a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarState {
    /// Whose avatar.
    pub id: PeerId,
    /// Where it is.
    pub pose: AvatarPose,
}

/// Server → client as a datagram: what you should see at `tick`. The poses are
/// delta-coded against the view after snapshot `tick - base_ago` (see
/// [`crate::delta`]); decode them with [`crate::delta::decode_avatars`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Server tick number; increases by one per tick.
    pub tick: u32,
    /// How many ticks back the base snapshot is; 0 means no base (every pose whole).
    pub base_ago: u8,
    /// How many avatars `poses` holds, at most [`MAX_SNAPSHOT_AVATARS`].
    pub count: u8,
    /// The avatars, bit-packed.
    #[serde(with = "serde_bytes")]
    pub poses: Vec<u8>,
    /// Shared things that moved, bit-packed (see [`crate::delta::decode_objects`]).
    /// Left out of the array when empty, so things at rest cost no byte.
    #[serde(with = "serde_bytes", default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<u8>,
}

/// One shared thing (ball, block, dart) in a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectState {
    /// Which thing: 0 the ball, 1–4 the blocks, 5–7 the darts.
    pub id: u16,
    /// Its centre and turn.
    pub pose: QuantPose,
}

/// A snapshot after decoding: the avatars updated at `tick`, as full poses.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomSnapshot {
    /// Server tick number.
    pub tick: u32,
    /// Avatars of others updated in this snapshot.
    pub avatars: Vec<AvatarState>,
    /// Shared things that moved.
    pub objects: Vec<ObjectState>,
}

/// What a datagram carries, read from its one-letter tag without decoding it,
/// so a transport can route and count datagrams by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatagramKind {
    /// `P`: a client's pose.
    Pose,
    /// `S`: a server's snapshot.
    Snapshot,
    /// `E`: an echo, either way.
    Echo,
    /// `V`: a voice frame, either way.
    Voice,
    /// Anything else (it will fail to decode).
    Unknown,
}

impl DatagramKind {
    /// The kind of `bytes`: a one-entry map (`81`) whose key is a one-letter
    /// string (`a1`) naming the variant.
    pub fn of(bytes: &[u8]) -> DatagramKind {
        match bytes {
            [0x81, 0xa1, b'P', ..] => DatagramKind::Pose,
            [0x81, 0xa1, b'S', ..] => DatagramKind::Snapshot,
            [0x81, 0xa1, b'E', ..] => DatagramKind::Echo,
            [0x81, 0xa1, b'V', ..] => DatagramKind::Voice,
            _ => DatagramKind::Unknown,
        }
    }

    /// Whether the server passes this kind on the moment it arrives (an echo,
    /// a voice) rather than reading it at its next tick (poses).
    pub fn is_forwarded_at_once(self) -> bool {
        matches!(self, DatagramKind::Echo | DatagramKind::Voice)
    }
}

/// Client → server datagrams.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientDatagram {
    /// My pose. Datagrams go 30 times a second, so their tag is one letter.
    #[serde(rename = "P")]
    Pose(PoseFrame),
    /// Send this straight back (the round trip, and the server's forwarding
    /// delay, measured): the server answers at once with the same number.
    #[serde(rename = "E")]
    Echo(u32),
    /// 20 ms of my voice. The server forwards it to the listeners it chooses
    /// and never decodes the sound.
    #[serde(rename = "V")]
    Voice(VoiceFrame),
}

/// Largest Opus payload in one voice frame, bytes: 20 ms at 64 kbit/s is 160;
/// twice that leaves room for a burst, and the datagram stays far below 1,200.
pub const MAX_VOICE_PAYLOAD_BYTES: usize = 320;

/// 20 ms of one person's voice: the Opus packet and what a jitter buffer needs
/// to place it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceFrame {
    /// Increases by one per frame sent (wrapping); a gap is a lost frame.
    pub seq: u16,
    /// The first sample's time on the speaker's 48 kHz clock (wrapping): a
    /// gap without a `seq` gap is silence nobody sent.
    pub timestamp: u32,
    /// The speaker is talking; `false` on the last frame of a talk spurt.
    pub speaking: bool,
    /// One Opus packet (48 kHz, mono, 20 ms).
    #[serde(with = "serde_bytes")]
    pub opus: Vec<u8>,
}

/// Server → client datagrams.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerDatagram {
    /// What you should see. Tagged with one letter, like every datagram.
    #[serde(rename = "S")]
    Snapshot(Snapshot),
    /// The answer to your `Echo`, sent as soon as it arrived.
    #[serde(rename = "E")]
    Echo(u32),
    /// Someone's voice, forwarded as it arrived, unchanged.
    #[serde(rename = "V")]
    Voice(PeerId, VoiceFrame),
}

/// A message whose content must be checked after the bytes decoded: lengths a
/// serde type cannot express.
pub trait Validate {
    /// `Err` names the field that broke a limit.
    fn validate(&self) -> Result<(), &'static str>;
}

/// A wish as only a room sends it: the chat rule, a slot on the bamboo.
fn wish_valid(wish: &Wish) -> Result<(), &'static str> {
    if usize::from(wish.slot) >= MAX_WISHES || chat_problem(&wish.text).is_some() {
        return Err("wish");
    }
    Ok(())
}

/// A showing's pages within the limits: not too many, each within its own.
/// (Their total size is the room's to judge: it refuses `NoSpace`.)
fn pages_valid(pages: &[PageInfo]) -> Result<(), &'static str> {
    if pages.len() > MAX_PAGES || !pages.iter().all(PageInfo::is_within_limits) {
        return Err("pages");
    }
    Ok(())
}

fn piece_valid(piece: &PagePiece) -> Result<(), &'static str> {
    if piece.bytes.is_empty() || piece.bytes.len() > MAX_PIECE_BYTES || usize::from(piece.page) >= MAX_PAGES {
        return Err("piece");
    }
    Ok(())
}

fn preview_valid(preview: &PagePreview) -> Result<(), &'static str> {
    if preview.bytes.is_empty() || preview.bytes.len() > MAX_PREVIEW_BYTES || usize::from(preview.page) >= MAX_PAGES {
        return Err("preview");
    }
    Ok(())
}

fn on_screen(at: [u16; 2]) -> bool {
    at.iter().all(|c| *c < crate::screen::SCREEN_UNITS)
}

fn peers_valid(peers: &[PeerInfo]) -> Result<(), &'static str> {
    if peers.len() > MAX_PEERS {
        return Err("peers");
    }
    if peers.iter().any(|p| !nickname_is_valid(&p.nickname)) {
        return Err("peers.nickname");
    }
    Ok(())
}

impl Validate for ClientControl {
    fn validate(&self) -> Result<(), &'static str> {
        match self {
            ClientControl::Hello(hello) => {
                if hello.room_code.chars().count() > MAX_ROOM_CODE_CHARS {
                    return Err("room_code");
                }
                // The nickname is checked by the room, which answers InvalidNickname.
                if hello.nickname.chars().count() > MAX_NICKNAME_CHARS * 4 {
                    return Err("nickname");
                }
                Ok(())
            }
            ClientControl::Bye => Ok(()),
        }
    }
}

impl Validate for ServerControl {
    fn validate(&self) -> Result<(), &'static str> {
        match self {
            ServerControl::Welcome(welcome) => {
                peers_valid(&welcome.peers)?;
                let play = &welcome.play;
                if play.held.len() > usize::from(u16::MAX) || play.darts.len() > MAX_PEERS || play.wishes.len() > MAX_WISHES {
                    return Err("play");
                }
                play.wishes.iter().try_for_each(wish_valid)
            }
            ServerControl::Rejected(_) | ServerControl::Waiting | ServerControl::Closing(_) => Ok(()),
        }
    }
}

impl Validate for ServerEvent {
    fn validate(&self) -> Result<(), &'static str> {
        match self {
            ServerEvent::PeerJoined(peer) | ServerEvent::PeerChanged(peer) => peers_valid(std::slice::from_ref(peer)),
            // The room sends only lines that pass the chat rule; anything else is not a room's.
            ServerEvent::Chat(_, text) if chat_problem(text).is_some() => Err("chat"),
            ServerEvent::WishHung(wish) => wish_valid(wish),
            ServerEvent::PeerLeft(_)
            | ServerEvent::Refused(_)
            | ServerEvent::MovedTo(_)
            | ServerEvent::Gesture(..)
            | ServerEvent::Stamp(..)
            | ServerEvent::Chat(..)
            | ServerEvent::Held(..)
            | ServerEvent::Released(_)
            | ServerEvent::DartScored(..)
            | ServerEvent::WishTakenDown(_)
            | ServerEvent::RoomLocked(_) => Ok(()),
            ServerEvent::RemovedPeople(people) if people.len() > MAX_REMOVED || people.iter().any(|p| !nickname_is_valid(&p.nickname)) => {
                Err("removed")
            }
            ServerEvent::RemovedPeople(_) => Ok(()),
            ServerEvent::WaitingPeople(people) if people.len() > MAX_WAITING || people.iter().any(|p| !nickname_is_valid(&p.nickname)) => {
                Err("waiting")
            }
            ServerEvent::WaitingPeople(_) | ServerEvent::WaitingRoom(_) => Ok(()),
            ServerEvent::Invites(codes) if [&codes.participant, &codes.facilitator].iter().any(|c| c.chars().count() > MAX_ROOM_CODE_CHARS) => {
                Err("invites")
            }
            ServerEvent::Invites(_) | ServerEvent::Recentre => Ok(()),
            ServerEvent::KeptPlaces(places) if places.len() > MAX_KEPT_PLACES || places.iter().any(|p| !nickname_is_valid(&p.nickname)) => {
                Err("kept")
            }
            ServerEvent::KeptPlaces(_) | ServerEvent::Concern(_) | ServerEvent::StaffNotice(_) => Ok(()),
            ServerEvent::Showing(showing) => pages_valid(&showing.pages),
            ServerEvent::PagesWanted(pages) if pages.len() > MAX_PAGES => Err("pages"),
            ServerEvent::PagePiece(piece) => piece_valid(piece),
            ServerEvent::PagePreview(preview) => preview_valid(preview),
            ServerEvent::Stroke(_, piece) if !piece.is_within_limits() => Err("stroke"),
            ServerEvent::Board(pieces) if pieces.len() > MAX_BOARD_PIECES || !pieces.iter().all(|(_, p)| p.is_within_limits()) => Err("board"),
            ServerEvent::Pointer(_, Some(at)) if !on_screen(*at) => Err("pointer"),
            ServerEvent::PagesWanted(_)
            | ServerEvent::PageTurned(_)
            | ServerEvent::Pointer(..)
            | ServerEvent::Stroke(..)
            | ServerEvent::Board(_)
            | ServerEvent::Undone(..)
            | ServerEvent::BoardCleared(_)
            | ServerEvent::DrawingAllowed(_) => Ok(()),
        }
    }
}

impl Validate for ClientEvent {
    fn validate(&self) -> Result<(), &'static str> {
        match self {
            // A line a little too long is refused by the room with a reason
            // (TooLong); one far beyond any typing is not our protocol.
            ClientEvent::Chat(text) if text.len() > MAX_CHAT_CHARS * 16 => Err("chat"),
            ClientEvent::HangWish(_, text) if text.len() > MAX_CHAT_CHARS * 16 => Err("wish"),
            ClientEvent::Screen(ScreenAction::Show(pages)) => pages_valid(pages),
            ClientEvent::Screen(ScreenAction::Point(Some(at))) if !on_screen(*at) => Err("pointer"),
            ClientEvent::PagePiece(piece) => piece_valid(piece),
            ClientEvent::PagePreview(preview) => preview_valid(preview),
            ClientEvent::Stroke(piece) if !piece.is_within_limits() => Err("stroke"),
            // Everything else has no length a serde type cannot bound.
            _ => Ok(()),
        }
    }
}

impl Validate for ClientDatagram {
    fn validate(&self) -> Result<(), &'static str> {
        match self {
            ClientDatagram::Voice(frame) if frame.opus.len() > MAX_VOICE_PAYLOAD_BYTES => Err("opus"),
            ClientDatagram::Pose(_) | ClientDatagram::Echo(_) | ClientDatagram::Voice(_) => Ok(()),
        }
    }
}

impl Validate for ServerDatagram {
    fn validate(&self) -> Result<(), &'static str> {
        match self {
            ServerDatagram::Snapshot(s) if usize::from(s.count) > MAX_SNAPSHOT_AVATARS => Err("count"),
            ServerDatagram::Snapshot(s) if u32::from(s.base_ago) > crate::delta::MAX_BASE_AGE_TICKS => Err("base_ago"),
            ServerDatagram::Voice(_, frame) if frame.opus.len() > MAX_VOICE_PAYLOAD_BYTES => Err("opus"),
            ServerDatagram::Snapshot(_) | ServerDatagram::Echo(_) | ServerDatagram::Voice(..) => Ok(()),
        }
    }
}
