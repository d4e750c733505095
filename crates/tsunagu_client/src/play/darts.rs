//! The dartboard on screen: the last darts' scores over the board, and a
//! short line when one lands, with who threw it.

use bevy::prelude::*;
use tsunagu_i18n::Arg;
use tsunagu_protocol::DartScore;

use super::HoldHint;
use crate::AppState;
use crate::kit::heard::DartLanded;
use crate::kit::me::MainCamera;
use crate::kit::palette;
use crate::kit::room::RoomNow;
use crate::kit::room::{hang_over, on_screen};
use crate::kit::scene::Ward;
use crate::kit::text::{Localized, UiFont, ui_text};

/// The last darts, over the board.
#[derive(Component)]
pub(super) struct ScoreBoard;

/// "Bullseye! 50 points", popping over the board for a moment.
#[derive(Component)]
pub struct ScorePop {
    until: f32,
}

/// How long a dart's score stays up, seconds.
pub(super) const SCORE_POP_SECONDS: f32 = 2.5;

/// A dart's score, said over the board for a moment.
pub(super) fn hear_darts(
    mut commands: Commands,
    mut landed: MessageReader<DartLanded>,
    room: Res<RoomNow>,
    words: crate::kit::text::Words,
    font: Res<UiFont>,
    time: Res<Time<Real>>,
    pops: Query<Entity, With<ScorePop>>,
) {
    for DartLanded { by, score } in landed.read() {
        {
            {
                let name = room.name_of(*by).unwrap_or_default().to_owned();
                let ring = words.get(ring_key(*score));
                let args = [("name", Arg::Str(&name)), ("ring", Arg::Str(&ring)), ("points", Arg::Num(f64::from(score.points())))];
                let line = words.get_with("play-dart-scored", &args);
                for old in &pops {
                    commands.entity(old).despawn();
                }
                commands.spawn((
                    ScorePop { until: time.elapsed_secs() + SCORE_POP_SECONDS },
                    crate::kit::room::UNDER_THE_HUD,
                    Node {
                        position_type: PositionType::Absolute,
                        padding: UiRect::axes(Val::Px(14.0), Val::Px(8.0)),
                        border_radius: BorderRadius::all(Val::Px(14.0)),
                        ..default()
                    },
                    BackgroundColor(palette::ACCENT),
                    Visibility::Hidden,
                    DespawnOnExit(AppState::InRoom),
                    children![ui_text(&font, line, 24.0, Color::WHITE)],
                ));
            }
        }
    }
}

pub(super) fn ring_key(score: DartScore) -> &'static str {
    match score {
        DartScore::Bull => "play-ring-bull",
        DartScore::Inner => "play-ring-inner",
        DartScore::Middle => "play-ring-middle",
        DartScore::Outer => "play-ring-outer",
    }
}

pub(super) fn spawn_board_labels(mut commands: Commands, font: Res<UiFont>) {
    commands.spawn((
        ScoreBoard,
        crate::kit::room::UNDER_THE_HUD,
        Node {
            position_type: PositionType::Absolute,
            padding: UiRect::axes(Val::Px(12.0), Val::Px(6.0)),
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BackgroundColor(palette::CARD.with_alpha(0.9)),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
        children![ui_text(&font, "", 18.0, palette::INK)],
    ));
    commands.spawn((
        HoldHint,
        Node {
            position_type: PositionType::Absolute,
            bottom: Val::Px(200.0),
            left: Val::Percent(50.0),
            margin: UiRect::left(Val::Px(-220.0)),
            width: Val::Px(440.0),
            justify_content: JustifyContent::Center,
            display: Display::None,
            ..default()
        },
        DespawnOnExit(AppState::InRoom),
        children![(
            Node { padding: UiRect::axes(Val::Px(14.0), Val::Px(7.0)), border_radius: BorderRadius::all(Val::Px(12.0)), ..default() },
            BackgroundColor(palette::CARD.with_alpha(0.92)),
            children![(ui_text(&font, "", 18.0, palette::INK), Localized("play-hold-hint"))],
        )],
    ));
}

/// The scores of the darts in the board now, as the line over it says them.
#[derive(Resource, Default)]
pub(super) struct DartsShown(Vec<u32>);

/// The board's line, written when a dart goes in (or the room is entered), not every frame.
pub(super) fn write_board_line(
    room: Res<RoomNow>,
    words: crate::kit::text::Words,
    boards: Query<&Children, With<ScoreBoard>>,
    new_boards: Query<(), Added<ScoreBoard>>,
    mut labels: Query<&mut Text>,
    mut shown: ResMut<DartsShown>,
) {
    if !room.is_changed() && new_boards.is_empty() {
        return;
    }
    shown.0 = room.darts.iter().map(|(_, score)| score.points()).collect();
    let scores = shown.0.iter().map(u32::to_string).collect::<Vec<_>>().join(" ・ ");
    let line = if shown.0.is_empty() { String::new() } else { words.get_with("play-darts", &[("scores", Arg::Str(&scores))]) };
    for children in &boards {
        crate::kit::text::write_label(children, &mut labels, &line);
    }
}

/// A score's moment is over.
pub(super) fn expire_score_pops(mut commands: Commands, time: Res<Time<Real>>, pops: Query<(Entity, &ScorePop)>) {
    for (entity, pop) in &pops {
        if time.elapsed_secs() > pop.until {
            commands.entity(entity).despawn();
        }
    }
}

/// The board's line and its latest score, on screen.
type BoardLine<'w, 's> = Query<'w, 's, (&'static mut Node, &'static mut Visibility, &'static ComputedNode), (With<ScoreBoard>, Without<ScorePop>)>;
type ScorePops<'w, 's> = Query<'w, 's, (&'static mut Node, &'static mut Visibility, &'static ComputedNode), (With<ScorePop>, Without<ScoreBoard>)>;

/// The last darts over the board, and a dart's score popping up above them.
pub(super) fn place_board_labels(
    ward: Res<Ward>,
    cameras: Query<(Entity, &Camera, &GlobalTransform), With<MainCamera>>,
    mut boards: BoardLine,
    mut pops: ScorePops,
    shown: Res<DartsShown>,
    cards: crate::kit::hud::CardsOnScreen,
) {
    let Ok((camera_entity, camera, camera_transform)) = cameras.single() else { return };
    let board = ward.0.dartboard;
    let over_board = |lift: f32| on_screen(camera, camera_transform, board.center + Vec3::Y * (board.radius + lift));
    for (mut node, mut visibility, computed) in &mut boards {
        // Under the board, so the darts in it stay in view.
        let size = computed.size() * computed.inverse_scale_factor();
        let at = over_board(-2.0 * board.radius - 0.05).filter(|_| !shown.0.is_empty());
        hang_over(&mut node, &mut visibility, at, size, -size.y, cards.ui_scale());
    }
    for (mut node, mut visibility, computed) in &mut pops {
        let size = computed.size() * computed.inverse_scale_factor();
        hang_over(&mut node, &mut visibility, over_board(0.05), size, 44.0, cards.ui_scale());
        // A score popping under a card moves beside it.
        if let Some(screen) = cards.screen(camera) {
            crate::kit::hud::keep_clear(&mut node, size, &mut cards.rects(camera_entity), screen);
        }
    }
}
