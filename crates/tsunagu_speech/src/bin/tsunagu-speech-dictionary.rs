//! `tsunagu-speech-dictionary SOURCE OUT`: build the Japanese voice's
//! dictionary (see `tsunagu_speech::dictionary`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [source, out] = args.as_slice() else {
        eprintln!("usage: tsunagu-speech-dictionary SOURCE_FOLDER OUT_FOLDER");
        return ExitCode::from(2);
    };
    let started = std::time::Instant::now();
    match tsunagu_speech::dictionary::build(source, out) {
        Ok(()) => {
            println!("dictionary built in {:.1} s: {}", started.elapsed().as_secs_f64(), out.display());
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("tsunagu-speech-dictionary: {why}");
            ExitCode::FAILURE
        }
    }
}
