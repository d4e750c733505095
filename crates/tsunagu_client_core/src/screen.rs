//! The wall screen as this client knows it: the pages shown and their bytes
//! (put together from the room's pieces, kept only if they match the
//! offered hash, in memory only), the page on it, who points where, and the
//! lines on the board, and small previews of pages not whole yet. A
//! facilitator's client also sends its own pages' bytes here, paced, when
//! the room asks for them, each page's preview just before its first piece.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tsunagu_protocol::screen::{MAX_BOARD_POINTS, MAX_PIECE_BYTES, MAX_PREVIEW_BYTES, MAX_SHOWING_BYTES, PageAssembly};
use tsunagu_protocol::{Ink, PageInfo, PagePiece, PagePreview, PeerId, Pen, ServerEvent, Showing, StrokePiece};

/// A facilitator's client sends this many pieces of its pages a second
/// (144 KiB/s), within the room's limit for them (16).
pub const PIECES_PER_SECOND: u32 = 12;

/// One line on the board, as screen units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Who drew it.
    pub by: PeerId,
    /// Their number for it.
    pub stroke: u16,
    /// Its colour.
    pub ink: Ink,
    /// Its thickness.
    pub pen: Pen,
    /// Its points, in order.
    pub points: Vec<[u16; 2]>,
}

/// The page on the screen now.
#[derive(Clone, Copy, Debug)]
pub struct CurrentPage<'a> {
    /// Its place in the showing.
    pub page: u16,
    /// What it is.
    pub info: &'a PageInfo,
    /// Its bytes, once they are all here.
    pub bytes: Option<&'a Arc<Vec<u8>>>,
    /// A small picture of it, if one came (shown until the bytes are here).
    pub preview: Option<&'a Arc<Vec<u8>>>,
}

/// What our client sends next of its own pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// A page's small picture, before its first piece.
    Preview(PagePreview),
    /// A piece of a page.
    Piece(PagePiece),
}

/// The wall screen as this client knows it.
#[derive(Debug, Default)]
pub struct ScreenView {
    showing: Option<Showing>,
    /// Whole pages, by hash (those of the showing, and our own).
    whole: HashMap<Vec<u8>, Arc<Vec<u8>>>,
    /// The page coming in now.
    arriving: PageAssembly,
    /// Previews of the showing's pages that came, by page.
    previews: HashMap<u16, Arc<Vec<u8>>>,
    /// Our own pages' previews, by page, to send when the room asks for the page.
    own_previews: HashMap<u16, Vec<u8>>,
    /// Pages whose preview goes before their first piece.
    previews_due: Vec<u16>,
    pointer: Option<(PeerId, [u16; 2])>,
    drawing_allowed: bool,
    lines: Vec<Line>,
    /// Counts changes to the lines, so a painter redraws only when needed.
    board_changes: u64,
    /// Our own pages' pieces still to send: page, offset.
    to_send: VecDeque<(u16, u32)>,
    next_piece_at: Duration,
}

impl ScreenView {
    pub(crate) fn new() -> Self {
        ScreenView { drawing_allowed: true, ..ScreenView::default() }
    }

    /// The pages shown and the page on the screen, if anything is shown.
    pub fn showing(&self) -> Option<&Showing> {
        self.showing.as_ref().filter(|s| !s.pages.is_empty())
    }

    /// The page on the screen now, and its bytes once they are all here.
    pub fn current_page(&self) -> Option<CurrentPage<'_>> {
        let showing = self.showing()?;
        let info = showing.pages.get(usize::from(showing.current))?;
        Some(CurrentPage { page: showing.current, info, bytes: self.whole.get(&info.hash), preview: self.previews.get(&showing.current) })
    }

    /// Page `page`'s bytes, once they are all here.
    pub fn page_bytes(&self, page: u16) -> Option<&Arc<Vec<u8>>> {
        let info = self.showing()?.pages.get(usize::from(page))?;
        self.whole.get(&info.hash)
    }

    /// Who points where on the screen.
    pub fn pointer(&self) -> Option<(PeerId, [u16; 2])> {
        self.pointer
    }

    /// Whether everyone may draw (else only staff).
    pub fn drawing_allowed(&self) -> bool {
        self.drawing_allowed
    }

    /// The lines on the board, oldest first.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Changes to the lines so far.
    pub fn board_changes(&self) -> u64 {
        self.board_changes
    }

    /// Bytes of our own pages still to send.
    pub fn sending(&self) -> bool {
        !self.to_send.is_empty()
    }

    /// A new connection: the room tells the screen again after `Welcome`,
    /// and our own page being sent starts again from its first byte (the
    /// room drops a page left half sent).
    pub(crate) fn welcome(&mut self) {
        if let Some(front) = self.to_send.front_mut() {
            front.1 = 0;
        }
        self.showing = None;
        self.arriving.clear();
        self.previews.clear();
        self.previews_due.clear();
        self.pointer = None;
        self.drawing_allowed = true;
        self.lines.clear();
        self.board_changes += 1;
    }

    /// Keep our own pages' bytes and previews (by page; none for some or
    /// all is fine), to send when the room asks.
    pub(crate) fn offer(&mut self, pages: &[(PageInfo, Vec<u8>)], previews: Vec<(u16, Vec<u8>)>) {
        self.whole.retain(|hash, _| pages.iter().any(|(p, _)| &p.hash == hash));
        for (info, bytes) in pages {
            self.whole.insert(info.hash.clone(), Arc::new(bytes.clone()));
        }
        self.own_previews = previews.into_iter().filter(|(_, b)| (1..=MAX_PREVIEW_BYTES).contains(&b.len())).collect();
        self.to_send.clear();
        self.previews_due.clear();
    }

    /// Take in a screen event. Returns the pages that became whole (to be
    /// told to the app), or `None` if the event changes nothing worth telling.
    pub(crate) fn take_in(&mut self, event: &ServerEvent) -> Option<Vec<u16>> {
        match event {
            ServerEvent::Showing(showing) => {
                // Keep only what the new showing has, within the room's memory rule.
                self.whole.retain(|hash, _| showing.pages.iter().any(|p| &p.hash == hash));
                self.previews.clear();
                self.arriving.clear();
                self.pointer = None;
                self.showing = Some(showing.clone());
                let here = (0..showing.pages.len() as u16).filter(|p| self.page_bytes(*p).is_some()).collect();
                Some(here)
            }
            ServerEvent::PagesWanted(pages) => {
                self.to_send = pages.iter().map(|p| (*p, 0)).collect();
                self.previews_due = pages.iter().copied().filter(|p| self.own_previews.contains_key(p)).collect();
                None
            }
            ServerEvent::PagePreview(preview) => {
                let showing = self.showing.as_ref()?;
                let info = showing.pages.get(usize::from(preview.page))?;
                if !self.whole.contains_key(&info.hash) && preview.bytes.len() <= MAX_PREVIEW_BYTES {
                    self.previews.insert(preview.page, Arc::new(preview.bytes.clone()));
                }
                // Told only if it is the page on the screen (the app shows it).
                Some(Vec::new())
            }
            ServerEvent::PagePiece(piece) => self.take_piece(piece).map(|page| vec![page]),
            ServerEvent::PageTurned(page) => {
                let showing = self.showing.as_mut()?;
                if usize::from(*page) >= showing.pages.len() {
                    return None;
                }
                showing.current = *page;
                self.pointer = None;
                Some(Vec::new())
            }
            ServerEvent::Pointer(by, at) => {
                self.pointer = at.map(|at| (*by, at));
                Some(Vec::new())
            }
            ServerEvent::Stroke(by, piece) => {
                self.stroke(*by, piece);
                Some(Vec::new())
            }
            ServerEvent::Board(pieces) => {
                for (by, piece) in pieces {
                    self.stroke(*by, piece);
                }
                Some(Vec::new())
            }
            ServerEvent::Undone(by, stroke) => {
                let at = self.lines.iter().rposition(|l| l.by == *by && l.stroke == *stroke)?;
                self.lines.remove(at);
                self.board_changes += 1;
                Some(Vec::new())
            }
            ServerEvent::BoardCleared(whose) => {
                self.lines.retain(|l| whose.is_some_and(|w| w != l.by));
                self.board_changes += 1;
                Some(Vec::new())
            }
            ServerEvent::DrawingAllowed(allowed) => {
                self.drawing_allowed = *allowed;
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// We point (or stop): the room tells everyone but us, and the reader
    /// sees their own dot too (in a headset there is no mouse cursor).
    pub(crate) fn pointed(&mut self, me: PeerId, at: Option<[u16; 2]>) {
        if self.showing.is_some() {
            self.pointer = at.map(|at| (me, at));
        }
    }

    /// Someone left: their pointer goes with them (their lines stay).
    pub(crate) fn left(&mut self, who: PeerId) {
        if self.pointer.is_some_and(|(by, _)| by == who) {
            self.pointer = None;
        }
    }

    /// A piece of a page: returns the page if it is now whole.
    fn take_piece(&mut self, piece: &PagePiece) -> Option<u16> {
        let info = self.showing.as_ref()?.pages.get(usize::from(piece.page))?;
        if self.whole.contains_key(&info.hash) {
            return None;
        }
        if piece.offset == 0 {
            let kept: usize = self.whole.values().map(|b| b.len()).sum();
            if (kept + info.bytes as usize) as u64 > MAX_SHOWING_BYTES {
                return None;
            }
        }
        match self.arriving.take(info, piece) {
            Ok(Some(bytes)) => {
                self.whole.insert(info.hash.clone(), Arc::new(bytes));
                Some(piece.page)
            }
            Ok(None) => None,
            Err(_) => {
                tracing::debug!(page = piece.page, "a piece did not fit its page, or the page did not match its hash; not shown");
                None
            }
        }
    }

    fn stroke(&mut self, by: PeerId, piece: &StrokePiece) {
        let board: usize = self.lines.iter().map(|l| l.points.len()).sum();
        if board + piece.point_count() > MAX_BOARD_POINTS {
            return;
        }
        self.board_changes += 1;
        match self.lines.iter_mut().rev().find(|l| l.by == by).filter(|l| l.stroke == piece.stroke) {
            Some(line) => line.points.extend(piece.points()),
            None => self.lines.push(Line { by, stroke: piece.stroke, ink: piece.ink, pen: piece.pen, points: piece.points().collect() }),
        }
    }

    /// What we send next of our pages, if something is due at `now` (paced
    /// at [`PIECES_PER_SECOND`]): a page's preview just before its first piece.
    pub(crate) fn next_outgoing(&mut self, now: Duration) -> Option<Outgoing> {
        if now < self.next_piece_at {
            return None;
        }
        let interval = Duration::from_secs(1) / PIECES_PER_SECOND;
        if let Some(&(page, 0)) = self.to_send.front()
            && let Some(at) = self.previews_due.iter().position(|p| *p == page)
        {
            self.previews_due.remove(at);
            if let Some(bytes) = self.own_previews.get(&page) {
                self.next_piece_at = (self.next_piece_at + interval).max(now.saturating_sub(interval));
                return Some(Outgoing::Preview(PagePreview { page, bytes: bytes.clone() }));
            }
        }
        loop {
            let (page, offset) = *self.to_send.front()?;
            let Some(bytes) = self.page_bytes(page).cloned() else {
                self.to_send.pop_front();
                continue;
            };
            let end = (offset as usize + MAX_PIECE_BYTES).min(bytes.len());
            if end >= bytes.len() {
                self.to_send.pop_front();
            } else if let Some(front) = self.to_send.front_mut() {
                front.1 = end as u32;
            }
            self.next_piece_at = (self.next_piece_at + interval).max(now.saturating_sub(interval));
            return Some(Outgoing::Piece(PagePiece { page, offset, bytes: bytes[offset as usize..end].to_vec() }));
        }
    }
}
