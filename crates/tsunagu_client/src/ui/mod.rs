//! Screens and overlays: the start screen and the in-room HUD. Every text comes
//! from the locale files; sizes are chosen to read at 1280×720.

pub mod hud;
pub mod look;
pub mod staff;
pub mod start;
pub mod typing;
pub mod voice_panel;

pub use hud::HudPlugin;
pub use look::LookPlugin;
pub use staff::StaffPanelPlugin;
pub use start::StartScreenPlugin;
pub use voice_panel::VoicePanelPlugin;

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
