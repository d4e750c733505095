//! The in-memory transport: channels inside one process. Used by the stepper in
//! tests and by the embedded room. Same traits, same codec, same messages as QUIC.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use tsunagu_protocol::CloseReason;

use crate::link::{Channel, ClientLink, ConnId, Connector, Datagram, DatagramTap, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks};

/// Which directions of a connection silently lose everything, like a Wi-Fi
/// that drops traffic one way: neither end is told.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blocked {
    /// Client → server traffic is lost.
    pub to_server: bool,
    /// Server → client traffic is lost.
    pub to_client: bool,
}

type BlockList = Arc<Mutex<HashMap<ConnId, Blocked>>>;
/// The address key each connection came "from" (see `ServerLinks::address_key`).
type AddressList = Arc<Mutex<HashMap<ConnId, u64>>>;
/// Each client connection's datagram tap, if it set one: called as the
/// server sends, which is when a datagram "arrives" on this transport.
type TapList = Arc<Mutex<HashMap<ConnId, DatagramTap>>>;
/// Each client connection's id and the way to it.
type ClientList = Arc<Mutex<Vec<(ConnId, Sender<LinkEvent>)>>>;

fn blocked(list: &BlockList, conn: ConnId) -> Blocked {
    list.lock().unwrap_or_else(|e| e.into_inner()).get(&conn).copied().unwrap_or_default()
}

/// The server side of an in-memory hub.
pub struct MemoryServer {
    inbox: Receiver<ServerLinkEvent>,
    clients: ClientList,
    /// Percent of datagrams to clients that are lost, like a ward Wi-Fi.
    datagram_loss_percent: u64,
    /// Drives a repeatable loss pattern.
    loss_state: u64,
    blocked: BlockList,
    addresses: AddressList,
    taps: TapList,
}

/// Hands out in-memory client connections to one [`MemoryServer`].
#[derive(Clone)]
pub struct MemoryConnector {
    to_server: Sender<ServerLinkEvent>,
    clients: ClientList,
    next_id: Arc<Mutex<ConnId>>,
    blocked: BlockList,
    addresses: AddressList,
    taps: TapList,
}

/// The client side of one in-memory connection.
pub struct MemoryClient {
    conn: ConnId,
    to_server: Sender<ServerLinkEvent>,
    inbox: Receiver<LinkEvent>,
    closed: bool,
    blocked: BlockList,
    taps: TapList,
}

/// A new hub: a server end and a connector for clients.
pub fn hub() -> (MemoryServer, MemoryConnector) {
    let (to_server, inbox) = channel();
    let clients = Arc::new(Mutex::new(Vec::new()));
    let blocked = BlockList::default();
    let addresses = AddressList::default();
    let taps = TapList::default();
    (
        MemoryServer {
            inbox,
            clients: clients.clone(),
            datagram_loss_percent: 0,
            loss_state: 0x9e37_79b9_7f4a_7c15,
            blocked: blocked.clone(),
            addresses: addresses.clone(),
            taps: taps.clone(),
        },
        MemoryConnector { to_server, clients, next_id: Arc::new(Mutex::new(1)), blocked, addresses, taps },
    )
}

impl MemoryConnector {
    /// Open a new connection to the server, from an address of its own.
    pub fn connect(&self) -> MemoryClient {
        self.connect_from(0)
    }

    /// Open a new connection to the server from address key `address`
    /// (connections with the same nonzero key come from one address, as a
    /// ward behind one NAT; 0: an address of its own).
    pub fn connect_from(&self, address: u64) -> MemoryClient {
        let conn = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            let id = *next;
            *next += 1;
            id
        };
        let (to_client, inbox) = channel();
        let address = if address == 0 { 0x1_0000_0000 + conn } else { address };
        self.addresses.lock().unwrap_or_else(|e| e.into_inner()).insert(conn, address);
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).push((conn, to_client));
        let _ = self.to_server.send(ServerLinkEvent::Connected(conn));
        MemoryClient { conn, to_server: self.to_server.clone(), inbox, closed: false, blocked: self.blocked.clone(), taps: self.taps.clone() }
    }

    /// Lose traffic of `conn` in the given directions until called again.
    pub fn block(&self, conn: ConnId, block: Blocked) {
        self.blocked.lock().unwrap_or_else(|e| e.into_inner()).insert(conn, block);
    }
}

impl Connector for MemoryConnector {
    fn open(&mut self) -> Result<Box<dyn ClientLink>, String> {
        Ok(Box::new(self.connect()))
    }
}

impl MemoryConnector {
    /// Cut a connection as a lost Wi-Fi would: no goodbye; the server sees it
    /// time out and the client sees it lost (for tests of reconnecting).
    pub fn cut(&self, conn: ConnId) {
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).retain(|(id, _)| *id != conn);
        let _ = self.to_server.send(ServerLinkEvent::Received(conn, LinkEvent::Closed(LinkEnd::TimedOut)));
    }
}

impl MemoryServer {
    /// Lose `percent` of the datagrams sent to clients, in a fixed pseudo-random
    /// pattern (the same every run).
    pub fn set_datagram_loss(&mut self, percent: u64) {
        self.datagram_loss_percent = percent.min(100);
    }

    fn next_is_lost(&mut self) -> bool {
        // xorshift64: repeatable, no dependency, plenty for a loss pattern.
        self.loss_state ^= self.loss_state << 13;
        self.loss_state ^= self.loss_state >> 7;
        self.loss_state ^= self.loss_state << 17;
        self.loss_state % 100 < self.datagram_loss_percent
    }

    fn client(&self, conn: ConnId) -> Option<Sender<LinkEvent>> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.iter().find(|(id, _)| *id == conn).map(|(_, tx)| tx.clone())
    }
}

impl ServerLinks for MemoryServer {
    fn try_recv(&mut self) -> Option<ServerLinkEvent> {
        self.inbox.try_recv().ok()
    }

    fn address_key(&self, conn: ConnId) -> u64 {
        self.addresses.lock().unwrap_or_else(|e| e.into_inner()).get(&conn).copied().unwrap_or(0)
    }

    fn send(&mut self, conn: ConnId, channel: Channel, frame: Vec<u8>) {
        if blocked(&self.blocked, conn).to_client {
            return;
        }
        if let Some(tx) = self.client(conn) {
            let _ = tx.send(LinkEvent::Frame(channel, frame));
        }
    }

    fn send_datagram(&mut self, conn: ConnId, datagram: Vec<u8>) {
        if self.next_is_lost() || blocked(&self.blocked, conn).to_client {
            return;
        }
        let Some(tx) = self.client(conn) else { return };
        let datagram = Datagram::arriving(datagram);
        let tap = self.taps.lock().unwrap_or_else(|e| e.into_inner()).get(&conn).cloned();
        if tap.is_some_and(|tap| tap(&datagram)) {
            return;
        }
        let _ = tx.send(LinkEvent::Datagram(datagram));
    }

    fn close(&mut self, conn: ConnId, reason: CloseReason) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = clients.iter().position(|(id, _)| *id == conn) {
            let (_, tx) = clients.remove(at);
            let _ = tx.send(LinkEvent::Closed(LinkEnd::Reason(reason)));
        }
    }
}

impl MemoryClient {
    /// This connection's id on the server side.
    pub fn id(&self) -> ConnId {
        self.conn
    }
}

impl ClientLink for MemoryClient {
    fn send(&mut self, channel: Channel, frame: Vec<u8>) {
        if !self.closed && !blocked(&self.blocked, self.conn).to_server {
            let _ = self.to_server.send(ServerLinkEvent::Received(self.conn, LinkEvent::Frame(channel, frame)));
        }
    }

    fn set_datagram_tap(&mut self, tap: DatagramTap) -> bool {
        self.taps.lock().unwrap_or_else(|e| e.into_inner()).insert(self.conn, tap);
        true
    }

    fn send_datagram(&mut self, datagram: Vec<u8>) {
        if !self.closed && !blocked(&self.blocked, self.conn).to_server {
            let _ = self.to_server.send(ServerLinkEvent::Received(self.conn, LinkEvent::Datagram(Datagram::arriving(datagram))));
        }
    }

    fn try_recv(&mut self) -> Option<LinkEvent> {
        match self.inbox.try_recv() {
            Ok(event) => {
                if matches!(event, LinkEvent::Closed(_)) {
                    self.closed = true;
                }
                Some(event)
            }
            // The server went away without a word: report it once.
            Err(std::sync::mpsc::TryRecvError::Disconnected) if !self.closed => {
                self.closed = true;
                Some(LinkEvent::Closed(LinkEnd::Lost))
            }
            Err(_) => None,
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if !self.closed {
            self.closed = true;
            if blocked(&self.blocked, self.conn).to_server {
                return;
            }
            let _ = self.to_server.send(ServerLinkEvent::Received(self.conn, LinkEvent::Closed(LinkEnd::Reason(reason))));
        }
    }
}

impl Drop for MemoryClient {
    fn drop(&mut self) {
        self.close(CloseReason::Left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_datagrams_and_close_travel_both_ways() {
        let (mut server, connector) = hub();
        let mut client = connector.connect();
        assert_eq!(server.try_recv(), Some(ServerLinkEvent::Connected(1)));
        client.send(Channel::Control, vec![1, 2]);
        client.send_datagram(vec![3]);
        assert_eq!(server.try_recv(), Some(ServerLinkEvent::Received(1, LinkEvent::Frame(Channel::Control, vec![1, 2]))));
        let Some(ServerLinkEvent::Received(1, LinkEvent::Datagram(datagram))) = server.try_recv() else { panic!("no datagram") };
        assert_eq!(datagram.bytes, vec![3]);
        server.send(1, Channel::Events, vec![4]);
        assert_eq!(client.try_recv(), Some(LinkEvent::Frame(Channel::Events, vec![4])));
        server.close(1, CloseReason::ServerShutdown);
        assert_eq!(client.try_recv(), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ServerShutdown))));
        client.send(Channel::Control, vec![9]);
        assert_eq!(server.try_recv(), None, "a closed link sends nothing");
    }

    #[test]
    fn a_vanished_server_is_reported_once() {
        let (server, connector) = hub();
        let mut client = connector.connect();
        drop(server);
        drop(connector);
        assert_eq!(client.try_recv(), Some(LinkEvent::Closed(LinkEnd::Lost)));
        assert_eq!(client.try_recv(), None);
    }
}
