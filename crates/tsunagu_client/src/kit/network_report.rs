//! The network check's findings told in plain words, for the start screen
//! and for hospital IT's terminal (`tsunagu --check-network`): what works,
//! which proxy, whether TLS is inspected, the rough speed, what it means
//! and what to ask IT for.

use tsunagu_net::LinkEnd;

/// How long the network check tries each way.
pub const CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(4);

/// How the network check's findings are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportForm {
    /// Every finding on a line of its own, plain text: for hospital IT in a terminal.
    Terminal,
    /// Short, for the start screen: what it means, the findings on one line,
    /// and what to ask IT for.
    Screen,
}

/// The network check's findings in plain words: what works, which proxy,
/// whether TLS is inspected, what it means, and what to ask IT for.
pub fn network_report_lines(
    locales: &tsunagu_i18n::Locales,
    lang: tsunagu_i18n::Language,
    report: &tsunagu_net::netcheck::NetworkReport,
    form: ReportForm,
) -> Vec<String> {
    use tsunagu_i18n::Arg;
    use tsunagu_net::netcheck::Probe;
    // A terminal shows the word joiners a drawn paragraph needs oddly.
    let say = |key: &str, args: &[(&str, Arg)]| match form {
        ReportForm::Terminal => locales.plain_text_with(lang, key, args),
        ReportForm::Screen => locales.text_with(lang, key, args),
    };
    let (udp, tcp) = (f64::from(report.udp_port), f64::from(report.tcp_port));
    let room = format!("{} (UDP {}, TCP {})", report.host, report.udp_port, report.tcp_port);
    let ms = |took: std::time::Duration| (took.as_secs_f64() * 1000.0).round();
    let mut findings = vec![
        match report.udp {
            Probe::Up(took) => say("netcheck-udp-ok", &[("ms", Arg::Num(ms(took)))]),
            Probe::Failed(_) => say("netcheck-udp-no", &[]),
        },
        match report.tcp {
            Probe::Up(took) => say("netcheck-tcp-ok", &[("ms", Arg::Num(ms(took)))]),
            Probe::Failed(_) => say("netcheck-tcp-no", &[]),
        },
        match &report.proxy {
            Some(proxy) => say("netcheck-proxy", &[("proxy", Arg::Str(proxy))]),
            None => say("netcheck-no-proxy", &[]),
        },
    ];
    // Only what was seen: a WebSocket that never got to TLS says nothing of it.
    if report.tls_inspected() {
        findings.push(say("netcheck-inspected", &[]));
    } else if report.tcp.is_up() {
        findings.push(say("netcheck-not-inspected", &[]));
    }
    if report.tcp.is_up() {
        findings.push(match report.bandwidth {
            Some(b) => say("netcheck-speed", &[("down", Arg::Str(&speed_text(b.down_kbit_s))), ("up", Arg::Str(&speed_text(b.up_kbit_s)))]),
            None => say("netcheck-speed-none", &[]),
        });
    }
    // A line too thin for the usual meetup: say what helps.
    use tsunagu_net::netcheck::{LIGHT_NEEDS, USUAL_NEEDS, enough};
    let speed_advice = report.bandwidth.filter(|_| report.can_join()).and_then(|b| match b {
        b if !enough(b, LIGHT_NEEDS) => Some(say("netcheck-speed-slow", &[])),
        b if !enough(b, USUAL_NEEDS) => Some(say("netcheck-speed-light", &[])),
        _ => None,
    });
    let host = Arg::Str(&report.host);
    let meaning = match (report.udp.is_up(), report.tcp.is_up()) {
        (true, _) => say("netcheck-all-good", &[]),
        (false, true) => say("netcheck-tcp-only", &[("udp", Arg::Num(udp))]),
        (false, false) => say("netcheck-none", &[]),
    };
    let ask = match report.tcp {
        _ if report.udp.is_up() => None,
        Probe::Failed(LinkEnd::Intercepted) => Some(say("netcheck-ask-inspection", &[("host", host), ("tcp", Arg::Num(tcp))])),
        Probe::Failed(LinkEnd::ProxyNeedsPassword) => Some(say("netcheck-ask-proxy-password", &[])),
        Probe::Failed(LinkEnd::ProxyUnreachable) => Some(say("netcheck-ask-proxy-address", &[])),
        Probe::Up(_) => Some(say("netcheck-ask-it-udp", &[("host", host), ("udp", Arg::Num(udp))])),
        Probe::Failed(_) => Some(say("netcheck-ask-it", &[("host", host), ("udp", Arg::Num(udp)), ("tcp", Arg::Num(tcp))])),
    };
    let mut lines = match form {
        ReportForm::Terminal => {
            let mut lines = vec![say("netcheck-title", &[("room", Arg::Str(&room))])];
            lines.extend(findings);
            lines.push(meaning);
            lines.extend(speed_advice);
            lines
        }
        ReportForm::Screen => {
            // The long explanations (the milliseconds, "the best way for voice") stay in the terminal.
            let short: Vec<String> = findings.iter().map(|f| in_short(f)).collect();
            let mut lines = vec![meaning, short.join(" ・ ")];
            lines.extend(speed_advice);
            lines
        }
    };
    lines.extend(ask);
    lines
}

/// A speed as a person reads it: "400 kbit/s", "2.4 Mbit/s", and "100+
/// Mbit/s" at the measure's ceiling.
pub fn speed_text(kbit_s: u32) -> String {
    match kbit_s {
        k if k >= 100_000 => "100+ Mbit/s".into(),
        k if k >= 10_000 => format!("{} Mbit/s", (f64::from(k) / 1000.0).round()),
        k if k >= 1000 => format!("{:.1} Mbit/s", f64::from(k) / 1000.0),
        k => format!("{k} kbit/s"),
    }
}

/// A finding without what is in brackets and past its first sentence:
/// "UDP (QUIC): works (5 ms). The best way for voice." is "UDP: works".
fn in_short(finding: &str) -> String {
    let mut short = String::new();
    let mut depth = 0usize;
    let mut chars = finding.chars().peekable();
    while let Some(c) = chars.next() {
        // A full stop ends a sentence; one inside an address ("10.0.0.1") does not.
        let ends = c == '。' || (c == '.' && chars.peek().is_none_or(|next| next.is_whitespace()));
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            _ if ends && depth == 0 => break,
            _ if depth == 0 => short.push(c),
            _ => {}
        }
    }
    // "UDP (QUIC): works" leaves "UDP : works".
    short.replace(" :", ":").split_whitespace().collect::<Vec<_>>().join(" ")
}
