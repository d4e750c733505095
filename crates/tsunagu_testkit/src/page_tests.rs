//! The facilitator's files and the pages a client receives, as
//! `tsunagu_client_core::pages` makes and decodes them: decompression
//! bombs, lying headers, cut files and pages that are not what they were
//! offered as are refused, cheaply.

use std::time::Duration;

use tsunagu_client_core::pages::{PageProblem, decode_received, page_from_picture, pages_from_file_bytes};
use tsunagu_protocol::{PageInfo, PageKind};

use crate::book::lying_png;

/// A PNG with detail in it (a flat one would be far smaller than a page).
fn gradient_png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    let mut bytes = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap_or_default();
    bytes
}

#[test]
fn bombs_lies_and_broken_files_are_refused_cheaply() {
    let started = std::time::Instant::now();
    assert_eq!(page_from_picture(&lying_png(50_000, 50_000)), Err(PageProblem::TooBig), "50,000 × 50,000 from the header alone");
    assert!(started.elapsed() < Duration::from_millis(500), "refused without decoding: {:?}", started.elapsed());
    assert_eq!(page_from_picture(&lying_png(300, 200)), Err(PageProblem::Broken), "a header that lies about its own data");
    let whole = gradient_png(200, 100);
    assert_eq!(page_from_picture(&whole[..whole.len() / 2]), Err(PageProblem::Broken), "cut short");
    assert_eq!(page_from_picture(b"hello, this is not a picture"), Err(PageProblem::NotAPicture));
    assert_eq!(pages_from_file_bytes(b"%PDF-1.4 nothing else".to_vec()), Err(PageProblem::Broken));
}

#[test]
fn a_received_page_must_be_what_it_was_offered_as() {
    let bytes = gradient_png(64, 36);
    let (info, _) = page_from_picture(&bytes).unwrap_or_else(|p| panic!("{p:?}"));
    assert!(decode_received(&info, &bytes).is_some());
    assert!(decode_received(&PageInfo { width: 65, ..info.clone() }, &bytes).is_none(), "a different size than offered");
    assert!(decode_received(&PageInfo { kind: PageKind::Jpeg, ..info.clone() }, &bytes).is_none(), "a different format");
    let bomb = lying_png(4096, 4096);
    assert!(decode_received(&PageInfo { width: 4096, height: 4096, ..info }, &bomb).is_none(), "over the page's pixels");
}
