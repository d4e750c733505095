//! The ward room as data. The client draws it and gives each solid piece a
//! collider; the server keeps avatars inside the same walkable space. One list,
//! so the two can never disagree about where a bed is.
//!
//! Coordinates: metres, Y up, the room's floor centre at the origin, the big
//! screen on the north wall (−Z), windows either side of it.

use bevy_math::{Vec2, Vec3};

/// What a solid piece of the room is; the client chooses how each looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PieceKind {
    /// An outer wall.
    Wall,
    /// A hospital bed, headboard against the west wall.
    Bed,
    /// A small cabinet beside a bed.
    BedsideCabinet,
    /// A chest of toys in the play corner.
    ToyBox,
    /// A low table in the play corner.
    LowTable,
    /// The pot of the Tanabata bamboo.
    BambooPot,
    /// A soft bench under the windows.
    Bench,
}

/// An axis-aligned solid box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    /// What it is.
    pub kind: PieceKind,
    /// Centre of the box.
    pub center: Vec3,
    /// Half its size along each axis.
    pub half_extents: Vec3,
}

/// The whole room.
#[derive(Clone, Debug)]
pub struct WardLayout {
    /// Inner wall faces: x from −half.x to +half.x, z from −half.y to +half.y.
    pub interior_half: Vec2,
    /// Ceiling height.
    pub ceiling: f32,
    /// Walls and furniture.
    pub pieces: Vec<Piece>,
    /// Where the play-corner rug lies (centre on the floor, radius).
    pub rug: (Vec3, f32),
    /// Window centres on the north wall and their half size (width, height).
    pub windows: Vec<(Vec3, Vec2)>,
    /// The big screen's centre on the north wall and its half size.
    pub screen: (Vec3, Vec2),
    /// Where the bamboo stands.
    pub bamboo: Vec3,
    /// The dartboard on the east wall.
    pub dartboard: Dartboard,
}

/// A round dartboard hanging on the east wall, facing west (−X).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dartboard {
    /// The centre of its face.
    pub center: Vec3,
    /// Its radius, metres.
    pub radius: f32,
}

/// Wall thickness.
pub const WALL: f32 = 0.2;

impl WardLayout {
    /// The one ward room of this version.
    pub fn ward() -> Self {
        let half = Vec2::new(7.0, 5.0);
        let ceiling = 3.2;
        let solid = |kind, center: [f32; 3], size: [f32; 3]| Piece { kind, center: Vec3::from(center), half_extents: Vec3::from(size) / 2.0 };
        let mut pieces = vec![
            solid(PieceKind::Wall, [0.0, ceiling / 2.0, -half.y - WALL / 2.0], [2.0 * half.x + 2.0 * WALL, ceiling, WALL]),
            solid(PieceKind::Wall, [0.0, ceiling / 2.0, half.y + WALL / 2.0], [2.0 * half.x + 2.0 * WALL, ceiling, WALL]),
            solid(PieceKind::Wall, [-half.x - WALL / 2.0, ceiling / 2.0, 0.0], [WALL, ceiling, 2.0 * half.y]),
            solid(PieceKind::Wall, [half.x + WALL / 2.0, ceiling / 2.0, 0.0], [WALL, ceiling, 2.0 * half.y]),
        ];
        // Three beds along the west wall, each with a cabinet on its south side.
        for z in [-3.2, 0.0, 3.2] {
            pieces.push(solid(PieceKind::Bed, [-half.x + 1.05, 0.3, z], [2.1, 0.6, 1.1]));
            pieces.push(solid(PieceKind::BedsideCabinet, [-half.x + 0.3, 0.35, z + 0.95], [0.5, 0.7, 0.5]));
        }
        pieces.push(solid(PieceKind::ToyBox, [5.9, 0.3, 1.2], [0.9, 0.6, 0.6]));
        pieces.push(solid(PieceKind::LowTable, [3.6, 0.2, 0.9], [1.0, 0.4, 0.7]));
        pieces.push(solid(PieceKind::BambooPot, [5.9, 0.25, -3.9], [0.7, 0.5, 0.7]));
        pieces.push(solid(PieceKind::Bench, [-3.6, 0.22, -half.y + 0.35], [2.2, 0.44, 0.6]));
        WardLayout {
            interior_half: half,
            ceiling,
            pieces,
            rug: (Vec3::new(3.6, 0.0, 0.9), 2.0),
            windows: vec![(Vec3::new(-3.6, 1.75, -half.y), Vec2::new(1.1, 0.8)), (Vec3::new(3.0, 1.75, -half.y), Vec2::new(1.1, 0.8))],
            screen: (Vec3::new(-0.3, 1.7, -half.y), Vec2::new(1.5, 0.85)),
            bamboo: Vec3::new(5.9, 0.5, -3.9),
            // Between the bamboo and the toy box, at a child's eye height.
            dartboard: Dartboard { center: Vec3::new(half.x - 0.03, 1.45, -1.4), radius: 0.23 },
        }
    }

    /// Solid pieces that are furniture, not walls.
    pub fn furniture(&self) -> impl Iterator<Item = &Piece> {
        self.pieces.iter().filter(|p| p.kind != PieceKind::Wall)
    }

    /// Where the `n`th person to join appears: a row facing the screen, clear of furniture.
    pub fn spawn_point(&self, n: u32) -> Vec3 {
        let slots = [0.0, -1.2, 1.2, -2.4, 2.4, -0.6, 0.6, -1.8, 1.8];
        let x = slots[n as usize % slots.len()];
        let row = (n as usize / slots.len()) as f32;
        self.clamp_walkable(Vec3::new(x, 0.0, 1.8 + row * 0.8), crate::motion::AVATAR_RADIUS)
    }

    /// The nearest place to `pos` where a standing avatar of `radius` fits: inside
    /// the walls and outside every piece of furniture. Y is set to the floor.
    pub fn clamp_walkable(&self, pos: Vec3, radius: f32) -> Vec3 {
        let limit = self.interior_half - Vec2::splat(radius);
        let mut p = Vec2::new(finite_or_zero(pos.x).clamp(-limit.x, limit.x), finite_or_zero(pos.z).clamp(-limit.y, limit.y));
        // Push out of furniture along the shallowest axis; two passes settle corners
        // where two pieces meet.
        for _ in 0..2 {
            for piece in self.furniture() {
                let half = Vec2::new(piece.half_extents.x, piece.half_extents.z) + Vec2::splat(radius);
                let centre = Vec2::new(piece.center.x, piece.center.z);
                let d = p - centre;
                let overlap = half - d.abs();
                if overlap.x > 0.0 && overlap.y > 0.0 {
                    if overlap.x < overlap.y {
                        p.x = centre.x + half.x * 1f32.copysign(d.x);
                    } else {
                        p.y = centre.y + half.y * 1f32.copysign(d.y);
                    }
                }
            }
            p = p.clamp(-limit, limit);
        }
        Vec3::new(p.x, 0.0, p.y)
    }
}

fn finite_or_zero(v: f32) -> f32 {
    if v.is_finite() { v } else { 0.0 }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::AVATAR_RADIUS;

    fn inside_furniture(layout: &WardLayout, p: Vec3) -> bool {
        layout.furniture().any(|f| {
            (p.x - f.center.x).abs() < f.half_extents.x + AVATAR_RADIUS - 1e-4 && (p.z - f.center.z).abs() < f.half_extents.z + AVATAR_RADIUS - 1e-4
        })
    }

    #[test]
    fn spawn_points_are_free_and_inside() {
        let ward = WardLayout::ward();
        for n in 0..40 {
            let p = ward.spawn_point(n);
            assert!(!inside_furniture(&ward, p), "spawn {n} at {p} is inside furniture");
            assert!(p.x.abs() < ward.interior_half.x && p.z.abs() < ward.interior_half.y);
        }
    }

    #[test]
    fn clamping_keeps_avatars_out_of_walls_and_beds() {
        let ward = WardLayout::ward();
        let bed = ward.pieces.iter().find(|p| p.kind == PieceKind::Bed).unwrap();
        let on_bed = ward.clamp_walkable(bed.center, AVATAR_RADIUS);
        assert!(!inside_furniture(&ward, on_bed), "{on_bed}");
        let outside = ward.clamp_walkable(Vec3::new(100.0, 5.0, -100.0), AVATAR_RADIUS);
        assert!(outside.x <= ward.interior_half.x - AVATAR_RADIUS);
        assert!(outside.z >= -ward.interior_half.y + AVATAR_RADIUS);
        assert_eq!(outside.y, 0.0);
        let nan = ward.clamp_walkable(Vec3::new(f32::NAN, 0.0, f32::INFINITY), AVATAR_RADIUS);
        assert!(nan.is_finite());
    }

    #[test]
    fn a_free_point_is_left_alone() {
        let ward = WardLayout::ward();
        let p = Vec3::new(0.5, 0.0, 1.0);
        assert_eq!(ward.clamp_walkable(p, AVATAR_RADIUS), p);
    }
}

/// docs/protocol.md tells other clients where a body may stand; its furniture
/// table must be this layout, piece for piece.
#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod protocol_doc {
    use super::*;

    #[test]
    fn the_protocol_documents_every_piece_of_furniture_exactly() {
        let doc = std::fs::read_to_string(format!(
            "{}/../../docs/protocol.md",
            std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo")
        ))
        .expect("docs/protocol.md");
        let section = doc.split("### Where a body may stand").nth(1).expect("the walkable-space section");
        let mut documented: Vec<[i32; 4]> = Vec::new();
        let cm = |v: &str| (v.trim().replace('−', "-").parse::<f32>().expect("a number") * 100.0).round() as i32;
        for row in section
            .lines()
            .take_while(|l| !l.starts_with("###"))
            .filter(|l| l.starts_with("| ") && !l.starts_with("| piece") && !l.starts_with("| ---"))
        {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let (centre, size) = (cells[2], cells[3]);
            let (x, zs) = centre.split_once(',').expect("x, z");
            let (sx, sz) = size.split_once('×').expect("x × z");
            for z in zs.split('/') {
                documented.push([cm(x), cm(z), cm(sx), cm(sz)]);
            }
        }
        let mut actual: Vec<[i32; 4]> = WardLayout::ward()
            .furniture()
            .map(|p| {
                let c = |v: f32| (v * 100.0).round() as i32;
                [c(p.center.x), c(p.center.z), c(p.half_extents.x * 2.0), c(p.half_extents.z * 2.0)]
            })
            .collect();
        documented.sort();
        actual.sort();
        assert_eq!(documented, actual);
        let half = WardLayout::ward().interior_half;
        assert!(section.contains(&format!("x from −{} to {} m, z from −{} to {} m", half.x, half.x, half.y, half.y)));
        assert!(section.contains(&format!("radius **{} m**", crate::motion::AVATAR_RADIUS)));
    }
}
