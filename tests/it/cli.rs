//! The command line, as a person would use it.

use std::process::Command;

fn tsunagu() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
}

#[test]
fn help_lists_the_options() {
    let out = tsunagu().arg("--help").output().expect("run tsunagu --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in ["--name", "--color", "--lang", "--host", "--bots", "--size", "--no-xr", "--xr", "--bed-tilt", "--snap-turn", "--smooth-walk"] {
        assert!(help.contains(option), "--help does not mention {option}:\n{help}");
    }
    // The screenshot scenario is test support: the shipped client does not offer it.
    for test_only in ["--screenshot", "--frames"] {
        assert!(!help.contains(test_only), "the shipped client offers {test_only}:\n{help}");
    }
}

#[test]
fn bad_options_are_explained_not_crashed_on() {
    for (args, expected) in [
        (vec!["--color", "purple"], "is not a colour like"),
        (vec!["--lang", "fr"], "is not a language"),
        (vec!["--size", "10x10"], "outside"),
        (vec!["--bed-tilt", "80"], "is not an angle from 0 to 60"),
        (vec!["--snap-turn", "40"], "30 or 45"),
        (vec!["--xr", "--no-xr"], "cannot be used with"),
        (vec!["--proxy", "nowhere"], "is not a proxy like"),
    ] {
        let out = tsunagu().args(&args).output().expect("run tsunagu");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

/// `tsunagu --check-network INVITE`, as hospital IT runs it: what gets
/// through, in plain words, and an exit status a script can read.
#[test]
fn the_network_check_reports_both_ways_in_plain_words() {
    let server = crate::join::Server::start("netcheck-cli");
    let out = tsunagu().args(["--check-network", &server.invite.to_string(), "--lang", "en"]).output().expect("run tsunagu --check-network");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    for line in ["UDP (QUIC): works", "TCP (WebSocket): works", "TLS: not inspected", "This PC can join the meetup."] {
        assert!(said.contains(line), "no {line:?} in:\n{said}");
    }
    assert!(!said.contains('\u{2060}'), "word joiners in a terminal: {said:?}");
    // With UDP swallowed: TCP only, and what to ask IT for.
    let swallow = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let blocked = tsunagu_net::invite::Invite { port: swallow.local_addr().unwrap().port(), ..server.invite.clone() };
    let out = tsunagu().args(["--check-network", &blocked.to_string(), "--lang", "ja"]).output().expect("run tsunagu --check-network");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("UDP（QUIC）: とどきません") && said.contains("TCP（WebSocket）: つながります") && said.contains("IT たんとうの かたへ"),
        "{said}"
    );
    // Through a proxy named on the command line that wants another password.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut client in proxy.incoming().flatten() {
            let mut head = [0u8; 1024];
            let _ = client.read(&mut head);
            let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
        }
    });
    let out = tsunagu()
        .args(["--check-network", &blocked.to_string(), "--lang", "en", "--proxy", &format!("http://ward:wrong@127.0.0.1:{proxy_port}")])
        .output()
        .expect("run tsunagu --check-network --proxy");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&format!("Proxy: 127.0.0.1:{proxy_port}")) && said.contains("user name and password"), "{said}");
    assert!(!said.contains("wrong"), "the password was shown: {said}");
    // A room that is not there: a failing exit status.
    drop(server);
    let out = tsunagu().args(["--check-network", &blocked.to_string(), "--lang", "en"]).output().expect("run tsunagu --check-network");
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// 「つながりを しらべる」 on the start screen, with an invite pasted: the
/// findings replace the start screen's message.
#[test]
fn the_start_screen_checks_the_network_of_the_pasted_invite() {
    use bevy::prelude::*;
    use tsunagu_client::start::{InviteText, NetworkCheck, StartMessage};
    let server = crate::join::Server::start("netcheck-button");
    let options =
        tsunagu_client::ClientOptions { xr: Some(false), language: Some(tsunagu_i18n::Language::English), settings_file: None, ..default() };
    let mut app = at_the_start_screen(options);
    app.world_mut().resource_mut::<InviteText>().0 = server.invite.to_string();
    click_check_button(&mut app);
    let message =
        |app: &mut App| app.world_mut().query_filtered::<&Text, With<StartMessage>>().single(app.world()).unwrap().0.replace('\u{2060}', "");
    assert!(app.world().get_resource::<NetworkCheck>().is_some(), "pressing the button started no check: {}", message(&mut app));
    assert!(message(&mut app).contains("Checking the connection"), "{}", message(&mut app));
    let started = std::time::Instant::now();
    while app.world().get_resource::<NetworkCheck>().is_some() && started.elapsed() < std::time::Duration::from_secs(10) {
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let said = message(&mut app);
    assert!(
        said.contains("UDP: works ・ TCP: works ・ Proxy: none used ・ TLS: not inspected") && said.contains("This PC can join the meetup."),
        "{said}"
    );
    // The findings fit on the screen.
    for _ in 0..3 {
        app.update();
    }
    let mut shown =
        app.world_mut().query_filtered::<(&bevy::ui::ComputedNode, &bevy::ui::UiGlobalTransform, &bevy::text::TextLayoutInfo), With<StartMessage>>();
    let (node, place, letters) = shown.single(app.world()).unwrap();
    let bottom = place.translation.y - node.size().y / 2.0 + letters.size.y.max(node.size().y);
    let window = app.world_mut().query_filtered::<&Window, With<bevy::window::PrimaryWindow>>().single(app.world()).unwrap().physical_height();
    assert!(bottom <= window as f32, "the findings run off the bottom of the window ({bottom} of {window} pixels)");
    // Hospital IT types a proxy under 「プロキシ」: one that is not a proxy is said so, and not kept.
    use tsunagu_client::start::ProxyText;
    app.world_mut().resource_mut::<ProxyText>().text = "nowhere".into();
    click_check_button(&mut app);
    assert!(message(&mut app).contains("That proxy does not look right"), "{}", message(&mut app));
    assert!(app.world().get_resource::<NetworkCheck>().is_none(), "a check started with a broken proxy");
    // One that wants another password: checked through it, said plainly, and kept for the joins after.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut client in proxy.incoming().flatten() {
            let _ = client.read(&mut [0u8; 1024]);
            let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
        }
    });
    app.world_mut().resource_mut::<ProxyText>().text = format!("ward:wrong@127.0.0.1:{proxy_port}");
    // On a network that drops UDP, so the proxy is the only way and what it says matters.
    let swallow = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let blocked = tsunagu_net::invite::Invite { port: swallow.local_addr().unwrap().port(), ..server.invite.clone() };
    app.world_mut().resource_mut::<InviteText>().0 = blocked.to_string();
    click_check_button(&mut app);
    let started = std::time::Instant::now();
    while app.world().get_resource::<NetworkCheck>().is_some() && started.elapsed() < std::time::Duration::from_secs(10) {
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let said = message(&mut app);
    assert!(said.contains(&format!("Proxy: 127.0.0.1:{proxy_port}")) && said.contains("user name and password"), "{said}");
    assert!(!said.contains("wrong"), "the password was shown: {said}");
    // With the proxy's row open, what the check said still fits in the window.
    app.world_mut().resource_mut::<ProxyText>().shown = true;
    for _ in 0..3 {
        app.update();
    }
    let (node, place, letters) = shown.single(app.world()).unwrap();
    let bottom = place.translation.y - node.size().y / 2.0 + letters.size.y.max(node.size().y);
    assert!(bottom <= window as f32, "with the proxy's row, the findings run off the window ({bottom} of {window} pixels): {said}");
    let kept = app.world().resource::<tsunagu_client::SettingsFile>().proxy.clone();
    assert_eq!(kept.map(|p| (p.host, p.port, p.user)), Some(("127.0.0.1".to_string(), proxy_port, Some("ward".to_string()))));
}

/// The real client, headless, showing its start screen.
pub(crate) fn at_the_start_screen(options: tsunagu_client::ClientOptions) -> bevy::app::App {
    use bevy::prelude::*;
    let mut app = crate::calm_screen::headless_client(options);
    let started = std::time::Instant::now();
    while *app.world().resource::<State<tsunagu_client::AppState>>().get() != tsunagu_client::AppState::Start {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no start screen");
        app.update();
    }
    app.update();
    app
}

/// A click on the start screen's 「つながりを しらべる」, as the window system
/// reports one (see [`click_on`]).
fn click_check_button(app: &mut bevy::app::App) {
    click_on::<tsunagu_client::start::CheckNetworkButton>(app);
}

/// A click on the one button marked `T`, as the window system reports one:
/// the cursor over it, the left button down (one frame), then up (read with
/// the next frame).
pub(crate) fn click_on<T: bevy::prelude::Component>(app: &mut bevy::app::App) {
    use bevy::input::ButtonState;
    use bevy::input::mouse::MouseButtonInput;
    use bevy::prelude::*;
    let mut buttons = app.world_mut().query_filtered::<(&bevy::ui::ComputedNode, &bevy::ui::UiGlobalTransform), With<T>>();
    let (node, place) = buttons.single(app.world()).expect("the button");
    assert!(node.size().min_element() > 0.0, "the button is not laid out");
    let (at, half) = (place.translation, node.size() / 2.0);
    let mut windows = app.world_mut().query_filtered::<(Entity, &mut Window), With<bevy::window::PrimaryWindow>>();
    let (window, mut shape) = windows.single_mut(app.world_mut()).unwrap();
    // A person can only click what is wholly on screen.
    let (low, high) = (at - half, at + half);
    let size = Vec2::new(shape.physical_width() as f32, shape.physical_height() as f32);
    assert!(low.min_element() >= 0.0 && high.x <= size.x && high.y <= size.y, "the button lies off the window: {low}..{high} in {size}");
    shape.set_physical_cursor_position(Some(at.as_dvec2()));
    app.world_mut().write_message(MouseButtonInput { button: MouseButton::Left, state: ButtonState::Pressed, window });
    app.update();
    // And up again, a frame later, so the next click is a new press.
    app.world_mut().write_message(MouseButtonInput { button: MouseButton::Left, state: ButtonState::Released, window });
}
