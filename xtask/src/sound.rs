//! A sound server for the tests: PulseAudio with one null sink (a silent
//! "speaker") whose monitor is the default source (a "microphone" that hears
//! exactly what is played into the sink). Then the client's real cpal capture
//! and playback code runs in CI, not only the `--mic-file` path.

use std::path::PathBuf;
use std::process::Command;

/// Name of the null sink.
const SINK: &str = "tsunagu_null";

/// Start (or reuse) the test sound server. `Ok` holds the environment a test
/// process needs to reach it; `Err` says why there is none.
pub fn start() -> Result<Vec<(String, String)>, String> {
    // Its socket lives in a private runtime directory of our own.
    let runtime: PathBuf = crate::target_dir().join("sound-runtime");
    std::fs::create_dir_all(&runtime).map_err(|e| format!("{}: {e}", runtime.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    }
    let env = vec![("XDG_RUNTIME_DIR".to_owned(), runtime.to_string_lossy().into_owned())];
    let run = |program: &str, args: &[&str]| -> Result<bool, String> {
        Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .map_err(|e| format!("{program}: {e}"))
    };
    if !run("pulseaudio", &["--check"])? {
        let sink = format!("module-null-sink sink_name={SINK} rate=48000");
        let started = run(
            "pulseaudio",
            &["-D", "--exit-idle-time=-1", "-n", &format!("--load={sink}"), "--load=module-native-protocol-unix", "--load=module-always-sink"],
        )?;
        if !started {
            return Err("pulseaudio would not start".into());
        }
    }
    if !run("pactl", &["set-default-sink", SINK])? || !run("pactl", &["set-default-source", &format!("{SINK}.monitor")])? {
        return Err("pactl could not choose the null sink".into());
    }
    let mut env = env;
    env.push(("TSUNAGU_SOUND_SERVER".to_owned(), format!("PulseAudio, null sink {SINK}")));
    Ok(env)
}
