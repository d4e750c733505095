//! 「つながり」: the low-bandwidth choice in the Bevy client, headless,
//! through a real room server. The settings button steps normal → light →
//! listen only and the connection asks the server for less; the offer made
//! on a poor link turns light on when accepted, once.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_client::SettingsFile;
use tsunagu_client::kit::net::Connection;
use tsunagu_client::link::{LinkModeButton, LinkOffer, OfferAnswer, should_offer};
use tsunagu_client_core::ClientCore;
use tsunagu_client_core::settings::LinkMode;
use tsunagu_protocol::{AvatarLook, Hello};
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

use crate::expression::frame;

fn app_in_a_room() -> (Stepper, App) {
    let mut stepper = Stepper::new(4);
    let hello = Hello::new(ROOM_CODE, "わたし", AvatarLook::with_color([255, 160, 80])).from_device(1);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    (stepper, app)
}

fn press<T: Component>(app: &mut App) {
    let mut buttons = app.world_mut().query_filtered::<Entity, With<T>>();
    let button = buttons.single(app.world()).expect("the button");
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
}

fn label_of<T: Component>(app: &mut App) -> String {
    let mut buttons = app.world_mut().query_filtered::<&Children, With<T>>();
    let child = buttons.single(app.world()).unwrap()[0];
    app.world().get::<Text>(child).unwrap().0.replace('\u{2060}', "")
}

#[test]
fn the_settings_button_steps_the_link_mode_and_asks_the_server_for_less() {
    let (mut stepper, mut app) = app_in_a_room();
    app.world_mut().spawn((Button, LinkModeButton, Interaction::None, children![Text::new("")]));
    frame(&mut stepper, &mut app);
    assert_eq!(label_of::<LinkModeButton>(&mut app), "つながり: ふつう");
    let light = |app: &App| app.world().resource::<Connection>().read(|core| core.light_link());
    assert!(!light(&app));
    press::<LinkModeButton>(&mut app);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(app.world().resource::<SettingsFile>().link_mode, LinkMode::Light);
    assert_eq!(label_of::<LinkModeButton>(&mut app), "つながり: かるい");
    assert!(light(&app), "the connection was not asked for less");
    // The room heard it: this member is sent far people less often.
    let me = app.world().resource::<Connection>().read(|core| core.room().me().map(|m| m.id)).unwrap();
    assert_eq!(stepper.light_link(me), Some(true), "the server does not know");
    press::<LinkModeButton>(&mut app);
    frame(&mut stepper, &mut app);
    assert_eq!(app.world().resource::<SettingsFile>().link_mode, LinkMode::ListenOnly);
    assert_eq!(label_of::<LinkModeButton>(&mut app), "つながり: きくだけ");
    assert!(light(&app));
    press::<LinkModeButton>(&mut app);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(app.world().resource::<SettingsFile>().link_mode, LinkMode::Normal);
    assert!(!light(&app));
    assert_eq!(stepper.light_link(me), Some(false));
}

#[test]
fn the_offer_is_made_once_on_a_poor_link_and_yes_makes_it_light() {
    assert!(should_offer(LinkOffer::NotYet, LinkMode::Normal, true));
    assert!(!should_offer(LinkOffer::NotYet, LinkMode::Normal, false), "offered on a good link");
    assert!(!should_offer(LinkOffer::NotYet, LinkMode::Light, true), "offered to someone already light");
    assert!(!should_offer(LinkOffer::Done, LinkMode::Normal, true), "offered twice");
    let (mut stepper, mut app) = app_in_a_room();
    app.world_mut().spawn((Button, OfferAnswer(true), Interaction::None));
    *app.world_mut().resource_mut::<LinkOffer>() = LinkOffer::Showing(0.0);
    press::<OfferAnswer>(&mut app);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(*app.world().resource::<LinkOffer>(), LinkOffer::Done);
    assert_eq!(app.world().resource::<SettingsFile>().link_mode, LinkMode::Light);
    assert!(app.world().resource::<Connection>().read(|core| core.light_link()));
}
