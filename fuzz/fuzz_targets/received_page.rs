//! A wall-screen page as any client receives it from the room (bytes that
//! passed only the hash check), a page's preview (bytes nobody checked),
//! and a facilitator's file as it is made into a page: never a panic,
//! never more than the limits; a page that decodes is the size it was
//! offered as, a preview within its side.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagu_client_core::pages::{decode_preview, decode_received, page_from_picture};
use tsunagu_protocol::screen::MAX_PREVIEW_SIDE;
use tsunagu_protocol::{PageInfo, PageKind, page_hash};

fuzz_target!(|bytes: &[u8]| {
    // The first five bytes choose the format and the offered size.
    let [kind, w0, w1, h0, h1, rest @ ..] = bytes else { return };
    let kind = [PageKind::Png, PageKind::Jpeg, PageKind::WebP][usize::from(*kind) % 3];
    let (width, height) = (u16::from_be_bytes([*w0, *w1]).clamp(1, 4096), u16::from_be_bytes([*h0, *h1]).clamp(1, 2304));
    let info = PageInfo { hash: page_hash(rest), bytes: rest.len() as u32, kind, width, height };
    if let Some(picture) = decode_received(&info, rest) {
        assert_eq!(picture.dimensions(), (u32::from(width), u32::from(height)));
    }
    if let Some(preview) = decode_preview(bytes) {
        assert!(preview.width() <= MAX_PREVIEW_SIDE && preview.height() <= MAX_PREVIEW_SIDE);
    }
    if let Ok((info, made)) = page_from_picture(rest) {
        assert!(info.is_within_limits() && made.len() == info.bytes as usize);
    }
});
