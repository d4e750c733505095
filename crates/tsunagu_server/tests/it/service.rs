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

/// Start `binary` as the package's unit does (its options from the
/// package's /etc/default file, its state in `state`), on loopback; returns
/// the server and the participant invite it printed.
fn start_as_packaged(binary: &std::path::Path, options: &str, state: &std::path::Path) -> (std::process::Child, tsunagu_net::invite::Invite) {
    use std::io::BufRead;
    let mut server = Command::new(binary)
        .args(["--data-dir"])
        .arg(state)
        .args(options.split_whitespace())
        .args(["--bind", "127.0.0.1:0", "--no-tcp", "--public-host", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let invite = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the packaged server printed no invite");
        if let Some((_, invite)) = line.split_once("participant invite:") {
            break tsunagu_net::invite::Invite::parse(invite.trim()).unwrap();
        }
    };
    std::thread::spawn(move || stdout.lines().for_each(drop));
    (server, invite)
}

/// `cargo xtask package` builds the Debian package and runs this with its path.
#[test]
fn the_package_unpacks_to_its_layout_and_its_server_keeps_its_invites_across_an_upgrade() {
    let Some(deb) = std::env::var_os("TSUNAGU_TEST_DEB") else {
        eprintln!("SKIPPED: no package to check (TSUNAGU_TEST_DEB); `cargo xtask package` builds one and runs this");
        return;
    };
    let listing = String::from_utf8(Command::new("dpkg-deb").arg("--contents").arg(&deb).output().unwrap().stdout).unwrap();
    let entry = |path: &str| listing.lines().find(|l| l.ends_with(path)).unwrap_or_else(|| panic!("{path} is not in the package:\n{listing}"));
    for (path, mode) in [
        ("./usr/bin/tsunagu-server", "-rwxr-xr-x"),
        ("./usr/lib/systemd/system/tsunagu-server.service", "-rw-r--r--"),
        ("./etc/default/tsunagu-server", "-rw-r--r--"),
        ("./usr/share/doc/tsunagu-server/README.md", "-rw-r--r--"),
        ("./usr/share/doc/tsunagu-server/FIREWALL.md", "-rw-r--r--"),
        ("./usr/share/doc/tsunagu-server/copyright", "-rw-r--r--"),
    ] {
        let line = entry(path);
        let owned_by_root = line.contains(" root/root ") || line.contains(" 0/0 ");
        assert!(line.starts_with(mode) && owned_by_root, "{path}: want {mode}, root's: {line}");
    }
    assert!(!listing.contains("./var/"), "the state directory is systemd's to make, not the package's:\n{listing}");
    let root = std::env::temp_dir().join(format!("tsunagu-deb-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let unpack = || assert!(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root).status().unwrap().success());
    unpack();
    let control = root.join("DEBIAN");
    assert!(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control).status().unwrap().success());
    assert_eq!(std::fs::read_to_string(control.join("conffiles")).unwrap().trim(), "/etc/default/tsunagu-server");
    let postrm = std::fs::read_to_string(control.join("postrm")).unwrap();
    let forget = postrm.find("rm -rf /var/lib/private/tsunagu-server").expect("purge forgets the state");
    assert!(postrm[..forget].trim_end().ends_with("if [ \"$1\" = \"purge\" ]; then"), "only a purge forgets the invites:\n{postrm}");
    // The unit as installed verifies against the installed binary.
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/tsunagu-server.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/tsunagu-server --data-dir /var/lib/tsunagu-server $TSUNAGU_SERVER_OPTIONS"));
    let defaults = std::fs::read_to_string(root.join("etc/default/tsunagu-server")).unwrap();
    let options = defaults.lines().find_map(|l| l.strip_prefix("TSUNAGU_SERVER_OPTIONS=")).unwrap().trim_matches('"').to_owned();

    // Started as the unit starts it, from the unpacked files: a child joins.
    let binary = root.join("usr/bin/tsunagu-server");
    let state = root.join("var/lib/tsunagu-server");
    let (mut server, invite) = start_as_packaged(&binary, &options, &state);
    let mut child = crate::harness::Peer::join(&invite, "あおい");
    assert!(
        crate::harness::wait_until(&mut [&mut child], Duration::from_secs(10), |p| p[0].id().is_some()),
        "a child could not join the packaged server"
    );
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    assert!(server.wait().unwrap().success());

    // An upgrade puts new files over the old and leaves the state: the same invites.
    unpack();
    let (mut again, invite_again) = start_as_packaged(&binary, &options, &state);
    let _ = Command::new("kill").args(["-TERM", &again.id().to_string()]).status();
    assert!(again.wait().unwrap().success());
    // (Its port is this test's choice, a free one each time.)
    assert_eq!(
        (invite_again.room_code.as_str(), invite_again.fingerprint),
        (invite.room_code.as_str(), invite.fingerprint),
        "the invite changed with the upgrade"
    );
    let _ = std::fs::remove_dir_all(&root);
}
