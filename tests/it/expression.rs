//! Expression in the Bevy client, headless: Japanese typed through an IME
//! into the chat field and sent; and a friend's wave, raised hand, stamp and
//! chat line arriving through a real room server onto their avatar.

use std::time::Duration;

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::window::Ime;
use tsunagu_client::chat::{ChatBubble, ChatInput, ChatLog};
use tsunagu_client::expression::StampPop;
use tsunagu_client::kit::net::SendRoomEvent;
use tsunagu_client::kit::room::PlayingGesture;
use tsunagu_client::kit::room::{AvatarInfo, RemoteAvatar, Shoulder};
use tsunagu_client::kit::typing::text_field_has_keys;
use tsunagu_client_core::ClientCore;
use tsunagu_protocol::{AvatarLook, ClientEvent, Gesture, Hello, Stamp};
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

pub fn press(app: &mut App, code: KeyCode, key: Key) {
    app.world_mut().resource_mut::<ButtonInput<KeyCode>>().press(code);
    app.world_mut().write_message(KeyboardInput {
        key_code: code,
        logical_key: key,
        state: ButtonState::Pressed,
        text: None,
        repeat: false,
        window: Entity::PLACEHOLDER,
    });
}

pub fn ime(app: &mut App, event: Ime) {
    app.world_mut().write_message(event);
}

pub fn frame(stepper: &mut Stepper, app: &mut App) {
    stepper.step(TICK);
    app.update();
    // What InputPlugin does each frame: a key pressed once is not pressed again.
    let mut keys = app.world_mut().resource_mut::<ButtonInput<KeyCode>>();
    let held: Vec<KeyCode> = keys.get_pressed().copied().collect();
    for key in held {
        keys.release(key);
    }
    keys.clear();
}

fn sent_chats(app: &mut App) -> Vec<String> {
    app.world_mut()
        .resource_mut::<Messages<SendRoomEvent>>()
        .drain()
        .filter_map(|SendRoomEvent(e)| if let ClientEvent::Chat(text) = e { Some(text) } else { None })
        .collect()
}

/// The room app, with the drawers a screen's HUD would give it (the chat's
/// field and the wishes live in theirs).
fn app_in(stepper: &Stepper) -> App {
    use tsunagu_client::kit::hud::{Drawer, Slot};
    let hello = Hello::new(ROOM_CODE, "ゆき", AvatarLook::with_color([255, 160, 80]));
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    for drawer in Drawer::ALL {
        app.world_mut().spawn((Slot::Drawer(drawer), Node::default()));
    }
    app
}

/// Words tapped (as on the headset's board, with no keyboard) go into the
/// field one after another, and the line is sent as a typed one would be.
#[test]
fn words_tapped_without_a_keyboard_make_a_chat_line() {
    use tsunagu_client::chat::Word;
    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    let tap = |app: &mut App, stepper: &mut Stepper, key: &str| {
        let word =
            app.world_mut().query::<(Entity, &Word)>().iter(app.world()).find(|(_, w)| w.0 == key).map(|(e, _)| e).expect("the word is offered");
        app.world_mut().entity_mut(word).insert(Interaction::Pressed);
        frame(stepper, app);
        app.world_mut().entity_mut(word).insert(Interaction::None);
    };
    tap(&mut app, &mut stepper, "word-hello");
    tap(&mut app, &mut stepper, "word-thanks");
    assert!(text_field_has_keys(app.world()), "the field did not open for the words");
    assert_eq!(app.world().resource::<ChatInput>().text, "こんにちは ありがとう");
    assert!(sent_chats(&mut app).is_empty(), "a word alone sent the line");
    press(&mut app, KeyCode::Enter, Key::Enter);
    frame(&mut stepper, &mut app);
    assert_eq!(sent_chats(&mut app), vec!["こんにちは ありがとう".to_string()]);
}

/// Me in the room (the app) and a friend, あおい (a client core), both in.
pub fn with_a_friend() -> (Stepper, App, usize, tsunagu_protocol::PeerId) {
    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    let friend = stepper.connect(ROOM_CODE, "あおい");
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    let friend_id = stepper.clients[friend].id().expect("the friend joined");
    (stepper, app, friend, friend_id)
}

#[test]
fn japanese_typed_with_an_ime_is_committed_into_the_chat_and_sent() {
    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    // Enter opens the field.
    press(&mut app, KeyCode::Enter, Key::Enter);
    frame(&mut stepper, &mut app);
    assert!(text_field_has_keys(app.world()), "Enter did not open the chat field");
    let window = Entity::PLACEHOLDER;
    // Typing kana: the IME shows what it is composing, nothing committed yet.
    ime(&mut app, Ime::Enabled { window });
    ime(&mut app, Ime::Preedit { window, value: "きょうは".into(), cursor: Some((12, 12)) });
    frame(&mut stepper, &mut app);
    {
        let input = app.world().resource::<ChatInput>();
        assert_eq!((input.text.as_str(), input.composing.as_str()), ("", "きょうは"));
    }
    // Converting and confirming with Enter: committed, and that Enter does not send.
    ime(&mut app, Ime::Preedit { window, value: "今日は".into(), cursor: None });
    press(&mut app, KeyCode::Enter, Key::Enter);
    ime(&mut app, Ime::Commit { window, value: "今日は".into() });
    frame(&mut stepper, &mut app);
    assert_eq!(app.world().resource::<ChatInput>().text, "今日は");
    assert!(sent_chats(&mut app).is_empty(), "confirming a conversion sent the line");
    ime(&mut app, Ime::Preedit { window, value: "たなばた".into(), cursor: None });
    ime(&mut app, Ime::Commit { window, value: "七夕".into() });
    frame(&mut stepper, &mut app);
    press(&mut app, KeyCode::Digit1, Key::Character("！".into()));
    frame(&mut stepper, &mut app);
    // Enter on its own sends, and the field closes (walking keys work again).
    press(&mut app, KeyCode::Enter, Key::Enter);
    frame(&mut stepper, &mut app);
    assert_eq!(sent_chats(&mut app), vec!["今日は七夕！".to_string()]);
    let input = app.world().resource::<ChatInput>();
    assert!(!text_field_has_keys(app.world()) && input.text.is_empty());

    // A direction-changing character is caught before sending, with a reason.
    press(&mut app, KeyCode::Enter, Key::Enter);
    frame(&mut stepper, &mut app);
    ime(&mut app, Ime::Commit { window, value: "みて\u{202e}".into() });
    frame(&mut stepper, &mut app);
    press(&mut app, KeyCode::Enter, Key::Enter);
    frame(&mut stepper, &mut app);
    assert!(sent_chats(&mut app).is_empty());
    assert_eq!(app.world().resource::<ChatInput>().problem, Some("chat-not-allowed"));
}

#[test]
fn a_friends_wave_hand_stamp_and_words_reach_their_avatar() {
    let (mut stepper, mut app, friend, friend_id) = with_a_friend();
    let avatar_of_friend = |app: &mut App| {
        let mut q = app.world_mut().query::<(Entity, &RemoteAvatar)>();
        q.iter(app.world()).find(|(_, r)| r.0 == friend_id).map(|(e, _)| e).expect("the friend's avatar")
    };
    let avatar = avatar_of_friend(&mut app);
    stepper.send_event(friend, ClientEvent::Gesture(Gesture::Wave));
    stepper.send_event(friend, ClientEvent::RaiseHand(true));
    stepper.send_event(friend, ClientEvent::Stamp(Stamp::Heart));
    stepper.send_event(friend, ClientEvent::Chat("こんにちは".into()));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let world = app.world_mut();
    assert_eq!(world.get::<PlayingGesture>(avatar).map(|p| p.gesture), Some(Gesture::Wave), "the wave is not playing");
    assert!(world.get::<AvatarInfo>(avatar).is_some_and(|i| i.0.hand_raised), "the hand is not up");
    let stamps = world.query::<&StampPop>().iter(world).filter(|s| s.target == avatar).count();
    assert_eq!(stamps, 1);
    let bubbles = world.query::<&ChatBubble>().iter(world).filter(|b| b.target == avatar).count();
    assert_eq!(bubbles, 1);
    assert_eq!(world.resource::<ChatLog>().0.back().map(|(_, name, line)| (name.as_str(), line.as_str())), Some(("あおい", "こんにちは")));
    // The raised hand shows: the right arm points up from its shoulder.
    let right_arm_up = world
        .query::<(&Shoulder, &Transform, &ChildOf)>()
        .iter(world)
        .any(|(s, t, _)| s.0 == tsunagu_sim::animate::RIGHT && (t.rotation * Vec3::NEG_Y).y > 0.9);
    assert!(right_arm_up, "no right arm is raised");
}

#[test]
fn a_new_look_in_the_room_is_remembered_and_reaches_everyone() {
    use tsunagu_client::avatars::look::LookChoice;
    use tsunagu_client::kit::room::OwnAvatar;
    use tsunagu_client::{Settings, SettingsFile};
    use tsunagu_client_core::settings::{Loaded, load};
    use tsunagu_protocol::Headwear;

    let (mut stepper, mut app, friend, _) = with_a_friend();
    let file = std::env::temp_dir().join(format!("tsunagu-it-look-{}", std::process::id())).join("settings.ron");
    app.insert_resource(SettingsFile {
        path: Some(file.clone()),
        was_unreadable: false,
        device: 7,
        personal_space_cm: 60,
        headset: Default::default(),
        text_size: Default::default(),
        // Set by IT: a new look must not lose it.
        proxy: tsunagu_client_core::settings::ProxySetting::parse("http://ward:pw@proxy.ward.example:3128"),
        // The command line's, for this run: never kept.
        proxy_this_run: tsunagu_client_core::settings::ProxySetting::parse("http://elsewhere:8080"),
        link_mode: tsunagu_client_core::settings::LinkMode::Light,
    });
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).expect("joined");
    // Pressing 「ニット ぼう」 and 「めがね」, as a person would.
    for choice in [LookChoice::Headwear(Headwear::Beanie), LookChoice::Glasses] {
        app.world_mut().spawn((Button, choice, Interaction::Pressed));
        frame(&mut stepper, &mut app);
    }
    // Looks go out at most once a second: give the second one its turn.
    for _ in 0..40 {
        frame(&mut stepper, &mut app);
    }
    let look = app.world().resource::<Settings>().look;
    assert_eq!((look.headwear, look.accessories.glasses), (Headwear::Beanie, true));
    assert_eq!(
        load(&file),
        Loaded::Found(tsunagu_client_core::settings::SavedSettings {
            look,
            device: 7,
            personal_space_cm: 60,
            headset: Default::default(),
            text_size: Default::default(),
            proxy: tsunagu_client_core::settings::ProxySetting::parse("http://ward:pw@proxy.ward.example:3128"),
            link_mode: tsunagu_client_core::settings::LinkMode::Light,
        }),
        "the look was not remembered"
    );
    assert_eq!(stepper.clients[friend].peers()[&me].look, look, "the friend does not see the new look");
    // My own avatar wears it.
    let world = app.world_mut();
    let mine = world.query_filtered::<&AvatarInfo, With<OwnAvatar>>().iter(world).next().map(|i| i.0.look);
    assert_eq!(mine, Some(look));

    // Trying every hat in a row, faster than the room takes looks: the last
    // choice is the one everyone ends up seeing (none refused and lost).
    for headwear in Headwear::ALL {
        app.world_mut().spawn((Button, LookChoice::Headwear(headwear), Interaction::Pressed));
        frame(&mut stepper, &mut app);
    }
    for _ in 0..60 {
        frame(&mut stepper, &mut app);
    }
    let last = app.world().resource::<Settings>().look;
    assert_eq!(last.headwear, Headwear::StrawHat);
    assert_eq!(stepper.clients[friend].peers()[&me].look, last, "the friend sees an older choice");
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

#[test]
fn through_my_own_eyes_my_gesture_is_named_on_screen() {
    use tsunagu_client::expression::GestureToast;
    use tsunagu_client::kit::me::ViewMode;
    use tsunagu_client::kit::text::Localized;

    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    app.insert_resource(ViewMode::FirstPerson);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    app.world_mut().write_message(SendRoomEvent(ClientEvent::Gesture(Gesture::Clap)));
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    let world = app.world_mut();
    assert_eq!(world.query::<&GestureToast>().iter(world).count(), 1, "no sign that my clap happened");
    assert!(world.query::<&Localized>().iter(world).any(|l| l.0 == "gesture-clap"));
    // It goes when the gesture ends.
    for _ in 0..60 {
        frame(&mut stepper, &mut app);
    }
    let world = app.world_mut();
    assert_eq!(world.query::<&GestureToast>().iter(world).count(), 0);
}

#[test]
fn a_headset_users_hands_move_their_avatars_arms() {
    use tsunagu_client::kit::room::TrackedHands;
    use tsunagu_protocol::AvatarPose;
    use tsunagu_sim::animate::{LEFT, RIGHT, shoulder};
    use tsunagu_sim::pose::to_wire;

    let (mut stepper, mut app, friend, friend_id) = with_a_friend();
    let feet = tsunagu_sim::pose::from_wire(stepper.server.room().member(friend_id).unwrap().pose.body).0;
    // Facing −Z (no turn): the right hand held out in front, the left raised high.
    let right_hand = feet + shoulder(RIGHT) + Vec3::new(0.0, 0.0, -0.45);
    let left_hand = feet + shoulder(LEFT) + Vec3::new(-0.05, 0.45, 0.0);
    let pose = AvatarPose {
        body: to_wire(feet, Quat::IDENTITY),
        head: to_wire(feet + Vec3::Y * 1.15, Quat::IDENTITY),
        hands: Some([to_wire(left_hand, Quat::IDENTITY), to_wire(right_hand, Quat::IDENTITY)]),
    };
    for _ in 0..30 {
        stepper.send_pose(friend, pose);
        frame(&mut stepper, &mut app);
    }
    let world = app.world_mut();
    let (avatar, hands) = world
        .query::<(Entity, &RemoteAvatar, &TrackedHands)>()
        .iter(world)
        .find(|(_, r, _)| r.0 == friend_id)
        .map(|(e, _, h)| (e, h.0))
        .expect("the friend's avatar");
    assert!(hands.is_some(), "the hands did not reach the avatar");
    let arms: Vec<(usize, Vec3)> = world
        .query::<(&Shoulder, &Transform, &ChildOf)>()
        .iter(world)
        .map(|(s, t, parent)| (s.0, t.rotation * Vec3::NEG_Y, parent.parent()))
        .filter(|(_, _, parent)| world.get::<ChildOf>(*parent).is_some_and(|c| c.parent() == avatar))
        .map(|(arm, dir, _)| (arm, dir))
        .collect();
    let right = arms.iter().find(|(a, _)| *a == RIGHT).expect("a right arm").1;
    let left = arms.iter().find(|(a, _)| *a == LEFT).expect("a left arm").1;
    assert!(right.z < -0.9, "the right arm does not reach forward: {right}");
    assert!(left.y > 0.9, "the left arm does not reach up: {left}");
}

/// The HUD's frame names no feature: each fills its slots, in the order of
/// the plugin group, and a slot spawned again (the next meetup) is filled
/// again.
#[test]
fn features_fill_the_frames_slots_in_the_groups_order() {
    use tsunagu_client::kit::hud::{Drawer, Slot};
    use tsunagu_client::kit::text::Localized;
    let stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    let labels_in = |app: &mut App, slot: Entity| -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut stack = vec![slot];
        while let Some(entity) = stack.pop() {
            if let Some(label) = app.world().get::<Localized>(entity) {
                out.push(label.0);
            }
            if let Some(children) = app.world().get::<Children>(entity) {
                stack.extend(children.iter().rev());
            }
        }
        out
    };
    for _ in 0..2 {
        let settings = app.world_mut().spawn((Slot::Drawer(Drawer::Settings), Node::default())).id();
        let corner = app.world_mut().spawn((Slot::Corner, Node::default())).id();
        app.update();
        // Calm, then personal space and the link (whose labels say how they stand, unlocalised), in the group's order.
        assert_eq!(labels_in(&mut app, settings), ["calm-on", "calm-show-hidden"]);
        let children = app.world().get::<Children>(settings).map(|c| c.to_vec()).unwrap_or_default();
        let space_after_calm = children.len() == 4 && app.world().get::<tsunagu_client::calm::personal_space::SpaceButton>(children[2]).is_some();
        assert!(space_after_calm, "the space button is not after the calm ones");
        assert!(app.world().get::<tsunagu_client::link::LinkModeButton>(children[3]).is_some(), "the link's button is not last");
        let hands = app
            .world_mut()
            .query_filtered::<&ChildOf, With<tsunagu_client::expression::RaisedHandsList>>()
            .iter(app.world())
            .any(|c| c.parent() == corner);
        assert!(hands, "the raised hands list is not in the corner");
        app.world_mut().entity_mut(settings).despawn();
        app.world_mut().entity_mut(corner).despawn();
    }
}

/// Joining a room where three friends already stand, the child arrives a
/// few steps from them and facing them: the people are the first thing on
/// the screen, whichever way the room's first arrivals stood.
#[test]
fn a_newcomer_arrives_facing_the_people_already_there() {
    use tsunagu_client::kit::me::{Heading, LocalPlayer};
    use tsunagu_sim::motion::{ARRIVAL_VIEW_HALF_ANGLE, AVATAR_HEIGHT};
    let mut stepper = Stepper::new(4);
    for name in ["あおい", "はると", "りん"] {
        stepper.connect(ROOM_CODE, name);
    }
    for _ in 0..4 {
        stepper.step(TICK);
    }
    let mut app = app_in(&stepper);
    for _ in 0..8 {
        frame(&mut stepper, &mut app);
    }
    let heading = *app.world().resource::<Heading>();
    let me = app.world_mut().query_filtered::<&Transform, With<LocalPlayer>>().single(app.world()).expect("in the room").translation;
    let feet = me - Vec3::Y * (AVATAR_HEIGHT / 2.0);
    let ahead = Quat::from_rotation_y(heading.yaw) * Vec3::NEG_Z;
    let friends: Vec<Vec3> = app.world_mut().query_filtered::<&Transform, With<RemoteAvatar>>().iter(app.world()).map(|t| t.translation).collect();
    assert_eq!(friends.len(), 3, "the friends are not all drawn");
    for friend in friends {
        let angle = ahead.angle_between((friend - feet).with_y(0.0).normalize());
        assert!(angle <= ARRIVAL_VIEW_HALF_ANGLE + 0.05, "a friend at {friend} is {angle:.2} rad to the side of where I look");
    }
}

/// What is missing is said when coming in, then folds into one small button
/// that says it again; the key help teaches for the first minutes, then
/// folds into 「？」, which opens it again.
#[test]
fn notices_and_the_key_help_fold_away_after_a_while_and_open_again() {
    use bevy::time::TimeUpdateStrategy;
    use tsunagu_client::hud::{FoldedNotices, HELP_SHOWN_SECS, HelpButton, HudPlugin, KeyHelp, NOTICES_SHOWN_SECS};
    use tsunagu_client::kit::hud::StandingNotices;
    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    app.add_plugins(HudPlugin).init_resource::<tsunagu_client::kit::me::ViewMode>();
    app.world_mut().resource_mut::<StandingNotices>().set("mic", Some("status-no-mic"));
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    let said = |app: &mut App| -> bool {
        // Japanese lines come with word joiners between a word's characters.
        app.world_mut().query::<&Text>().iter(app.world()).any(|t| t.0.replace('\u{2060}', "").starts_with("マイクが"))
    };
    let shown = |app: &mut App, display_of: fn(&mut App) -> Option<Display>| display_of(app) == Some(Display::Flex);
    let help = |app: &mut App| app.world_mut().query_filtered::<&Node, With<KeyHelp>>().single(app.world()).ok().map(|n| n.display);
    let help_button = |app: &mut App| app.world_mut().query_filtered::<&Node, With<HelpButton>>().single(app.world()).ok().map(|n| n.display);
    let folded = |app: &mut App| {
        let mut buttons = app.world_mut().query_filtered::<(Entity, &Node), With<FoldedNotices>>();
        buttons.iter(app.world()).find(|(_, n)| n.display != Display::None).map(|(e, _)| e)
    };
    assert!(said(&mut app), "the missing microphone was not said");
    assert!(shown(&mut app, help) && shown(&mut app, help_button), "the key help does not teach on coming in, or 「？」 is missing");
    assert!(folded(&mut app).is_none());

    // A while later: the notice has folded into its button, the help is still there.
    let step = |app: &mut App, seconds: f64| {
        app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(seconds)));
        app.update();
        app.insert_resource(TimeUpdateStrategy::ManualDuration(TICK));
        app.update();
    };
    step(&mut app, NOTICES_SHOWN_SECS + 1.0);
    assert!(!said(&mut app), "the notice still covers the room");
    let button = folded(&mut app).expect("no button to say it again");
    assert!(shown(&mut app, help));
    // Pressed, it is said again.
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
    app.update();
    app.update();
    assert!(said(&mut app), "the folded notice's button did not say it again");

    // Later still: the key help has folded into 「？」, which opens it again.
    step(&mut app, HELP_SHOWN_SECS);
    assert!(!shown(&mut app, help) && shown(&mut app, help_button), "the key help did not fold into its button");
    let question = app.world_mut().query_filtered::<Entity, With<HelpButton>>().single(app.world()).unwrap();
    app.world_mut().entity_mut(question).insert(Interaction::Pressed);
    app.update();
    assert!(shown(&mut app, help), "「？」 did not open the key help");
    // And pressed again, closes it.
    app.world_mut().entity_mut(question).insert(Interaction::None);
    app.update();
    app.world_mut().entity_mut(question).insert(Interaction::Pressed);
    app.update();
    assert!(!shown(&mut app, help), "「？」 did not close the key help");
}

/// 「もじ」: one button steps the letters (and the cards around them) bigger,
/// then back, says the size it is now, and keeps it for the next run.
#[test]
fn the_text_size_button_steps_the_letters_bigger_and_back() {
    use tsunagu_client::SettingsFile;
    use tsunagu_client::kit::text::{TextPlugin, TextSizeButton};
    use tsunagu_client_core::settings::TextSize;
    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    app.add_plugins(TextPlugin).insert_resource(UiScale(1.0));
    let button = app
        .world_mut()
        .spawn((Button, TextSizeButton, Interaction::None))
        .with_children(|b| {
            b.spawn(Text::new(""));
        })
        .id();
    frame(&mut stepper, &mut app);
    let label = |app: &mut App| {
        app.world_mut().query::<&Text>().iter(app.world()).map(|t| t.0.replace('\u{2060}', "")).find(|t| t.starts_with("もじ")).unwrap_or_default()
    };
    assert_eq!(label(&mut app), "もじ: ふつう");
    let mut seen = Vec::new();
    for _ in 0..3 {
        app.world_mut().entity_mut(button).insert(Interaction::Pressed);
        frame(&mut stepper, &mut app);
        app.world_mut().entity_mut(button).insert(Interaction::None);
        frame(&mut stepper, &mut app);
        seen.push((app.world().resource::<SettingsFile>().text_size, app.world().resource::<UiScale>().0, label(&mut app)));
    }
    assert_eq!(
        seen,
        [
            (TextSize::Large, 1.25, "もじ: おおきい".to_string()),
            (TextSize::Largest, 1.5, "もじ: とても おおきい".to_string()),
            (TextSize::Normal, 1.0, "もじ: ふつう".to_string())
        ]
    );
}
