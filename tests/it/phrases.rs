//! Ready phrases in the Bevy client, headless, through a real room server:
//! the chat drawer offers them, one tap says the phrase in the child's
//! language as a chat line everyone gets, and the drawer closes.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_client::kit::hud::{Drawer, OpenDrawer, Slot};
use tsunagu_client::phrases::{PHRASES, PhraseButton};
use tsunagu_client_core::{ClientCore, RoomEvent};
use tsunagu_protocol::{AvatarLook, Hello, ServerEvent};
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

use crate::expression::frame;

#[test]
fn a_tapped_phrase_is_said_to_everyone_without_typing() {
    let mut stepper = Stepper::new(4);
    let hello = Hello::new(ROOM_CODE, "わたし", AvatarLook::with_color([255, 160, 80])).from_device(1);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    let friend = stepper.connect(ROOM_CODE, "ともだち");
    app.world_mut().spawn((Slot::Drawer(Drawer::Chat), Node::default()));
    for _ in 0..8 {
        frame(&mut stepper, &mut app);
    }
    // Every phrase has its button, each saying something.
    let mut buttons = app.world_mut().query::<(Entity, &PhraseButton)>();
    let offered: Vec<(Entity, &'static str)> = buttons.iter(app.world()).map(|(e, p)| (e, p.0)).collect();
    assert_eq!(offered.iter().map(|(_, k)| *k).collect::<Vec<_>>(), PHRASES.to_vec());
    app.world_mut().resource_mut::<OpenDrawer>().open(Drawer::Chat, 0.0);
    let yes = offered[0].0;
    app.world_mut().entity_mut(yes).insert(Interaction::Pressed);
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).unwrap();
    let heard =
        stepper.clients[friend].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::Chat(from, line)) if *from == me && line == "はい"));
    assert!(heard, "the friend did not hear 「はい」: {:?}", stepper.clients[friend].events);
    assert!(!app.world().resource::<OpenDrawer>().is_open(Drawer::Chat), "the chat drawer stayed open");
}
