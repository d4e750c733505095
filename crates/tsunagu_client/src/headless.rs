//! The client's room features without a window, a renderer or a sound card:
//! the net adapter, avatars, motion, gestures, stamps, chat and play, driven by a
//! manual clock. Tests and the avatar benchmark use it to run the same
//! systems a person's client runs, minus drawing.

use std::time::Duration;

use bevy::input::keyboard::KeyboardInput;
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use bevy::window::Ime;
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::{Language, Locales};

use crate::kit::net::Connection;
use crate::kit::text::{Texts, UiFont};
use crate::{AppState, Settings, SettingsFile};

/// An app in the room `core` is joining, advancing `frame` per update.
pub fn room_app(core: ClientCore, frame: Duration) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, TransformPlugin, AssetPlugin::default()))
        .init_asset::<Mesh>()
        .init_asset::<StandardMaterial>()
        .init_asset::<Image>()
        .init_asset::<Font>()
        .add_message::<KeyboardInput>()
        .add_message::<Ime>()
        .init_resource::<ButtonInput<KeyCode>>()
        .init_resource::<ButtonInput<MouseButton>>()
        .insert_resource(crate::kit::scene::Ward(tsunagu_sim::WardLayout::ward()))
        .init_resource::<bevy::clipboard::Clipboard>()
        .insert_resource(TimeUpdateStrategy::ManualDuration(frame))
        .insert_resource(Settings {
            nickname: "ゆき".into(),
            look: tsunagu_protocol::AvatarLook::with_color(crate::BODY_COLORS[0]),
            language: Language::Japanese,
        })
        .insert_resource(SettingsFile {
            path: None,
            was_unreadable: false,
            device: 7,
            personal_space_cm: tsunagu_client_core::settings::DEFAULT_PERSONAL_SPACE_CM,
            headset: default(),
            text_size: default(),
            proxy: None,
            proxy_this_run: None,
            link_mode: default(),
        })
        .insert_resource(Texts(Locales::load().unwrap_or_else(|e| panic!("locale files are broken: {e}"))))
        .insert_resource(UiFont(Handle::default()))
        .init_resource::<crate::kit::me::Heading>()
        .init_state::<AppState>();
    let shapes = crate::kit::scene::Shapes::new(&mut app.world_mut().resource_mut::<Assets<Mesh>>());
    app.insert_resource(shapes).add_plugins(crate::RoomFeatures).insert_resource(Connection::new(core));
    app.world_mut().resource_mut::<NextState<AppState>>().set(AppState::InRoom);
    app
}
