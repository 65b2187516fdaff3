//! Driving the measurement: chain preparation, the imported prefix, and one run per loss level
//! and transport on the same link.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{json, Value};

use super::netns::{self, Link, Shape, Side};
use super::node::{self, Node, Transport};
use super::report::{BlockSample, LossyReport, RelayedBlocks, Run};
use super::LossyArgs;
use crate::chain::{ChainFiles, Network};
use crate::ibd::chain::{prepare, ChainSource};

/// A block to relay: its bytes, display hash and weight.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub bytes: Vec<u8>,
    pub hash: String,
    pub height: u32,
    pub weight: u64,
}

/// Splits the chain in `dir` into its prefix (raw blocks) and its last `n` blocks.
///
/// # Errors
/// Fewer than `n + 1` blocks, a non-regtest chain, or I/O errors.
pub fn split_chain(dir: &Path, n: u32) -> anyhow::Result<(Vec<Vec<u8>>, Vec<Relayed>)> {
    let files = ChainFiles::open(dir)?;
    anyhow::ensure!(
        files.network == Network::Regtest,
        "{} is not a regtest chain",
        dir.display()
    );
    let mut all: Vec<Vec<u8>> = Vec::new();
    files.for_each_block(|_, _, b| -> anyhow::Result<()> {
        all.push(b.to_vec());
        Ok(())
    })?;
    let n = usize::try_from(n)?;
    anyhow::ensure!(
        all.len() > n,
        "the chain has {} blocks; relaying {n} needs at least one more as the prefix",
        all.len()
    );
    let cut = all.len() - n;
    let relayed_bytes = all.split_off(cut);
    let mut out = Vec::with_capacity(n);
    for (i, bytes) in relayed_bytes.into_iter().enumerate() {
        let block: bitcoin::Block = bitcoin::consensus::deserialize(&bytes)
            .with_context(|| format!("decoding block {} of the chain", cut + i))?;
        out.push(Relayed {
            hash: block.block_hash().to_string(),
            // loadgen's files start with genesis: file order is height.
            height: u32::try_from(cut + i)?,
            weight: block.weight().to_wu(),
            bytes,
        });
    }
    Ok((all, out))
}

/// Runs `sluice args…` in the root namespace, bounded by `limit`; returns stdout.
fn sluice_cmd(sluice: &Path, args: &[String], limit: Duration) -> anyhow::Result<String> {
    use std::io::Read as _;
    let mut child = std::process::Command::new(sluice)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", sluice.display()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            anyhow::bail!("sluice {} took over {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut out)?;
    }
    anyhow::ensure!(
        status.success(),
        "sluice {} failed ({status})",
        args.join(" ")
    );
    Ok(out)
}

/// Copies a directory tree (the imported base datadir) with `cp -a`.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    let (f, t) = (from.display().to_string(), to.display().to_string());
    netns::run("cp", &["-a", &f, &t], None).map(|_| ())
}

/// What every run shares.
#[derive(Debug)]
pub struct Setup {
    pub sluice: PathBuf,
    pub base: PathBuf,
    pub work: PathBuf,
    pub blocks: Vec<Relayed>,
    pub script_workers: usize,
    /// `--quic-congestion` of both nodes on QUIC runs.
    pub quic_cc: String,
    pub block_timeout: Duration,
    pub deadline: Instant,
}

/// Builds the base datadir every run copies: a node in this namespace (loopback RPC, no
/// network) is given the prefix block by block with `submitblock`, then stopped, so the
/// datadir holds the chainstate, the block store and the headers a running node needs.
///
/// # Errors
/// The node failing, or a prefix block refused.
pub fn build_base(sluice: &Path, prefix: &[Vec<u8>], base: &Path) -> anyhow::Result<u64> {
    if base.exists() {
        std::fs::remove_dir_all(base)?;
    }
    std::fs::create_dir_all(base)?;
    let port = sluice_bitcoind::free_port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let args: Vec<String> = vec![
        "--network=regtest".into(),
        format!("--datadir={}", base.display()),
        "--listen=false".into(),
        "--server=true".into(),
        format!("--rpcbind={addr}"),
        "--log-format=json".into(),
    ];
    let log = base.with_extension("log");
    let node = Node::start(None, sluice, &args, log)?;
    let cookie_path = base.join(".cookie");
    let call = |method: &str, params: &Value| -> anyhow::Result<Value> {
        let cookie = std::fs::read_to_string(&cookie_path)?;
        Ok(sluice_bitcoind::rpc_call(
            addr,
            cookie.trim(),
            method,
            params,
            Duration::from_secs(120),
        )?)
    };
    let t = Instant::now();
    while call("getblockcount", &json!([])).is_err() {
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(120),
            "the base node's RPC did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for (i, b) in prefix.iter().enumerate() {
        let r = call("submitblock", &json!([hex::encode(b)]))?;
        anyhow::ensure!(r.is_null(), "prefix block {i}: submitblock answered {r}");
    }
    let height = call("getblockcount", &json!([]))?
        .as_u64()
        .context("getblockcount is not a number")?;
    node.stop();
    Ok(height)
}

/// The sender's peers as `getpeerinfo` reports them: `(count, transport of the first)`.
fn sender_peers(link: &Link, datadir: &Path) -> anyhow::Result<(usize, String)> {
    let v = node::sender_rpc(
        link,
        datadir,
        "getpeerinfo",
        &json!([]),
        Duration::from_secs(10),
    )?;
    let peers = v.as_array().cloned().unwrap_or_default();
    let kind = peers
        .first()
        .and_then(|p| p.get("transport_protocol_type"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok((peers.len(), kind))
}

/// One run: fresh copies of the base datadir, both nodes started over `transport`, the blocks
/// submitted to the sender one at a time, each timed to the receiver connecting it.
///
/// # Errors
/// A node failing, a block not relayed in time, the wrong transport, or the deadline passing.
pub fn one_run(
    s: &Setup,
    link: &Link,
    shape: Shape,
    transport: Transport,
    mut progress: impl FnMut(usize),
) -> anyhow::Result<Run> {
    let tag = format!(
        "loss{}-{}",
        shape.loss_pct,
        transport.name().replace(' ', "")
    );
    let dirs = [
        s.work.join(format!("{tag}-s")),
        s.work.join(format!("{tag}-r")),
    ];
    for d in &dirs {
        copy_dir(&s.base, d)?;
    }
    let fp = |d: &Path| -> anyhow::Result<String> {
        let args = vec![
            "quic-id".to_owned(),
            "--network=regtest".into(),
            format!("--datadir={}", d.display()),
        ];
        Ok(sluice_cmd(&s.sluice, &args, Duration::from_secs(60))?
            .trim()
            .to_owned())
    };
    let (fp_s, fp_r) = (fp(&dirs[0])?, fp(&dirs[1])?);
    link.shape(shape)?;
    let mut nodes = Vec::new();
    for (side, dir, peer_fp) in [
        (Side::Sender, &dirs[0], &fp_r),
        (Side::Receiver, &dirs[1], &fp_s),
    ] {
        let mut args = node::base_args(dir, side, s.script_workers);
        args.extend(node::transport_args(transport, side, peer_fp));
        if transport == Transport::Quic {
            args.push(format!("--quic-congestion={}", s.quic_cc));
        }
        let log = s.work.join(format!("{tag}-{}.log", side.dev()));
        nodes.push(Node::start(Some(link.ns(side)), &s.sluice, &args, log)?);
    }
    let [mut sender, mut receiver]: [Node; 2] =
        nodes.try_into().map_err(|_| anyhow::anyhow!("two nodes"))?;
    let start_height = node::wait_rpc(link, &dirs[0], Duration::from_secs(120))?;
    // Wait (bounded) for the one peer, over the transport asked for.
    let t = Instant::now();
    let peer_kind = loop {
        let (n, kind) = sender_peers(link, &dirs[0])?;
        if n == 1 && !kind.is_empty() {
            break kind;
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(120),
            "the nodes did not connect within 120 s ({n} peers); logs in {}",
            s.work.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let want = match transport {
        Transport::Quic => "quic",
        Transport::Tcp => "v2",
    };
    anyhow::ensure!(
        peer_kind == want,
        "the nodes connected over {peer_kind}, not {want}"
    );
    let mut samples = Vec::with_capacity(s.blocks.len());
    let t_run = Instant::now();
    for (i, b) in s.blocks.iter().enumerate() {
        anyhow::ensure!(
            Instant::now() < s.deadline,
            "--timeout-s reached during {tag}"
        );
        let r = node::sender_rpc(
            link,
            &dirs[0],
            "submitblock",
            &json!([hex::encode(&b.bytes)]),
            s.block_timeout,
        )?;
        anyhow::ensure!(r.is_null(), "submitblock {} answered {r}", b.hash);
        let sent = sender.wait_connected(&b.hash, s.block_timeout)?;
        let got = receiver.wait_connected(&b.hash, s.block_timeout)?;
        let latency = got.at_us - sent.at_us;
        anyhow::ensure!(
            latency >= 0,
            "block {} connected on the receiver {} µs before the sender",
            b.hash,
            -latency
        );
        samples.push(BlockSample {
            height: b.height,
            bytes: b.bytes.len(),
            latency_us: u64::try_from(latency)?,
        });
        progress(i + 1);
    }
    let relay_s = t_run.elapsed().as_secs_f64();
    let counters = [link.counters(Side::Sender)?, link.counters(Side::Receiver)?];
    sender.stop();
    receiver.stop();
    for d in &dirs {
        std::fs::remove_dir_all(d).ok();
    }
    Run::new(
        shape,
        transport,
        peer_kind,
        start_height,
        samples,
        counters,
        relay_s,
    )
}

/// The blocks' sizes for the report.
#[must_use]
pub fn relayed_stats(blocks: &[Relayed]) -> RelayedBlocks {
    let n = blocks.len().max(1) as u64;
    RelayedBlocks {
        count: blocks.len(),
        first_height: blocks.first().map_or(0, |b| b.height),
        min_weight: blocks.iter().map(|b| b.weight).min().unwrap_or(0),
        mean_weight: blocks.iter().map(|b| b.weight).sum::<u64>() / n,
        mean_bytes: blocks.iter().map(|b| b.bytes.len() as u64).sum::<u64>() / n,
    }
}

/// Runs the whole measurement and writes the report.
///
/// # Errors
/// Missing privileges or tools, or any run failing (namespaces and nodes are torn down).
pub fn measure(a: &LossyArgs, command: String) -> anyhow::Result<LossyReport> {
    a.check()?;
    if let Some(why) = netns::unavailable() {
        anyhow::bail!("perf lossy cannot build its link: {why}");
    }
    netns::sweep_stale();
    let sluice = match &a.sluice {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the perf executable's directory")?
            .join("sluice"),
    };
    anyhow::ensure!(sluice.is_file(), "no sluice binary at {}", sluice.display());
    let tmp;
    let work: PathBuf = match &a.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(a.timeout_s);
    let chain_dir = match &a.chain {
        Some(d) => prepare(&ChainSource::Dir(d.clone()), &work)?,
        None => prepare(&ChainSource::Generate(a.spec()), &work)?,
    };
    let (prefix, blocks) = split_chain(&chain_dir, a.blocks)?;
    let base = work.join("base-datadir");
    tracing::info!(
        "submitting the {}-block prefix into {}",
        prefix.len(),
        base.display()
    );
    let base_height = build_base(&sluice, &prefix, &base)?;
    let first = blocks.first().map_or(0, |b| u64::from(b.height));
    anyhow::ensure!(
        base_height + 1 == first,
        "the base node reached height {base_height}; the first relayed block is at {first}"
    );
    drop(prefix);
    let setup = Setup {
        sluice,
        base,
        work: work.clone(),
        blocks,
        script_workers: a.script_workers,
        quic_cc: cc_name(a.quic_cc),
        block_timeout: Duration::from_secs(a.block_timeout_s),
        deadline,
    };
    let first = Shape {
        loss_pct: a.loss[0],
        rate_mbit: a.rate_mbit,
    };
    let link = Link::create("link", first)?;
    let tcp_cc = link.tcp_cc(a.tcp_cc.as_deref())?;
    let mut runs = Vec::new();
    for (li, &loss_pct) in a.loss.iter().enumerate() {
        let shape = Shape {
            loss_pct,
            rate_mbit: a.rate_mbit,
        };
        // Alternate which transport goes first, so neither always runs on a fresher machine.
        let mut order = a.transports.clone();
        if li % 2 == 1 {
            order.reverse();
        }
        for transport in order {
            eprintln!(
                "{} at {loss_pct} % loss: relaying {} blocks",
                transport.name(),
                setup.blocks.len()
            );
            let total = setup.blocks.len();
            let run = one_run(&setup, &link, shape, transport, |i| {
                if i % 20 == 0 || i == total {
                    eprintln!("  {i}/{total}");
                }
            })?;
            eprintln!(
                "  p50 {:.1} ms  p99 {:.1} ms  p999 {:.1} ms",
                run.summary.p50_ms, run.summary.p99_ms, run.summary.p999_ms
            );
            runs.push(run);
        }
    }
    drop(link);
    let mut rep = LossyReport::new(a, command, &chain_dir, relayed_stats(&setup.blocks), runs);
    rep.tcp_congestion_control = tcp_cc;
    rep.quic_congestion_control = setup.quic_cc.clone();
    rep.write(&a.out)?;
    Ok(rep)
}

/// The command-line spelling of a QUIC congestion controller.
fn cc_name(cc: sluice_node::config::QuicCongestionArg) -> String {
    use clap::ValueEnum as _;
    cc.to_possible_value()
        .map_or_else(|| format!("{cc:?}"), |v| v.get_name().to_owned())
}
