//! `report.md` of an IBD race: what was raced, how, and the ratio, readable in ten seconds.

use std::fmt::Write as _;

use super::report::{Engine, IbdReport};
use crate::markdown::{chain_work, machine_facts, mib, verdict};

/// The issue's goal: Sluice at least this many times faster than bitcoind.
pub const GOAL: f64 = 1.5;

/// Renders the report as Markdown.
#[must_use]
pub fn render(r: &IbdReport) -> String {
    let mut s = String::new();
    let set = &r.settings;
    let _ = writeln!(s, "# Sluice vs bitcoind — IBD over the network\n");
    let _ = writeln!(
        s,
        "{} · commit `{}` · {} · load average {} before, {} after\n",
        r.date,
        r.commit,
        machine_facts(&r.machine),
        r.load_average_start,
        r.load_average_end
    );
    let _ = writeln!(s, "```\n{}\n```\n", r.command);
    let _ = writeln!(
        s,
        "Chain `{}`: {}. The seed bitcoind loaded it with `-loadblock` in {:.1} s and served it \
         on {}; tip height {} (`{}`), UTXO MuHash `{}`.\n",
        r.chain.path,
        chain_work(&r.chain.stats),
        r.seed.load_s,
        r.seed.p2p,
        r.seed.tip.height,
        r.seed.tip.hash,
        r.seed.muhash
    );
    let _ = writeln!(
        s,
        "Both nodes: {} script threads (Sluice `script_workers` = bitcoind `-par`), {} MiB cache \
         (Sluice `cache_mb` = bitcoind `-dbcache`), assumevalid off (bitcoind `-assumevalid=0`; \
         Sluice has none), {} transport, fresh datadir per run, {} runs each. Sluice's MuHash: {}.\n",
        set.threads, set.cache_mb, set.transport, set.runs, set.sluice_muhash
    );
    let _ = writeln!(
        s,
        "| engine | median s | mean s | min s | max s | user s | sys s | peak RSS MiB | blocks/s | tx/s | inputs/s |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for e in &r.results {
        let mean = |v: &[f64]| {
            #[allow(clippy::cast_precision_loss)] // run counts are tiny
            let n = v.len().max(1) as f64;
            v.iter().sum::<f64>() / n
        };
        let f = &e.figures;
        let rss = f.peak_rss_bytes.iter().copied().max().unwrap_or(0);
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} | {:.0} | {:.1} | {:.0} | {:.0} |",
            e.engine.name(),
            e.summary.median,
            e.summary.mean,
            e.summary.min,
            e.summary.max,
            mean(&f.user_times),
            mean(&f.system_times),
            mib(rss),
            f.blocks_per_s,
            f.tx_per_s,
            f.inputs_per_s
        );
    }
    let ratio = &r.bitcoind_over_sluice;
    let pairs: Vec<String> = ratio.pairs.iter().map(|p| format!("{p:.3}")).collect();
    let goal = if ratio.of_medians >= GOAL {
        "met"
    } else {
        "not met"
    };
    let _ = writeln!(
        s,
        "\n**bitcoind median / Sluice median: {:.3} — {}** (pairs {}; median of pairs {:.3}). \
         Goal ≥ {GOAL}×: {goal}.\n",
        ratio.of_medians,
        verdict(ratio.of_medians),
        pairs.join(", "),
        ratio.pairs_median
    );
    let _ = writeln!(
        s,
        "| # | engine | time to tip s | user s | sys s | peak RSS MiB | tip reached |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for (i, run) in r.runs.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {:.1} | {:.1} | {:.0} | {} `{}`{} |",
            i + 1,
            run.engine.name(),
            run.wall_s,
            run.user_s,
            run.system_s,
            mib(run.peak_rss_bytes),
            run.tip.height,
            run.tip.hash,
            if run.muhash.is_some() {
                ", MuHash equal"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(s, "\nNodes under test, as command lines:\n");
    for (engine, cmd) in [
        (Engine::Bitcoind, &set.bitcoind_command),
        (Engine::Sluice, &set.sluice_command),
    ] {
        let _ = writeln!(s, "- {}: `{cmd}`", engine.name());
    }
    let _ = writeln!(
        s,
        "\nHeight over time, every run: `height_over_time.svg`.\n\nMethod: {}",
        r.method
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_ratio_and_goal() {
        let rep = crate::ibd::report::tests::sample_report();
        let md = render(&rep);
        assert!(md.contains("| bitcoind | 35.00 |"), "{md}");
        assert!(md.contains("| sluice | 18.00 |"), "{md}");
        assert!(
            md.contains("bitcoind median / Sluice median: 1.944"),
            "{md}"
        );
        assert!(md.contains("Sluice is 1.94× faster"), "{md}");
        assert!(md.contains("pairs 1.500, 2.500"), "{md}");
        assert!(md.contains("Goal ≥ 1.5×: met"), "{md}");
        assert!(md.contains("| 4 | sluice | 16.00 |"), "{md}");
        assert!(md.contains("perf ibd --blocks 100"), "{md}");
    }
}
