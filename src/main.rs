//! `tsunagu`: the desktop/VR client. With no options it opens the start screen;
//! hosting a room on this PC is the default way in.

use std::process::ExitCode;

use clap::Parser;
use tsunagu_client::cli::Cli;
use tsunagu_client::run;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list_devices {
        println!("Microphones:");
        for name in tsunagu_voice::devices::input_names() {
            println!("  {name}");
        }
        println!("Speakers and headphones:");
        for name in tsunagu_voice::devices::output_names() {
            println!("  {name}");
        }
        return ExitCode::SUCCESS;
    }
    if run(cli.options()).is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
