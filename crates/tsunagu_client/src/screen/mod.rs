//! The wall screen: a picture book read together and a board everyone
//! draws on. A facilitator picks a picture or a PDF (made into pages off
//! the render thread, on this PC only) and turns its pages with big
//! buttons or Page Up / Page Down; everyone's screen follows the room. A
//! received page is decoded off the render thread with limits and
//! uploaded once; the next page is decoded ahead so a turn is instant, and
//! while a page is still on its way its small preview shows, blurred. The
//! board's lines are painted into one picture over the page, and a child
//! can save the two as a PNG in their own Pictures folder.

mod controls;
mod drawing;

use std::collections::HashMap;
use std::sync::Arc;

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::tasks::{AsyncComputeTaskPool, Task, block_on, poll_once};
use image::RgbaImage;
use tsunagu_client_core::pages::{decode_preview, decode_received, paint_lines};
use tsunagu_protocol::PageInfo;

use crate::AppState;
use crate::kit::net::Connection;
use crate::kit::pictures;
use crate::kit::scene::Ward;

pub use controls::{DrawingMode, Said, ScreenButton, ScreenFiles, ScreenStatus};

/// The board's picture, pixels (16:9, like the screen).
pub const BOARD_SIZE: (u32, u32) = (1024, 576);
/// The board is painted again at most this often while lines come in, seconds.
const BOARD_REPAINT_SECS: f64 = 0.1;
/// Decoded pages kept ready (the one shown and those around it).
const PAGES_KEPT: usize = 4;
/// How far in front of the wall screen's picture the page, the board and the pointer float, metres.
const PAGE_OUT: f32 = 0.095;
const BOARD_OUT: f32 = 0.1;
const POINTER_OUT: f32 = 0.105;

/// Pages on the wall screen, the board and the pointer.
pub struct ScreenPlugin;

impl Plugin for ScreenPlugin {
    fn build(&self, app: &mut App) {
        controls::build(app);
        app.init_resource::<WallPages>()
            .add_systems(OnEnter(AppState::InRoom), spawn_wall_screen)
            .add_systems(
                Update,
                (follow_the_page, finish_decoding, paint_board, place_pointer)
                    .chain()
                    .in_set(crate::kit::net::NetSet::Apply)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(OnExit(AppState::InRoom), |mut pages: ResMut<WallPages>| *pages = WallPages::default());
    }
}

/// The page shown on the wall.
#[derive(Component)]
pub struct WallPage;

/// The board's lines over it.
#[derive(Component)]
pub struct WallBoard;

/// Where the reader points.
#[derive(Component)]
pub struct WallPointer;

/// A page decoded for the wall: its picture for the GPU and a copy to save.
#[derive(Clone)]
pub struct ReadyPage {
    /// Uploaded once; its pixels leave main memory after.
    pub image: Handle<Image>,
    /// Its pixels, for 「しゃしんを ほぞん」.
    pub pixels: Arc<RgbaImage>,
}

/// What the wall shows and has ready.
#[derive(Resource, Default)]
pub struct WallPages {
    /// The hash of the page on the wall now.
    pub shown: Option<Vec<u8>>,
    /// Pages decoded, by hash.
    pub ready: HashMap<Vec<u8>, ReadyPage>,
    /// A page being decoded.
    decoding: Option<(Vec<u8>, Task<Option<RgbaImage>>)>,
    /// The page on the screen's small preview while its bytes come: the
    /// page's hash and the preview's picture; and one being decoded.
    preview: Option<(Vec<u8>, Handle<Image>)>,
    previewing: Option<(Vec<u8>, Task<Option<RgbaImage>>)>,
    /// Pages that would not decode (never tried again).
    pub broken: Vec<Vec<u8>>,
    /// The board's changes painted so far, and when.
    painted: Option<(u64, f64)>,
    /// The board's picture.
    board: Option<Handle<Image>>,
}

/// Where the screen is: its centre's front and its half size.
fn screen_frame(ward: &Ward) -> (Vec3, Vec2) {
    let (center, half) = ward.0.screen;
    (center + Vec3::Z * 0.075, half)
}

/// A point on the screen (screen units) from a point on its front plane.
pub fn screen_units(ward: &Ward, at: Vec3) -> Option<[u16; 2]> {
    let (front, half) = screen_frame(ward);
    let local = at - front;
    let (u, v) = ((local.x + half.x) / (half.x * 2.0), (half.y - local.y) / (half.y * 2.0));
    let units = f32::from(tsunagu_protocol::screen::SCREEN_UNITS);
    ((0.0..1.0).contains(&u) && (0.0..1.0).contains(&v)).then_some([(u * units) as u16, (v * units) as u16])
}

/// The point in the room of a place on the screen.
fn room_point(ward: &Ward, at: [u16; 2], out: f32) -> Vec3 {
    let (front, half) = screen_frame(ward);
    let units = f32::from(tsunagu_protocol::screen::SCREEN_UNITS);
    let (u, v) = (f32::from(at[0]) / units, f32::from(at[1]) / units);
    front + Vec3::new((u * 2.0 - 1.0) * half.x, (1.0 - v * 2.0) * half.y, out)
}

fn spawn_wall_screen(
    mut commands: Commands,
    ward: Res<Ward>,
    meshes: Option<ResMut<Assets<Mesh>>>,
    materials: Option<ResMut<Assets<StandardMaterial>>>,
    images: Option<ResMut<Assets<Image>>>,
    mut pages: ResMut<WallPages>,
) {
    let (Some(mut meshes), Some(mut materials), Some(mut images)) = (meshes, materials, images) else { return };
    let (front, half) = screen_frame(&ward);
    let quad = meshes.add(Rectangle::new(1.0, 1.0));
    let page = materials.add(StandardMaterial { base_color: Color::WHITE, unlit: true, ..default() });
    commands.spawn((
        WallPage,
        Mesh3d(quad.clone()),
        MeshMaterial3d(page),
        Transform::from_translation(front + Vec3::Z * PAGE_OUT).with_scale(Vec3::new(half.x * 2.0, half.y * 2.0, 1.0)),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
    ));
    let board = images.add(clear_board_image());
    pages.board = Some(board.clone());
    let board_material = materials.add(StandardMaterial { base_color_texture: Some(board), unlit: true, alpha_mode: AlphaMode::Blend, ..default() });
    commands.spawn((
        WallBoard,
        Mesh3d(quad),
        MeshMaterial3d(board_material),
        Transform::from_translation(front + Vec3::Z * BOARD_OUT).with_scale(Vec3::new(half.x * 2.0, half.y * 2.0, 1.0)),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
    ));
    // A soft, warm glow: easy to follow, never a laser.
    let dot = materials.add(StandardMaterial {
        base_color: Color::srgb(1.0, 0.75, 0.35),
        emissive: LinearRgba::rgb(2.0, 1.2, 0.4),
        unlit: true,
        ..default()
    });
    commands.spawn((
        WallPointer,
        Mesh3d(meshes.add(Circle::new(0.06))),
        MeshMaterial3d(dot),
        Transform::from_translation(front + Vec3::Z * POINTER_OUT),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
    ));
}

fn clear_board_image() -> Image {
    let (w, h) = BOARD_SIZE;
    rgba_image(RgbaImage::new(w, h), RenderAssetUsages::default())
}

fn rgba_image(pixels: RgbaImage, usage: RenderAssetUsages) -> Image {
    let (w, h) = pixels.dimensions();
    Image::new(
        Extent3d { width: w, height: h, depth_or_array_layers: 1 },
        TextureDimension::D2,
        pixels.into_raw(),
        TextureFormat::Rgba8UnormSrgb,
        usage,
    )
}

/// Show the page the room is on: at once if it is ready, else decode it
/// (off the render thread); when idle, decode the next one ahead.
fn follow_the_page(
    connection: Option<Res<Connection>>,
    mut pages: ResMut<WallPages>,
    mut walls: Query<(&mut Visibility, &mut Transform, &MeshMaterial3d<StandardMaterial>), With<WallPage>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    ward: Res<Ward>,
) {
    let Some(connection) = connection else { return };
    let Ok((mut visibility, mut transform, material)) = walls.single_mut() else { return };
    // What to put up (a page not shown yet) and what to decode (the page
    // on the screen or the next one): only those are copied out of the core,
    // so a frame with nothing new copies nothing.
    let wanted = |hash: &Vec<u8>| !pages.ready.contains_key(hash) && !pages.broken.contains(hash);
    let preview_wanted =
        |hash: &Vec<u8>| wanted(hash) && pages.previewing.is_none() && pages.preview.as_ref().is_none_or(|(previewed, _)| previewed != hash);
    let (on_screen, to_decode, to_preview) = connection.read(|core| {
        let screen = core.screen();
        let Some(current) = screen.current_page() else { return (None, None, None) };
        let put_up = (pages.shown.as_ref() != Some(&current.info.hash)).then(|| current.info.clone());
        let to_preview =
            current.preview.filter(|_| current.bytes.is_none() && preview_wanted(&current.info.hash)).map(|b| (current.info.hash.clone(), b.clone()));
        let to_decode = if pages.decoding.is_some() {
            None
        } else {
            let next = current.page.checked_add(1).and_then(|n| Some((screen.showing()?.pages.get(usize::from(n))?, screen.page_bytes(n)?)));
            [current.bytes.map(|b| (current.info, b)), next].into_iter().flatten().find(|(i, _)| wanted(&i.hash)).map(|(i, b)| (i.clone(), b.clone()))
        };
        (Some(put_up), to_decode, to_preview)
    });
    let Some(put_up) = on_screen else {
        visibility.set_if_neq(Visibility::Hidden);
        pages.shown = None;
        return;
    };
    if let Some(info) = put_up {
        if let Some(ready) = pages.ready.get(&info.hash).cloned() {
            if let Some(mut material) = materials.get_mut(&material.0) {
                material.base_color_texture = Some(ready.image);
            }
            let (_, half) = screen_frame(&ward);
            transform.scale = fitted(&info, half).extend(1.0);
            visibility.set_if_neq(Visibility::Inherited);
            pages.shown = Some(info.hash);
        } else if let Some((_, preview)) = pages.preview.as_ref().filter(|(hash, _)| *hash == info.hash) {
            // Its small preview meanwhile, stretched to the page's shape.
            if let Some(mut material) = materials.get_mut(&material.0) {
                material.base_color_texture = Some(preview.clone());
            }
            let (_, half) = screen_frame(&ward);
            transform.scale = fitted(&info, half).extend(1.0);
            visibility.set_if_neq(Visibility::Inherited);
        } else {
            // Not here or not decoded yet: the room's own picture shows meanwhile.
            visibility.set_if_neq(Visibility::Hidden);
        }
    }
    if let Some((hash, bytes)) = to_preview {
        pages.previewing = Some((hash, AsyncComputeTaskPool::get().spawn(async move { decode_preview(&bytes) })));
    }
    if let Some((info, bytes)) = to_decode {
        let hash = info.hash.clone();
        let task = AsyncComputeTaskPool::get().spawn(async move { decode_received(&info, &bytes) });
        pages.decoding = Some((hash, task));
    }
}

/// The page's size on the screen: as big as fits, its own shape.
fn fitted(info: &PageInfo, half: Vec2) -> Vec2 {
    let aspect = f32::from(info.width) / f32::from(info.height.max(1));
    let (w, h) = (half.x * 2.0, half.y * 2.0);
    if aspect > w / h { Vec2::new(w, w / aspect) } else { Vec2::new(h * aspect, h) }
}

fn finish_decoding(mut pages: ResMut<WallPages>, images: Option<ResMut<Assets<Image>>>) {
    let Some(mut images) = images else { return };
    if let Some((_, task)) = pages.previewing.as_mut()
        && let Some(decoded) = block_on(poll_once(task))
        && let Some((hash, _)) = pages.previewing.take()
    {
        // One preview at a time: the page on the screen's.
        if let Some((_, old)) = pages.preview.take() {
            images.remove(&old);
        }
        match decoded {
            Some(pixels) => pages.preview = Some((hash, images.add(rgba_image(pixels, RenderAssetUsages::RENDER_WORLD)))),
            None => debug!("tsunagu: a page's preview could not be decoded; the page comes whole"),
        }
    }
    let Some((_, task)) = pages.decoding.as_mut() else { return };
    let Some(decoded) = block_on(poll_once(task)) else { return };
    let Some((hash, _)) = pages.decoding.take() else { return };
    let Some(pixels) = decoded else {
        warn!("tsunagu: a page of the wall screen could not be decoded; not shown");
        pages.broken.push(hash);
        return;
    };
    let pixels = Arc::new(pixels);
    // The GPU gets the pixels once; main memory keeps only the copy to save.
    let image = images.add(rgba_image(pixels.as_ref().clone(), RenderAssetUsages::RENDER_WORLD));
    if pages.ready.len() >= PAGES_KEPT {
        let shown = pages.shown.clone();
        let old = pages.ready.keys().find(|h| Some(*h) != shown.as_ref()).cloned();
        if let Some(old) = old
            && let Some(gone) = pages.ready.remove(&old)
        {
            images.remove(&gone.image);
        }
    }
    pages.ready.insert(hash, ReadyPage { image, pixels });
}

/// The board's lines, painted again when they changed (at most ten times a second).
fn paint_board(
    connection: Option<Res<Connection>>,
    mut pages: ResMut<WallPages>,
    images: Option<ResMut<Assets<Image>>>,
    mut boards: Query<&mut Visibility, With<WallBoard>>,
    time: Res<Time<Real>>,
) {
    let (Some(connection), Some(mut images)) = (connection, images) else { return };
    let now = time.elapsed_secs_f64();
    let changes = connection.read(|core| core.screen().board_changes());
    if pages.painted.is_some_and(|(painted, at)| painted == changes || now - at < BOARD_REPAINT_SECS) {
        return;
    }
    let Some(board) = pages.board.clone() else { return };
    let (w, h) = BOARD_SIZE;
    let mut pixels = RgbaImage::new(w, h);
    let any = connection.read(|core| {
        paint_lines(&mut pixels, core.screen().lines());
        !core.screen().lines().is_empty()
    });
    if images.insert(&board, rgba_image(pixels, RenderAssetUsages::default())).is_err() {
        return;
    }
    for mut visibility in &mut boards {
        visibility.set_if_neq(if any { Visibility::Inherited } else { Visibility::Hidden });
    }
    pages.painted = Some((changes, now));
}

fn place_pointer(connection: Option<Res<Connection>>, ward: Res<Ward>, mut pointers: Query<(&mut Transform, &mut Visibility), With<WallPointer>>) {
    let Some(connection) = connection else { return };
    let Ok((mut transform, mut visibility)) = pointers.single_mut() else { return };
    match connection.read(|core| core.screen().pointer()) {
        Some((_, at)) => {
            transform.translation = room_point(&ward, at, POINTER_OUT);
            visibility.set_if_neq(Visibility::Inherited);
        }
        None => {
            visibility.set_if_neq(Visibility::Hidden);
        }
    }
}

/// The page on the wall with the board's lines over it, as a PNG in `folder`.
pub(super) fn save_picture(connection: &Connection, pages: &WallPages, folder: &std::path::Path) -> Said {
    let (w, h) = BOARD_SIZE;
    let (w, h) = (w * 3 / 2, h * 3 / 2);
    // The screen's own dark blue behind, where no page covers it.
    let mut picture = RgbaImage::from_pixel(w, h, image::Rgba([0x3c, 0x4f, 0x9a, 255]));
    if let Some(page) = pages.shown.as_ref().and_then(|hash| pages.ready.get(hash)) {
        let (pw, ph) = page.pixels.dimensions();
        let scale = (w as f32 / pw as f32).min(h as f32 / ph as f32);
        let (sw, sh) = (((pw as f32 * scale) as u32).max(1), ((ph as f32 * scale) as u32).max(1));
        let scaled = image::imageops::resize(page.pixels.as_ref(), sw, sh, image::imageops::FilterType::Triangle);
        image::imageops::overlay(&mut picture, &scaled, i64::from((w - sw) / 2), i64::from((h - sh) / 2));
    }
    connection.read(|core| paint_lines(&mut picture, core.screen().lines()));
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path = tsunagu_client_core::settings::picture_path(folder, "screen", unix);
    let rgb: Vec<u8> = picture.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
    match pictures::write_rgb_png(&path, w, h, &rgb) {
        Ok(()) => {
            info!("tsunagu: saved a picture of the wall screen");
            Said::Saved(pictures::where_it_went(&path))
        }
        Err(e) => {
            warn!("tsunagu: could not save a picture of the wall screen: {e}");
            Said::Line("screen-save-failed")
        }
    }
}
