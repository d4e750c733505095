//! `cargo xtask fuzz [SECONDS]`: run every fuzz target in `fuzz/` (cargo-fuzz,
//! libFuzzer) for SECONDS each (60 by default), from the seeds (the pinned
//! examples of docs/protocol.md, a few invites and names) and the corpus
//! kept from earlier runs, then say how many inputs each ran and whether
//! any crashed or hung. With a nightly toolchain the targets run under
//! AddressSanitizer; without one, on stable with `-s none`, and it says so.

use std::process::Command;

/// The targets, each a decoder that reads bytes from the network (or a
/// person's paste): see `fuzz/fuzz_targets/`.
pub const TARGETS: [&str; 6] = ["frames", "datagrams", "invite", "text_rules", "websocket_message", "received_page"];

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args.first() {
        Some(s) => s.parse().map_err(|_| format!("'{s}' is not a number of seconds"))?,
        None => 60,
    };
    let root = crate::root();
    let fuzz = root.join("fuzz");
    if !Command::new(cargo_bin()).args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success()) {
        eprintln!("xtask: installing cargo-fuzz (once)");
        crate::status(Command::new(cargo_bin()).args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let nightly = Command::new("rustup").args(["run", "nightly", "rustc", "--version"]).output().is_ok_and(|o| o.status.success());
    if !nightly {
        eprintln!("\nxtask: *** no nightly toolchain: fuzzing on stable WITHOUT AddressSanitizer (-s none) ***\n");
    }
    let mut found = Vec::new();
    for target in TARGETS {
        let corpus = fuzz.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("could not make {}: {e}", corpus.display()))?;
        // Through rustup for nightly: `cargo` here may be the toolchain's own, which knows no `+nightly`.
        let mut cmd = if nightly {
            let mut cmd = Command::new("rustup");
            cmd.args(["run", "nightly", "cargo"]);
            cmd
        } else {
            Command::new(cargo_bin())
        };
        cmd.args(["fuzz", "run"]);
        if !nightly {
            cmd.args(["-s", "none"]);
        }
        cmd.arg(target).arg(&corpus).arg(fuzz.join("seeds").join(target));
        // A unit slower than a second is a hang.
        cmd.args(["--", &format!("-max_total_time={seconds}"), "-timeout=1", "-print_final_stats=1"])
            .current_dir(&fuzz)
            .env("CARGO_TARGET_DIR", fuzz_target_dir());
        eprintln!("xtask: {cmd:?}");
        let output = cmd.output().map_err(|e| format!("could not start cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let runs = log.lines().rev().find_map(|l| l.strip_prefix("Done ").and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok()));
        let slowest = log.lines().find_map(|l| l.strip_prefix("stat::slowest_unit_time_sec:").map(|v| v.trim().to_owned()));
        let outcome = match (output.status.success(), log.contains("Test unit written")) {
            (true, _) => "ok",
            (false, true) => "FOUND",
            (false, false) => "DID NOT RUN",
        };
        if outcome != "ok" {
            eprintln!("{log}");
        }
        let timed = if outcome == "ok" { slowest_in_corpus(target, &corpus) } else { None };
        found.push((target, outcome, runs, slowest, timed));
    }
    println!("\nfuzzing, {seconds} s a target{}:", if nightly { ", AddressSanitizer" } else { ", no sanitizer" });
    for (target, outcome, runs, slowest, timed) in &found {
        let runs = runs.map_or("?".into(), |r| r.to_string());
        let slowest = slowest.as_deref().unwrap_or("?");
        let timed = timed.as_ref().map_or("?".into(), |(ms, inputs)| format!("{ms} ms, the slowest of its {inputs} corpus inputs run one by one"));
        println!("  {target:18} {outcome:12} {runs:>12} inputs, slowest unit {slowest} s; {timed}");
    }
    match found.iter().filter(|(_, outcome, ..)| *outcome != "ok").map(|(t, ..)| *t).collect::<Vec<_>>() {
        failed if failed.is_empty() => Ok(()),
        failed => Err(format!("fuzzing did not pass in {} (a crash's input is in fuzz/artifacts/; the log is above)", failed.join(", "))),
    }
}

/// The slowest input of `target`'s corpus in whole milliseconds, and how
/// many inputs were timed. libFuzzer's own slow-unit report counts whole
/// seconds; given files rather than a folder, its binary runs each once and
/// says "Executed FILE in N ms", which is fine enough for the 10 ms asked.
fn slowest_in_corpus(target: &str, corpus: &std::path::Path) -> Option<(u64, usize)> {
    let binary = fuzz_target_dir().join(format!("{}-unknown-linux-gnu", std::env::consts::ARCH)).join("release").join(target);
    let files: Vec<_> = std::fs::read_dir(corpus).ok()?.filter_map(Result::ok).map(|e| e.path()).collect();
    let mut slowest = 0;
    // In batches, to stay well inside the command line's limit.
    for batch in files.chunks(500) {
        let output = Command::new(&binary).args(batch).output().ok()?;
        let log = String::from_utf8_lossy(&output.stderr);
        let times = log.lines().filter_map(|l| l.strip_prefix("Executed ")?.rsplit_once(" in ")?.1.strip_suffix(" ms")?.parse::<u64>().ok());
        slowest = times.fold(slowest, u64::max);
    }
    Some((slowest, files.len()))
}

/// Where the fuzz targets are built and run from: apart from the project's
/// build, so the sanitizer's flags never touch it.
fn fuzz_target_dir() -> std::path::PathBuf {
    crate::target_dir().join("fuzz")
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
