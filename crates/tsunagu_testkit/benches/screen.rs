//! `cargo xtask bench screen`: the wall screen over real QUIC on loopback.
//!
//! A room served in this process (the same `EmbeddedRoom` a nurse's PC
//! hosts), a facilitator's client core and 20 children's, each on its own
//! QUIC connection, ten to a loopback address as from two hospitals. The
//! facilitator shows a picture book of 1280×720 pages (drawn here, made
//! into JPEG pages by the facilitator's own code); measured:
//!
//! - the first page: its bytes, what each child received meanwhile, and the
//!   time from "show" to each child holding it whole;
//! - page turns: from the facilitator's turn to each child showing the new
//!   page (the pages are all there by then, as the prefetch makes them);
//! - strokes: from a child sending a piece of a line to each other person
//!   holding it.
//!
//! Medians and worst over every child and repetition. `smoke` (run by
//! `cargo xtask test`) does the same with three children and asserts it
//! works, without printing figures worth quoting.

use std::time::{Duration, Instant};

use tsunagu_client_core::ClientCore;
use tsunagu_client_core::pages::{page_from_pixels, previews_of};
use tsunagu_net::quic::{QuicConnector, WireStats};
use tsunagu_protocol::{AvatarLook, ClientEvent, Hello, Ink, PageInfo, Pen, ScreenAction, StrokePiece, pack_points};
use tsunagu_server::embedded::EmbeddedRoom;
use tsunagu_testkit::book::book_page;

/// One person's app: its core and what its connection put on the wire.
struct Person {
    core: ClientCore,
    wire: WireStats,
}

fn join(room: &EmbeddedRoom, code: &str, name: &str, address: [u8; 4]) -> Person {
    let connector = QuicConnector::from_address(room.local_invite(code), std::net::IpAddr::from(address));
    let wire = connector.stats();
    let hello = Hello::new(code, name, AvatarLook::with_color([200, 160, 90]));
    Person { core: ClientCore::join(Box::new(connector), hello, Duration::ZERO), wire }
}

/// Poll everyone until `done` holds for each of `whom` (by index), or `limit`
/// passes; returns when each got there, measured from `from`.
fn until(
    people: &mut [Person],
    started: Instant,
    from: Instant,
    whom: &[usize],
    limit: Duration,
    done: impl Fn(usize, &ClientCore) -> bool,
) -> Vec<Option<Duration>> {
    let mut when: Vec<Option<Duration>> = vec![None; whom.len()];
    while when.iter().any(Option::is_none) && from.elapsed() < limit {
        for person in people.iter_mut() {
            person.core.poll(started.elapsed());
        }
        for (slot, &i) in when.iter_mut().zip(whom) {
            if slot.is_none() && done(i, &people[i].core) {
                *slot = Some(from.elapsed());
            }
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    when
}

/// Keep everyone's connection going for `how_long`, as the apps' frames do.
fn idle(people: &mut [Person], started: Instant, how_long: Duration) {
    let from = Instant::now();
    while from.elapsed() < how_long {
        for person in people.iter_mut() {
            person.core.poll(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn ms(d: &Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (median, worst) in milliseconds; panics if anyone never got there.
fn median_and_worst(what: &str, times: &[Option<Duration>]) -> (f64, f64) {
    let missing = times.iter().filter(|t| t.is_none()).count();
    assert_eq!(missing, 0, "{what}: {missing} of {} never arrived", times.len());
    let mut all: Vec<f64> = times.iter().flatten().map(ms).collect();
    all.sort_by(f64::total_cmp);
    (all[all.len() / 2], all[all.len() - 1])
}

fn run(children: usize, pages: u32, turns: usize, strokes: usize, print: bool) {
    let data_dir = std::env::temp_dir().join(format!("tsunagu-bench-screen-{}", std::process::id()));
    let room = EmbeddedRoom::start(children + 4, &data_dir).expect("cannot start a room on loopback");
    let started = Instant::now();
    let mut people = vec![join(&room, &room.config().facilitator_code, "よみて", [127, 0, 2, 1])];
    for i in 0..children {
        people.push(join(&room, &room.config().code, &format!("こども{i}"), [127, 0, 2, 10 + (i / 10) as u8]));
    }
    let everyone: Vec<usize> = (0..people.len()).collect();
    let kids: Vec<usize> = (1..people.len()).collect();
    let joined = until(&mut people, started, Instant::now(), &everyone, Duration::from_secs(30), |_, core| core.in_room());
    median_and_worst("joining", &joined);

    let book: Vec<(PageInfo, Vec<u8>)> = (0..pages).map(|n| page_from_pixels(&book_page(n)).expect("a page")).collect();
    let first = book[0].0.clone();
    let before: Vec<u64> = people.iter().map(|p| p.wire.totals().rx_bytes).collect();
    let shown_at = Instant::now();
    people[0].core.show_pages(book.clone(), previews_of(&book));
    let first_page = until(&mut people, started, shown_at, &kids, Duration::from_secs(60), |_, core| core.screen().page_bytes(0).is_some());
    let received: Vec<u64> = kids.iter().map(|&i| people[i].wire.totals().rx_bytes - before[i]).collect();
    let (page_median, page_worst) = median_and_worst("the first page", &first_page);
    for &i in &kids {
        assert_eq!(people[i].core.screen().page_bytes(0).map(|b| b.as_slice()), Some(book[0].1.as_slice()), "child {i}'s page is not the one shown");
    }
    let whole_book = until(&mut people, started, shown_at, &kids, Duration::from_secs(120), |_, core| {
        (0..pages as u16).all(|p| core.screen().page_bytes(p).is_some())
    });
    let (_, book_worst) = median_and_worst("the whole book", &whole_book);

    let mut turned = Vec::new();
    for turn in 0..turns {
        let page = ((turn + 1) % pages as usize) as u16;
        let at = Instant::now();
        people[0].core.send_event(ClientEvent::Screen(ScreenAction::TurnTo(page)));
        let times = until(&mut people, started, at, &kids, Duration::from_secs(10), |_, core| {
            core.screen().current_page().is_some_and(|c| c.page == page && c.bytes.is_some())
        });
        turned.extend(times);
        // Between turns, as a reader reads (and within the room's 4 turns a second).
        idle(&mut people, started, Duration::from_millis(300));
    }
    let (turn_median, turn_worst) = median_and_worst("page turns", &turned);

    let mut drawn = Vec::new();
    let watchers: Vec<usize> = everyone.iter().copied().filter(|&i| i != 1).collect();
    for stroke in 0..strokes {
        let x = 200 + (stroke as u16 % 30) * 120;
        let piece = StrokePiece {
            stroke: stroke as u16 + 1,
            ink: Ink::Blue,
            pen: Pen::Thick,
            points: pack_points(&[[x, 1000], [x + 60, 1200], [x + 20, 1500]]),
        };
        let seen_before: Vec<u64> = people.iter().map(|p| p.core.screen().board_changes()).collect();
        let at = Instant::now();
        people[1].core.send_event(ClientEvent::Stroke(piece));
        let times = until(&mut people, started, at, &watchers, Duration::from_secs(5), |i, core| core.screen().board_changes() > seen_before[i]);
        drawn.extend(times);
        idle(&mut people, started, Duration::from_millis(100));
    }
    let (stroke_median, stroke_worst) = median_and_worst("strokes", &drawn);
    assert!(people.iter().all(|p| p.core.screen().lines().len() == strokes), "everyone holds every line");
    if print {
        let mut received = received;
        received.sort_unstable();
        let page_bytes = f64::from(first.bytes);
        let median_received = received[received.len() / 2] as f64;
        println!("the wall screen, {children} children over QUIC on loopback:");
        println!(
            "  a 1280x720 page: {} bytes (JPEG); each child received {:.0} bytes meanwhile (median), {:.2}x the page",
            first.bytes,
            median_received,
            median_received / page_bytes
        );
        println!(
            "  show to page whole at each child: median {page_median:.0} ms, worst {page_worst:.0} ms; the whole book of {pages} pages, worst {book_worst:.0} ms"
        );
        println!("  page turn to each child showing it ({turns} turns): median {turn_median:.1} ms, worst {turn_worst:.1} ms");
        println!("  a piece of a line to each other person ({strokes} pieces): median {stroke_median:.1} ms, worst {stroke_worst:.1} ms");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if only.as_deref() == Some("smoke") {
        run(3, 3, 3, 3, false);
    } else {
        run(20, 6, 20, 20, true);
    }
}
