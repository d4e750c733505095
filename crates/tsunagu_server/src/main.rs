//! `tsunagu-server`: a headless room server a hospital or a volunteer runs.
//! Prints each room's invites, logs joins and leaves by session id only (never
//! names or chat), and on SIGINT/SIGTERM tells every client why and exits 0.
//! Under systemd (packaging/tsunagu-server.service, Type=notify) it says
//! when it is ready and when it stops.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use tsunagu_net::invite::Invite;
use tsunagu_net::private_files;
use tsunagu_net::quic::{QuicServer, QuicServerConfig};
use tsunagu_server::{RoomServer, advertised_host, codes, connection_limits, serve_until_stopped};

/// Where the facilitator invites are written, in the server's own directory.
const STAFF_INVITES_FILE: &str = "facilitator-invites.txt";

/// Tsunagu room server: hosts invite-only ward rooms over QUIC.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// UDP address to listen on.
    #[arg(long, default_value = "0.0.0.0:4433")]
    bind: SocketAddr,
    /// TCP port of the WebSocket door, for networks that block UDP (default:
    /// 443 when the server may bind it, else the UDP port's number).
    #[arg(long, conflicts_with = "no_tcp")]
    tcp_port: Option<u16>,
    /// QUIC only: no WebSocket door.
    #[arg(long)]
    no_tcp: bool,
    /// How many rooms to host.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    rooms: u16,
    /// Most people in one room.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=64))]
    capacity: u16,
    /// Where the server keeps its certificate (nothing about people is stored).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The host name or address clients should dial (default: this machine's LAN address).
    #[arg(long)]
    public_host: Option<String>,
    /// Also print the facilitator invites (by default they go only to an
    /// owner-only file, so a log or a shared terminal does not keep them).
    #[arg(long)]
    show_facilitator_invites: bool,
}

/// `RUST_LOG` (default `info`) for Tsunagu's own logs. The QUIC and TLS
/// libraries speak only at `warn` and above whatever `RUST_LOG` says: below
/// that they name peers' addresses, and nothing about people goes into a log.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    ["quinn=warn", "quinn_proto=warn", "quinn_udp=warn", "rustls=warn", "tungstenite=warn", "tokio_tungstenite=warn"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive)
}

/// Where the WebSocket door listens when not told: TCP 443, which every
/// hospital firewall lets out, when this process may bind it; else the same
/// port number as QUIC's (TCP and UDP ports are separate), which the invite
/// then names.
fn default_tcp_door(udp: std::net::SocketAddr) -> std::net::SocketAddr {
    let https = std::net::SocketAddr::new(udp.ip(), tsunagu_net::wss::DEFAULT_TCP_PORT);
    if udp.port() != 0 && std::net::TcpListener::bind(https).is_ok() { https } else { udp }
}

fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("org", "Tsunagu", "tsunagu-server")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("tsunagu-server-data"))
}

/// Write the facilitator invites of `rooms` to their owner-only file.
fn write_staff_invites(
    data_dir: &std::path::Path,
    rooms: &[tsunagu_room::RoomConfig],
    invite: &dyn Fn(&str) -> Invite,
) -> Result<PathBuf, private_files::PrivateFileError> {
    let staff_invites: String = rooms.iter().enumerate().map(|(i, room)| format!("Room {}: {}\n", i + 1, invite(&room.facilitator_code))).collect();
    private_files::write(&private_files::own_dir(data_dir)?, STAFF_INVITES_FILE, staff_invites.as_bytes())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a file or journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, stop.clone()) {
            eprintln!("tsunagu-server: cannot watch for signal {signal}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let (max_connections, max_per_address) = connection_limits(usize::from(cli.rooms), usize::from(cli.capacity));
    let tcp_bind = match (cli.no_tcp, cli.tcp_port) {
        (true, _) => None,
        (false, Some(port)) => Some(SocketAddr::new(cli.bind.ip(), port)),
        (false, None) => Some(default_tcp_door(cli.bind)),
    };
    let config = QuicServerConfig {
        bind: cli.bind,
        data_dir: data_dir.clone(),
        max_connections,
        max_per_address,
        traffic: tsunagu_room::limits::TRAFFIC,
        tcp_bind,
    };
    let links = match QuicServer::start(config) {
        Ok(links) => links,
        Err(e) => {
            let tcp = tcp_bind.map(|t| format!(" and TCP {t}")).unwrap_or_default();
            eprintln!("tsunagu-server: could not start on UDP {}{tcp}: {e}", cli.bind);
            return ExitCode::FAILURE;
        }
    };
    let host = cli.public_host.clone().unwrap_or_else(|| advertised_host(cli.bind.ip()));
    let port = links.local_addr().port();
    let fingerprint = links.fingerprint();
    let tcp_port = links.tcp_addr().map(|a| a.port());
    let saved = match codes::load_or_create(&data_dir, usize::from(cli.rooms), usize::from(cli.capacity)) {
        Ok(saved) => saved,
        Err(e) => {
            eprintln!("tsunagu-server: could not keep the room codes: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rooms = saved.open.clone();
    // Printed with write!, not println!: a closed stdout (a supervisor that stopped
    // listening) must not take the rooms down with a panic.
    let mut out = std::io::stdout().lock();
    let invite = move |code: &str| Invite { host: host.clone(), port, tcp_port, room_code: code.to_owned(), fingerprint };
    let staff_file = match write_staff_invites(&data_dir, &rooms, &invite) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("tsunagu-server: could not write the facilitator invites: {e}");
            return ExitCode::FAILURE;
        }
    };
    let doors = match links.tcp_addr() {
        Some(tcp) => format!("UDP {} (QUIC) and TCP {tcp} (WebSocket, for networks that block UDP)", links.local_addr()),
        None => format!("UDP {} (QUIC)", links.local_addr()),
    };
    let _ = writeln!(out, "Tsunagu room server on {doors} (certificate and room codes kept in {})", data_dir.display());
    for (i, room) in rooms.iter().enumerate() {
        let _ = writeln!(out, "Room {}", i + 1);
        let _ = writeln!(out, "  participant invite: {}", invite(&room.code));
        if cli.show_facilitator_invites {
            let _ = writeln!(out, "  facilitator invite: {}", invite(&room.facilitator_code));
        }
    }
    let _ = writeln!(out, "Facilitator invites (for staff only) are in {} (readable by you alone).", staff_file.display());
    let _ = writeln!(out, "Send the participant invite to patients and the facilitator invite only to staff.");
    let _ = out.flush();
    drop(out);
    // Run by systemd (Type=notify, packaging/): the doors are open and the
    // invites printed. Outside systemd this does nothing.
    let status = format!("{} room(s) open on {doors}", rooms.len());
    if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status(&status)]) {
        tracing::warn!("could not tell systemd the server is ready: {e}");
    }

    // A facilitator gave a room new invites from the panel: keep them, so a
    // restart serves the new codes, and tell whoever runs the server.
    let closed = saved.closed.clone();
    let saver_dir = data_dir.clone();
    let save_codes = move |rooms: &[tsunagu_room::RoomConfig]| {
        let saved = codes::save(&saver_dir, rooms, &closed).and_then(|()| write_staff_invites(&saver_dir, rooms, &invite).map(|_| ()));
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "A facilitator changed the invites. The old ones bring back only people already inside.");
        for (i, room) in rooms.iter().enumerate() {
            let _ = writeln!(out, "Room {}: participant invite: {}", i + 1, invite(&room.code));
        }
        let _ = out.flush();
        saved.map_err(|e| e.to_string())
    };
    let server = RoomServer::with_rooms(links, rooms).with_closed_codes(saved.closed).with_codes_saver(Box::new(save_codes));
    serve_until_stopped(server, &stop);
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    ExitCode::SUCCESS
}
