//! The wall screen's messages: pages a facilitator shows (offered by content
//! hash, then their bytes in pieces the server relays unread), the pointer,
//! and the strokes everyone draws on it. Coordinates on the screen are
//! fractions of its width and height in 1/4096ths, from the top left.

use serde::{Deserialize, Serialize};

use crate::PeerId;

/// Most pages in one showing (a picture book has 24 to 40).
pub const MAX_PAGES: usize = 64;
/// Largest page, bytes: a 1600 × 900 photo as JPEG is ~250 KB; room to spare.
pub const MAX_PAGE_BYTES: u32 = 2 * 1024 * 1024;
/// Most bytes of all the pages of one showing together: what a room keeps.
pub const MAX_SHOWING_BYTES: u64 = 48 * 1024 * 1024;
/// Widest or tallest page, pixels.
pub const MAX_PAGE_SIDE: u16 = 4096;
/// Most pixels of one page (4096 × 2304, 16:9 at the widest).
pub const MAX_PAGE_PIXELS: u32 = 4096 * 2304;
/// A page's bytes travel in pieces of at most this many bytes (a frame is 16 KiB).
pub const MAX_PIECE_BYTES: usize = 12 * 1024;
/// A page's preview: bytes at most (one frame, like a piece).
pub const MAX_PREVIEW_BYTES: usize = 12 * 1024;
/// A page's preview: pixels a side at most.
pub const MAX_PREVIEW_SIDE: u32 = 320;
/// Screen coordinates run from 0 to this (exclusive), both ways.
pub const SCREEN_UNITS: u16 = 4096;
/// Most points in one stroke piece: a client sends what was drawn every
/// ~80 ms, far fewer.
pub const MAX_PIECE_POINTS: usize = 64;
/// Most points of one stroke (pieces past it are refused `NoSpace`).
pub const MAX_STROKE_POINTS: usize = 1024;
/// Most points one person's strokes may hold on the board at once.
pub const MAX_POINTS_PER_PERSON: usize = 3000;
/// Most points on the whole board at once.
pub const MAX_BOARD_POINTS: usize = 12_000;
/// Bytes of one point in [`StrokePiece::points`].
pub const POINT_BYTES: usize = 3;
/// Most stroke pieces in one `Board` event: 64 full pieces are ~13 KiB, within a frame.
pub const MAX_BOARD_PIECES: usize = 64;

/// How a page's bytes are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PageKind {
    /// PNG.
    Png,
    /// JPEG (baseline or progressive).
    Jpeg,
    /// WebP.
    WebP,
}

/// A page offered for the wall screen: what it is, before its bytes come.
/// A client checks the bytes against all of it and shows nothing that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// SHA-256 of the page's bytes (32 bytes; see [`page_hash`]).
    #[serde(with = "serde_bytes")]
    pub hash: Vec<u8>,
    /// How many bytes, at most [`MAX_PAGE_BYTES`].
    pub bytes: u32,
    /// Its format.
    pub kind: PageKind,
    /// Width in pixels, 1 to [`MAX_PAGE_SIDE`].
    pub width: u16,
    /// Height in pixels, 1 to [`MAX_PAGE_SIDE`]; width × height at most [`MAX_PAGE_PIXELS`].
    pub height: u16,
}

impl PageInfo {
    /// Whether it keeps the limits (a hash of 32 bytes, sizes in bounds).
    pub fn is_within_limits(&self) -> bool {
        self.hash.len() == 32
            && (1..=MAX_PAGE_BYTES).contains(&self.bytes)
            && (1..=MAX_PAGE_SIDE).contains(&self.width)
            && (1..=MAX_PAGE_SIDE).contains(&self.height)
            && u32::from(self.width) * u32::from(self.height) <= MAX_PAGE_PIXELS
    }
}

/// The SHA-256 of a page's bytes, as [`PageInfo::hash`] carries it.
pub fn page_hash(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// A page being put together from its pieces, one page at a time, as the
/// room and every client do: in order from offset 0, never past the
/// offered size, and whole only if the bytes match the offered hash.
#[derive(Debug, Default)]
pub struct PageAssembly(Option<(u16, Vec<u8>)>);

/// A piece that does not fit the page being put together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceRefused;

impl PageAssembly {
    /// Take `piece` of the page offered as `info`. `Ok(Some(bytes))`: the
    /// page is whole and matches its hash. A piece of another page, or not
    /// following on, is refused and what came before is kept; one running
    /// past the offered size, or a whole page that does not match, drops
    /// the page. Offset 0 starts the page again.
    pub fn take(&mut self, info: &PageInfo, piece: &PagePiece) -> Result<Option<Vec<u8>>, PieceRefused> {
        let size = info.bytes as usize;
        if piece.offset == 0 {
            self.0 = Some((piece.page, Vec::with_capacity(size.min(MAX_PAGE_BYTES as usize))));
        }
        let Some((_, bytes)) = self.0.as_mut().filter(|(page, bytes)| *page == piece.page && bytes.len() as u64 == u64::from(piece.offset)) else {
            return Err(PieceRefused);
        };
        if bytes.len() + piece.bytes.len() > size {
            self.0 = None;
            return Err(PieceRefused);
        }
        bytes.extend_from_slice(&piece.bytes);
        if bytes.len() < size {
            return Ok(None);
        }
        let (_, bytes) = self.0.take().ok_or(PieceRefused)?;
        if page_hash(&bytes) != info.hash {
            return Err(PieceRefused);
        }
        Ok(Some(bytes))
    }

    /// Bytes held for the page coming in.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |(_, bytes)| bytes.len())
    }

    /// Whether no page is coming in.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Forget the page coming in.
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

/// Some bytes of page `page` of the showing, from `offset`. Pieces of one
/// page go in order, each starting where the last ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePiece {
    /// The page's place in the showing (0 is the first).
    pub page: u16,
    /// Where these bytes start in the page.
    pub offset: u32,
    /// At most [`MAX_PIECE_BYTES`].
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A small picture of page `page` (a JPEG at most [`MAX_PREVIEW_SIDE`]
/// pixels a side, [`MAX_PREVIEW_BYTES`] bytes), sent ahead of the page's
/// bytes so a slow link shows the page at once, blurred, until it is whole.
/// One frame; the room passes it on unread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePreview {
    /// The page's place in the showing.
    pub page: u16,
    /// The picture, 1 to [`MAX_PREVIEW_BYTES`] bytes.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// The colours to draw with: a small box of crayons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ink {
    /// くろ (a soft charcoal).
    #[default]
    Charcoal,
    /// あか
    Red,
    /// あお
    Blue,
    /// みどり
    Green,
    /// きいろ
    Yellow,
    /// しろ: also what a child uses as a rubber.
    White,
}

impl Ink {
    /// Every ink, in the order the board offers them.
    pub const ALL: [Ink; 6] = [Ink::Charcoal, Ink::Red, Ink::Blue, Ink::Green, Ink::Yellow, Ink::White];
}

/// How thick a line is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pen {
    /// Thin, for writing.
    Thin,
    /// The usual.
    #[default]
    Medium,
    /// Thick, for colouring in.
    Thick,
}

impl Pen {
    /// Every pen, thin first.
    pub const ALL: [Pen; 3] = [Pen::Thin, Pen::Medium, Pen::Thick];

    /// Its width in screen units.
    pub fn width(self) -> u16 {
        match self {
            Pen::Thin => 8,
            Pen::Medium => 20,
            Pen::Thick => 48,
        }
    }
}

/// Part of a line someone draws: its points, in order, continuing the
/// stroke's earlier pieces. A new `stroke` number starts a new line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrokePiece {
    /// The drawer's own number for the line (each person counts their own).
    pub stroke: u16,
    /// Its colour.
    pub ink: Ink,
    /// Its thickness.
    pub pen: Pen,
    /// 1 to [`MAX_PIECE_POINTS`] points, [`POINT_BYTES`] each: x and y as
    /// 12-bit screen units, packed big-endian as `xxxxxxxx xxxxyyyy yyyyyyyy`.
    #[serde(with = "serde_bytes")]
    pub points: Vec<u8>,
}

impl StrokePiece {
    /// Whether it keeps the limits (a whole number of points, 1 to [`MAX_PIECE_POINTS`]).
    pub fn is_within_limits(&self) -> bool {
        let n = self.points.len() / POINT_BYTES;
        self.points.len().is_multiple_of(POINT_BYTES) && (1..=MAX_PIECE_POINTS).contains(&n)
    }

    /// How many points it holds.
    pub fn point_count(&self) -> usize {
        self.points.len() / POINT_BYTES
    }

    /// Its points as screen units.
    pub fn points(&self) -> impl Iterator<Item = [u16; 2]> + '_ {
        self.points.chunks_exact(POINT_BYTES).map(|p| {
            let x = (u16::from(p[0]) << 4) | u16::from(p[1] >> 4);
            let y = (u16::from(p[1] & 0x0f) << 8) | u16::from(p[2]);
            [x, y]
        })
    }
}

/// Pack points (screen units, clamped to the screen) as [`StrokePiece::points`] carries them.
pub fn pack_points(points: &[[u16; 2]]) -> Vec<u8> {
    let top = SCREEN_UNITS - 1;
    points
        .iter()
        .flat_map(|[x, y]| {
            let (x, y) = ((*x).min(top), (*y).min(top));
            [(x >> 4) as u8, (((x & 0x0f) << 4) | (y >> 8)) as u8, (y & 0xff) as u8]
        })
        .collect()
}

/// What a facilitator does with the wall screen: one variant of
/// [`crate::ClientEvent::Screen`], refused `NotAllowed` from anyone else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScreenAction {
    /// Show these pages (the first at once), in place of any showing; an
    /// empty list puts the screen back to the room's own picture. The room
    /// answers the sender `PagesWanted` with the pages whose bytes it lacks.
    Show(Vec<PageInfo>),
    /// Turn to page `u16` of the showing.
    TurnTo(u16),
    /// Point at this place on the screen (`None`: stop pointing).
    Point(Option<[u16; 2]>),
    /// Let everyone draw (`true`, the room's start) or only staff.
    AllowDrawing(bool),
    /// Wipe the whole board.
    ClearBoard,
    /// Wipe one person's lines only.
    ClearDrawingOf(PeerId),
}

/// The wall screen as someone coming in finds it, and as it changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Showing {
    /// The pages (empty: nothing shown; the room's own picture).
    pub pages: Vec<PageInfo>,
    /// The page on the screen now.
    pub current: u16,
}
