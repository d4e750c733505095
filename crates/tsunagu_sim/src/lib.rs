//! What server and client agree on about the room itself: the ward layout (where
//! walls and furniture stand), where people may walk, avatar motion rules, and
//! conversions between maths types and wire poses. No renderer, no I/O.

pub mod animate;
pub mod interp;
pub mod layout;
pub mod motion;
pub mod objects;
pub mod pose;
pub mod rig;

pub use layout::{Dartboard, Piece, PieceKind, WardLayout};
