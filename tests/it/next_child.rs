//! 「つぎの ひとへ」 on a ward PC many children share, headless through the
//! real app: the last child's look, name and choices go in one press, the
//! PC's own settings stay, Tsunagu's saved pictures go on a second press
//! (others' files stay), and afterwards no file the client wrote holds
//! anything of the last child.

use bevy::prelude::*;
use tsunagu_client::start::{DeletePicturesButton, NextChildButton, PicturesToDelete, StartMessage};
use tsunagu_client::{Settings, SettingsFile};
use tsunagu_client_core::settings::{Loaded, TextSize, load};

/// Every file under `dir`, with its bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out
}

/// Click the button marked `T`, and let what it does happen.
fn press<T: Component>(app: &mut App) {
    // Laid out first (a button just shown has no size yet).
    for _ in 0..2 {
        app.update();
    }
    crate::cli::click_on::<T>(app);
    app.update();
}

#[test]
fn the_next_child_starts_afresh_and_nothing_of_the_last_one_stays_on_the_pc() {
    let home = std::env::temp_dir().join(format!("tsunagu-it-next-child-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let (settings_path, pictures) = (home.join("config").join("settings.ron"), home.join("Pictures").join("Tsunagu"));
    let options = tsunagu_client::ClientOptions {
        xr: Some(false),
        language: Some(tsunagu_i18n::Language::Japanese),
        settings_file: Some(settings_path.clone()),
        pictures_dir: Some(pictures.clone()),
        ..default()
    };
    let mut app = crate::cli::at_the_start_screen(options);
    // The last child: a name, a look, big letters, wide space; IT's proxy and a light line are the PC's.
    let secret_name = "ひみつのなまえ";
    let their_colour = [12, 34, 56];
    app.world_mut().resource_mut::<Settings>().nickname = secret_name.into();
    app.world_mut().resource_mut::<Settings>().look = tsunagu_protocol::AvatarLook::with_color(their_colour);
    let device = {
        let mut file = app.world_mut().resource_mut::<SettingsFile>();
        file.text_size = TextSize::Largest;
        file.personal_space_cm = 150;
        file.proxy = tsunagu_client_core::settings::ProxySetting::parse("proxy.ward.example:3128");
        file.link_mode = tsunagu_client_core::settings::LinkMode::Light;
        file.save(tsunagu_protocol::AvatarLook::with_color(their_colour));
        file.device
    };
    // Pictures Tsunagu saved (a wish in one), and someone else's photo beside them.
    std::fs::create_dir_all(&pictures).unwrap();
    std::fs::write(pictures.join("tanabata-1765000000.png"), "げんきになりたい ひみつのなまえ").unwrap();
    std::fs::write(pictures.join("tanabata-1765000100.png"), "かぞくに あいたい").unwrap();
    std::fs::write(pictures.join("holiday.png"), "not ours").unwrap();

    press::<NextChildButton>(&mut app);
    let settings = app.world().resource::<Settings>();
    assert!(settings.nickname.is_empty(), "the name stayed: {}", settings.nickname);
    assert_eq!(settings.look, tsunagu_client::fresh_settings().look);
    let Loaded::Found(saved) = load(&settings_path) else { panic!("the settings file is gone or broken") };
    assert_eq!((saved.look, saved.text_size, saved.personal_space_cm), (tsunagu_client::fresh_settings().look, TextSize::Normal, 60));
    assert_eq!((saved.device, saved.link_mode), (device, tsunagu_client_core::settings::LinkMode::Light), "the PC's own settings went too");
    assert_eq!(saved.proxy.map(|p| p.host), Some("proxy.ward.example".to_string()));
    // It says so, and offers the two pictures.
    let said = app.world_mut().query_filtered::<&Text, With<StartMessage>>().single(app.world()).unwrap().0.replace('\u{2060}', "");
    assert!(said.contains("けしました") && said.contains("2 まい"), "{said}");
    assert_eq!(app.world().resource::<PicturesToDelete>().0.len(), 2);
    let shown = app.world_mut().query_filtered::<&Node, With<DeletePicturesButton>>().single(app.world()).unwrap().display;
    assert_eq!(shown, Display::Flex, "the delete button is not shown");

    press::<DeletePicturesButton>(&mut app);
    assert!(!pictures.join("tanabata-1765000000.png").exists() && !pictures.join("tanabata-1765000100.png").exists());
    assert!(pictures.join("holiday.png").exists(), "someone else's picture was deleted");
    let said = app.world_mut().query_filtered::<&Text, With<StartMessage>>().single(app.world()).unwrap().0.replace('\u{2060}', "");
    assert!(said.contains("2 まい けしました"), "{said}");
    let shown = app.world_mut().query_filtered::<&Node, With<DeletePicturesButton>>().single(app.world()).unwrap().display;
    assert_eq!(shown, Display::None);

    // Nothing the client wrote holds the last child: not the name, not a wish, not their colour.
    let colour = format!("({}, {}, {})", their_colour[0], their_colour[1], their_colour[2]);
    for (path, bytes) in files_under(&home) {
        let text = String::from_utf8_lossy(&bytes);
        for trace in [secret_name, "げんきになりたい", "かぞくに あいたい", colour.as_str()] {
            assert!(!text.contains(trace), "{} still holds {trace:?}", path.display());
        }
    }
}
