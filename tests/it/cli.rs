//! The command line, as a person would use it.

use std::process::Command;

fn tsunagu() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
}

#[test]
fn help_lists_the_options() {
    let out = tsunagu().arg("--help").output().expect("run tsunagu --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in ["--name", "--color", "--lang", "--host", "--bots", "--size", "--no-xr", "--xr", "--bed-tilt", "--snap-turn", "--smooth-walk"] {
        assert!(help.contains(option), "--help does not mention {option}:\n{help}");
    }
    // The screenshot scenario is test support: the shipped client does not offer it.
    for test_only in ["--screenshot", "--frames"] {
        assert!(!help.contains(test_only), "the shipped client offers {test_only}:\n{help}");
    }
}

#[test]
fn bad_options_are_explained_not_crashed_on() {
    for (args, expected) in [
        (vec!["--color", "purple"], "is not a colour like"),
        (vec!["--lang", "fr"], "is not a language"),
        (vec!["--size", "10x10"], "outside"),
        (vec!["--bed-tilt", "80"], "is not an angle from 0 to 60"),
        (vec!["--snap-turn", "40"], "30 or 45"),
        (vec!["--xr", "--no-xr"], "cannot be used with"),
    ] {
        let out = tsunagu().args(&args).output().expect("run tsunagu");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
