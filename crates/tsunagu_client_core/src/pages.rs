//! Pictures for the wall screen, without a screen: a facilitator's files
//! made into pages (images checked from their header before anything is
//! decoded, made smaller when they are big; PDF pages drawn to pictures on
//! this PC only, with a time limit), and a received page decoded with
//! limits. Everything here runs off the render thread; nothing here writes
//! a file.

use std::io::Cursor;
use std::sync::mpsc;
use std::time::Duration;

use image::{ImageFormat, ImageReader, Limits, RgbaImage};
use tsunagu_protocol::screen::{MAX_PAGE_BYTES, MAX_PAGE_PIXELS, MAX_PAGE_SIDE, MAX_PAGES, MAX_PREVIEW_BYTES, MAX_PREVIEW_SIDE};
use tsunagu_protocol::{PageInfo, PageKind, page_hash};

/// Pages are made to fit this (a wall screen of 16:9, sharp enough at a
/// child's distance in a headset); bigger pictures are scaled down.
pub const PAGE_FIT: (u32, u32) = (1600, 900);
/// A picture that says it is bigger than this (pixels) is refused from its
/// header alone: no real photo is, and a small file saying so is a bomb.
pub const MOST_SOURCE_PIXELS: u64 = 64_000_000;
/// Memory a decoder may use for a facilitator's picture.
const SOURCE_ALLOC: u64 = 512 * 1024 * 1024;
/// Memory a decoder may use for a received page (a whole 4096 × 2304 page
/// is 36 MiB).
const RECEIVED_ALLOC: u64 = 64 * 1024 * 1024;
/// A PDF page bigger than this many points on a side (PDF's own limit is
/// 14,400) is refused: it cannot be a page of a book.
pub const MOST_PDF_POINTS: f32 = 14_400.0;
/// A whole PDF is given this long to draw; then it is given up.
pub const PDF_TIME_LIMIT: Duration = Duration::from_secs(20);
/// JPEG quality of pages made here: small, and a picture book still looks right.
const JPEG_QUALITY: u8 = 85;
/// A preview's JPEG qualities, tried in turn until one fits.
const PREVIEW_QUALITIES: [u8; 3] = [60, 40, 25];
/// Memory a preview may take to decode.
const PREVIEW_ALLOC: u64 = 4 * 1024 * 1024;
/// Files bigger than this are not read at all.
pub const MOST_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// Pages made of a file: what each is, and its bytes.
pub type MadePages = Vec<(PageInfo, Vec<u8>)>;

/// Why a file cannot be shown. Each has a kind message for the facilitator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageProblem {
    /// Not a PNG, JPEG, WebP or PDF.
    NotAPicture,
    /// It says it is far bigger than any real picture (or it is too big a file).
    TooBig,
    /// Its bytes are broken or cut short.
    Broken,
    /// More pages than a showing may hold.
    TooManyPages,
    /// Drawing the PDF took too long.
    TooSlow,
    /// The file could not be read from the disk.
    Unreadable,
}

/// Make a page from a picture's bytes: checked from its header first
/// (a format we read, a size that can be real), kept as it is if it is
/// already a page's size, else decoded (with limits), scaled to fit
/// [`PAGE_FIT`] and made a JPEG.
pub fn page_from_picture(bytes: &[u8]) -> Result<(PageInfo, Vec<u8>), PageProblem> {
    let format = image::guess_format(bytes).map_err(|_| PageProblem::NotAPicture)?;
    let kind = match format {
        ImageFormat::Png => PageKind::Png,
        ImageFormat::Jpeg => PageKind::Jpeg,
        ImageFormat::WebP => PageKind::WebP,
        _ => return Err(PageProblem::NotAPicture),
    };
    let (width, height) = reader(bytes, format, source_limits()).into_dimensions().map_err(problem)?;
    if u64::from(width) * u64::from(height) > MOST_SOURCE_PIXELS {
        return Err(PageProblem::TooBig);
    }
    let fits = width <= PAGE_FIT.0 && height <= PAGE_FIT.1;
    if fits && bytes.len() <= MAX_PAGE_BYTES as usize / 2 {
        // Decoded once here too, so a file broken past its header is found now, not on every child's PC.
        reader(bytes, format, source_limits()).decode().map_err(problem)?;
        return Ok((info(bytes, kind, width, height), bytes.to_vec()));
    }
    let picture = reader(bytes, format, source_limits()).decode().map_err(problem)?.to_rgba8();
    page_from_pixels(&picture)
}

/// Make a JPEG page of pixels, scaled to fit [`PAGE_FIT`].
pub fn page_from_pixels(picture: &RgbaImage) -> Result<(PageInfo, Vec<u8>), PageProblem> {
    let (w, h) = picture.dimensions();
    let scale = (f64::from(PAGE_FIT.0) / f64::from(w)).min(f64::from(PAGE_FIT.1) / f64::from(h)).min(1.0);
    let (tw, th) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
    let scaled = if (tw, th) == (w, h) { picture.clone() } else { image::imageops::resize(picture, tw, th, image::imageops::FilterType::Triangle) };
    let rgb = image::DynamicImage::ImageRgba8(scaled).to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY).encode_image(&rgb).map_err(|_| PageProblem::Broken)?;
    if jpeg.len() > MAX_PAGE_BYTES as usize {
        return Err(PageProblem::TooBig);
    }
    Ok((info(&jpeg, PageKind::Jpeg, tw, th), jpeg))
}

/// Draw every page of a PDF to a picture page, on a thread of its own that
/// is given up after [`PDF_TIME_LIMIT`]. A page bigger than a book's
/// ([`MOST_PDF_POINTS`]) is refused before it is drawn.
pub fn pages_from_pdf(bytes: Vec<u8>) -> Result<MadePages, PageProblem> {
    pages_from_pdf_within(bytes, PDF_TIME_LIMIT)
}

/// [`pages_from_pdf`] with another time limit (tests).
pub fn pages_from_pdf_within(bytes: Vec<u8>, limit: Duration) -> Result<MadePages, PageProblem> {
    let (done, result) = mpsc::channel();
    let drawing = std::thread::Builder::new().name("pdf pages".into()).spawn(move || {
        let _ = done.send(draw_pdf(bytes));
    });
    if drawing.is_err() {
        return Err(PageProblem::Broken);
    }
    // A drawing past its time is left to finish alone; nothing waits on it.
    result.recv_timeout(limit).unwrap_or(Err(PageProblem::TooSlow))
}

fn draw_pdf(bytes: Vec<u8>) -> Result<MadePages, PageProblem> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::Pdf;
    let pdf = Pdf::new(bytes).map_err(|_| PageProblem::Broken)?;
    let pages = pdf.pages();
    if pages.is_empty() {
        return Err(PageProblem::Broken);
    }
    if pages.len() > MAX_PAGES {
        return Err(PageProblem::TooManyPages);
    }
    let cache = hayro::RenderCache::new();
    let settings = InterpreterSettings::default();
    let mut made = Vec::with_capacity(pages.len());
    for page in pages.iter() {
        let (w, h) = page.render_dimensions();
        if !(w >= 1.0 && h >= 1.0 && w <= MOST_PDF_POINTS && h <= MOST_PDF_POINTS) {
            return Err(PageProblem::TooBig);
        }
        let scale = (PAGE_FIT.0 as f32 / w).min(PAGE_FIT.1 as f32 / h);
        let pixmap_settings = hayro::PixmapSettings { x_scale: scale, y_scale: scale, bg_color: hayro::vello_cpu::color::palette::css::WHITE };
        let pixmap = hayro::render(page, &cache, &settings, &hayro::RenderSettings::default(), &pixmap_settings);
        // On white, every pixel is opaque: premultiplied is plain RGBA.
        let picture = RgbaImage::from_raw(u32::from(pixmap.width()), u32::from(pixmap.height()), pixmap.data_as_u8_slice().to_vec())
            .ok_or(PageProblem::Broken)?;
        made.push(page_from_pixels(&picture)?);
    }
    Ok(made)
}

/// Make pages of a file's bytes: a PDF's pages, or one picture.
pub fn pages_from_file_bytes(bytes: Vec<u8>) -> Result<MadePages, PageProblem> {
    if bytes.starts_with(b"%PDF-") { pages_from_pdf(bytes) } else { page_from_picture(&bytes).map(|page| vec![page]) }
}

/// Read a file a facilitator chose (bounded) and make pages of it.
pub fn pages_from_file(path: &std::path::Path) -> Result<MadePages, PageProblem> {
    let size = std::fs::metadata(path).map_err(|_| PageProblem::Unreadable)?.len();
    if size > MOST_FILE_BYTES {
        return Err(PageProblem::TooBig);
    }
    let bytes = std::fs::read(path).map_err(|_| PageProblem::Unreadable)?;
    pages_from_file_bytes(bytes)
}

/// Decode a page that came from the room, as a page may be: the format
/// and size it was offered with, within the page limits and
/// [`RECEIVED_ALLOC`]. `None` for anything else (shown as "cannot show").
pub fn decode_received(info: &PageInfo, bytes: &[u8]) -> Option<RgbaImage> {
    let format = match info.kind {
        PageKind::Png => ImageFormat::Png,
        PageKind::Jpeg => ImageFormat::Jpeg,
        PageKind::WebP => ImageFormat::WebP,
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(u32::from(MAX_PAGE_SIDE));
    limits.max_image_height = Some(u32::from(MAX_PAGE_SIDE));
    limits.max_alloc = Some(RECEIVED_ALLOC);
    let (w, h) = reader(bytes, format, limits.clone()).into_dimensions().ok()?;
    if (w, h) != (u32::from(info.width), u32::from(info.height)) || w * h > MAX_PAGE_PIXELS {
        return None;
    }
    Some(reader(bytes, format, limits).decode().ok()?.to_rgba8())
}

/// A page's small preview (a JPEG at most [`MAX_PREVIEW_SIDE`] a side and
/// [`MAX_PREVIEW_BYTES`] bytes), made on the facilitator's PC from a page
/// it made; `None` if the page does not decode or no quality fits.
pub fn preview_of(info: &PageInfo, bytes: &[u8]) -> Option<Vec<u8>> {
    let page = decode_received(info, bytes)?;
    let (w, h) = page.dimensions();
    // Full size at a lower quality first, then half as big: a busy photo
    // needs the second.
    [MAX_PREVIEW_SIDE, MAX_PREVIEW_SIDE / 2].into_iter().find_map(|side| {
        let scale = (side as f32 / w.max(h) as f32).min(1.0);
        let (tw, th) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
        let small = image::DynamicImage::ImageRgba8(image::imageops::resize(&page, tw, th, image::imageops::FilterType::Triangle)).to_rgb8();
        PREVIEW_QUALITIES.into_iter().find_map(|quality| {
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality).encode_image(&small).ok()?;
            (jpeg.len() <= MAX_PREVIEW_BYTES).then_some(jpeg)
        })
    })
}

/// The previews of pages (by their place), those that could be made.
pub fn previews_of(pages: &MadePages) -> Vec<(u16, Vec<u8>)> {
    pages.iter().enumerate().filter_map(|(n, (info, bytes))| Some((n as u16, preview_of(info, bytes)?))).collect()
}

/// Decode a preview that came from the room: a JPEG within the preview's
/// limits, or nothing.
pub fn decode_preview(bytes: &[u8]) -> Option<RgbaImage> {
    if bytes.len() > MAX_PREVIEW_BYTES {
        return None;
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PREVIEW_SIDE);
    limits.max_image_height = Some(MAX_PREVIEW_SIDE);
    limits.max_alloc = Some(PREVIEW_ALLOC);
    Some(reader(bytes, ImageFormat::Jpeg, limits).decode().ok()?.to_rgba8())
}

/// An ink's colour, as sRGB with alpha.
pub fn ink_colour(ink: tsunagu_protocol::Ink) -> image::Rgba<u8> {
    use tsunagu_protocol::Ink;
    let [r, g, b] = match ink {
        Ink::Charcoal => [0x3a, 0x3a, 0x44],
        Ink::Red => [0xe8, 0x5a, 0x5a],
        Ink::Blue => [0x4a, 0x8f, 0xe0],
        Ink::Green => [0x4f, 0xb0, 0x6a],
        Ink::Yellow => [0xf2, 0xc9, 0x4c],
        Ink::White => [0xff, 0xff, 0xff],
    };
    image::Rgba([r, g, b, 255])
}

/// Paint the board's lines onto `picture` (a clear one for the board
/// alone; a page's picture, to save both): round pens, screen units
/// stretched to the picture.
pub fn paint_lines(picture: &mut RgbaImage, lines: &[crate::screen::Line]) {
    let (w, h) = picture.dimensions();
    let units = f32::from(tsunagu_protocol::screen::SCREEN_UNITS);
    let (sx, sy) = (w as f32 / units, h as f32 / units);
    for line in lines {
        let colour = ink_colour(line.ink);
        let radius = (f32::from(line.pen.width()) * sx / 2.0).max(1.0);
        let at = |p: &[u16; 2]| (f32::from(p[0]) * sx, f32::from(p[1]) * sy);
        let mut dab = |x: f32, y: f32| {
            let (x0, x1) = ((x - radius).floor().max(0.0) as u32, ((x + radius).ceil() as u32).min(w));
            let (y0, y1) = ((y - radius).floor().max(0.0) as u32, ((y + radius).ceil() as u32).min(h));
            for py in y0..y1 {
                for px in x0..x1 {
                    let (dx, dy) = (px as f32 + 0.5 - x, py as f32 + 0.5 - y);
                    if dx * dx + dy * dy <= radius * radius {
                        picture.put_pixel(px, py, colour);
                    }
                }
            }
        };
        let mut points = line.points.iter().map(at);
        let Some(mut last) = points.next() else { continue };
        dab(last.0, last.1);
        for next in points {
            let steps = ((next.0 - last.0).hypot(next.1 - last.1) / (radius * 0.5).max(0.5)).ceil().max(1.0) as u32;
            for step in 1..=steps {
                let t = step as f32 / steps as f32;
                dab(last.0 + (next.0 - last.0) * t, last.1 + (next.1 - last.1) * t);
            }
            last = next;
        }
    }
}

fn reader(bytes: &[u8], format: ImageFormat, limits: Limits) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader
}

fn source_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(SOURCE_ALLOC);
    limits
}

fn problem(error: image::ImageError) -> PageProblem {
    match error {
        image::ImageError::Limits(_) => PageProblem::TooBig,
        image::ImageError::Unsupported(_) => PageProblem::NotAPicture,
        _ => PageProblem::Broken,
    }
}

fn info(bytes: &[u8], kind: PageKind, width: u32, height: u32) -> PageInfo {
    PageInfo { hash: page_hash(bytes), bytes: bytes.len() as u32, kind, width: width as u16, height: height as u16 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbaImage::from_fn(width, height, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 120, 255]));
        let mut bytes = Vec::new();
        picture.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap_or_default();
        bytes
    }

    #[test]
    fn a_small_picture_is_kept_as_it_is_and_a_big_one_is_made_a_page() {
        let small = png(320, 180);
        let (info, bytes) = page_from_picture(&small).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!((info.kind, info.width, info.height), (PageKind::Png, 320, 180));
        assert_eq!(bytes, small);
        let big = png(4000, 3000);
        let (info, bytes) = page_from_picture(&big).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!((info.kind, info.width, info.height), (PageKind::Jpeg, 1200, 900), "scaled to fit 1600 × 900");
        assert!(info.is_within_limits() && bytes.len() < 1_000_000);
        let decoded = decode_received(&info, &bytes).unwrap_or_else(|| panic!("the page decodes"));
        assert_eq!(decoded.dimensions(), (1200, 900));
    }

    #[test]
    fn a_preview_is_small_and_is_decoded_only_within_its_limits() {
        let (info, bytes) = page_from_picture(&png(4000, 3000)).unwrap_or_else(|p| panic!("{p:?}"));
        let preview = preview_of(&info, &bytes).unwrap_or_else(|| panic!("no preview of a 1200 × 900 page"));
        assert!(preview.len() <= MAX_PREVIEW_BYTES, "a preview of {} bytes", preview.len());
        let (w, h) = decode_preview(&preview).map(|p| p.dimensions()).unwrap_or_else(|| panic!("the preview does not decode"));
        assert!(w <= 320 && w * 3 == h * 4, "not the page's shape within 320 pixels: {w} × {h}");
        // Too many pixels for a preview (a flat JPEG is small in bytes), a PNG, a page's bytes.
        let mut wide = Vec::new();
        let flat = image::RgbImage::from_pixel(400, 200, image::Rgb([200, 200, 200]));
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut wide, 50).encode_image(&flat).unwrap_or_default();
        assert!(wide.len() <= MAX_PREVIEW_BYTES && decode_preview(&wide).is_none(), "a 400-pixel preview was decoded");
        assert!(decode_preview(&png(16, 16)).is_none());
        assert!(decode_preview(&bytes).is_none());
        assert_eq!(previews_of(&vec![(info, bytes)]).len(), 1);
    }

    #[test]
    fn lines_are_painted_where_they_were_drawn_in_their_ink() {
        use tsunagu_protocol::{Ink, PeerId, Pen};
        let mut board = RgbaImage::new(1024, 576);
        let line = crate::screen::Line { by: PeerId(1), stroke: 0, ink: Ink::Red, pen: Pen::Thick, points: vec![[400, 2048], [3600, 2048]] };
        paint_lines(&mut board, &[line]);
        assert_eq!(*board.get_pixel(512, 288), ink_colour(Ink::Red), "on the line, across the middle");
        assert_eq!(board.get_pixel(512, 100)[3], 0, "clear off the line");
        assert_eq!(board.get_pixel(50, 288)[3], 0, "clear before the line starts");
    }

    /// A one-page PDF of `width` × `height` points with a filled rectangle.
    pub(crate) fn pdf(width: u32, height: u32) -> Vec<u8> {
        let content = "1 0.5 0.2 rg 20 20 100 60 re f";
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R >>"),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (n, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n{object}\nendobj\n", n + 1).bytes());
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
        for offset in offsets {
            out.extend(format!("{offset:010} 00000 n \n").bytes());
        }
        out.extend(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).bytes());
        out
    }

    #[test]
    fn a_pdf_page_is_drawn_to_a_picture_and_a_huge_one_is_refused() {
        let pages = pages_from_file_bytes(pdf(160, 90)).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(pages.len(), 1);
        let (info, bytes) = &pages[0];
        assert_eq!((info.kind, info.width, info.height), (PageKind::Jpeg, 1600, 900));
        let picture = decode_received(info, bytes).unwrap_or_else(|| panic!("the page decodes"));
        // The orange rectangle is drawn where the PDF puts it (PDF's y goes up).
        let inside = picture.get_pixel(700, 900 - 500);
        assert!(inside[0] > 200 && inside[1] > 100 && inside[1] < 160 && inside[2] < 80, "orange inside: {inside:?}");
        let outside = picture.get_pixel(1500, 100);
        assert!(outside.0[..3].iter().all(|c| *c > 240), "white outside: {outside:?}");
        assert_eq!(pages_from_file_bytes(pdf(100_000, 100_000)), Err(PageProblem::TooBig));
    }
}
