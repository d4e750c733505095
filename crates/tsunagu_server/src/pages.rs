//! Passing the wall screen's pages on: each member is sent the bytes of the
//! page on the screen first (its small preview before them, if the room
//! has one, even while the page itself is still on its way from the
//! facilitator), then the next ones, a few pieces a tick and
//! only while its connection keeps up (frames waiting to be written stay
//! few), so a chat line or a stroke is never stuck behind a whole book and
//! a slow link is never closed for falling behind.

use tsunagu_net::{Channel, ServerLinks};
use tsunagu_protocol::limits::MAX_FRAME_BYTES;
use tsunagu_protocol::screen::MAX_PIECE_BYTES;
use tsunagu_protocol::{PagePiece, PagePreview, ServerEvent, encode};

use crate::{ConnState, RoomServer};

/// Pieces sent to one member in a tick at most (12 KiB each: ~720 KiB/s at 30 Hz).
pub const PIECES_PER_TICK: usize = 2;
/// A member in low-bandwidth mode gets one a tick at most.
pub const PIECES_PER_TICK_LIGHT: usize = 1;
/// No piece is added while this many frames wait to be written to the member.
pub const MOST_FRAMES_WAITING: usize = 4;

/// How far one connection has been sent the showing's pages.
#[derive(Debug, Default)]
pub(crate) struct PageDelivery {
    /// The showing these counts are for.
    epoch: u32,
    /// Bytes sent of each page.
    sent: Vec<u32>,
    /// Whether each page's preview was sent.
    previewed: Vec<bool>,
}

/// What goes next to a member.
enum Due<'a> {
    Preview(usize, &'a [u8]),
    Piece(usize, &'a [u8]),
}

/// Pages in the order a reader needs them: the one on the screen, the next
/// two, the one before, then the rest from the start.
fn page_order(current: u16, pages: usize) -> impl Iterator<Item = usize> {
    let current = usize::from(current);
    let near = [current, current + 1, current + 2, current.wrapping_sub(1)];
    near.into_iter().chain(0..pages).filter(move |p| *p < pages)
}

impl<L: ServerLinks> RoomServer<L> {
    /// Send each member the next pieces of the pages it lacks.
    pub(crate) fn send_pages(&mut self) {
        for (conn, c) in &mut self.conns {
            let ConnState::Member { room, id } = c.state else { continue };
            let room = &self.rooms[room];
            let screen = room.screen();
            let showing = screen.showing();
            if showing.pages.is_empty() || screen.shown_by() == Some(id) {
                continue;
            }
            if c.pages.epoch != screen.epoch() || c.pages.sent.len() != showing.pages.len() {
                let pages = showing.pages.len();
                c.pages = PageDelivery { epoch: screen.epoch(), sent: vec![0; pages], previewed: vec![false; pages] };
            }
            let light = room.member(id).is_some_and(|m| m.light_link);
            let most = if light { PIECES_PER_TICK_LIGHT } else { PIECES_PER_TICK };
            for _ in 0..most {
                if self.links.frames_waiting(*conn) >= MOST_FRAMES_WAITING {
                    break;
                }
                let delivery = &c.pages;
                let due = page_order(showing.current, showing.pages.len()).find_map(|p| {
                    // A preview is worth sending while the page is not all there yet.
                    let whole = screen.page_bytes(p as u16).is_some_and(|b| delivery.sent[p] as usize >= b.len());
                    let preview = screen.preview(p as u16).filter(|_| !delivery.previewed[p] && !whole);
                    match preview {
                        Some(preview) => Some(Due::Preview(p, preview)),
                        None => screen.page_bytes(p as u16).filter(|b| (delivery.sent[p] as usize) < b.len()).map(|b| Due::Piece(p, b)),
                    }
                });
                let (event, page, sent_to) = match due {
                    None => break,
                    Some(Due::Preview(page, bytes)) => {
                        (ServerEvent::PagePreview(PagePreview { page: page as u16, bytes: bytes.to_vec() }), page, None)
                    }
                    Some(Due::Piece(page, bytes)) => {
                        let from = c.pages.sent[page] as usize;
                        let to = (from + MAX_PIECE_BYTES).min(bytes.len());
                        (
                            ServerEvent::PagePiece(PagePiece { page: page as u16, offset: from as u32, bytes: bytes[from..to].to_vec() }),
                            page,
                            Some(to),
                        )
                    }
                };
                match encode(&event, MAX_FRAME_BYTES) {
                    Ok(frame) => self.links.send(*conn, Channel::Events, frame),
                    Err(_) => break,
                }
                match sent_to {
                    Some(to) => c.pages.sent[page] = to as u32,
                    None => c.pages.previewed[page] = true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::page_order;

    #[test]
    fn the_page_on_the_screen_goes_first_then_the_next() {
        assert_eq!(page_order(0, 4).collect::<Vec<_>>(), [0, 1, 2, 0, 1, 2, 3]);
        assert_eq!(page_order(3, 5).collect::<Vec<_>>(), [3, 4, 2, 0, 1, 2, 3, 4]);
        assert_eq!(page_order(0, 0).count(), 0);
    }
}
