//! The wall screen through the stepper: a facilitator's real client core
//! shows pages, the room relays their bytes, children's cores put them
//! together; turning, pointing, drawing, late joiners and what a child may not do.

use tsunagu_client_core::RoomEvent;
use tsunagu_client_core::pages::{decode_preview, page_from_pixels, previews_of};
use tsunagu_protocol::screen::MAX_PIECE_BYTES;
use tsunagu_protocol::{
    ClientEvent, EventKind, Ink, PageInfo, PageKind, Pen, Refusal, RefusalReason, ScreenAction, ServerEvent, StrokePiece, pack_points, page_hash,
};

use super::*;

/// A page of `n` bytes that differ from page to page (not a real image: the
/// room never decodes, and the cores only put bytes together).
fn page(seed: u8, n: usize) -> (PageInfo, Vec<u8>) {
    let bytes: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
    (PageInfo { hash: page_hash(&bytes), bytes: n as u32, kind: PageKind::Jpeg, width: 1280, height: 720 }, bytes)
}

fn book() -> Vec<(PageInfo, Vec<u8>)> {
    vec![page(1, 60_000), page(2, 150_000), page(3, 30_000)]
}

fn line(stroke: u16, from: u16) -> StrokePiece {
    StrokePiece { stroke, ink: Ink::Blue, pen: Pen::Thick, points: pack_points(&[[from, 100], [from + 50, 200], [from + 90, 260]]) }
}

fn refused(client: &TestClient) -> Vec<Refusal> {
    client.events.iter().filter_map(|e| if let RoomEvent::Server(ServerEvent::Refused(r)) = e { Some(*r) } else { None }).collect()
}

fn reading() -> (Stepper, usize, usize, usize) {
    let mut s = Stepper::new(8);
    let nurse = s.connect(STAFF_CODE, "かんごしさん");
    let aoi = s.connect(ROOM_CODE, "あおい");
    let hina = s.connect(ROOM_CODE, "ひなた");
    s.run(3, TICK);
    (s, nurse, aoi, hina)
}

/// The bytes a client holds for the page on its screen now.
fn on_screen(s: &Stepper, client: usize) -> Option<(u16, Vec<u8>)> {
    let current = s.clients[client].core.screen().current_page()?;
    Some((current.page, current.bytes?.as_ref().clone()))
}

#[test]
fn children_see_the_same_page_after_each_turn_and_a_late_joiner_catches_up() {
    let (mut s, nurse, aoi, hina) = reading();
    let pages = book();
    s.clients[nurse].core.show_pages(pages.clone(), Vec::new());
    // 240 kB at 12 pieces of 12 KiB a second: about 1.6 s.
    let mut ticks = 0;
    while [aoi, hina].iter().any(|c| s.clients[*c].core.screen().page_bytes(2).is_none()) && ticks < 300 {
        s.step(TICK);
        ticks += 1;
    }
    let seconds = ticks as f64 / 30.0;
    assert!(seconds < 2.5, "the book took {seconds:.2} s to reach the children");
    for child in [aoi, hina] {
        assert_eq!(on_screen(&s, child), Some((0, pages[0].1.clone())), "the first page, byte for byte");
        let arrived: Vec<u16> =
            s.clients[child].events.iter().filter_map(|e| if let RoomEvent::PageArrived(p) = e { Some(*p) } else { None }).collect();
        assert_eq!(arrived, [0, 1, 2], "each page told once, in reading order");
    }
    assert!(!s.clients[nurse].core.screen().sending());
    assert_eq!(s.server.room().screen().bytes_kept(), 240_000, "the room keeps the book in memory, once");

    for turn in [1u16, 2, 0, 2] {
        s.send_event(nurse, ClientEvent::Screen(ScreenAction::TurnTo(turn)));
        s.step(TICK);
        for child in [aoi, nurse, hina] {
            assert_eq!(on_screen(&s, child), Some((turn, pages[usize::from(turn)].1.clone())), "after one tick, everyone is on page {turn}");
        }
    }

    // Pointing and drawing, then someone comes in late.
    s.send_event(nurse, ClientEvent::Screen(ScreenAction::Point(Some([2000, 1000]))));
    s.send_event(aoi, ClientEvent::Stroke(line(1, 100)));
    s.send_event(hina, ClientEvent::Stroke(line(1, 900)));
    s.send_event(hina, ClientEvent::Stroke(line(1, 1000)));
    s.run(2, TICK);
    assert_eq!(s.clients[aoi].core.screen().pointer().map(|p| p.1), Some([2000, 1000]));
    // The room tells everyone but the reader; the reader's own core shows it too.
    assert_eq!(s.clients[nurse].core.screen().pointer().map(|p| p.1), Some([2000, 1000]), "the reader sees their own dot");
    assert_eq!(s.clients[aoi].core.screen().lines().len(), 2, "ひなた's two pieces are one line");
    assert_eq!(s.clients[hina].core.screen().lines(), s.clients[aoi].core.screen().lines(), "everyone sees the same drawing");

    let ren = s.connect(ROOM_CODE, "れん");
    let mut ticks = 0;
    while on_screen(&s, ren).is_none() && ticks < 120 {
        s.step(TICK);
        ticks += 1;
    }
    assert_eq!(on_screen(&s, ren), Some((2, pages[2].1.clone())), "the newcomer sees the page on the screen now");
    assert!(ticks <= 6, "the page on the screen came first: {ticks} ticks");
    assert_eq!(s.clients[ren].core.screen().lines(), s.clients[aoi].core.screen().lines(), "and the drawing");
    s.run(60, TICK);
    assert!(s.clients[ren].core.screen().page_bytes(0).is_some() && s.clients[ren].core.screen().page_bytes(1).is_some(), "then the rest");

    // Undo takes back one's own newest line only; the nurse wipes the board.
    s.send_event(hina, ClientEvent::Undo);
    s.step(TICK);
    assert_eq!(s.clients[ren].core.screen().lines().len(), 1);
    assert_eq!(s.clients[ren].core.screen().lines()[0].by, s.clients[aoi].id().unwrap());
    s.send_event(nurse, ClientEvent::Screen(ScreenAction::ClearBoard));
    s.step(TICK);
    assert!([aoi, hina, ren, nurse].iter().all(|c| s.clients[*c].core.screen().lines().is_empty()));
}

#[test]
fn a_child_may_draw_but_not_show_turn_or_wipe_and_a_wrong_page_is_dropped() {
    let (mut s, nurse, aoi, hina) = reading();
    let (info, bytes) = page(9, 20_000);
    s.send_event(aoi, ClientEvent::Screen(ScreenAction::Show(vec![info.clone()])));
    s.send_event(aoi, ClientEvent::Screen(ScreenAction::TurnTo(0)));
    s.send_event(aoi, ClientEvent::Screen(ScreenAction::ClearBoard));
    s.send_event(aoi, ClientEvent::PagePiece(tsunagu_protocol::PagePiece { page: 0, offset: 0, bytes: bytes[..100].to_vec() }));
    s.run(2, TICK);
    let not_allowed = |kind| Refusal { kind, reason: RefusalReason::NotAllowed };
    assert_eq!(
        refused(&s.clients[aoi]),
        [not_allowed(EventKind::Screen), not_allowed(EventKind::Screen), not_allowed(EventKind::Screen), not_allowed(EventKind::PagePiece)]
    );
    assert!(s.clients[hina].core.screen().showing().is_none(), "nothing reached the others");

    // The nurse turns drawing off: a child's line is refused, the nurse's is not.
    s.send_event(nurse, ClientEvent::Screen(ScreenAction::AllowDrawing(false)));
    s.step(TICK);
    s.send_event(aoi, ClientEvent::Stroke(line(1, 10)));
    s.send_event(nurse, ClientEvent::Stroke(line(1, 10)));
    s.run(2, TICK);
    assert_eq!(refused(&s.clients[aoi]).last(), Some(&not_allowed(EventKind::Stroke)));
    assert_eq!(s.clients[hina].core.screen().lines().len(), 1);
    assert!(!s.clients[hina].core.screen().drawing_allowed());

    // Bytes that do not match the offered hash are dropped by the room: no child gets them.
    let lying = PageInfo { hash: page_hash(b"something else"), ..info };
    s.send_event(nurse, ClientEvent::Screen(ScreenAction::Show(vec![lying])));
    s.step(TICK);
    for (n, piece) in bytes.chunks(MAX_PIECE_BYTES).enumerate() {
        let offset = (n * MAX_PIECE_BYTES) as u32;
        s.send_event(nurse, ClientEvent::PagePiece(tsunagu_protocol::PagePiece { page: 0, offset, bytes: piece.to_vec() }));
    }
    s.run(30, TICK);
    assert_eq!(refused(&s.clients[nurse]).last(), Some(&Refusal { kind: EventKind::PagePiece, reason: RefusalReason::Unknown }));
    assert!(s.clients[hina].core.screen().current_page().is_some_and(|c| c.bytes.is_none()), "shown as not here yet, never as wrong bytes");
}

#[test]
fn a_removed_persons_drawing_is_wiped_and_the_room_forgets_the_screen_when_empty() {
    let (mut s, nurse, aoi, hina) = reading();
    s.send_event(aoi, ClientEvent::Stroke(line(1, 10)));
    s.send_event(hina, ClientEvent::Stroke(line(1, 500)));
    s.clients[nurse].core.show_pages(vec![page(4, 5000)], Vec::new());
    s.run(10, TICK);
    let aoi_id = s.clients[aoi].id().unwrap();
    s.send_event(nurse, ClientEvent::Staff(tsunagu_protocol::StaffAction::Remove(aoi_id)));
    s.run(2, TICK);
    let lines = s.clients[hina].core.screen().lines();
    assert_eq!(lines.len(), 1);
    assert_ne!(lines[0].by, aoi_id);
    for client in [nurse, hina] {
        s.leave(client);
    }
    s.run(5, TICK);
    assert_eq!(s.server.room().screen().bytes_kept(), 0, "nobody left to see it: the pages' bytes are let go");
    assert!(s.server.room().screen().showing().pages.is_empty());
}

#[test]
fn a_child_drawing_faster_than_allowed_is_refused_and_does_not_slow_anothers_poses() {
    let (mut s, nurse, aoi, hina) = reading();
    let hina_id = s.clients[hina].id().unwrap();
    let before = s.clients[nurse].updates(hina_id);
    let at = s.server.room().member(hina_id).unwrap().pose;
    for tick in 0..90u16 {
        // A piece every tick: 30 a second, within the connection's frames
        // but twice the strokes allowed.
        s.send_event(aoi, ClientEvent::Stroke(line(tick, 100)));
        s.send_pose(hina, at);
        s.step(TICK);
    }
    let too_fast = refused(&s.clients[aoi]).iter().filter(|r| **r == Refusal { kind: EventKind::Stroke, reason: RefusalReason::TooFast }).count();
    // 20 at once, then 14 a second for 3 s: 62 of 90 pass.
    assert!((25..=32).contains(&too_fast), "{too_fast} refused");
    assert_eq!(s.clients[nurse].core.screen().lines().len(), 90 - too_fast);
    let seen = s.clients[nurse].updates(hina_id) - before;
    assert!(seen >= 85, "the nurse saw ひなた updated {seen} times in 90 ticks");
    assert!(s.clients[aoi].core.connection_number() == 1 && s.clients[aoi].ended().is_none(), "the drawer is refused, not thrown out");
}

#[test]
fn a_child_on_a_light_link_sees_the_pages_preview_long_before_the_page() {
    let (mut s, nurse, aoi, hina) = reading();
    // Low-bandwidth mode: the room relays one piece a tick to あおい.
    s.send_event(aoi, ClientEvent::LightLink(true));
    s.run(2, TICK);
    let book: Vec<(PageInfo, Vec<u8>)> = (0..2).map(|n| page_from_pixels(&crate::book::book_page(n)).expect("a page")).collect();
    let previews = previews_of(&book);
    assert_eq!(previews.len(), 2, "a preview of each page");
    s.clients[nurse].core.show_pages(book.clone(), previews.clone());
    let (mut preview_at, mut page_at) = (None, None);
    for tick in 0..120 {
        s.step(TICK);
        let current = s.clients[aoi].core.screen().current_page();
        if preview_at.is_none() && current.as_ref().is_some_and(|c| c.preview.is_some()) {
            preview_at = Some(tick);
        }
        if current.as_ref().is_some_and(|c| c.bytes.is_some()) {
            page_at = Some(tick);
            break;
        }
    }
    let (preview_at, page_at) = (preview_at.expect("no preview came"), page_at.expect("the page never came"));
    println!("light link: preview after {preview_at} ticks, the page ({} bytes) after {page_at}", book[0].0.bytes);
    assert!(preview_at + 3 <= page_at, "the preview (tick {preview_at}) came not much before the page (tick {page_at})");
    let preview = s.clients[aoi].core.screen().current_page().and_then(|c| c.preview.cloned()).expect("kept until the app is done with it");
    assert_eq!(preview.as_slice(), previews[0].1.as_slice(), "the facilitator's preview, byte for byte");
    assert!(decode_preview(&preview).is_some_and(|p| p.width() <= 320));
    // Everyone else got it too; a new showing forgets it.
    assert!(s.clients[hina].core.screen().current_page().is_some_and(|c| c.preview.is_some()));
    s.clients[nurse].core.show_pages(vec![page(9, 3000)], Vec::new());
    s.run(2, TICK);
    assert!(s.clients[aoi].core.screen().current_page().is_some_and(|c| c.preview.is_none()));
}

#[test]
fn only_the_facilitator_who_showed_sends_previews() {
    let (mut s, nurse, aoi, _) = reading();
    let helper = s.connect(STAFF_CODE, "ボランティア");
    s.run(2, TICK);
    s.clients[nurse].core.show_pages(vec![page(1, 5000)], Vec::new());
    s.run(3, TICK);
    let preview = |page| ClientEvent::PagePreview(tsunagu_protocol::PagePreview { page, bytes: vec![0xff, 0xd8, 0xff] });
    s.send_event(aoi, preview(0));
    s.send_event(helper, preview(0));
    s.send_event(nurse, preview(5));
    s.run(2, TICK);
    let refusal = |reason| Refusal { kind: EventKind::PagePiece, reason };
    assert_eq!(refused(&s.clients[aoi]).last(), Some(&refusal(RefusalReason::NotAllowed)), "a child");
    assert_eq!(refused(&s.clients[helper]).last(), Some(&refusal(RefusalReason::NotAllowed)), "staff who did not show the pages");
    assert_eq!(refused(&s.clients[nurse]).last(), Some(&refusal(RefusalReason::Unknown)), "a page the showing lacks");
    assert!(s.server.room().screen().preview(0).is_none());
}
