//! `report.md`: the race in a table a person reads in ten seconds.

use std::fmt::Write as _;

use crate::chain::ChainStats;
use crate::engine::EngineKind;
use crate::machine::Machine;
use crate::report::Report;

/// Bytes in MiB, for display.
#[allow(clippy::cast_precision_loss)] // display only
#[must_use]
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// "CPU (N cores, M GiB)": the machine in a report's heading line.
#[must_use]
pub fn machine_facts(m: &Machine) -> String {
    format!(
        "{} ({} cores, {:.0} GiB)",
        m.cpu,
        m.logical_cores,
        mib(m.memory_bytes) / 1024.0
    )
}

/// "N blocks, N tx, N inputs, N signatures (N ECDSA, N Schnorr)": the work in a chain.
#[must_use]
pub fn chain_work(st: &ChainStats) -> String {
    format!(
        "{} blocks, {} tx, {} inputs, {} signatures ({} ECDSA, {} Schnorr)",
        st.blocks,
        st.transactions,
        st.inputs,
        st.signatures.total(),
        st.signatures.ecdsa,
        st.signatures.schnorr
    )
}

/// "Sluice is X× faster" (or slower) from the other engine's time over Sluice's.
#[must_use]
pub fn verdict(other_over_sluice: f64) -> String {
    if other_over_sluice > 1.0 {
        format!("Sluice is {other_over_sluice:.2}× faster")
    } else {
        format!("Sluice is {:.2}× slower", 1.0 / other_over_sluice)
    }
}

/// Renders the report as Markdown.
#[must_use]
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Sluice vs Bitcoin Core — import race\n");
    let _ = writeln!(
        s,
        "{} · commit `{}` · {} threads · {} runs each · {}\n",
        r.date,
        r.commit,
        r.threads,
        r.runs,
        machine_facts(&r.machine)
    );
    let _ = writeln!(
        s,
        "Chain `{}` ({:?}): {}; both engines ended at height {} (`{}`).\n",
        r.chain.path,
        r.chain.network,
        chain_work(&r.chain.stats),
        r.chain.tip.height,
        r.chain.tip.hash
    );
    let _ = writeln!(
        s,
        "| engine | median s | min s | max s | user s | sys s | peak RSS MiB | blocks/s | tx/s | inputs/s | sigs/s |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for e in &r.results {
        let f = &e.figures;
        let rss = f.peak_rss_bytes.iter().copied().max().unwrap_or(0);
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} | {:.0} | {:.1} | {:.0} | {:.0} | {:.0} |",
            e.engine.name(),
            e.median,
            e.min,
            e.max,
            e.user,
            e.system,
            mib(rss),
            f.blocks_per_s,
            f.tx_per_s,
            f.inputs_per_s,
            f.signatures_per_s
        );
    }
    let ratio = &r.sluice_over_core;
    let verdict = verdict(1.0 / ratio.median);
    let _ = writeln!(
        s,
        "\n**Sluice/Core wall time, pair by pair: median {:.3} (min {:.3}, max {:.3}) — {verdict}.**\n",
        ratio.median, ratio.min, ratio.max
    );
    if let Some(lb) = &r.lower_bound {
        let _ = writeln!(
            s,
            "Lower bound (signature verification only: ECDSA {:.1} µs, Schnorr {:.1} µs ({}), over {} cores): \
             {:.3} s; Sluice's median is {:.2}× the bound.\n",
            lb.ecdsa_verify_us,
            lb.schnorr_verify_us,
            lb.schnorr_method,
            lb.cores,
            lb.seconds,
            lb.sluice_over_bound
        );
    }
    if let Some(sl) = r.result(EngineKind::Sluice) {
        if !sl.stages.is_empty() {
            let _ = writeln!(s, "| Sluice stage | median s |\n|---|---|");
            for (name, secs) in &sl.stages {
                let _ = writeln!(s, "| {name} | {secs:.3} |");
            }
            s.push('\n');
        }
    }
    let _ = writeln!(s, "Method: {}", r.method);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_both_engines_and_the_ratio() {
        let rep = crate::report::tests::sample_report();
        let md = render(&rep);
        assert!(md.contains("| sluice | 2.000 |"), "{md}");
        assert!(md.contains("| core | 3.000 |"), "{md}");
        assert!(md.contains("median 0.625"), "{md}");
        assert!(md.contains("1.60× faster"), "{md}");
        assert!(md.contains("| scripts | 1.000 |"), "{md}");
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(1.6), "Sluice is 1.60× faster");
        assert_eq!(verdict(0.5), "Sluice is 2.00× slower");
        assert_eq!(verdict(1.0), "Sluice is 1.00× slower");
    }
}
