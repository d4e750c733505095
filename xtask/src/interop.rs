//! `cargo xtask interop`: the release `tsunagu-server` on loopback, joined by the
//! Python client in tools/interop, written from docs/protocol.md alone on another
//! QUIC stack (aioquic), and again with its watcher on the WebSocket transport.
//! Checks that the document is enough to join and follow, either way.
//! Python packages go into a virtual environment under the target directory.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Build the server, prepare the Python environment, run the client against it.
pub fn run(_args: &[String]) -> Result<(), String> {
    crate::status(crate::cargo().args(["build", "--release", "--package", "tsunagu_server", "--bin", "tsunagu-server"]))?;
    let target = crate::target_dir();
    let venv = target.join("interop-venv");
    let python = venv.join("bin").join("python3");
    if !python.exists() {
        crate::status(Command::new("python3").args(["-m", "venv"]).arg(&venv)).map_err(|e| format!("{e} (is python3-venv installed?)"))?;
    }
    // Already there, pip only checks: a second run costs a second, not a download.
    crate::status(Command::new(&python).args(["-m", "pip", "install", "--quiet", "aioquic>=1.2,<2", "msgpack>=1.0,<2", "websockets>=14,<16"]))?;
    let data_dir = target.join("interop-server-data");
    let mut server = Command::new(target.join("release").join("tsunagu-server"))
        .args(["--bind", "127.0.0.1:0", "--public-host", "127.0.0.1", "--rooms", "1"])
        .arg("--data-dir")
        .arg(&data_dir)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start tsunagu-server: {e}"))?;
    let stdout = server.stdout.take().ok_or("no server output")?;
    let mut lines = BufReader::new(stdout).lines();
    let invite = lines.by_ref().map_while(Result::ok).find_map(|line| line.split_once("participant invite:").map(|(_, i)| i.trim().to_owned()));
    std::thread::spawn(move || lines.for_each(drop));
    // Both transports: the watcher on QUIC, then on the WebSocket (protocol.md §1b).
    let client = crate::root().join("tools/interop/tsunagu_py_client.py");
    let result = match invite {
        Some(invite) => crate::status(Command::new(&python).arg(&client).arg(&invite))
            .and_then(|()| crate::status(Command::new(&python).arg(&client).arg("--wss").arg(&invite))),
        None => Err("the server printed no invite".into()),
    };
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    result
}
