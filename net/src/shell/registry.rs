//! The shell's shared bookkeeping: live connections, their counts, discouraged addresses.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use tokio::sync::mpsc;

use crate::transport::Direction;
use crate::wire::Message;

/// A connection's identifier, unique for the life of a [`super::Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer={}", self.0)
    }
}

/// What the layer above asks of one connection's task.
#[derive(Debug)]
pub(crate) enum PeerCommand {
    Send(Message),
    Disconnect { discourage: bool },
}

#[derive(Debug)]
struct Slot {
    tx: mpsc::Sender<PeerCommand>,
    direction: Direction,
}

/// Refusals of [`Registry::register`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Full,
    Discouraged,
}

/// The discouragement key of an address: its IP, as in Core. Loopback addresses are keyed by
/// IP and port instead, because local test set-ups run several nodes on 127.0.0.1 and
/// discouraging one must not cut off the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DiscourageKey {
    Ip(IpAddr),
    Loopback(SocketAddr),
}

fn key(addr: SocketAddr) -> DiscourageKey {
    let ip = addr.ip().to_canonical();
    if ip.is_loopback() {
        DiscourageKey::Loopback(SocketAddr::new(ip, addr.port()))
    } else {
        DiscourageKey::Ip(ip)
    }
}

#[derive(Debug)]
pub(crate) struct Registry {
    next_id: u64,
    peers: HashMap<PeerId, Slot>,
    inbound: usize,
    outbound: usize,
    max_inbound: usize,
    max_outbound: usize,
    discouraged: HashSet<DiscourageKey>,
}

impl Registry {
    pub(crate) fn new(max_inbound: usize, max_outbound: usize) -> Self {
        Self {
            next_id: 0,
            peers: HashMap::new(),
            inbound: 0,
            outbound: 0,
            max_inbound,
            max_outbound,
            discouraged: HashSet::new(),
        }
    }

    /// Reserves a slot for a new connection, or says why not.
    pub(crate) fn register(
        &mut self,
        addr: SocketAddr,
        direction: Direction,
        commands: usize,
    ) -> Result<(PeerId, mpsc::Receiver<PeerCommand>), Refusal> {
        if self.is_discouraged(addr) {
            return Err(Refusal::Discouraged);
        }
        let (count, max) = match direction {
            Direction::Inbound => (&mut self.inbound, self.max_inbound),
            Direction::Outbound => (&mut self.outbound, self.max_outbound),
        };
        if *count >= max {
            return Err(Refusal::Full);
        }
        *count += 1;
        self.next_id += 1;
        let id = PeerId(self.next_id);
        let (tx, rx) = mpsc::channel(commands.max(1));
        self.peers.insert(id, Slot { tx, direction });
        Ok((id, rx))
    }

    pub(crate) fn unregister(&mut self, id: PeerId) {
        if let Some(slot) = self.peers.remove(&id) {
            match slot.direction {
                Direction::Inbound => self.inbound -= 1,
                Direction::Outbound => self.outbound -= 1,
            }
        }
    }

    pub(crate) fn sender(&self, id: PeerId) -> Option<mpsc::Sender<PeerCommand>> {
        self.peers.get(&id).map(|s| s.tx.clone())
    }

    pub(crate) fn all(&self) -> Vec<mpsc::Sender<PeerCommand>> {
        self.peers.values().map(|s| s.tx.clone()).collect()
    }

    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.inbound, self.outbound)
    }

    pub(crate) fn discourage(&mut self, addr: SocketAddr) {
        self.discouraged.insert(key(addr));
    }

    pub(crate) fn is_discouraged(&self, addr: SocketAddr) -> bool {
        self.discouraged.contains(&key(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_discouragement() {
        let mut r = Registry::new(1, 1);
        let a: SocketAddr = "10.0.0.1:8333".parse().unwrap();
        let (id, _rx) = r.register(a, Direction::Inbound, 4).unwrap();
        assert_eq!(
            r.register(a, Direction::Inbound, 4).map(|x| x.0),
            Err(Refusal::Full)
        );
        assert!(r.register(a, Direction::Outbound, 4).is_ok());
        r.unregister(id);
        assert_eq!(r.counts(), (0, 1));
        r.discourage("10.0.0.1:1".parse().unwrap());
        assert_eq!(
            r.register(a, Direction::Inbound, 4).map(|x| x.0),
            Err(Refusal::Discouraged)
        );
        // IPv4-mapped IPv6 is the same IP.
        assert!(r.is_discouraged("[::ffff:10.0.0.1]:9".parse().unwrap()));
        // Loopback is keyed by port.
        r.discourage("127.0.0.1:18444".parse().unwrap());
        assert!(r.is_discouraged("127.0.0.1:18444".parse().unwrap()));
        assert!(!r.is_discouraged("127.0.0.1:18445".parse().unwrap()));
    }
}
