//! The shared vocabulary every feature may use, and nothing else: the room
//! mirror and its messages ([`net`]), the language ([`text`]), the ward and
//! its shapes ([`scene`]), typing, and the UI kit's palette. A feature
//! depends on this and never on another feature (the tidy test
//! `client_features_depend_only_on_the_kit` holds it to that).

pub mod assets;
pub mod heard;
pub mod hud;
pub mod me;
pub mod net;
pub mod network_report;
pub mod pictures;
pub mod room;
pub mod scene;
pub mod software_rendering;
pub mod spoken;
pub mod text;
pub mod typing;

/// Warm palette shared by the screens.
pub mod palette {
    use bevy::prelude::Color;

    /// Main text.
    pub const INK: Color = Color::srgb(0.29, 0.22, 0.18);
    /// Softer text.
    pub const INK_SOFT: Color = Color::srgb(0.5, 0.42, 0.36);
    /// Cards and panels.
    pub const CARD: Color = Color::srgba(1.0, 0.98, 0.95, 0.96);
    /// The main action.
    pub const ACCENT: Color = Color::srgb(0.98, 0.55, 0.3);
    /// The main action, hovered.
    pub const ACCENT_HOVER: Color = Color::srgb(1.0, 0.63, 0.4);
    /// Other buttons.
    pub const BUTTON: Color = Color::srgb(0.95, 0.9, 0.84);
    /// Other buttons, hovered.
    pub const BUTTON_HOVER: Color = Color::srgb(0.99, 0.94, 0.88);
    /// Gentle warnings.
    pub const NOTE: Color = Color::srgb(0.75, 0.35, 0.2);
}
