//! Rules reviewers would otherwise have to remember.

use std::path::Path;
use std::process::Command;

use crate::root;

/// Renderer, window, sound and headset crates: none may sit under a logic crate or the server.
const PRESENTATION: &[&str] =
    &["wgpu", "winit", "bevy_render", "bevy_winit", "bevy_pbr", "bevy_ui", "kira", "cpal", "bevy_mod_openxr", "openxr", "bevy_rapier3d"];

fn normal_dependencies(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--offline", "-e", "normal,build", "--prefix", "none", "--format", "{p}", "-p", package])
        .current_dir(root())
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next().map(str::to_owned)).collect()
}

#[test]
fn logic_crates_and_the_server_never_link_the_renderer() {
    for package in
        ["tsunagu_protocol", "tsunagu_net", "tsunagu_room", "tsunagu_sim", "tsunagu_i18n", "tsunagu_server", "tsunagu_client_core", "tsunagu_testkit"]
    {
        let deps = normal_dependencies(package);
        assert!(deps.len() > 1, "cargo tree printed nothing for {package}");
        for forbidden in PRESENTATION {
            assert!(!deps.iter().any(|d| d == forbidden), "{package} depends on {forbidden}");
        }
    }
}

#[test]
fn the_voice_crate_makes_sound_without_the_engine() {
    let deps = normal_dependencies("tsunagu_voice");
    assert!(deps.iter().any(|d| d == "kira"), "tsunagu_voice no longer plays through kira?");
    for forbidden in ["bevy", "bevy_ecs", "wgpu", "winit", "bevy_mod_openxr", "openxr", "bevy_rapier3d", "quinn"] {
        assert!(!deps.iter().any(|d| d == forbidden), "tsunagu_voice depends on {forbidden}");
    }
}

#[test]
fn the_protocol_crate_has_no_engine_and_no_io() {
    let deps = normal_dependencies("tsunagu_protocol");
    for forbidden in ["bevy", "bevy_ecs", "bevy_math", "quinn", "tokio"] {
        assert!(!deps.iter().any(|d| d == forbidden), "tsunagu_protocol depends on {forbidden}");
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_sources() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["src", "crates", "xtask", "tests"] {
        rust_files(&root().join(dir), &mut files);
    }
    files
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let files = all_sources();
    assert!(files.len() > 20);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.starts_with("//!"), "{} has no //! file comment", file.display());
    }
}

#[test]
fn every_message_id_used_in_code_exists_in_the_locales() {
    let ja = std::fs::read_to_string(root().join("assets/locales/ja/main.ftl")).expect("ja locale");
    let defined: Vec<&str> = ja.lines().filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim())).collect();
    let mut used = Vec::new();
    for file in all_sources().into_iter().filter(|f| f.to_string_lossy().contains("tsunagu_client")) {
        let text = std::fs::read_to_string(&file).expect("read");
        for marker in [
            "Localized(\"",
            "get(settings.language, \"",
            "get_with(settings.language, \"",
            "\"join-error-",
            "\"invite-error",
            "\"status-",
            "\"hud-",
            "\"start-",
        ] {
            for piece in text.split(marker).skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                let key = match marker.strip_prefix('"') {
                    Some(prefix) => format!("{prefix}{key}"),
                    None => key.to_owned(),
                };
                if !key.is_empty() {
                    used.push((key, file.clone()));
                }
            }
        }
    }
    assert!(used.len() > 10, "found only {} message ids in the client", used.len());
    for (key, file) in used {
        assert!(defined.contains(&key.as_str()), "{} uses '{key}', which assets/locales/ja/main.ftl does not define", file.display());
    }
}
