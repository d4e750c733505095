//! The HUD's frame as features see it: the cards that float over the room,
//! the slots a screen leaves for features to fill, the drawers the room's
//! bar opens (one at a time, closing by themselves), the notices that stand
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
    /// The room's top left corner: small cards that come and go (raised
    /// hands, the key help while it teaches), one under the other.
    Corner,
    /// The bar's first part: the microphone, its level and the talk button,
    /// always one press away.
    Voice,
    /// Inside a drawer, shown while it is open.
    Drawer(Drawer),
    /// The headset's wrist menu: gestures and stamps, in rows.
    WristExpressions,
    /// The wrist menu's buttons for me: hand, microphone, calm, space (two a row).
    WristButtons,
}

/// A panel that a button of the room's bar opens, over the room, one at a
/// time. It closes with one more press of its button, with Esc, when
/// another opens, by itself once used (a gesture played, the invite
/// copied) and after [`DRAWER_IDLE_SECS`] untouched: at rest the room has
/// only the bar over it.
#[derive(Component, Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Drawer {
    /// How many are here, and whether this PC hosts the room.
    People,
    /// Gestures, the raised hand and stamps.
    Expressions,
    /// The chat's lines and the field to write in.
    Chat,
    /// Colours, hair and hats.
    Look,
    /// The Tanabata wishes.
    Wishes,
    /// The wall screen: drawing together, and (staff) pages to show.
    Screen,
    /// Talk mode, the mic test, which microphone and speakers.
    Voice,
    /// Calm, personal space, the letters' size, the view, the headset.
    Settings,
    /// The facilitators' panel.
    Staff,
    /// The invite to pass on (facilitators only: it lets anyone in).
    Invite,
}

impl Drawer {
    /// Every drawer, in the bar's order: what a child uses most comes first.
    pub const ALL: [Drawer; 10] = [
        Drawer::People,
        Drawer::Expressions,
        Drawer::Chat,
        Drawer::Look,
        Drawer::Wishes,
        Drawer::Screen,
        Drawer::Voice,
        Drawer::Settings,
        Drawer::Staff,
        Drawer::Invite,
    ];

    /// The message id of its button's label.
    pub fn label(self) -> &'static str {
        match self {
            Drawer::People => "drawer-people",
            Drawer::Expressions => "drawer-expressions",
            Drawer::Chat => "drawer-chat",
            Drawer::Look => "drawer-look",
            Drawer::Wishes => "drawer-wishes",
            Drawer::Screen => "drawer-screen",
            Drawer::Voice => "drawer-voice",
            Drawer::Settings => "drawer-settings",
            Drawer::Staff => "drawer-staff",
            Drawer::Invite => "drawer-invite",
        }
    }

    /// Only facilitators have it: a child never sees it, nor its button.
    pub fn staff_only(self) -> bool {
        matches!(self, Drawer::Staff | Drawer::Invite)
    }
}

/// An open drawer closes after this long untouched, seconds.
pub const DRAWER_IDLE_SECS: f64 = 30.0;

/// Which drawer is open, and when it was last touched (seconds of real time).
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq)]
pub struct OpenDrawer {
    open: Option<Drawer>,
    touched_at: f64,
}

impl OpenDrawer {
    /// The open drawer.
    pub fn get(&self) -> Option<Drawer> {
        self.open
    }

    /// Whether `drawer` is the open one.
    pub fn is_open(&self, drawer: Drawer) -> bool {
        self.open == Some(drawer)
    }

    /// Open `drawer` (closing any other).
    pub fn open(&mut self, drawer: Drawer, now: f64) {
        self.open = Some(drawer);
        self.touched_at = now;
    }

    /// Its button pressed: open it, or close it when it is open.
    pub fn toggle(&mut self, drawer: Drawer, now: f64) {
        if self.is_open(drawer) { self.close() } else { self.open(drawer, now) }
    }

    /// Close whichever is open.
    pub fn close(&mut self) {
        self.open = None;
    }

    /// Done with `drawer` (a gesture played, the invite copied): it closes,
    /// unless another one is open by now.
    pub fn used(&mut self, drawer: Drawer) {
        if self.is_open(drawer) {
            self.close();
        }
    }

    /// Something in the open drawer was touched (or typed in): it stays.
    pub fn touch(&mut self, now: f64) {
        self.touched_at = now;
    }

    /// Close it if it has been left untouched for [`DRAWER_IDLE_SECS`].
    pub fn close_if_idle(&mut self, now: f64) {
        if self.open.is_some() && now - self.touched_at >= DRAWER_IDLE_SECS {
            self.close();
        }
    }
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
    ui: Option<Res<'w, UiScale>>,
}

impl CardsOnScreen<'_, '_> {
    /// How many logical pixels one UI pixel takes (bigger letters, a tall window).
    pub fn ui_scale(&self) -> f32 {
        self.ui.as_ref().map_or(1.0, |ui| ui.0)
    }

    /// The window of `camera` in the UI's own pixels, as the cards' rectangles are.
    pub fn screen(&self, camera: &Camera) -> Option<Rect> {
        let window = camera.logical_viewport_rect()?;
        Some(Rect::from_corners(window.min / self.ui_scale(), window.max / self.ui_scale()))
    }

    /// Their rectangles in the window of `camera`, in the UI's own pixels.
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
    // Big enough to hit with an unsteady hand; a label never squeezed to wrap.
    let node = Node {
        padding: UiRect::axes(Val::Px(12.0), Val::Px(6.0)),
        min_height: Val::Px(44.0),
        align_items: AlignItems::Center,
        justify_content: JustifyContent::Center,
        border_radius: BorderRadius::all(Val::Px(12.0)),
        flex_shrink: 0.0,
        display: if hidden { Display::None } else { Display::Flex },
        ..default()
    };
    parent.spawn((Button, marker, node, BackgroundColor(background))).with_children(|button| {
        let mut text = button.spawn(crate::kit::text::ui_text(font, "", 17.0, ink));
        if let Some(label) = label {
            text.insert(crate::kit::text::Localized(label));
        }
    });
}
