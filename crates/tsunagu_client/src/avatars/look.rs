//! Choosing how the avatar looks: body colour, a hairstyle or a hat and its
//! colour, and things to wear. The same choices on the start screen (beside a
//! turning preview of the avatar) and in the room (behind a button); every
//! change is remembered on this PC and, in the room, shown to everyone.

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use tsunagu_protocol::{AvatarLook, ClientEvent, Headwear, PeerId, PeerInfo, Role};

use crate::avatars::{AvatarKit, Wardrobe};
use crate::kit::hud::{Drawer, FillSlot, Slot};
use crate::kit::net::SendRoomEvent;
use crate::kit::palette;
use crate::kit::room::Avatar;
use crate::kit::text::{Localized, UiFont, ui_text};
use crate::{AppState, BODY_COLORS, HEADWEAR_COLORS, Settings, SettingsFile};

/// One thing to choose.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookChoice {
    /// The body colour.
    Body([u8; 3]),
    /// A hairstyle or hat.
    Headwear(Headwear),
    /// Its colour.
    HeadwearColour([u8; 3]),
    /// Glasses on or off.
    Glasses,
    /// A ribbon on or off.
    Ribbon,
    /// A scarf on or off.
    Scarf,
}

impl LookChoice {
    /// `look` with this choice made (accessories toggle).
    pub fn apply(self, mut look: AvatarLook) -> AvatarLook {
        match self {
            LookChoice::Body(c) => look.body_color = c,
            LookChoice::Headwear(h) => look.headwear = h,
            LookChoice::HeadwearColour(c) => look.headwear_color = c,
            LookChoice::Glasses => look.accessories.glasses ^= true,
            LookChoice::Ribbon => look.accessories.ribbon ^= true,
            LookChoice::Scarf => look.accessories.scarf ^= true,
        }
        look
    }

    /// Whether `look` shows this choice as made.
    pub fn is_chosen(self, look: &AvatarLook) -> bool {
        match self {
            LookChoice::Body(c) => look.body_color == c,
            LookChoice::Headwear(h) => look.headwear == h,
            LookChoice::HeadwearColour(c) => look.headwear_color == c,
            LookChoice::Glasses => look.accessories.glasses,
            LookChoice::Ribbon => look.accessories.ribbon,
            LookChoice::Scarf => look.accessories.scarf,
        }
    }
}

/// The locale key naming a headwear.
pub fn headwear_key(headwear: Headwear) -> &'static str {
    match headwear {
        Headwear::Tuft => "headwear-tuft",
        Headwear::Short => "headwear-short",
        Headwear::Long => "headwear-long",
        Headwear::Bun => "headwear-bun",
        Headwear::Beanie => "headwear-beanie",
        Headwear::Cap => "headwear-cap",
        Headwear::StrawHat => "headwear-straw-hat",
    }
}

/// Look choices everywhere, and the start screen's preview.
pub struct LookPlugin;

impl Plugin for LookPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LookToSend>()
            .add_systems(Update, (choose_look, send_look.run_if(in_state(AppState::InRoom)), show_chosen, turn_preview, dress_preview).chain())
            .add_systems(Update, show_preview.run_if(in_state(AppState::Start)))
            .add_systems(OnEnter(AppState::Start), spawn_preview)
            .fill_slot(Slot::StartLook, fill_the_start_card)
            .fill_slot(Slot::Drawer(Drawer::Look), |drawer, font| spawn_look_choices(drawer, font, 28.0));
    }
}

/// Swatches, name buttons and toggles for every choice, under `parent`.
pub fn spawn_look_choices(parent: &mut ChildSpawnerCommands, font: &UiFont, swatch: f32) {
    let label = |key: &'static str| (ui_text(font, "", 17.0, palette::INK_SOFT), Localized(key));
    let swatches = |parent: &mut ChildSpawnerCommands, colours: [[u8; 3]; 8], choice: fn([u8; 3]) -> LookChoice| {
        parent.spawn(Node { column_gap: Val::Px(6.0), ..default() }).with_children(|row| {
            for colour in colours {
                let [r, g, b] = colour;
                // Big enough to hit without a steady hand; a rim so white shows on white.
                row.spawn((
                    Button,
                    choice(colour),
                    Node {
                        width: Val::Px(swatch),
                        height: Val::Px(swatch),
                        border: UiRect::all(Val::Px(3.0)),
                        border_radius: BorderRadius::MAX,
                        ..default()
                    },
                    BackgroundColor(Color::srgb_u8(r, g, b)),
                    BorderColor::all(palette::BUTTON),
                ));
            }
        });
    };
    let word_button = |row: &mut ChildSpawnerCommands, choice: LookChoice, key: &'static str| {
        row.spawn((
            Button,
            choice,
            Node {
                padding: UiRect::axes(Val::Px(10.0), Val::Px(5.0)),
                border: UiRect::all(Val::Px(3.0)),
                border_radius: BorderRadius::all(Val::Px(10.0)),
                ..default()
            },
            BackgroundColor(palette::BUTTON),
            BorderColor::all(palette::BUTTON),
            children![(ui_text(font, "", 16.0, palette::INK), Localized(key))],
        ));
    };
    parent.spawn(label("start-color-label"));
    swatches(parent, BODY_COLORS, LookChoice::Body);
    parent.spawn(label("look-headwear-label"));
    parent.spawn(Node { column_gap: Val::Px(6.0), row_gap: Val::Px(6.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        for headwear in Headwear::ALL {
            word_button(row, LookChoice::Headwear(headwear), headwear_key(headwear));
        }
    });
    parent.spawn(label("look-headwear-colour-label"));
    swatches(parent, HEADWEAR_COLORS, LookChoice::HeadwearColour);
    parent.spawn(label("look-accessories-label"));
    parent.spawn(Node { column_gap: Val::Px(6.0), ..default() }).with_children(|row| {
        word_button(row, LookChoice::Glasses, "accessory-glasses");
        word_button(row, LookChoice::Ribbon, "accessory-ribbon");
        word_button(row, LookChoice::Scarf, "accessory-scarf");
    });
}

/// A look chosen in the room and not yet sent, and when the last was sent.
/// A child trying hats on clicks faster than the room takes looks (3 at
/// once, then one a second): only the newest is sent, at most once a
/// second, so none is refused and everyone ends up seeing the last choice.
#[derive(Resource, Default)]
pub struct LookToSend {
    /// The newest choice, if it has not gone out yet.
    pub pending: Option<AvatarLook>,
    /// When the last one went out (seconds of real time).
    pub last_sent: Option<f64>,
}

/// Looks are sent at most this often.
const LOOK_INTERVAL_SECS: f64 = 1.0;

/// A choice pressed: change the look, remember it, and in the room queue it for everyone.
fn choose_look(
    choices: Query<(&Interaction, &LookChoice), Changed<Interaction>>,
    mut settings: ResMut<Settings>,
    file: Res<SettingsFile>,
    state: Res<State<AppState>>,
    mut to_send: ResMut<LookToSend>,
) {
    for (interaction, choice) in &choices {
        if *interaction != Interaction::Pressed {
            continue;
        }
        let look = choice.apply(settings.look);
        if look == settings.look {
            continue;
        }
        settings.look = look;
        file.save(look);
        if *state.get() == AppState::InRoom {
            to_send.pending = Some(look);
        }
    }
}

fn send_look(time: Res<Time<Real>>, mut to_send: ResMut<LookToSend>, mut send: MessageWriter<SendRoomEvent>) {
    let now = time.elapsed_secs_f64();
    if to_send.pending.is_none() || to_send.last_sent.is_some_and(|at| now - at < LOOK_INTERVAL_SECS) {
        return;
    }
    if let Some(look) = to_send.pending.take() {
        send.write(SendRoomEvent(ClientEvent::SetLook(look)));
        to_send.last_sent = Some(now);
    }
}

fn show_chosen(settings: Res<Settings>, mut choices: Query<(&LookChoice, &mut BorderColor)>) {
    for (choice, mut border) in &mut choices {
        let colour = if choice.is_chosen(&settings.look) { palette::INK } else { palette::BUTTON };
        if border.top != colour {
            *border = BorderColor::all(colour);
        }
    }
}

/// The start screen's preview: an avatar alone, far outside the ward, and a
/// camera that draws it into an image the screen shows.
#[derive(Component)]
struct PreviewFigure;

/// The preview image, for the start screen to show.
#[derive(Resource, Clone)]
pub struct PreviewImage(pub Handle<Image>);

/// Where the preview stands: far from the ward, so nothing else is in view.
const PREVIEW_AT: Vec3 = Vec3::new(0.0, 0.0, 200.0);
/// The preview image's size, pixels.
pub const PREVIEW_SIZE: UVec2 = UVec2::new(240, 280);

fn preview_info(look: AvatarLook) -> PeerInfo {
    PeerInfo {
        id: PeerId(0),
        nickname: String::new(),
        look,
        role: Role::Participant,
        hand_raised: false,
        muted: false,
        resting: false,
        speak_for_me: false,
    }
}

/// The preview figure, its camera and light, and [`PreviewImage`].
pub fn spawn_preview(mut kit: AvatarKit, mut images: ResMut<Assets<Image>>, settings: Res<Settings>) {
    let image = images.add(Image::new_target_texture(PREVIEW_SIZE.x, PREVIEW_SIZE.y, TextureFormat::Rgba8UnormSrgb, None));
    kit.commands.insert_resource(PreviewImage(image.clone()));
    let figure = kit.spawn_figure(&preview_info(settings.look), Transform::from_translation(PREVIEW_AT));
    kit.commands.entity(figure).insert((PreviewFigure, DespawnOnExit(AppState::Start)));
    kit.commands.spawn((
        Camera3d::default(),
        Camera { order: -1, clear_color: ClearColorConfig::Custom(palette::CARD), ..default() },
        RenderTarget::Image(image.into()),
        // Close enough that the face and what is worn fill the picture.
        Transform::from_translation(PREVIEW_AT + Vec3::new(0.0, 1.05, -1.9)).looking_at(PREVIEW_AT + Vec3::Y * 0.8, Vec3::Y),
        DespawnOnExit(AppState::Start),
    ));
    kit.commands.spawn((
        PointLight { intensity: 400_000.0, range: 12.0, ..default() },
        Transform::from_translation(PREVIEW_AT + Vec3::new(-1.5, 2.5, -2.5)),
        DespawnOnExit(AppState::Start),
    ));
}

fn turn_preview(time: Res<Time<Real>>, mut figures: Query<&mut Transform, With<PreviewFigure>>) {
    for mut transform in &mut figures {
        // Slowly round and back, so the face is seen most of the time.
        // Facing the camera (−Z) at the middle of the swing.
        transform.rotation = Quat::from_rotation_y(1.1 * (time.elapsed_secs() * 0.6).sin());
    }
}

fn dress_preview(settings: Res<Settings>, mut kit: AvatarKit, mut wardrobe: Wardrobe, figures: Query<Entity, (With<PreviewFigure>, With<Avatar>)>) {
    if !settings.is_changed() {
        return;
    }
    for figure in &figures {
        wardrobe.change(&mut kit, figure, &preview_info(settings.look));
    }
}

/// The start screen's avatar card: the turning preview, then every choice.
fn fill_the_start_card(card: &mut ChildSpawnerCommands, font: &UiFont) {
    let size = PREVIEW_SIZE.as_vec2() * 0.8;
    card.spawn((
        PreviewSpot,
        ImageNode::default(),
        Node { width: Val::Px(size.x), height: Val::Px(size.y), align_self: AlignSelf::Center, ..default() },
    ));
    spawn_look_choices(card, font, 34.0);
}

/// Where the start card shows the preview's picture.
#[derive(Component)]
struct PreviewSpot;

/// The preview's picture into its spot, once both exist.
fn show_preview(preview: Option<Res<PreviewImage>>, mut spots: Query<&mut ImageNode, With<PreviewSpot>>) {
    let Some(preview) = preview else { return };
    for mut image in &mut spots {
        if image.image != preview.0 {
            image.image = preview.0.clone();
        }
    }
}
