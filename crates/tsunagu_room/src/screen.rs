//! The wall screen: the pages a facilitator shows (their bytes kept in
//! memory only while the room lives, checked against the offered hash and
//! never decoded), the page on it, the pointer, and the board everyone
//! draws on, bounded per line, per person and per room.

use std::collections::HashMap;

use tsunagu_protocol::screen::{
    MAX_BOARD_PIECES, MAX_BOARD_POINTS, MAX_POINTS_PER_PERSON, MAX_SHOWING_BYTES, MAX_STROKE_POINTS, POINT_BYTES, PageAssembly,
};
use tsunagu_protocol::{PageInfo, PagePiece, PagePreview, PeerId, RefusalReason, ServerEvent, Showing, StrokePiece};

use crate::staff::{Audience, Told};

/// One line on the board.
#[derive(Clone, Debug)]
struct Line {
    by: PeerId,
    stroke: u16,
    ink: tsunagu_protocol::Ink,
    pen: tsunagu_protocol::Pen,
    /// Packed as the protocol carries them.
    points: Vec<u8>,
}

impl Line {
    fn point_count(&self) -> usize {
        self.points.len() / POINT_BYTES
    }
}

/// The wall screen's state.
#[derive(Debug)]
pub struct Screen {
    showing: Showing,
    /// Whole pages, by hash: only those of the showing.
    pages: HashMap<Vec<u8>, Vec<u8>>,
    /// The page coming in now.
    arriving: PageAssembly,
    /// Small pictures of the showing's pages, by page (not checked: only
    /// the one who showed may send them, and a client shows one only until
    /// the page itself is whole).
    previews: HashMap<u16, Vec<u8>>,
    drawing_allowed: bool,
    lines: Vec<Line>,
    /// Counts showings: a new one starts everyone's delivery afresh.
    epoch: u32,
    /// Who showed the pages (they hold them already).
    shown_by: Option<PeerId>,
}

impl Default for Screen {
    fn default() -> Self {
        Screen {
            showing: Showing { pages: Vec::new(), current: 0 },
            pages: HashMap::new(),
            arriving: PageAssembly::default(),
            previews: HashMap::new(),
            drawing_allowed: true,
            lines: Vec::new(),
            epoch: 0,
            shown_by: None,
        }
    }
}

impl Screen {
    /// The pages shown and the page on the screen.
    pub fn showing(&self) -> &Showing {
        &self.showing
    }

    /// Page `page`'s bytes, once they are all in (and matched their hash).
    pub fn page_bytes(&self, page: u16) -> Option<&[u8]> {
        let info = self.showing.pages.get(usize::from(page))?;
        self.pages.get(&info.hash).map(Vec::as_slice)
    }

    /// Page `page`'s preview, if the one who showed sent one.
    pub fn preview(&self, page: u16) -> Option<&[u8]> {
        self.previews.get(&page).map(Vec::as_slice)
    }

    /// The number of the showing: it changes with every `show`.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Who showed the pages on the screen now.
    pub fn shown_by(&self) -> Option<PeerId> {
        self.shown_by
    }

    /// Bytes kept for pages now (whole and arriving).
    pub fn bytes_kept(&self) -> usize {
        self.pages.values().chain(self.previews.values()).map(Vec::len).sum::<usize>() + self.arriving.len()
    }

    /// Whether everyone may draw (else only staff).
    pub fn drawing_allowed(&self) -> bool {
        self.drawing_allowed
    }

    /// Show `pages` from the first. The bytes of pages shown before are
    /// kept only where the new showing has them too. The sender is asked
    /// for the rest.
    pub fn show(&mut self, by: PeerId, pages: &[PageInfo]) -> Result<Told, RefusalReason> {
        let total: u64 = pages.iter().map(|p| u64::from(p.bytes)).sum();
        if total > MAX_SHOWING_BYTES {
            return Err(RefusalReason::NoSpace);
        }
        self.pages.retain(|hash, _| pages.iter().any(|p| &p.hash == hash));
        self.arriving.clear();
        self.previews.clear();
        self.showing = Showing { pages: pages.to_vec(), current: 0 };
        self.epoch = self.epoch.wrapping_add(1);
        self.shown_by = Some(by);
        let mut wanted: Vec<u16> = Vec::new();
        for (n, page) in pages.iter().enumerate() {
            let asked = wanted.iter().any(|w| pages[usize::from(*w)].hash == page.hash);
            if !self.pages.contains_key(&page.hash) && !asked {
                wanted.push(n as u16);
            }
        }
        let mut told = vec![(Audience::Everyone, ServerEvent::Showing(self.showing.clone()))];
        if !pages.is_empty() {
            told.push((Audience::Only(by), ServerEvent::PagesWanted(wanted)));
        }
        Ok(told)
    }

    /// Take a piece of a page's bytes. The last piece makes the page whole
    /// if the bytes match its hash; if not, they are dropped (`Unknown`,
    /// as for a piece that does not follow on).
    pub fn take_piece(&mut self, piece: &PagePiece) -> Result<Told, RefusalReason> {
        let info = self.showing.pages.get(usize::from(piece.page)).ok_or(RefusalReason::Unknown)?;
        if self.pages.contains_key(&info.hash) {
            // Already whole (the same picture twice in a book): nothing to do.
            return Ok(Vec::new());
        }
        if let Some(bytes) = self.arriving.take(info, piece).map_err(|_| RefusalReason::Unknown)? {
            self.pages.insert(info.hash.clone(), bytes);
        }
        Ok(Vec::new())
    }

    /// Keep a preview of a page from the one who showed the pages.
    pub fn take_preview(&mut self, by: PeerId, preview: &PagePreview) -> Result<Told, RefusalReason> {
        if self.shown_by != Some(by) {
            return Err(RefusalReason::NotAllowed);
        }
        if usize::from(preview.page) >= self.showing.pages.len() {
            return Err(RefusalReason::Unknown);
        }
        self.previews.insert(preview.page, preview.bytes.clone());
        Ok(Vec::new())
    }

    /// Turn to `page`; the pointer goes (it pointed at the old page).
    pub fn turn_to(&mut self, page: u16) -> Result<Told, RefusalReason> {
        if usize::from(page) >= self.showing.pages.len() {
            return Err(RefusalReason::Unknown);
        }
        self.showing.current = page;
        Ok(vec![(Audience::Everyone, ServerEvent::PageTurned(page))])
    }

    /// Let everyone draw, or only staff.
    pub fn allow_drawing(&mut self, allowed: bool) -> Told {
        self.drawing_allowed = allowed;
        vec![(Audience::Everyone, ServerEvent::DrawingAllowed(allowed))]
    }

    /// Wipe the board, or one person's lines.
    pub fn clear(&mut self, whose: Option<PeerId>) -> Told {
        self.lines.retain(|l| whose.is_some_and(|w| w != l.by));
        vec![(Audience::Everyone, ServerEvent::BoardCleared(whose))]
    }

    /// Whether `who` has lines on the board.
    pub fn has_lines_of(&self, who: PeerId) -> bool {
        self.lines.iter().any(|l| l.by == who)
    }

    /// `by` draws a piece of a line: it continues their newest line if it
    /// has that line's number, else starts a new one. Bounded per line,
    /// per person and for the board (`NoSpace`: wipe or undo first).
    pub fn stroke(&mut self, by: PeerId, piece: &StrokePiece) -> Result<Told, RefusalReason> {
        let adding = piece.point_count();
        let theirs: usize = self.lines.iter().filter(|l| l.by == by).map(Line::point_count).sum();
        let board: usize = self.lines.iter().map(Line::point_count).sum();
        if theirs + adding > MAX_POINTS_PER_PERSON || board + adding > MAX_BOARD_POINTS {
            return Err(RefusalReason::NoSpace);
        }
        let newest = self.lines.iter_mut().rev().find(|l| l.by == by).filter(|l| l.stroke == piece.stroke);
        match newest {
            Some(line) if line.point_count() + adding > MAX_STROKE_POINTS => return Err(RefusalReason::NoSpace),
            Some(line) => line.points.extend_from_slice(&piece.points),
            None => self.lines.push(Line { by, stroke: piece.stroke, ink: piece.ink, pen: piece.pen, points: piece.points.clone() }),
        }
        Ok(vec![(Audience::Everyone, ServerEvent::Stroke(by, piece.clone()))])
    }

    /// `by` takes back their newest line.
    pub fn undo(&mut self, by: PeerId) -> Result<Told, RefusalReason> {
        let at = self.lines.iter().rposition(|l| l.by == by).ok_or(RefusalReason::Unknown)?;
        let line = self.lines.remove(at);
        Ok(vec![(Audience::Everyone, ServerEvent::Undone(by, line.stroke))])
    }

    /// What someone coming in is told, after `Welcome`, to see the screen
    /// as everyone does: drawing for staff only (if so), the showing (if
    /// any), and the board in pieces. The pages' bytes follow separately.
    pub fn catch_up(&self) -> Vec<ServerEvent> {
        let mut events = Vec::new();
        if !self.drawing_allowed {
            events.push(ServerEvent::DrawingAllowed(false));
        }
        if !self.showing.pages.is_empty() {
            events.push(ServerEvent::Showing(self.showing.clone()));
        }
        let chunk = tsunagu_protocol::screen::MAX_PIECE_POINTS * POINT_BYTES;
        let pieces: Vec<(PeerId, StrokePiece)> = self
            .lines
            .iter()
            .flat_map(|l| {
                l.points.chunks(chunk).map(|points| (l.by, StrokePiece { stroke: l.stroke, ink: l.ink, pen: l.pen, points: points.to_vec() }))
            })
            .collect();
        events.extend(pieces.chunks(MAX_BOARD_PIECES).map(|c| ServerEvent::Board(c.to_vec())));
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsunagu_protocol::{Ink, PageKind, Pen, pack_points, page_hash};

    fn page(bytes: &[u8]) -> PageInfo {
        PageInfo { hash: page_hash(bytes), bytes: bytes.len() as u32, kind: PageKind::Png, width: 16, height: 9 }
    }

    fn line(stroke: u16, n: usize) -> StrokePiece {
        let points: Vec<[u16; 2]> = (0..n as u16).map(|i| [i, i]).collect();
        StrokePiece { stroke, ink: Ink::Red, pen: Pen::Medium, points: pack_points(&points) }
    }

    #[test]
    fn a_page_is_kept_only_whole_and_matching_its_hash() {
        let mut screen = Screen::default();
        let (one, two) = (vec![1u8; 20_000], vec![2u8; 10]);
        let told = screen.show(PeerId(1), &[page(&one), page(&two), page(&one)]).unwrap();
        assert!(
            told.contains(&(Audience::Only(PeerId(1)), ServerEvent::PagesWanted(vec![0, 1]))),
            "the same picture twice is asked for once: {told:?}"
        );
        let piece = |page, offset: usize, bytes: &[u8]| PagePiece { page, offset: offset as u32, bytes: bytes.to_vec() };
        assert_eq!(screen.take_piece(&piece(0, 5, &one[5..9])), Err(RefusalReason::Unknown), "a piece that does not follow on");
        screen.take_piece(&piece(0, 0, &one[..12_000])).unwrap();
        assert_eq!(screen.page_bytes(0), None, "not whole yet");
        screen.take_piece(&piece(0, 12_000, &one[12_000..])).unwrap();
        assert_eq!(screen.page_bytes(0), Some(one.as_slice()));
        assert_eq!(screen.page_bytes(2), Some(one.as_slice()), "the same bytes serve the same picture");
        assert_eq!(screen.take_piece(&piece(1, 0, &[9; 10])), Err(RefusalReason::Unknown), "bytes that do not match the hash");
        assert_eq!(screen.page_bytes(1), None);
        assert_eq!(screen.take_piece(&piece(1, 0, &[2; 11])), Err(RefusalReason::Unknown), "more bytes than offered");
        screen.take_piece(&piece(1, 0, &two)).unwrap();
        assert_eq!(screen.bytes_kept(), 20_010);
        // A new showing keeps what it shares with the old one, and asks for the rest.
        let three = vec![3u8; 5];
        let told = screen.show(PeerId(1), &[page(&three), page(&two)]).unwrap();
        assert!(told.contains(&(Audience::Only(PeerId(1)), ServerEvent::PagesWanted(vec![0]))));
        assert_eq!(screen.bytes_kept(), 10, "the first book's other page is let go");
    }

    #[test]
    fn a_showing_over_the_rooms_memory_is_refused() {
        let mut screen = Screen::default();
        let big = PageInfo { bytes: tsunagu_protocol::screen::MAX_PAGE_BYTES, ..page(b"x") };
        let pages = vec![big; 25];
        assert_eq!(screen.show(PeerId(1), &pages), Err(RefusalReason::NoSpace), "25 pages of 2 MiB are more than 48 MiB");
        assert_eq!(screen.turn_to(0), Err(RefusalReason::Unknown), "nothing is shown");
    }

    #[test]
    fn lines_continue_undo_and_are_bounded() {
        let mut screen = Screen::default();
        screen.stroke(PeerId(1), &line(1, 10)).unwrap();
        screen.stroke(PeerId(2), &line(1, 10)).unwrap();
        screen.stroke(PeerId(1), &line(1, 10)).unwrap();
        assert_eq!(screen.lines.len(), 2, "the same number continues the person's line");
        screen.stroke(PeerId(1), &line(2, 5)).unwrap();
        assert_eq!(screen.undo(PeerId(1)).unwrap(), vec![(Audience::Everyone, ServerEvent::Undone(PeerId(1), 2))]);
        assert_eq!(screen.undo(PeerId(1)).unwrap(), vec![(Audience::Everyone, ServerEvent::Undone(PeerId(1), 1))], "each undoes their own");
        assert_eq!(screen.undo(PeerId(1)), Err(RefusalReason::Unknown));
        assert!(screen.has_lines_of(PeerId(2)));
        // One line holds at most 1,024 points; one person 3,000.
        for _ in 0..16 {
            screen.stroke(PeerId(3), &line(7, 64)).unwrap();
        }
        assert_eq!(screen.stroke(PeerId(3), &line(7, 1)), Err(RefusalReason::NoSpace));
        for stroke in 8..38 {
            screen.stroke(PeerId(3), &line(stroke, 64)).unwrap();
        }
        assert_eq!(screen.stroke(PeerId(3), &line(38, 64)), Err(RefusalReason::NoSpace), "3,000 points each");
        screen.stroke(PeerId(3), &line(38, 56)).unwrap();
        assert_eq!(screen.stroke(PeerId(3), &line(39, 1)), Err(RefusalReason::NoSpace));
        assert!(screen.stroke(PeerId(4), &line(1, 64)).is_ok(), "another person still draws");
        screen.clear(Some(PeerId(3)));
        assert!(!screen.has_lines_of(PeerId(3)) && screen.has_lines_of(PeerId(4)));
        screen.clear(None);
        assert!(screen.lines.is_empty());
    }

    #[test]
    fn a_newcomer_is_told_the_screen_in_frames_that_fit() {
        let mut screen = Screen::default();
        screen.show(PeerId(1), &[page(b"abc")]).unwrap();
        screen.allow_drawing(false);
        for who in 1..=4 {
            for stroke in 0..3 {
                for _ in 0..15 {
                    screen.stroke(PeerId(who), &line(stroke, 64)).unwrap();
                }
            }
        }
        let events = screen.catch_up();
        assert_eq!(events[0], ServerEvent::DrawingAllowed(false));
        assert!(matches!(&events[1], ServerEvent::Showing(s) if s.pages.len() == 1));
        let pieces: usize = events.iter().map(|e| if let ServerEvent::Board(p) = e { p.len() } else { 0 }).sum();
        assert_eq!(pieces, 4 * 3 * 15, "every piece of every line");
        for event in &events {
            let bytes = tsunagu_protocol::encode(event, tsunagu_protocol::limits::MAX_FRAME_BYTES);
            assert!(bytes.is_ok(), "{event:?} does not fit a frame");
        }
    }
}
