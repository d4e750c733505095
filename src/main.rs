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
    if let Some(invite) = &cli.check_network {
        return check_network(invite, cli.language(), &cli.proxy_choice());
    }
    if run(cli.options()).is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// `--check-network`: the same check as the start screen's button, in a
/// terminal for hospital IT; exits 0 when a meetup can go ahead from here.
fn check_network(invite: &tsunagu_net::invite::Invite, language: tsunagu_i18n::Language, proxy: &tsunagu_net::wss::proxy::ProxyChoice) -> ExitCode {
    let locales = match tsunagu_i18n::Locales::load() {
        Ok(locales) => locales,
        Err(e) => {
            eprintln!("tsunagu: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", locales.plain_text_with(language, "netcheck-running", &[]));
    let report = tsunagu_net::netcheck::check_network(invite, proxy, tsunagu_client::kit::network_report::CHECK_LIMIT);
    for line in tsunagu_client::kit::network_report::network_report_lines(
        &locales,
        language,
        &report,
        tsunagu_client::kit::network_report::ReportForm::Terminal,
    ) {
        println!("{line}");
    }
    if report.can_join() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
