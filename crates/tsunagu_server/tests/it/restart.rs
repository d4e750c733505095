//! A server restarted on the same data directory: the old invites still work,
//! and a room taken away says so.

use std::time::Duration;

use tsunagu_protocol::RejectReason;
use tsunagu_server::codes;

use crate::harness::*;

#[test]
fn after_a_restart_the_old_invites_still_work_and_a_closed_room_says_so() {
    let dir = std::env::temp_dir().join(format!("tsunagu-e2e-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let saved = codes::load_or_create(&dir, 2, 8).unwrap();
    let mut first = TestServer::start_in(&dir, "127.0.0.1:0".parse().unwrap(), saved.open.clone(), saved.closed);
    let kept = first.invite(&saved.open[0].code);
    let closing = first.invite(&saved.open[1].code);
    let mut before = Peer::join(&kept, "まえ");
    assert!(wait_until(&mut [&mut before], Duration::from_secs(5), |ps| ps[0].id().is_some()));
    first.shut_down();
    drop(first);

    // The same directory and port, one room fewer.
    let saved = codes::load_or_create(&dir, 1, 8).unwrap();
    let second = TestServer::start_in(&dir, kept_addr(&kept), saved.open, saved.closed);
    assert_eq!(second.fingerprint, kept.fingerprint, "the certificate changed: every invite broke");
    let mut again = Peer::join(&kept, "あと");
    let mut closed = Peer::join(&closing, "しまった");
    assert!(wait_until(&mut [&mut again, &mut closed], Duration::from_secs(5), |ps| ps[0].id().is_some() && ps[1].rejected().is_some()));
    assert_eq!(closed.rejected(), Some(RejectReason::RoomClosed));
}

fn kept_addr(invite: &tsunagu_net::invite::Invite) -> std::net::SocketAddr {
    format!("{}:{}", invite.host, invite.port).parse().unwrap()
}
