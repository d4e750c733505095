//! Pictures a child saves (the bamboo, the wall screen): written as PNG
//! through a temporary file, and where they went said short enough to read.

/// Where a saved picture went, short enough for a child to read and a nurse
/// to find: its folder's folder, its folder and its name ("Pictures/Tsunagu/tanabata-….png").
pub fn where_it_went(path: &std::path::Path) -> String {
    let parts: Vec<String> = path.components().rev().take(3).map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// Write `rgb` (8-bit, `width` × `height`) to `path` as a PNG, through a
/// temporary file so a half-written picture never has the name.
pub fn write_rgb_png(path: &std::path::Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), String> {
    if rgb.len() != (width * height * 3) as usize {
        return Err(format!("{} bytes for {width}x{height} pixels", rgb.len()));
    }
    let folder = path.parent().ok_or("no folder")?;
    std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
    let partial = path.with_extension("png.part");
    let file = std::fs::File::create(&partial).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder.write_header().and_then(|mut writer| writer.write_image_data(rgb).and_then(|()| writer.finish()));
    written.map_err(|e| e.to_string())?;
    std::fs::rename(&partial, path).map_err(|e| e.to_string())
}
