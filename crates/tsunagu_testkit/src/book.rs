//! Pictures for tests and benches. A picture book's page: sky, sun, hills
//! and a house, different on each page, 1280×720 (as a JPEG it is the size
//! a real page is; a flat colour would be a few hundred bytes). A PNG that
//! lies about its size, as a decompression bomb does.

use image::{Rgba, RgbaImage};

/// The sky's colour at the top of a page (tests look for it on the wall).
pub const SKY_TOP: [u8; 3] = [120, 180, 240];
/// The sun's colour.
pub const SUN: [u8; 3] = [255, 200, 60];

/// Page `n` of the book.
pub fn book_page(n: u32) -> RgbaImage {
    let (w, h) = (1280u32, 720u32);
    let sun = (200.0 + 140.0 * n as f32, 150.0 + 20.0 * n as f32);
    RgbaImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let hill = 520.0 + 60.0 * ((fx / 180.0) + n as f32).sin();
        let house = (700.0..900.0).contains(&fx) && (380.0..560.0).contains(&fy);
        let roof = fy < 380.0 && fy > 300.0 + (fx - 800.0).abs() * 0.8 && (680.0..920.0).contains(&fx);
        let in_sun = (fx - sun.0).powi(2) + (fy - sun.1).powi(2) < 70.0f32.powi(2);
        let [r, g, b] = if in_sun {
            SUN
        } else if roof {
            [190, 70, 50]
        } else if house {
            [245, 230, 200]
        } else if fy > hill {
            [90, (150.0 + 40.0 * (fx / 97.0).sin()) as u8, 70]
        } else {
            [SKY_TOP[0] + (fy / 8.0) as u8, SKY_TOP[1] + (fy / 10.0) as u8, SKY_TOP[2]]
        };
        Rgba([r, g, b, 255])
    })
}

/// A flat PNG of `width` × `height`.
pub fn png(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(width, height, image::Rgb(colour));
    let mut bytes = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap_or_default();
    bytes
}

/// A PNG whose header says `width` × `height`, with one tiny IDAT: the
/// shape of a decompression bomb, without its size.
pub fn lying_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(4, 4, [0, 0, 0]);
    // The IHDR's width and height sit at bytes 16..24, its CRC (over type and data) at 29..33.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// PNG's CRC-32 (as a liar would compute it, to pass the header check).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
