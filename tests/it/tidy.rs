//! Rules reviewers would otherwise have to remember.

use std::path::Path;
use std::process::Command;

use crate::root;

/// Renderer, window, sound and headset crates: none may sit under a logic crate or the server.
const PRESENTATION: &[&str] =
    &["wgpu", "winit", "bevy_render", "bevy_winit", "bevy_pbr", "bevy_ui", "kira", "cpal", "bevy_mod_openxr", "openxr", "bevy_rapier3d"];

/// `cargo tree`'s lines for `args`, one package a line, as `format` prints it.
fn tree(args: &[&str], format: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--offline", "--prefix", "none", "--format", format])
        .args(args)
        .current_dir(root())
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

fn normal_dependencies(package: &str) -> Vec<String> {
    tree(&["-e", "normal,build", "-p", package], "{p}").iter().filter_map(|l| l.split_whitespace().next().map(str::to_owned)).collect()
}

/// Each package ("name vX.Y.Z") with the features it is built with.
fn features_built(args: &[&str]) -> std::collections::HashMap<String, std::collections::BTreeSet<String>> {
    let mut built = std::collections::HashMap::<String, std::collections::BTreeSet<String>>::new();
    for line in tree(args, "{p} {f}") {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else { continue };
        // After the name: a path or "(proc-macro)", "(*)" for a repeat, then the features.
        let features = words.filter(|w| !w.starts_with('(')).collect::<Vec<_>>().join(",");
        built.entry(format!("{name} {version}")).or_default().insert(features);
    }
    built
}

/// `cargo xtask run` builds the client alone, `cargo xtask test` the whole
/// workspace with its dev-dependencies. A dependency built with other
/// features in one is built twice, and so is everything above it: a rustix
/// feature that only proptest's tempfile turned on rebuilt most of Bevy for
/// the tests after the run had built it (docs/benchmarks.md).
#[test]
fn the_run_and_the_tests_build_every_shared_dependency_alike() {
    let run = features_built(&["-e", "normal,build", "-p", "tsunagu", "-p", "tsunagu_speech"]);
    let tests = features_built(&["-e", "normal,build,dev", "--workspace"]);
    assert!(run.len() > 300, "cargo tree printed {} packages for the run", run.len());
    let differing: Vec<_> = run.iter().filter(|(package, features)| tests.get(*package).is_some_and(|t| t != *features)).collect();
    assert!(
        differing.is_empty(),
        "built with other features for the tests than for `cargo xtask run`: {differing:?} (tests: {:?})",
        differing.iter().map(|(p, _)| &tests[*p]).collect::<Vec<_>>()
    );
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
    for dir in ["src", "crates", "xtask", "tests", "examples", "benches"] {
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

/// The message ids a locale file defines.
fn locale_ids(language: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(format!("assets/locales/{language}/main.ftl"))).expect("locale file");
    text.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
        .collect()
}

/// Whether `text` has the shape of a message id: lower-case words and digits
/// joined by hyphens (`hud-slow-down`).
fn looks_like_an_id(text: &str) -> bool {
    text.contains('-') && text.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// Literals of an id's shape that are not message ids, each with where it is.
const NOT_MESSAGE_IDS: &[&str] = &[];

/// Checked from the code, not from a list: every string literal in the
/// client that has the shape of a message id and begins with a word the
/// locales use for ids (`hud`, `staff`, `tell`, …) is a message id, and
/// must be defined in Japanese and in English; and the two files define the
/// same ids.
#[test]
fn every_message_id_used_in_code_exists_in_both_locales() {
    let (ja, en) = (locale_ids("ja"), locale_ids("en"));
    for id in &ja {
        assert!(en.contains(id), "assets/locales/en/main.ftl lacks '{id}'");
    }
    for id in &en {
        assert!(ja.contains(id), "assets/locales/ja/main.ftl lacks '{id}'");
    }
    let first_words: std::collections::HashSet<&str> = ja.iter().filter_map(|id| id.split('-').next()).collect();
    let mut used = Vec::new();
    let client_sources = all_sources().into_iter().filter(|f| f.to_string_lossy().contains("tsunagu_client/") || f.starts_with(root().join("src")));
    for file in client_sources {
        let text = std::fs::read_to_string(&file).expect("read");
        // Every other piece between double quotes is a string literal's text
        // (good enough for ids, which hold no quotes).
        for literal in text.split('"').skip(1).step_by(2) {
            if looks_like_an_id(literal) && literal.split('-').next().is_some_and(|w| first_words.contains(w)) && !NOT_MESSAGE_IDS.contains(&literal)
            {
                used.push((literal.to_owned(), file.clone()));
            }
        }
    }
    assert!(used.len() > 150, "found only {} message ids in the client", used.len());
    for (id, file) in used {
        assert!(ja.contains(&id), "{} uses '{id}', which the locales do not define", file.display());
    }
}

/// The client's top-level modules that are not features: the shared
/// vocabulary (`kit`), and what puts the app together or tests it.
const CLIENT_ASSEMBLY: &[&str] = &["lib", "headless", "screenshot"];

/// Every `crate::<module>` a client source file names (test modules excluded),
/// with the line it is on.
fn client_modules_named(text: &str, modules: &[String]) -> Vec<(String, usize)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        // A comment, whole-line or after the code (not `tsunagu://` in a string).
        let comment = line.match_indices("//").find(|(at, _)| *at == 0 || line[..*at].ends_with(char::is_whitespace));
        let mut rest = comment.map_or(line, |(at, _)| &line[..at]);
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let mut names: Vec<&str> = Vec::new();
            if let Some(inside) = rest.strip_prefix('{') {
                // `use crate::{a, b::C}`: each first word.
                let inside = inside.split('}').next().unwrap_or("");
                names.extend(inside.split(',').map(|p| p.trim().split("::").next().unwrap_or("")));
            } else {
                names.push(rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or(""));
            }
            for name in names {
                if modules.iter().any(|m| m == name) {
                    out.push((name.to_owned(), n + 1));
                }
            }
        }
    }
    out
}

/// A feature of the client (a folder under `src/`) uses the shared
/// vocabulary in `kit/` and the crate root's settings, never another
/// feature; `kit` uses nothing but itself. Features talk through the kit's
/// messages, components and slots (docs/architecture.md).
#[test]
fn client_features_depend_only_on_the_kit() {
    let src = root().join("crates/tsunagu_client/src");
    let modules: Vec<String> = std::fs::read_dir(&src)
        .expect("client sources")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() { Some(name) } else { name.strip_suffix(".rs").map(str::to_owned) }
        })
        .collect();
    assert!(modules.len() > 10 && modules.iter().any(|m| m == "kit"), "the client's modules moved? {modules:?}");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let home = relative.components().next().map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned()).unwrap_or_default();
        if CLIENT_ASSEMBLY.contains(&home.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        for (named, line) in client_modules_named(&text, &modules) {
            let allowed = named == home || named == "kit";
            if !allowed {
                broken.push(format!("{}:{line}: the {home} feature uses crate::{named}", relative.display()));
            }
        }
    }
    assert!(broken.is_empty(), "features reach into each other (move the shared part into kit/, or send a message):\n{}", broken.join("\n"));
}

#[test]
fn the_client_module_rule_sees_every_way_of_naming_a_module() {
    let modules = ["kit".to_owned(), "chat".to_owned(), "play".to_owned()];
    let named = |text: &str| client_modules_named(text, &modules).into_iter().map(|(m, _)| m).collect::<Vec<_>>();
    assert_eq!(named("use crate::chat::ChatInput;"), ["chat"]);
    assert_eq!(named("use crate::{chat, play::Hands};"), ["chat", "play"]);
    assert_eq!(named("let x = crate::play::Thing(1); // crate::chat"), ["play"]);
    assert_eq!(named("// crate::chat::x\nuse crate::kit::me::LocalPlayer;"), ["kit"]);
    assert!(named("use crate::Settings;").is_empty());
}

/// Past this many lines a file says at its top why it is long (the issue
/// that split the client set it): most long files were two or three parts.
const LONG_FILE_LINES: usize = 500;

#[test]
fn a_long_file_says_why_it_is_long() {
    let mut unexplained = Vec::new();
    for file in all_sources() {
        let text = std::fs::read_to_string(&file).expect("read");
        let header: String = text.lines().take_while(|l| l.starts_with("//!")).collect::<Vec<_>>().join("\n");
        if text.lines().count() > LONG_FILE_LINES && !header.contains("Long because") {
            unexplained.push(format!("{} ({} lines)", file.display(), text.lines().count()));
        }
    }
    assert!(unexplained.is_empty(), "split these, or say at the top why each is long (\"Long because …\"):\n{}", unexplained.join("\n"));
}
