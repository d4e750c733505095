//! How the right hand points at and presses panels in the room (the wrist
//! menu, the room's board): the ray, the panels drawn from UI into pictures,
//! and the buttons under a point of one, pressed as the window's pointer would.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_mod_xr::session::XrTrackingRoot;
use tsunagu_sim::rig::point_on_panel;

/// Which button the right hand points at, and which it pressed.
#[derive(Resource, Default, Debug)]
pub struct WristPointer {
    /// Pointed at now.
    pub hovered: Option<Entity>,
    /// Pressed (until the trigger lets go).
    pub pressed: Option<Entity>,
    /// The right hand points at the menu (the trigger is the menu's, not a teleport).
    pub on_menu: bool,
}

/// A panel in the room showing UI drawn into a picture, which the right
/// hand's pointer presses: the wrist menu, and the room's board.
#[derive(Component, Clone, Copy, Debug)]
pub struct PointedPanel {
    /// The camera drawing its UI.
    pub camera: Entity,
    /// Its picture, pixels.
    pub picture: UVec2,
    /// Its size in the room, metres.
    pub size: Vec2,
}

/// The right hand's pointing ray, and the tracking root that puts it in the room.
#[derive(SystemParam)]
pub(crate) struct RightHandRay<'w, 's> {
    aim: Query<'w, 's, (&'static Transform, &'static bevy_mod_xr::spaces::XrSpaceLocationFlags), With<crate::headset::controllers::Aim>>,
    root: Query<'w, 's, &'static GlobalTransform, With<XrTrackingRoot>>,
}

impl RightHandRay<'_, '_> {
    /// Where the ray starts and how it turns, in the room, while it is tracked.
    pub(crate) fn in_the_room(&self) -> Option<(Vec3, Quat)> {
        let root = self.root.single().map(|r| r.compute_transform()).unwrap_or_default();
        let (ray, flags) = self.aim.single().ok()?;
        flags.position_tracked.then(|| (root.transform_point(ray.translation), root.rotation * ray.rotation))
    }
}

/// The buttons drawn into pictures, and how each is pressed.
#[derive(SystemParam)]
pub(crate) struct PanelButtons<'w, 's> {
    shapes: Query<'w, 's, (Entity, &'static ComputedNode, &'static UiGlobalTransform, &'static ComputedUiTargetCamera), With<Button>>,
    interactions: Query<'w, 's, &'static mut Interaction>,
}

impl PanelButtons<'_, '_> {
    /// The buttons drawn by `camera` (another picture's, or the window's, are elsewhere), as `button_at` takes them.
    pub(crate) fn on(&self, camera: Entity) -> impl Iterator<Item = (Entity, Vec2, Vec2)> + '_ {
        self.shapes
            .iter()
            .filter(move |(_, _, _, target)| target.get() == Some(camera))
            .map(|(e, node, place, _)| (e, place.translation, node.size()))
    }

    /// The button `camera` draws under `pixel` of its picture.
    pub(crate) fn at(&self, camera: Entity, pixel: Vec2) -> Option<Entity> {
        button_at(pixel, self.on(camera))
    }

    /// Tell `button` it is pressed or hovered, as the window's pointer would.
    pub(crate) fn set(&mut self, button: Entity, to: Interaction) {
        if let Ok(mut interaction) = self.interactions.get_mut(button) {
            interaction.set_if_neq(to);
        }
    }
}

/// The button under `pixel` of a picture, among `buttons`.
pub fn button_at(pixel: Vec2, buttons: impl IntoIterator<Item = (Entity, Vec2, Vec2)>) -> Option<Entity> {
    buttons.into_iter().find(|(_, centre, size)| (pixel - *centre).abs().cmple(*size / 2.0).all()).map(|(e, _, _)| e)
}

/// Point with the right hand; the trigger presses. What is pressed is told
/// to the buttons as a click (`Interaction`, right after the window's own
/// pointer was read), so they do what they do on the desktop. While the hand
/// points at the menu, the trigger does not teleport.
pub(crate) fn use_menu(
    headset_buttons: Res<crate::headset::controllers::HeadsetButtons>,
    ray: RightHandRay,
    panels: Query<(&GlobalTransform, &PointedPanel)>,
    mut buttons: PanelButtons,
    mut pointer: ResMut<WristPointer>,
    mut headset: ResMut<crate::headset::rig::HeadsetRig>,
    recentre: Query<(), With<RecentreButton>>,
) {
    let trigger_down = headset_buttons.trigger_down;
    // The nearest panel the ray meets (the wrist's, or the room's board), and where on its picture.
    let hit = match ray.in_the_room() {
        Some(ray) => panels
            .iter()
            .filter_map(|(place, panel)| {
                let place = place.compute_transform();
                let at = point_on_panel(ray, (place.translation, place.rotation), panel.size)?;
                Some((ray.0.distance(place.translation), panel, at))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, panel, at)| (panel.camera, at * panel.picture.as_vec2())),
        _ => None,
    };
    let hovered = hit.and_then(|(camera, pixel)| buttons.at(camera, pixel));
    match (trigger_down, pointer.pressed, hovered) {
        (true, None, Some(button)) => {
            buttons.set(button, Interaction::Pressed);
            pointer.pressed = Some(button);
            if recentre.contains(button) {
                headset.recentre = true;
            }
        }
        (false, Some(_), _) => pointer.pressed = None,
        (false, None, Some(button)) => buttons.set(button, Interaction::Hovered),
        _ => {}
    }
    pointer.hovered = hovered;
    pointer.on_menu = hit.is_some();
}

/// The menu's own button: straighten my view.
#[derive(Component)]
pub struct RecentreButton;
