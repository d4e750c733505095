//! 「つながりを しらべる」 on the start screen: the network check a nurse runs
//! before a meetup, with the invite pasted above. It runs on a thread of its
//! own (a few seconds at most) and its findings replace the start screen's
//! message, line by line, in plain words.

use std::sync::{Arc, Mutex};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use tsunagu_net::invite::Invite;
use tsunagu_net::netcheck::{NetworkReport, check_network};

use super::{Field, Focus, InviteText, StartMessage};
use crate::Settings;
use crate::kit::network_report::{CHECK_LIMIT, ReportForm, network_report_lines};
use crate::kit::text::Texts;

/// The button.
#[derive(Component)]
pub struct CheckNetworkButton;

/// A check under way: its report, once there is one.
#[derive(Resource, Clone, Default)]
pub struct NetworkCheck(Arc<Mutex<Option<NetworkReport>>>);

/// The start screen's message line, in the chosen language.
#[derive(SystemParam)]
pub(super) struct StartSays<'w, 's> {
    settings: Res<'w, Settings>,
    texts: Res<'w, Texts>,
    message: Query<'w, 's, &'static mut Text, With<StartMessage>>,
}

impl StartSays<'_, '_> {
    pub(super) fn say(&mut self, key: &str) {
        let text = self.texts.get(self.settings.language, key);
        self.show(text);
    }

    /// The message `key` in the chosen language, with `args`.
    pub(super) fn text(&self, key: &str, args: &[(&str, tsunagu_i18n::Arg)]) -> String {
        self.texts.get_with(self.settings.language, key, args)
    }

    pub(super) fn show(&mut self, text: String) {
        if let Ok(mut shown) = self.message.single_mut() {
            shown.0 = text;
        }
    }
}

/// What the check reads from the start screen's fields, and where the typing goes.
#[derive(SystemParam)]
pub(super) struct CheckFields<'w> {
    invite: Res<'w, InviteText>,
    proxy_text: Res<'w, super::ProxyText>,
    focus: ResMut<'w, Focus>,
}

/// Start a check of the pasted invite's room, or say what is missing.
pub(super) fn press_check(
    mut commands: Commands,
    buttons: Query<&Interaction, (With<CheckNetworkButton>, Changed<Interaction>)>,
    running: Option<Res<NetworkCheck>>,
    mut fields: CheckFields,
    mut settings_file: ResMut<crate::SettingsFile>,
    mut says: StartSays,
) {
    let CheckFields { invite, proxy_text, focus } = &mut fields;
    if running.is_some() || !buttons.iter().any(|i| *i == Interaction::Pressed) {
        return;
    }
    // The proxy typed above is the one checked (and kept for the joins after).
    if super::keep_proxy(proxy_text, &mut settings_file, says.settings.look).is_err() {
        focus.0 = Field::Proxy;
        return says.say("start-proxy-invalid");
    }
    let key = match Invite::parse(&invite.0) {
        Ok(invite) => {
            let check = NetworkCheck::default();
            let report = check.0.clone();
            let proxy = settings_file.proxy_choice();
            let started = std::thread::Builder::new().name("tsunagu-network-check".into()).spawn(move || {
                let found = check_network(&invite, &proxy, CHECK_LIMIT);
                *report.lock().unwrap_or_else(|e| e.into_inner()) = Some(found);
            });
            if started.is_err() {
                return;
            }
            commands.insert_resource(check);
            "netcheck-running"
        }
        Err(_) => {
            focus.0 = Field::Invite;
            if invite.0.trim().is_empty() { "start-invite-hint" } else { "invite-error" }
        }
    };
    says.say(key);
}

/// The findings, once in.
pub(super) fn show_check(mut commands: Commands, running: Option<Res<NetworkCheck>>, mut says: StartSays) {
    let Some(running) = running else { return };
    let Some(report) = running.0.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    commands.remove_resource::<NetworkCheck>();
    let lines = network_report_lines(&says.texts.0, says.settings.language, &report, ReportForm::Screen);
    says.show(lines.join("\n"));
}
