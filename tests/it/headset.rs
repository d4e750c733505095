//! The headset on a real OpenXR runtime: Monado with a simulated headset, two
//! simulated controllers and its null compositor (no GPU, no display).
//! `cargo xtask test` builds it once from the vendored snapshot and names its
//! manifest in `TSUNAGU_TEST_XR_RUNTIME`; without one this test says it was
//! skipped, and so does the summary `cargo xtask test` prints, loudly.

use std::time::Duration;

use crate::screenshot::{client_command, read_png, run_with_limit};

/// The number after `label` in `line` ("head moved 26 mm" → 26).
fn number_after(line: &str, label: &str) -> f64 {
    line.split(label).nth(1).and_then(|rest| rest.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no number after {label:?} in: {line}"))
}

#[test]
fn on_a_simulated_headset_the_room_is_seen_upright_and_a_guest_sees_the_head_and_hands_move() {
    let Some(runtime) = std::env::var_os("TSUNAGU_TEST_XR_RUNTIME") else {
        eprintln!("SKIPPED: no OpenXR runtime for tests (TSUNAGU_TEST_XR_RUNTIME); `cargo xtask test` builds Monado when its snapshot is there");
        return;
    };
    let _turn = crate::one_at_a_time();
    let dir = std::env::temp_dir().join(format!("tsunagu-it-headset-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("room.png");
    let mut cmd = client_command();
    cmd.args(["--xr", "--screenshot", &path.to_string_lossy(), "--frames", "40", "--bots", "1", "--lang", "ja"]);
    cmd.env("XR_RUNTIME_JSON", &runtime)
        .env("XRT_COMPOSITOR_NULL", "1")
        .env("SIMULATED_ENABLE", "1")
        .env("SIMULATED_LEFT", "simple")
        .env("SIMULATED_RIGHT", "simple")
        .env("XRT_COMPOSITOR_LOG", "warn")
        .env("OXR_NO_PRINTING", "1")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("PULSE_SERVER")
        .env("HOME", dir.join("home"))
        .env_remove("XDG_CONFIG_HOME");
    let (ok, log) = run_with_limit(cmd, Duration::from_secs(300));
    assert!(ok, "the client failed in the headset:\n{log}");
    assert!(log.contains("the room is in the headset (FOCUSED)"), "the session never reached FOCUSED:\n{log}");
    // On a CPU renderer the eyes are drawn with the simple shader: without it
    // the headset falls to a quarter of its pace (docs/benchmarks.md).
    if log.contains("tsunagu: software rendering (") {
        assert!(log.contains("software rendering: simple shading"), "the simple shader was not used on software rendering:\n{log}");
    }
    assert!(log.contains("frames per second in the headset"), "the headset's pace was not logged:\n{log}");
    let line = log.lines().find(|l| l.contains("frames in the headset")).unwrap_or_else(|| panic!("no headset summary:\n{log}"));
    eprintln!("{line}");
    assert!(number_after(line, "headset: ") >= 30.0, "too few frames in the headset: {line}");
    // The simulated head sways on its own: the avatar's head follows it, and
    // the guest (another client, through the server) sees it where it went.
    assert!(number_after(line, "head moved") >= 5.0, "the head did not follow the headset: {line}");
    assert!(number_after(line, "a guest sees it") <= 50.0, "the guest does not see the head where the headset has it: {line}");
    assert!(line.contains("hands seen: true"), "the controllers did not reach the avatar's hands as others see them: {line}");
    // What the left eye saw, from the runtime's own swapchain image.
    let eye = read_png(&dir.join("room-left-eye.png"));
    assert_eq!((eye.width, eye.height), (320, 240), "the simulated headset's eye is 320×240");
    let tones: std::collections::HashSet<[u8; 3]> = eye.rgb.iter().map(|p| p.map(|c| c >> 3)).collect();
    assert!(tones.len() > 40, "the eye saw nearly nothing ({} tones)", tones.len());
    // Upright: the warm wooden floor is below, the paler ceiling above
    // (red minus blue: about 75 on the floor, 35 on the ceiling).
    let warmth = |rows: std::ops::Range<u32>| {
        let pixels: Vec<&[u8; 3]> = rows.flat_map(|y| (0..eye.width).map(move |x| (y * eye.width + x) as usize)).map(|i| &eye.rgb[i]).collect();
        pixels.iter().map(|p| f64::from(p[0]) - f64::from(p[2])).sum::<f64>() / pixels.len() as f64
    };
    let (top, bottom) = (warmth(0..40), warmth(200..240));
    assert!(bottom > top + 20.0, "the floor is not below the ceiling (warmth: top {top:.0}, bottom {bottom:.0})");
}
