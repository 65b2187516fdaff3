//! `perf lossy`'s link: two namespaces, a veth pair, nftables loss and a tbf rate limit, torn
//! down on drop. Needs root and `ip netns`/`nft`; without them it skips, saying why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use sluice_perf::lossy::netns::{self, Link, Shape, Side};

fn namespaces() -> String {
    netns::run("ip", &["netns", "list"], None).unwrap()
}

#[test]
fn the_link_drops_the_share_asked_for_and_is_removed_on_drop() {
    if let Some(why) = netns::unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let shape = Shape {
        loss_pct: 30.0,
        rate_mbit: 0,
    };
    let link = Link::create("test", shape).unwrap();
    let names = [
        link.ns(Side::Sender).to_owned(),
        link.ns(Side::Receiver).to_owned(),
    ];
    let list = namespaces();
    assert!(names.iter().all(|n| list.contains(n.as_str())), "{list}");
    let addr = SocketAddr::V4(SocketAddrV4::new(Side::Sender.ip(), 9_999));
    // The sender's side listens inside its namespace; the receiver's side sends 3,000
    // datagrams across the link, paced so no socket buffer overflows.
    let rx = link
        .enter(Side::Sender, || Ok(UdpSocket::bind(addr)?))
        .unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    // Received concurrently: a socket buffer holds only a few hundred datagrams.
    let reader = std::thread::spawn(move || {
        let (mut got, mut buf) = (0u64, [0u8; 64]);
        while rx.recv_from(&mut buf).is_ok() {
            got += 1;
        }
        got
    });
    const SENT: u64 = 3_000;
    link.enter(Side::Receiver, || {
        let tx = UdpSocket::bind("0.0.0.0:0")?;
        for i in 0..SENT {
            tx.send_to(&i.to_le_bytes(), addr)?;
            if i % 100 == 99 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Ok(())
    })
    .unwrap();
    let got = reader.join().unwrap();
    let c = link.counters(Side::Sender).unwrap();
    assert!(c.seen >= SENT, "{c:?}");
    // 30 % of 3,000: the binomial's standard deviation is 25 packets; ±150 is 6 of them.
    assert!((750..=1_050).contains(&c.dropped), "{c:?}");
    assert_eq!(got, SENT - c.dropped, "every datagram not dropped arrives");
    // Loss 0 and a rate limit: nothing is dropped by the rules, tbf is installed.
    link.shape(Shape {
        loss_pct: 0.0,
        rate_mbit: 20,
    })
    .unwrap();
    let qdisc = link
        .exec(
            Side::Receiver,
            "tc",
            &["qdisc", "show", "dev", "lsy-r"],
            None,
        )
        .unwrap();
    assert!(qdisc.contains("tbf") && qdisc.contains("20Mbit"), "{qdisc}");
    assert_eq!(link.counters(Side::Sender).unwrap().dropped, 0);
    drop(link);
    let list = namespaces();
    assert!(!names.iter().any(|n| list.contains(n.as_str())), "{list}");
}
