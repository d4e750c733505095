//! How much this PC asks of the network: 「つながり: ふつう / かるい /
//! きくだけ」 in 「せってい」, kept on this PC. Light (low-bandwidth mode)
//! asks the server for fewer updates of far people, sends our own pose less
//! often and our voice at a lower bitrate; listen-only also keeps the
//! microphone off. When the link measures poor, the room offers light once,
//! in a small card a nurse or child can answer or ignore.

use bevy::prelude::*;
use tsunagu_client_core::settings::LinkMode;

use crate::AppState;
use crate::kit::hud::{BarButtonLook, Drawer, FillSlot, Slot, panel, spawn_bar_button};
use crate::kit::net::Connection;
use crate::kit::palette;
use crate::kit::text::{LabelledButtons, Localized, step_kept_choice, ui_text};

/// The offer stays this long unanswered, then folds away, seconds.
pub const OFFER_SHOWN_SECS: f64 = 60.0;

/// The network choice, the offer, and applying them to the connection and the voice.
pub struct LinkPlugin;

impl Plugin for LinkPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LinkOffer>()
            .fill_slot(Slot::Drawer(Drawer::Settings), |row, font| {
                spawn_bar_button(row, font, LinkModeButton, None, BarButtonLook::Plain, false);
            })
            .fill_slot(Slot::Corner, |corner, font| {
                let (node, background, card) = panel();
                corner.spawn((OfferCard, Node { max_width: Val::Px(420.0), display: Display::None, ..node }, background, card)).with_children(|p| {
                    p.spawn((ui_text(font, "", 17.0, palette::INK), Localized("link-offer")));
                    p.spawn(Node { column_gap: Val::Px(8.0), margin: UiRect::top(Val::Px(6.0)), ..default() }).with_children(|row| {
                        spawn_bar_button(row, font, OfferAnswer(true), Some("link-offer-yes"), BarButtonLook::Main, false);
                        spawn_bar_button(row, font, OfferAnswer(false), Some("link-offer-no"), BarButtonLook::Plain, false);
                    });
                });
            })
            .add_systems(Update, step_link_mode)
            .add_systems(Update, (offer_when_poor, answer_offer, show_offer).chain().run_if(in_state(AppState::InRoom)))
            .add_systems(Update, apply_link_mode.run_if(resource_exists::<Connection>));
    }
}

/// The button in 「せってい」 that steps normal → light → listen only.
#[derive(Component)]
pub struct LinkModeButton;

/// The card offering light when the link measures poor.
#[derive(Component)]
pub struct OfferCard;

/// The offer's buttons: yes (go light) or no (stay as it is).
#[derive(Component, Clone, Copy)]
pub struct OfferAnswer(pub bool);

/// Where the offer stands in this run: made at most once.
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq)]
pub enum LinkOffer {
    /// Not made yet.
    #[default]
    NotYet,
    /// Shown since then (seconds of real time).
    Showing(f64),
    /// Answered, folded away, or not needed: not made again this run.
    Done,
}

/// Whether to offer light now: only once, only on a poor link, and never
/// to someone already light.
pub fn should_offer(offer: LinkOffer, mode: LinkMode, link_seems_poor: bool) -> bool {
    offer == LinkOffer::NotYet && mode == LinkMode::Normal && link_seems_poor
}

/// The message that names a link mode (on its button).
pub fn link_mode_label(mode: LinkMode) -> &'static str {
    match mode {
        LinkMode::Normal => "link-mode-normal",
        LinkMode::Light => "link-mode-light",
        LinkMode::ListenOnly => "link-mode-listen-only",
    }
}

fn step_link_mode(mut buttons: LabelledButtons<LinkModeButton>, file: Option<ResMut<crate::SettingsFile>>, settings: Option<Res<crate::Settings>>) {
    step_kept_choice(&mut buttons, file, settings, |f| f.link_mode = f.link_mode.next(), |f| link_mode_label(f.link_mode));
}

fn offer_when_poor(mut offer: ResMut<LinkOffer>, file: Option<Res<crate::SettingsFile>>, connection: Option<Res<Connection>>, time: Res<Time<Real>>) {
    let (Some(file), Some(connection)) = (file, connection) else { return };
    let now = time.elapsed_secs_f64();
    match *offer {
        LinkOffer::NotYet if should_offer(*offer, file.link_mode, connection.read(|core| core.link_seems_poor())) => {
            info!("tsunagu: the link measures poor; offering the light mode");
            *offer = LinkOffer::Showing(now);
        }
        LinkOffer::Showing(since) if now - since >= OFFER_SHOWN_SECS || file.link_mode != LinkMode::Normal => *offer = LinkOffer::Done,
        _ => {}
    }
}

fn answer_offer(
    answers: Query<(&Interaction, &OfferAnswer), Changed<Interaction>>,
    mut offer: ResMut<LinkOffer>,
    file: Option<ResMut<crate::SettingsFile>>,
    settings: Option<Res<crate::Settings>>,
) {
    let Some((_, answer)) = answers.iter().find(|(i, _)| **i == Interaction::Pressed) else { return };
    *offer = LinkOffer::Done;
    if answer.0
        && let (Some(mut file), Some(settings)) = (file, settings)
    {
        file.link_mode = LinkMode::Light;
        file.save(settings.look);
    }
}

fn show_offer(offer: Res<LinkOffer>, mut cards: Query<&mut Node, With<OfferCard>>) {
    let display = if matches!(*offer, LinkOffer::Showing(_)) { Display::Flex } else { Display::None };
    for mut node in &mut cards {
        if node.display != display {
            node.display = display;
        }
    }
}

/// The chosen mode on the connection (a new one too). The voice feature
/// applies it to the microphone and the encoder.
fn apply_link_mode(mut connection: ResMut<Connection>, file: Option<Res<crate::SettingsFile>>) {
    let light = file.is_some_and(|f| f.link_mode.is_light());
    let core = connection.core_mut();
    if core.light_link() != light {
        core.set_light_link(light);
    }
}
