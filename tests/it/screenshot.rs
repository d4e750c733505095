//! The room as a person would see it: the real client (the screenshot
//! scenario, examples/screenshot/: the shipped client's plugins and command
//! line plus a picture), started with XR on but no OpenXR runtime, no sound
//! card and no GPU (Xvfb + software Vulkan), hosts a room with practice
//! guests and saves a screenshot.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

/// The screenshot scenario, which `cargo test` builds beside this test
/// binary (as an example, so the shipped `tsunagu` has no test code in it).
fn scenario_binary() -> std::path::PathBuf {
    let mut dir = std::env::current_exe().expect("the test binary's path");
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join("examples").join(format!("screenshot{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.is_file(), "{} is missing: run the whole `cargo test` (it builds the examples), not only --test it", binary.display());
    binary
}

/// The client, with `--screenshot` and `--frames`, under Xvfb when there is no display.
pub fn client_command() -> Command {
    let binary = scenario_binary();
    if std::env::var_os("DISPLAY").is_some() {
        return Command::new(binary);
    }
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", &format!("-screen 0 {WIDTH}x{HEIGHT}x24")]).arg(binary);
    cmd
}

/// Run to completion within `limit`, returning (success, combined output).
pub fn run_with_limit(mut cmd: Command, limit: Duration) -> (bool, String) {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("could not start the client; is xvfb installed? (`cargo xtask deps`)");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = format!("{}{}", out_reader.join().unwrap_or_default(), err_reader.join().unwrap_or_default());
    (status.is_some_and(|s| s.success()), log)
}

pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<[u8; 3]>,
}

pub fn read_png(path: &std::path::Path) -> Picture {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).expect("screenshot written")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()].chunks(channels).map(|p| [p[0], p[1], p[2]]).collect();
    Picture { width: info.width, height: info.height, rgb }
}

#[test]
fn the_room_renders_with_people_in_it_and_no_headset_or_sound_card_needed() {
    let _turn = crate::one_at_a_time();
    let dir = std::env::temp_dir().join(format!("tsunagu-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("room.png");
    let mut cmd = client_command();
    cmd.args(["--screenshot", &path.to_string_lossy(), "--frames", "30", "--bots", "5", "--lang", "ja"]);
    cmd.args(["--size", &format!("{WIDTH}x{HEIGHT}")]);
    // Out of reach of the test sound server (`cargo xtask test` starts one):
    // on a machine without a sound card, no microphone and no speakers.
    cmd.env_remove("XDG_RUNTIME_DIR").env_remove("PULSE_SERVER");
    // The bamboo's picture goes where a child's Pictures would be: here.
    let home = dir.join("home");
    let _ = std::fs::remove_dir_all(&home);
    cmd.env("HOME", &home).env_remove("XDG_CONFIG_HOME");
    let (ok, log) = run_with_limit(cmd, Duration::from_secs(300));
    assert!(ok, "the client failed:\n{log}");

    // XR was on and no runtime exists here: it must fall back to the desktop and say so.
    assert!(log.contains("no VR headset runtime, desktop mode"), "no desktop fallback reported:\n{log}");
    assert!(log.contains("joined the room"), "never joined the hosted room:\n{log}");
    assert!(log.contains("tsunagu: microphone") && log.contains("speakers"), "sound status not reported:\n{log}");
    // Japanese text is joined within words (tsunagu_i18n::keep_words_together),
    // so the shaper never needs the dictionary it lacks, nor breaks inside a word.
    assert!(!log.contains("No segmentation model"), "the text shaper still looked for a Japanese dictionary:\n{log}");
    // Three guests take part as children do: one waves with a hand up, one
    // sends stamps, one writes in Japanese. All of it is in the picture.
    let on_screen = log.lines().find(|l| l.contains("tsunagu: on screen after")).unwrap_or_else(|| panic!("no summary of the picture:\n{log}"));
    for expected in ["6 avatars", "1 gesturing", "1 hands up", "1 stamps", "1 chat bubbles (Japanese: true)"] {
        assert!(on_screen.contains(expected), "the picture lacks {expected}: {on_screen}");
    }
    // Two more play: the ball tossed up, three darts thrown; the chat guest's
    // three wishes hang on the bamboo, the panel open to read them.
    let play = log.lines().find(|l| l.contains("tsunagu: play on screen")).unwrap_or_else(|| panic!("no summary of the play:\n{log}"));
    for expected in ["ball flying: true", "3 darts in the board", "3 wishes on the bamboo"] {
        assert!(play.contains(expected), "the picture lacks {expected}: {play}");
    }
    // 「ささの しゃしんを ほぞん」: a PNG of the bamboo, on this PC only.
    let pictures: Vec<_> = std::fs::read_dir(home.join("Tsunagu")).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    assert_eq!(pictures.len(), 1, "no picture of the bamboo saved:\n{log}");
    let bamboo = read_png(&pictures[0]);
    assert_eq!((bamboo.width, bamboo.height), (720, 960));
    let tones: std::collections::HashSet<[u8; 3]> = bamboo.rgb.iter().map(|p| p.map(|c| c >> 3)).collect();
    assert!(tones.len() > 50, "the bamboo's picture is nearly blank ({} tones)", tones.len());
    println!("picture of the bamboo: {}", pictures[0].display());

    let picture = read_png(&path);
    assert_eq!((picture.width, picture.height), (WIDTH, HEIGHT));
    // Not blank, not one colour: a lit room has many distinct tones and no colour dominates.
    let mut counts = std::collections::HashMap::new();
    for p in &picture.rgb {
        *counts.entry(p.map(|c| c >> 3)).or_insert(0usize) += 1;
    }
    let most_common = counts.values().copied().max().unwrap_or(0) as f64 / picture.rgb.len() as f64;
    assert!(counts.len() > 300, "only {} tones: not a rendered room", counts.len());
    // The HUD's cards share one colour: about 30% of this busy picture (the
    // Tanabata list open, notices, invite, chat); a blank or flat render is one
    // colour over most of it.
    assert!(most_common < 0.4, "one colour covers {:.0}% of the picture", most_common * 100.0);
    let mean: f64 = picture.rgb.iter().map(|p| p.iter().map(|c| f64::from(*c)).sum::<f64>() / 3.0).sum::<f64>() / picture.rgb.len() as f64;
    assert!((70.0..=235.0).contains(&mean), "mean brightness {mean:.0}: too dark or washed out");
    let _ = std::fs::remove_dir_all(&dir);
}
