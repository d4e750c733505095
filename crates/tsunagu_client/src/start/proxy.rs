//! 「プロキシ」 on the start screen: the HTTP proxy hospital IT named for
//! this PC, typed on one line (`host:port` or `user:password@host:port`),
//! its password shown as stars, kept in `settings.ron` when the network
//! check or a join uses it. While its row is open, hosting and two labels
//! step aside so the card still fits a 720-pixel window.

use bevy::prelude::*;

/// The longest proxy text accepted (`user:password@host:port`).
pub const MAX_PROXY_CHARS: usize = 200;

/// The proxy being typed, as `[user[:password]@]host:port` (empty: none,
/// the system's and the environment's), and whether its row shows.
#[derive(Resource, Default)]
pub struct ProxyText {
    /// What the field holds.
    pub text: String,
    /// The row is open (it opens by itself when this PC has a proxy set).
    pub shown: bool,
}

/// The row with the proxy's field.
#[derive(Component)]
pub(super) struct ProxyRow;

/// What steps aside while the proxy's row is open, so the card still fits a
/// 720-pixel window with what the check says: hosting here (which needs no
/// proxy) and the labels whose fields and buttons say what they are.
#[derive(Component)]
pub(super) struct AsideForProxy;

/// The proxy field holds something that is not a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAProxy;

/// What a proxy field's text means: none, a proxy, or not one.
pub fn read_proxy_text(text: &str) -> Result<Option<tsunagu_client_core::settings::ProxySetting>, NotAProxy> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    tsunagu_client_core::settings::ProxySetting::parse(text).map(Some).ok_or(NotAProxy)
}

/// The proxy's text as the field shows it: a password as stars, so nobody
/// reads it over a nurse's shoulder.
pub fn masked_proxy_text(text: &str) -> String {
    let Some((login, address)) = text.rsplit_once('@') else { return text.to_owned() };
    let scheme = if login.starts_with("http://") { "http://" } else { "" };
    let login = &login[scheme.len()..];
    match login.split_once(':') {
        Some((user, password)) => format!("{scheme}{user}:{}@{address}", "*".repeat(password.chars().count())),
        None => text.to_owned(),
    }
}

/// Keep the field's proxy for this PC: `Err` (and nothing kept) when it is not one.
pub(super) fn keep_proxy(text: &ProxyText, file: &mut crate::SettingsFile, look: tsunagu_protocol::AvatarLook) -> Result<(), NotAProxy> {
    let proxy = read_proxy_text(&text.text)?;
    if file.proxy != proxy {
        file.proxy = proxy;
        file.save(look);
    }
    Ok(())
}

/// The field starts with the proxy this PC keeps, its row open if there is one.
pub(super) fn read_kept_proxy(file: Res<crate::SettingsFile>, mut proxy: ResMut<ProxyText>) {
    proxy.text = file.proxy.as_ref().map(|p| p.written()).unwrap_or_default();
    proxy.shown = file.proxy.is_some();
}

/// Append typed or pasted text to a proxy: visible ASCII only, within the length limit.
pub fn append_to_proxy(proxy: &mut String, typed: &str) {
    for c in typed.chars().filter(|c| c.is_ascii_graphic()) {
        if proxy.len() >= MAX_PROXY_CHARS {
            break;
        }
        proxy.push(c);
    }
}

/// The proxy's row while it is open, and what steps aside for it.
pub(super) fn show_proxy_row(
    proxy: Res<ProxyText>,
    mut rows: Query<&mut Node, (With<ProxyRow>, Without<AsideForProxy>)>,
    mut aside: Query<&mut Node, (With<AsideForProxy>, Without<ProxyRow>)>,
) {
    let (row, others) = if proxy.shown { (Display::Flex, Display::None) } else { (Display::None, Display::Flex) };
    for mut node in &mut rows {
        if node.display != row {
            node.display = row;
        }
    }
    for mut node in &mut aside {
        if node.display != others {
            node.display = others;
        }
    }
}
