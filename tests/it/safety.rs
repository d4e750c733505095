//! The facilitator panel in the Bevy client, headless, through a real room
//! server: a nurse mutes a child, asks them to leave and lets them back in
//! with its buttons; a child's client shows no panel.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_client::kit::text::UiFont;
use tsunagu_client::staff::{StaffButton, spawn_staff_panel};
use tsunagu_client_core::{ClientCore, ClientEnd};
use tsunagu_net::LinkEnd;
use tsunagu_protocol::StaffAction;
use tsunagu_protocol::{AvatarLook, ClientEvent, CloseReason, Hello, Role};
use tsunagu_testkit::{ROOM_CODE, STAFF_CODE, Stepper, TICK};

use crate::expression::frame;
use tsunagu_protocol::ServerEvent;

/// My client joined with `code`, with the HUD's staff section, and a child in the room.
fn app_with_a_child(code: &str) -> (Stepper, App, usize) {
    let mut stepper = Stepper::new(4);
    let hello = Hello::new(code, "わたし", AvatarLook::with_color([255, 160, 80])).from_device(1);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    app.world_mut().commands().spawn(Node::default()).with_children(spawn_staff_panel);
    let child = stepper.connect(ROOM_CODE, "ひなた");
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    (stepper, app, child)
}

/// Press the panel's button that asks for `event`; false if there is none.
fn press(app: &mut App, event: &ClientEvent) -> bool {
    let mut buttons = app.world_mut().query::<(Entity, &StaffButton)>();
    let Some(button) = buttons.iter(app.world()).find(|(_, a)| a.0 == *event).map(|(e, _)| e) else { return false };
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
    true
}

/// Whether this person has the staff drawer (and its button).
fn toggle_shown(app: &mut App) -> bool {
    let room = app.world().resource::<tsunagu_client::kit::room::RoomNow>();
    tsunagu_client::hud::drawer_allowed(tsunagu_client::kit::hud::Drawer::Staff, room, false)
}

#[test]
fn a_nurse_mutes_removes_and_lets_back_in_with_the_panel() {
    let (mut stepper, mut app, child) = app_with_a_child(STAFF_CODE);
    assert!(toggle_shown(&mut app), "a facilitator has no staff button");
    let child_id = stepper.clients[child].id().unwrap();
    // Each row says who, and how they are: just came, hand up.
    stepper.send_event(child, ClientEvent::RaiseHand(true));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let mut texts = app.world_mut().query::<&Text>();
    let row = texts.iter(app.world()).map(|t| t.0.replace('\u{2060}', "")).find(|t| t.starts_with("ひなた ・"));
    let row = row.expect("the child has no row in the panel");
    assert!(row.contains("てを あげている") && row.contains("いま きた"), "the row says: {row}");
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::Mute(child_id, true))), "no mute button for the child");
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert!(stepper.clients[child].core.room().me().is_some_and(|me| me.muted), "the child was not muted");
    // The row now offers to unmute: it shows what the server says.
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::Mute(child_id, false))));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert!(!stepper.clients[child].core.room().me().is_some_and(|me| me.muted));
    // Asking someone to leave takes a second press: the first only asks "sure?".
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::Remove(child_id))));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert!(stepper.clients[child].ended().is_none(), "one press removed the child");
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::Remove(child_id))));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.clients[child].ended(), Some(ClientEnd::Closed(LinkEnd::Reason(CloseReason::Removed))));
    // Listed as removed, with a button to let them back in.
    let mut buttons = app.world_mut().query::<&StaffButton>();
    let let_back = buttons.iter(app.world()).find_map(|a| if let ClientEvent::Staff(StaffAction::LetBackIn(id)) = a.0 { Some(id) } else { None });
    let let_back = let_back.expect("the removed child is not listed");
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::LetBackIn(let_back))));
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::LockRoom(true))));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert!(stepper.server.room().is_locked());
    assert!(
        app.world_mut().query::<&StaffButton>().iter(app.world()).any(|a| a.0 == ClientEvent::Staff(StaffAction::LockRoom(false))),
        "no button to open the room again"
    );
}

#[test]
fn a_childs_client_shows_no_staff_panel() {
    let (mut stepper, mut app, child) = app_with_a_child(ROOM_CODE);
    assert!(!toggle_shown(&mut app));
    // Made staff by a nurse, the panel's button appears without reconnecting.
    let nurse = stepper.connect(STAFF_CODE, "かんごし");
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).unwrap();
    stepper.send_event(nurse, ClientEvent::Staff(StaffAction::SetRole(me, Role::Facilitator)));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert!(toggle_shown(&mut app), "promoted, still no staff button");
    assert!(stepper.clients[child].peers()[&me].role == Role::Facilitator);
}

#[test]
fn the_calm_button_hides_and_silences_all_but_staff_at_once_and_tells_nobody() {
    use tsunagu_client::calm::{CalmButton, ShowHiddenButton, spawn_calm_section};
    use tsunagu_client::kit::room::LocalVolume;
    use tsunagu_client::kit::room::RemoteAvatar;
    let (mut stepper, mut app, child) = app_with_a_child(ROOM_CODE);
    let nurse = stepper.connect(STAFF_CODE, "かんごし");
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    let font = app.world().resource::<UiFont>().clone();
    app.world_mut().commands().spawn(Node::default()).with_children(|hud| spawn_calm_section(hud, &font));
    frame(&mut stepper, &mut app);
    let (child_id, nurse_id) = (stepper.clients[child].id().unwrap(), stepper.clients[nurse].id().unwrap());
    let seen = |app: &mut App| -> Vec<(tsunagu_protocol::PeerId, bool)> {
        let mut q = app.world_mut().query::<(&RemoteAvatar, &Visibility)>();
        let mut all: Vec<_> = q.iter(app.world()).map(|(r, v)| (r.0, *v != Visibility::Hidden)).collect();
        all.sort();
        all
    };
    assert_eq!(seen(&mut app), vec![(child_id, true), (nurse_id, true)]);
    let events_before: Vec<usize> = stepper.clients.iter().map(|c| c.events.len()).collect();
    let calm = app.world_mut().query_filtered::<Entity, With<CalmButton>>().single(app.world()).unwrap();
    app.world_mut().entity_mut(calm).insert(Interaction::Pressed);
    app.update();
    // Within the same frame: the child hidden, the nurse still there.
    assert_eq!(seen(&mut app), vec![(child_id, false), (nurse_id, true)]);
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let events_after: Vec<usize> = stepper.clients.iter().map(|c| c.events.len()).collect();
    assert_eq!(events_before, events_after, "someone was told about the calm button");
    app.world_mut().entity_mut(calm).insert(Interaction::None);
    app.update();
    app.world_mut().entity_mut(calm).insert(Interaction::Pressed);
    app.update();
    assert_eq!(seen(&mut app), vec![(child_id, true), (nurse_id, true)]);
    // Hidden with their name tag (its last step): gone until brought back.
    let avatar = app.world_mut().query::<(Entity, &RemoteAvatar)>().iter(app.world()).find(|(_, r)| r.0 == child_id).map(|(e, _)| e).unwrap();
    app.world_mut().entity_mut(avatar).insert(LocalVolume::Hidden);
    app.update();
    assert_eq!(seen(&mut app), vec![(child_id, false), (nurse_id, true)]);
    let show = app.world_mut().query_filtered::<(Entity, &Node), With<ShowHiddenButton>>().single(app.world()).map(|(e, n)| (e, n.display)).unwrap();
    assert_ne!(show.1, Display::None, "no button to bring hidden people back");
    app.world_mut().entity_mut(show.0).insert(Interaction::Pressed);
    app.update();
    assert_eq!(seen(&mut app), vec![(child_id, true), (nurse_id, true)]);
}

#[test]
fn a_nurse_lets_a_waiting_child_in_and_makes_new_invites_from_the_panel() {
    use tsunagu_client::kit::net::{JoinPlan, participant_invite};
    use tsunagu_client::kit::room::RoomNow;
    use tsunagu_net::invite::Invite;
    let (mut stepper, mut app, _) = app_with_a_child(STAFF_CODE);
    let settle = |stepper: &mut Stepper, app: &mut App| {
        for _ in 0..4 {
            frame(stepper, app);
        }
    };
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::SetWaitingRoom(true))), "no waiting room button");
    settle(&mut stepper, &mut app);
    let sora = stepper.connect(ROOM_CODE, "そら");
    settle(&mut stepper, &mut app);
    assert!(stepper.clients[sora].core.waiting());
    let mut texts = app.world_mut().query::<&Text>();
    let row = texts.iter(app.world()).map(|t| t.0.replace(['\u{2060}', '\u{200b}'], "")).find(|t| t.contains("そら"));
    assert_eq!(row.as_deref(), Some("まっている ひと: そら"), "the panel does not say who waits");
    let ticket = app.world().resource::<RoomNow>().waiting[0].ticket;
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::LetIn(ticket))), "no button to let them in");
    settle(&mut stepper, &mut app);
    assert!(stepper.clients[sora].core.in_room(), "pressed いれる, still waiting");
    // New invites take a second press; then the invite to pass on is the new one.
    let joined_with = Invite { host: "192.168.1.20".into(), port: 4433, tcp_port: None, room_code: STAFF_CODE.into(), fingerprint: [7; 32] };
    let shared = |app: &App| participant_invite(app.world().resource::<RoomNow>(), None, &JoinPlan::Invite(joined_with.clone()));
    assert_eq!(shared(&app).map(|i| i.room_code), Some(ROOM_CODE.to_owned()));
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::NewInvites)));
    settle(&mut stepper, &mut app);
    assert_eq!(stepper.server.room().config().code, ROOM_CODE, "one press changed the invites");
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::NewInvites)));
    settle(&mut stepper, &mut app);
    let new_code = stepper.server.room().config().code.clone();
    assert_ne!(new_code, ROOM_CODE);
    let invite = shared(&app).expect("no invite to pass on");
    assert_eq!((invite.room_code.as_str(), invite.host.as_str(), invite.fingerprint), (new_code.as_str(), "192.168.1.20", [7; 32]));
    assert!(stepper.clients[sora].core.in_room(), "new invites removed someone");
}

#[test]
fn someone_inside_my_personal_space_fades_and_the_button_sizes_it() {
    use tsunagu_client::SettingsFile;
    use tsunagu_client::calm::personal_space::{FADE_STEPS, Faded, SpaceButton, fade_level, spawn_space_button};
    use tsunagu_client::kit::me::LocalPlayer;
    use tsunagu_client::kit::room::RemoteAvatar;
    use tsunagu_sim::pose::to_wire;
    // Fully there at the bubble's edge, gone at half of it, off when it is 0.
    assert_eq!(
        (fade_level(0.6, 0.6), fade_level(0.45, 0.6), fade_level(0.3, 0.6), fade_level(0.1, 0.0)),
        (FADE_STEPS, FADE_STEPS / 2, 0, FADE_STEPS)
    );
    let (mut stepper, mut app, child) = app_with_a_child(ROOM_CODE);
    let font = app.world().resource::<UiFont>().clone();
    app.world_mut().commands().spawn(Node::default()).with_children(|hud| spawn_space_button(hud, &font));
    let me = app.world_mut().query_filtered::<&Transform, With<LocalPlayer>>().single(app.world()).unwrap().translation.with_y(0.0);
    let child_id = stepper.clients[child].id().unwrap();
    let shown = |app: &mut App| {
        let mut q = app.world_mut().query::<(&RemoteAvatar, &Faded)>();
        q.iter(app.world()).find(|(r, _)| r.0 == child_id).map(|(_, f)| f.0).unwrap()
    };
    let alphas = |app: &mut App| -> Vec<f32> {
        let avatar = app.world_mut().query::<(Entity, &RemoteAvatar)>().iter(app.world()).find(|(_, r)| r.0 == child_id).unwrap().0;
        let mut parts = Vec::new();
        let mut stack = vec![avatar];
        while let Some(e) = stack.pop() {
            parts.push(e);
            stack.extend(app.world().get::<Children>(e).into_iter().flat_map(|kids| kids.iter()));
        }
        let materials = app.world().resource::<Assets<StandardMaterial>>();
        parts
            .iter()
            .filter_map(|e| app.world().get::<MeshMaterial3d<StandardMaterial>>(*e))
            .map(|m| materials.get(&m.0).unwrap().base_color.alpha())
            .collect()
    };
    assert_eq!(shown(&mut app), FADE_STEPS);
    assert!(alphas(&mut app).iter().all(|a| *a == 1.0));
    // The child walks right up to me: the room stops them 0.45 m away; here they are half there.
    for n in 0..60 {
        let from = me + Vec3::new(-1.2, 0.0, 0.0);
        let at = from.lerp(me + Vec3::new(-0.2, 0.0, 0.0), (n as f32 / 40.0).min(1.0));
        stepper.send_pose(
            child,
            tsunagu_protocol::AvatarPose { body: to_wire(at, Quat::IDENTITY), head: to_wire(at + Vec3::Y * 1.15, Quat::IDENTITY), hands: None },
        );
        frame(&mut stepper, &mut app);
    }
    let level = shown(&mut app);
    assert!(level > 0 && level < FADE_STEPS, "a child 0.45 m away shows at {level} of {FADE_STEPS}");
    let faded = alphas(&mut app);
    assert!(!faded.is_empty() && faded.iter().all(|a| *a < 1.0), "some parts are not faded: {faded:?}");
    // A bigger bubble, chosen with the button and kept on this PC.
    let button = app.world_mut().query_filtered::<Entity, With<SpaceButton>>().single(app.world()).unwrap();
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
    frame(&mut stepper, &mut app);
    assert_eq!(app.world().resource::<SettingsFile>().personal_space_cm, 90);
    let mut texts = app.world_mut().query::<&Text>();
    assert!(texts.iter(app.world()).any(|t| t.0.replace(['\u{2060}', '\u{200b}'], "") == "スペース: 90cm"), "the button does not say the size");
    // Stepping away again, they come back whole.
    for n in 0..40 {
        let at = (me + Vec3::new(-0.45, 0.0, 0.0)).lerp(me + Vec3::new(-2.0, 0.0, 0.0), n as f32 / 30.0);
        stepper.send_pose(
            child,
            tsunagu_protocol::AvatarPose { body: to_wire(at, Quat::IDENTITY), head: to_wire(at + Vec3::Y * 1.15, Quat::IDENTITY), hands: None },
        );
        frame(&mut stepper, &mut app);
    }
    assert_eq!(shown(&mut app), FADE_STEPS);
    assert!(alphas(&mut app).iter().all(|a| *a == 1.0), "parts stayed faded");
}

/// The avatar entity of `id` in the app.
fn avatar_entity(app: &mut App, id: tsunagu_protocol::PeerId) -> Entity {
    let mut avatars = app.world_mut().query::<(Entity, &tsunagu_client::kit::room::RemoteAvatar)>();
    avatars.iter(app.world()).find(|(_, r)| r.0 == id).map(|(e, _)| e).expect("the person has an avatar")
}

#[test]
fn a_child_tells_the_staff_from_a_name_tag_in_two_presses_and_only_the_staff_hear() {
    use tsunagu_client::kit::room::LocalVolume;
    use tsunagu_client::staff::tell::{ConcernChoice, TellStaffButton};
    use tsunagu_protocol::ConcernKind;
    let (mut stepper, mut app, child) = app_with_a_child(ROOM_CODE);
    let nurse = stepper.connect(STAFF_CODE, "かんごし");
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    let about = stepper.clients[child].id().unwrap();
    let target = avatar_entity(&mut app, about);
    // First press: the name tag's 「しらせる」.
    let mut buttons = app.world_mut().query::<(Entity, &TellStaffButton)>();
    let button = buttons.iter(app.world()).find(|(_, b)| b.target == target).map(|(e, _)| e).expect("no 「しらせる」 on the name tag");
    // Everyone else's tag has one, my own none: there is no telling about myself.
    let own = app.world_mut().query_filtered::<Entity, With<tsunagu_client::kit::room::OwnAvatar>>().single(app.world()).unwrap();
    let targets: Vec<Entity> = buttons.iter(app.world()).map(|(_, b)| b.target).collect();
    assert_eq!(targets.len(), 2, "the child's and the nurse's tags should have one each");
    assert!(!targets.contains(&own), "my own name tag offers to tell the staff about me");
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
    frame(&mut stepper, &mut app);
    frame(&mut stepper, &mut app);
    // Second press: what kind.
    let mut choices = app.world_mut().query::<(Entity, &ConcernChoice)>();
    let offered: Vec<ConcernKind> = choices.iter(app.world()).filter(|(_, c)| c.target == target).map(|(_, c)| c.kind).collect();
    assert_eq!(offered, [ConcernKind::Words, ConcernKind::TooClose, ConcernKind::Other]);
    let choice = choices.iter(app.world()).find(|(_, c)| c.target == target && c.kind == ConcernKind::TooClose).map(|(e, _)| e).unwrap();
    app.world_mut().entity_mut(choice).insert(Interaction::Pressed);
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).unwrap();
    let told = stepper.clients[nurse]
        .events
        .iter()
        .find_map(|e| if let tsunagu_client_core::RoomEvent::Server(ServerEvent::Concern(c)) = e { Some(*c) } else { None });
    assert_eq!(told.map(|c| (c.from, c.about, c.kind)), Some((me, about, ConcernKind::TooClose)), "the nurse was not told");
    assert!(
        !stepper.clients[child].events.iter().any(|e| matches!(e, tsunagu_client_core::RoomEvent::Server(ServerEvent::Concern(_)))),
        "the child told about heard of it"
    );
    assert_eq!(app.world().get::<LocalVolume>(target), Some(&LocalVolume::Hidden), "the person is still seen by the child who told");
    let mut rows = app.world_mut().query::<&ConcernChoice>();
    assert_eq!(rows.iter(app.world()).count(), 0, "the choices stayed open");
}

#[test]
fn the_nurse_panel_shows_concerns_and_kept_seats_and_a_child_made_staff_sees_only_what_they_may_do() {
    let (mut stepper, mut app, child) = app_with_a_child(STAFF_CODE);
    let other = stepper.connect(ROOM_CODE, "そうた");
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    let about = stepper.clients[other].id().unwrap();
    stepper.send_event(child, ClientEvent::TellStaff(about, tsunagu_protocol::ConcernKind::Words));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let mut texts = app.world_mut().query::<&Text>();
    let line = texts.iter(app.world()).map(|t| t.0.replace('\u{2060}', "")).find(|t| t.contains("しらせています"));
    let line = line.expect("the concern is not in the panel");
    assert!(line.contains("ひなた") && line.contains("そうた") && line.contains("いやな ことば"), "the panel says: {line}");
    // A dropped child's seat is listed, and can be freed.
    stepper.connector.cut(stepper.clients[other].conn().unwrap());
    stepper.clients[other].core.leave();
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.server.room().places_kept(), 1);
    assert!(press(&mut app, &ClientEvent::Staff(StaffAction::ReleasePlace(about))), "no button to free the kept seat");
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.server.room().places_kept(), 0);
    assert!(
        app.world_mut().query::<&StaffButton>().iter(app.world()).any(|a| a.0 == ClientEvent::Staff(StaffAction::PutThingsBack)),
        "no 「かたづける」"
    );

    // A child made staff: looks after children, no staff-only buttons.
    let (mut stepper, mut app, child) = app_with_a_child(ROOM_CODE);
    let nurse = stepper.connect(STAFF_CODE, "かんごし");
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).unwrap();
    stepper.send_event(nurse, ClientEvent::Staff(StaffAction::SetRole(me, Role::Facilitator)));
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    let child_id = stepper.clients[child].id().unwrap();
    let nurse_id = stepper.clients[nurse].id().unwrap();
    let actions: Vec<ClientEvent> = app.world_mut().query::<&StaffButton>().iter(app.world()).map(|a| a.0.clone()).collect();
    assert!(actions.contains(&ClientEvent::Staff(StaffAction::Mute(child_id, true))), "made staff, cannot quiet a child: {actions:?}");
    for forbidden in [
        ClientEvent::Staff(StaffAction::EndMeetup),
        ClientEvent::Staff(StaffAction::NewInvites),
        ClientEvent::Staff(StaffAction::SetRole(child_id, Role::Facilitator)),
        ClientEvent::Staff(StaffAction::Mute(nurse_id, true)),
        ClientEvent::Staff(StaffAction::Remove(nurse_id)),
    ] {
        assert!(!actions.contains(&forbidden), "a child made staff is offered {forbidden:?}");
    }
}
