//! The HUD's frame as features see it: the cards that float over the room,
//! the slots a screen leaves for features to fill, the notices that stand
//! while something is missing, and the short line said for a moment. The
//! `hud` and `start` features draw the frames; every other feature fills
//! a slot ([`FillSlot`]) and never names another feature's widgets.

use bevy::prelude::*;

use crate::kit::palette;
use crate::kit::text::UiFont;

/// A place in a screen's frame that features fill with their widgets.
#[derive(Component, Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Slot {
    /// The start screen's avatar card, under the turning preview.
    StartLook,
    /// The start screen's sound choices.
    StartVoice,
    /// The room's first card, under the people count.
    People,
    /// The row of buttons that open panels.
    Buttons,
    /// Under the buttons: the panels they open, hidden until then.
    Panels,
    /// The voice bar at the bottom of the room.
    Voice,
    /// The headset's wrist menu: gestures and stamps, in rows.
    WristExpressions,
    /// The wrist menu's buttons for me: hand, microphone, calm, space (two a row).
    WristButtons,
}

/// A button's shape on the wrist menu: big, for a finger pointed from arm's length.
pub fn wrist_button() -> Node {
    Node {
        padding: UiRect::axes(Val::Px(12.0), Val::Px(8.0)),
        min_height: Val::Px(56.0),
        align_items: AlignItems::Center,
        justify_content: JustifyContent::Center,
        border_radius: BorderRadius::all(Val::Px(12.0)),
        flex_grow: 1.0,
        ..default()
    }
}

/// Adds one feature's widgets to a slot.
type Filler = Box<dyn Fn(&mut ChildSpawnerCommands, &UiFont) + Send + Sync>;

/// Every feature's fillers, in the order their plugins were added.
#[derive(Resource, Default)]
struct SlotFillers(Vec<(Slot, Filler)>);

/// Registering what a feature puts into a [`Slot`].
pub trait FillSlot {
    /// Whenever a screen spawns `slot`, `fill` adds this feature's widgets
    /// to it, after those of the features whose plugins came before.
    fn fill_slot(&mut self, slot: Slot, fill: impl Fn(&mut ChildSpawnerCommands, &UiFont) + Send + Sync + 'static) -> &mut Self;
}

impl FillSlot for App {
    fn fill_slot(&mut self, slot: Slot, fill: impl Fn(&mut ChildSpawnerCommands, &UiFont) + Send + Sync + 'static) -> &mut Self {
        if !self.world().contains_resource::<SlotFillers>() {
            self.init_resource::<SlotFillers>().add_observer(fill_the_slot);
        }
        self.world_mut().resource_mut::<SlotFillers>().0.push((slot, Box::new(fill)));
        self
    }
}

/// One observer fills every slot, so the order is the plugins' (observers
/// of their own would each queue commands, in no order to rely on).
fn fill_the_slot(added: On<Add, Slot>, slots: Query<&Slot>, fillers: Res<SlotFillers>, font: Res<UiFont>, mut commands: Commands) {
    let Ok(slot) = slots.get(added.entity) else { return };
    commands.entity(added.entity).with_children(|parent| {
        for (_, fill) in fillers.0.iter().filter(|(s, _)| s == slot) {
            fill(parent, &font);
        }
    });
}

/// What stands on screen while it is true, as message ids, by who says it
/// (the voice says the sound is missing, the headset that it is off). Said
/// in the order the sayers were registered (their plugins' order, whichever
/// system runs first in a frame); a sayer never registered goes after them,
/// in the order it first spoke.
#[derive(Resource, Default, Debug)]
pub struct StandingNotices(Vec<(&'static str, Option<&'static str>)>);

impl StandingNotices {
    /// Keep `sayer`'s place in the order, before it has anything to say.
    pub fn register(&mut self, sayer: &'static str) {
        if !self.0.iter().any(|(who, _)| *who == sayer) {
            self.0.push((sayer, None));
        }
    }

    /// What `sayer` needs said now (`None`: nothing any more).
    pub fn set(&mut self, sayer: &'static str, id: Option<&'static str>) {
        match self.0.iter_mut().find(|(who, _)| *who == sayer) {
            Some((_, said)) => *said = id,
            None if id.is_some() => self.0.push((sayer, id)),
            None => {}
        }
    }

    /// What `sayer` says now.
    pub fn said_by(&self, sayer: &'static str) -> Option<&'static str> {
        self.0.iter().find(|(who, _)| *who == sayer).and_then(|(_, id)| *id)
    }

    /// The message ids to show, in order.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().filter_map(|(_, id)| *id)
    }
}

/// Keep `sayer`'s standing notice as `wanted` says, touching the resource
/// only when it changes (so the HUD redraws only then).
pub fn say_standing(notices: &mut ResMut<StandingNotices>, sayer: &'static str, wanted: Option<&'static str>) {
    if notices.said_by(sayer) != wanted {
        notices.set(sayer, wanted);
    }
}

/// A card of the desktop's UI (a root node): it goes into the picture while
/// a headset runs.
#[derive(Component)]
pub struct HudCard;

/// A short line for a moment (seconds of real time when it came, and its
/// message id): why the server refused something of ours, or that the staff
/// were told.
#[derive(Resource, Default)]
pub struct ShortNotice(pub Option<(f64, &'static str)>);

/// A card of the HUD (labels hung over the room keep clear of them).
#[derive(Component, Clone, Copy, Default)]
pub struct Card;

/// The cards shown over the window (not those drawn into a headset's picture).
#[derive(bevy::ecs::system::SystemParam)]
pub struct CardsOnScreen<'w, 's> {
    cards:
        Query<'w, 's, (&'static ComputedNode, &'static UiGlobalTransform, &'static InheritedVisibility, &'static ComputedUiTargetCamera), With<Card>>,
}

impl CardsOnScreen<'_, '_> {
    /// Their rectangles in the window of `camera`, logical pixels.
    pub fn rects(&self, camera: Entity) -> Vec<Rect> {
        self.cards
            .iter()
            .filter(|(_, _, shown, target)| shown.get() && target.get().is_none_or(|c| c == camera))
            .map(|(node, place, _, _)| {
                Rect::from_center_size(place.translation * node.inverse_scale_factor(), node.size() * node.inverse_scale_factor())
            })
            .collect()
    }
}

/// After `hang_over` placed a label of `size`: moved clear of `taken` (the
/// cards, and labels placed before it), and counted among them.
pub fn keep_clear(node: &mut Node, size: Vec2, taken: &mut Vec<Rect>, screen: Rect) {
    if let (Val::Px(left), Val::Px(top)) = (node.left, node.top) {
        let wanted = Rect::from_corners(Vec2::new(left, top), Vec2::new(left, top) + size);
        let moved = clear_of_cards(wanted, taken, screen);
        node.left = Val::Px(moved.min.x);
        node.top = Val::Px(moved.min.y);
        taken.push(moved);
    }
}

/// Where a label meant for `wanted` (logical pixels) goes so that no card
/// hides it: where it is if nothing covers it, else the nearest clear spot on
/// `screen` whose sides line up just beside, above or below cards (or where
/// it was meant to be, in one direction); where it is if there is none.
pub fn clear_of_cards(wanted: Rect, cards: &[Rect], screen: Rect) -> Rect {
    let clear = |r: &Rect| cards.iter().all(|c| c.intersect(*r).is_empty()) && screen.contains(r.min) && screen.contains(r.max);
    if clear(&wanted) {
        return wanted;
    }
    const GAP: f32 = 6.0;
    let size = wanted.size();
    let xs: Vec<f32> = std::iter::once(wanted.min.x).chain(cards.iter().flat_map(|c| [c.min.x - GAP - size.x, c.max.x + GAP])).collect();
    let ys: Vec<f32> = std::iter::once(wanted.min.y).chain(cards.iter().flat_map(|c| [c.min.y - GAP - size.y, c.max.y + GAP])).collect();
    xs.iter()
        .flat_map(|x| ys.iter().map(move |y| Vec2::new(*x, *y)))
        .map(|corner| Rect::from_corners(corner, corner + size))
        .filter(clear)
        .min_by(|a, b| a.min.distance(wanted.min).total_cmp(&b.min.distance(wanted.min)))
        .unwrap_or(wanted)
}

/// A card floating over the room: the HUD's, the chat's and the gesture bar's.
pub fn panel() -> (Node, BackgroundColor, Card) {
    (
        Node {
            flex_direction: FlexDirection::Column,
            row_gap: Val::Px(4.0),
            padding: UiRect::axes(Val::Px(16.0), Val::Px(10.0)),
            border_radius: BorderRadius::all(Val::Px(14.0)),
            ..default()
        },
        BackgroundColor(palette::CARD.with_alpha(0.88)),
        Card,
    )
}

/// How a bar button looks: `Plain` for most, `Main` (the accent colour) for
/// the one a person should find first (the staff's panel, the headset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarButtonLook {
    /// The usual soft button.
    Plain,
    /// The accent colour, white letters.
    Main,
}

/// A button of the HUD's bar (and its panels), one shape for all: `marker`
/// says what it does; its label is the message `label`, or, with `None`, a
/// text its feature writes; `hidden` keeps it out of the layout until its
/// feature shows it.
pub fn spawn_bar_button(
    parent: &mut ChildSpawnerCommands,
    font: &UiFont,
    marker: impl Bundle,
    label: Option<&'static str>,
    look: BarButtonLook,
    hidden: bool,
) {
    let (background, ink) = match look {
        BarButtonLook::Plain => (palette::BUTTON, palette::INK),
        BarButtonLook::Main => (palette::ACCENT, Color::WHITE),
    };
    let node = Node {
        padding: UiRect::axes(Val::Px(12.0), Val::Px(5.0)),
        border_radius: BorderRadius::all(Val::Px(10.0)),
        display: if hidden { Display::None } else { Display::Flex },
        ..default()
    };
    parent.spawn((Button, marker, node, BackgroundColor(background))).with_children(|button| {
        let mut text = button.spawn(crate::kit::text::ui_text(font, "", 15.0, ink));
        if let Some(label) = label {
            text.insert(crate::kit::text::Localized(label));
        }
    });
}

/// A card of the room's own, floating over it (the chat, the gesture bar):
/// the cards' look, placed as `place` says, gone when the room is left, and
/// drawn into the headset's board while a headset runs.
pub fn floating_card(place: impl FnOnce(Node) -> Node) -> impl Bundle {
    let (card, background, marker) = panel();
    (DespawnOnExit(crate::AppState::InRoom), HudCard, marker, place(Node { position_type: PositionType::Absolute, ..card }), background)
}
