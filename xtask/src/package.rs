//! `cargo xtask package`: the Debian package of the room server
//! (`tsunagu-server_*.deb`: the binary, the locked-down systemd unit, the
//! default options file, the README and the firewall note; metadata in
//! crates/tsunagu_server/Cargo.toml, files in packaging/), built with
//! cargo-deb (installed on first use), then checked: its files, owners and
//! modes, and the server started from the unpacked layout, joined by a
//! client, and started again after an "upgrade" with the same invites
//! (`service::the_package_unpacks_…` in the server's tests).

use std::process::Command;

/// Build the package and check it; prints its path.
pub fn run(_args: &[String]) -> Result<(), String> {
    let found = Command::new("cargo").args(["deb", "--version"]).output().is_ok_and(|o| o.status.success());
    if !found {
        crate::status(crate::cargo().args(["install", "cargo-deb", "--locked", "--version", "^3.8"]))?;
    }
    let out = crate::cargo().args(["deb", "--package", "tsunagu_server"]).output().map_err(|e| format!("cannot run cargo deb: {e}"))?;
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err("cargo deb failed (its output is above)".into());
    }
    let deb = printed.lines().rev().find(|l| l.trim_end().ends_with(".deb")).map(|l| l.trim().to_owned()).ok_or("cargo deb named no package")?;
    crate::status(
        crate::cargo().args(["test", "--package", "tsunagu_server", "--test", "it", "service::", "--", "--nocapture"]).env("TSUNAGU_TEST_DEB", &deb),
    )?;
    println!("{deb}");
    Ok(())
}
