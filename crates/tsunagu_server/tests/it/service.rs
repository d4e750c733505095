//! The server as hospital IT runs it: the systemd unit in packaging/ passes
//! `systemd-analyze verify` without a word and `systemd-analyze security`
//! at an exposure of 2.0 or less, and the server tells systemd it is ready
//! (Type=notify) once its doors are open, and that it is stopping.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The unit with the binary where this build put it (verify checks that it exists).
fn unit_here(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let analyze = Command::new("systemd-analyze").arg("--version").output();
    if analyze.is_err() {
        eprintln!("SKIPPED: no systemd-analyze here (Debian's package `systemd`)");
        return None;
    }
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../packaging/tsunagu-server.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/tsunagu-server "), "the unit starts the packaged binary");
    let path = dir.join("tsunagu-server.service");
    std::fs::write(&path, unit.replace("/usr/bin/tsunagu-server", env!("CARGO_BIN_EXE_tsunagu-server"))).unwrap();
    Some(path)
}

#[test]
fn the_service_unit_verifies_cleanly_and_is_locked_down() {
    let dir = std::env::temp_dir().join(format!("tsunagu-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some(unit) = unit_here(&dir) else { return };
    // It exits 0 on some bad values: what it prints is the verdict.
    let verify = Command::new("systemd-analyze").arg("verify").arg(&unit).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    assert!(verify.status.success() && said.trim().is_empty(), "systemd-analyze verify:\n{said}");
    let security = Command::new("systemd-analyze").args(["security", "--offline=yes"]).arg(&unit).output().unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    let overall = report.lines().find(|l| l.contains("Overall exposure level")).unwrap_or_else(|| panic!("no overall score:\n{report}"));
    let score: f64 = overall.split(": ").nth(1).and_then(|s| s.split_whitespace().next()).and_then(|s| s.parse().ok()).unwrap();
    eprintln!("{}", overall.trim());
    assert!(score <= 2.0, "exposure {score} over 2.0:\n{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_server_tells_systemd_when_it_is_ready_and_when_it_stops() {
    let dir = std::env::temp_dir().join(format!("tsunagu-notify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket_path = dir.join("notify");
    let systemd = UnixDatagram::bind(&socket_path).unwrap();
    systemd.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tsunagu-server"))
        .args(["--bind", "127.0.0.1:0", "--no-tcp", "--public-host", "127.0.0.1", "--data-dir"])
        .arg(dir.join("data"))
        .env("NOTIFY_SOCKET", &socket_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 512];
    let n = systemd.recv(&mut buf).expect("no word from the server within 20 s");
    let ready = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(ready.lines().any(|l| l == "READY=1"), "not READY=1: {ready:?}");
    assert!(ready.contains("STATUS="), "no status line for `systemctl status`: {ready:?}");
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let n = systemd.recv(&mut buf).expect("no word from the server as it stopped");
    assert!(String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "STOPPING=1"));
    assert!(server.wait().unwrap().success());
    // It said ready after printing the invites (a supervisor may read them then).
    let mut out = String::new();
    std::io::Read::read_to_string(&mut server.stdout.take().unwrap(), &mut out).unwrap();
    assert!(out.contains("participant invite:"), "no invite printed: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}
