//! `cargo xtask bench net`: builds the server binary in release and runs the
//! network benchmark (crates/tsunagu_testkit/benches/net.rs) against it.
//! `cargo xtask bench voice`: the voice benchmark (benches/voice.rs).
//! `cargo xtask bench screen`: the wall screen over real QUIC, 20 children
//! (crates/tsunagu_testkit/benches/screen.rs).
//! `cargo xtask bench speech`: a line to its sound, speak-for-me's voices
//! (crates/tsunagu_speech/benches/speech.rs), in the dev profile the client runs in.
//! `cargo xtask bench avatars`: the client's CPU per frame (benches/avatars.rs). The
//! numbers go into docs/benchmarks.md with these commands.

/// Run a named benchmark suite.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("net") => {
            // Neither build touches Bevy: the server and the testkit never link the renderer.
            crate::status(crate::cargo().args(["build", "--release", "--package", "tsunagu_server", "--bin", "tsunagu-server"]))?;
            let server = crate::target_dir().join("release").join("tsunagu-server");
            crate::status(
                crate::cargo()
                    .args(["bench", "--package", "tsunagu_testkit", "--bench", "net", "--"])
                    .args(&args[1..])
                    .env("TSUNAGU_SERVER_BIN", server),
            )
        }
        Some("screen") => crate::status(crate::cargo().args(["bench", "--package", "tsunagu_testkit", "--bench", "screen", "--"]).args(&args[1..])),
        Some("voice") => crate::status(crate::cargo().args(["bench", "--package", "tsunagu_testkit", "--bench", "voice", "--"]).args(&args[1..])),
        // The dev profile: the one the tests built (dependencies at opt-level 1).
        Some("avatars") => {
            crate::status(crate::cargo_linted()?.args(["bench", "--profile", "dev", "--package", "tsunagu", "--bench", "avatars", "--"]).args(&args[1..]))
        }
        Some("speech") => {
            crate::speech::ensure(|| crate::speech::tool_from(&["--package", "tsunagu_speech", "--bin", "tsunagu-speech-dictionary"]))?;
            crate::status(crate::cargo_linted()?.args(["bench", "--profile", "dev", "--package", "tsunagu_speech", "--bench", "speech", "--"]).args(&args[1..]))
        }
        _ => Err("usage: cargo xtask bench net [bandwidth|server|mixed|attack|play] | cargo xtask bench voice | cargo xtask bench screen | cargo xtask bench speech | cargo xtask bench avatars".into()),
    }
}
