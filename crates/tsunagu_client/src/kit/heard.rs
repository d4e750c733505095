//! What the room said, as one message type per kind: a feature reads the
//! ones it cares about (`MessageReader<ChatHeard>`) and never matches a
//! wide enum with a wildcard. The net adapter alone writes them, in
//! [`NetSet::Receive`](crate::kit::net::NetSet), from the core's events;
//! the dispatch below names every [`ServerEvent`], so a new one does not
//! compile until it has its message here.

use bevy::prelude::*;
use tsunagu_protocol::{
    Concern, DartScore, Gesture, KeptPlace, PagePiece, PagePreview, PeerId, PeerInfo, QuantPose, Refusal, RemovedPerson, RoomCodes, ServerEvent,
    Showing, StaffNotice, Stamp, StrokePiece, WaitingPerson, Wish,
};

/// A page of the wall screen's showing is all here (see the core's screen view).
#[derive(Message, Clone, Debug, PartialEq)]
pub struct PageHere {
    /// Its place in the showing.
    pub page: u16,
}

/// We are in the room: for the first time (`rejoined` false), or back
/// after a drop (`resumed`: our place was kept and nobody saw us go).
#[derive(Message, Clone, Debug, PartialEq)]
pub struct EnteredRoom {
    /// Me as the room shows me.
    pub me: PeerInfo,
    /// Where the server has us.
    pub spawn: QuantPose,
    /// Back after a drop.
    pub rejoined: bool,
    /// Back with the same id and place.
    pub resumed: bool,
}

macro_rules! heard {
    ($( $(#[$doc:meta])* $variant:ident $( ( $($field:ident : $ty:ty),* ) )? => $message:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Message, Clone, Debug, PartialEq)]
            pub struct $message {
                $( $(
                    #[doc = concat!("`", stringify!($field), "`, as the server said it.")]
                    pub $field: $ty,
                )* )?
            }
        )*

        /// Registers every message the room's events become.
        pub(crate) fn add_heard_messages(app: &mut App) {
            app.add_message::<PageHere>();
            $( app.add_message::<$message>(); )*
        }

        /// Writes `event` as its own message.
        pub(crate) fn write_heard(world: &mut World, event: ServerEvent) {
            match event {
                $( ServerEvent::$variant $( ( $($field),* ) )? => {
                    world.write_message($message { $( $($field),* )? });
                } )*
            }
        }
    };
}

heard! {
    /// Someone new is here (also for everyone present when we join).
    PeerJoined(info: PeerInfo) => PersonArrived;
    /// Someone's name, look or role changed (mine included).
    PeerChanged(info: PeerInfo) => PersonChanged;
    /// Someone left.
    PeerLeft(id: PeerId) => PersonLeft;
    /// The server did not apply something we sent.
    Refused(refusal: Refusal) => RefusedMine;
    /// The server put my body here.
    MovedTo(body: QuantPose) => MovedMe;
    /// Someone made a gesture (me included).
    Gesture(from: PeerId, gesture: Gesture) => GestureSeen;
    /// Someone sent a stamp (me included).
    Stamp(from: PeerId, stamp: Stamp) => StampSeen;
    /// Someone said a line (me included). Shown, then forgotten.
    Chat(from: PeerId, line: String) => ChatHeard;
    /// Someone picked up a shared thing.
    Held(by: PeerId, thing: u16) => ThingHeld;
    /// A shared thing was let go.
    Released(thing: u16) => ThingReleased;
    /// A dart stuck in the board.
    DartScored(by: PeerId, score: DartScore) => DartLanded;
    /// A wish now hangs on the bamboo.
    WishHung(wish: Wish) => WishHungUp;
    /// A wish was taken down.
    WishTakenDown(id: u32) => WishTakenOff;
    /// The room was closed to newcomers, or opened again.
    RoomLocked(locked: bool) => RoomLockChanged;
    /// (Staff) whom facilitators have removed, now.
    RemovedPeople(people: Vec<RemovedPerson>) => RemovedPeopleNow;
    /// Newcomers wait to be let in, or come straight in.
    WaitingRoom(on: bool) => WaitingRoomChanged;
    /// (Staff) who waits to be let in, now.
    WaitingPeople(people: Vec<WaitingPerson>) => WaitingPeopleNow;
    /// (Staff) the room's codes, now.
    Invites(codes: RoomCodes) => InvitesNow;
    /// A facilitator asked this client to straighten its headset view.
    Recentre => RecentreAsked;
    /// (Staff) the places kept for dropped connections, now.
    KeptPlaces(places: Vec<KeptPlace>) => KeptPlacesNow;
    /// (Staff) a child told the staff about someone. Shown, never kept.
    Concern(concern: Concern) => ConcernTold;
    /// (Staff) something the staff should know.
    StaffNotice(notice: StaffNotice) => StaffNoticeTold;
    /// The wall screen's pages, or nothing shown.
    Showing(showing: Showing) => ShowingChanged;
    /// (The showing facilitator) the room wants these pages' bytes; the core sends them.
    PagesWanted(pages: Vec<u16>) => PagesAsked;
    /// Bytes of a page (the core keeps them; never passed on in practice).
    PagePiece(piece: PagePiece) => PagePieceHeard;
    /// A page's small preview (the core keeps it; never passed on in practice).
    PagePreview(preview: PagePreview) => PagePreviewHeard;
    /// The screen turned to a page.
    PageTurned(page: u16) => PageTurnedTo;
    /// Someone points at the screen, or stopped.
    Pointer(by: PeerId, at: Option<[u16; 2]>) => PointerMoved;
    /// Someone drew on the board.
    Stroke(by: PeerId, piece: StrokePiece) => StrokeDrawn;
    /// The board as it is, for a newcomer.
    Board(pieces: Vec<(PeerId, StrokePiece)>) => BoardHeard;
    /// Someone took back a line.
    Undone(by: PeerId, stroke: u16) => LineUndone;
    /// The board was wiped, or one person's lines.
    BoardCleared(whose: Option<PeerId>) => BoardWiped;
    /// Everyone may draw, or staff only.
    DrawingAllowed(allowed: bool) => DrawingAllowedNow;
}
