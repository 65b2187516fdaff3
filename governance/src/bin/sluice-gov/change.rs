//! `sign`, `verify` and `emergency`: approvals of a change BASE..TARGET.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sluice_governance::approval::{ApprovalFile, Scope, Signed, Statement};
use sluice_governance::emergency::{emergency_message, EmergencyFile};
use sluice_governance::policy::tier_of_change;
use sluice_governance::repo::{load_approvals, read_tree, resolve_commit};
use sluice_governance::time::parse_duration;
use sluice_governance::tree::Tree;
use sluice_governance::verify::verify_change;
use sluice_governance::{Error, Timestamp, TrustedKeyring};

use crate::common::{log_event, read_optional, trusted, unlock_as, write_replace};
use crate::{KeyArgs, RepoArgs};

impl RepoArgs {
    fn keyrings(&self) -> PathBuf {
        self.keyrings
            .clone()
            .unwrap_or_else(|| self.repo.join("governance/keyrings"))
    }

    fn approvals(&self) -> PathBuf {
        self.approvals
            .clone()
            .unwrap_or_else(|| self.repo.join("governance/approvals"))
    }
}

/// BASE..TARGET → the two commits and their trees.
struct Change {
    base: String,
    target: String,
    base_tree: Tree,
    target_tree: Tree,
}

fn read_change(repo: &Path, range: &str) -> Result<Change> {
    // `REV` alone is the change that commit made: its first parent to itself.
    let (b, t) = match range.split_once("..") {
        Some((b, t)) => (b.to_string(), t.to_string()),
        None => (format!("{range}~1"), range.to_string()),
    };
    if b.is_empty() || t.is_empty() || t.starts_with('.') {
        bail!("expected BASE..TARGET or REV, got {range:?}");
    }
    let (b, t) = (b.as_str(), t.as_str());
    let base = resolve_commit(repo, b).with_context(|| format!("base {b}"))?;
    let target = resolve_commit(repo, t).with_context(|| format!("target {t}"))?;
    let base_tree = read_tree(repo, &base).with_context(|| format!("reading {base}"))?;
    let target_tree = read_tree(repo, &target).with_context(|| format!("reading {target}"))?;
    Ok(Change {
        base,
        target,
        base_tree,
        target_tree,
    })
}

/// Approval files are named after the two tree digests, so each change has one file.
fn approval_path(dir: &Path, c: &Change) -> PathBuf {
    let (b, t) = (
        c.base_tree.digest().to_hex(),
        c.target_tree.digest().to_hex(),
    );
    dir.join(format!("{}-{}.approval.toml", &b[..16], &t[..16]))
}

/// The tier the verifier will derive for this change.
fn derived_tier(t: &TrustedKeyring, c: &Change) -> Result<String> {
    let policy = c.base_tree.policy(t)?;
    let changed = Tree::changed_paths(&c.base_tree, &c.target_tree);
    Ok(tier_of_change(t.keyring(), policy.as_ref(), &changed)?
        .name
        .clone())
}

/// Everything `sign` needs.
pub struct SignRequest {
    pub range: String,
    pub repo: RepoArgs,
    pub key: KeyArgs,
    pub proposed_at: Option<String>,
    pub valid_for: String,
    pub tier: Option<String>,
    pub log: Option<PathBuf>,
}

pub fn sign(req: &SignRequest, now: Timestamp) -> Result<()> {
    let t = trusted(&req.repo.keyrings(), now)?;
    let c = read_change(&req.repo.repo, &req.range)?;
    let derived = derived_tier(&t, &c)?;
    let tier = req.tier.clone().unwrap_or_else(|| derived.clone());
    if t.keyring().tier(&tier).is_none() {
        bail!("keyring {} has no tier {tier}", t.keyring().version);
    }
    if tier != derived {
        tracing::warn!(%tier, %derived, "signing for another tier than the change needs: this approval will not verify");
    }
    let key = unlock_as(&req.key, &t)?;
    let dir = req.repo.approvals();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = approval_path(&dir, &c);
    let existing = read_optional(&path)?
        .map(|b| ApprovalFile::parse(&b))
        .transpose()?;
    let asked = req
        .proposed_at
        .as_deref()
        .map(Timestamp::parse)
        .transpose()?;
    let proposed_at = match (&existing, asked) {
        (Some(f), Some(a)) if f.proposed_at != a => {
            bail!(
                "{} was proposed at {}, not {a}",
                path.display(),
                f.proposed_at
            )
        }
        (Some(f), _) => f.proposed_at,
        (None, Some(a)) => a,
        (None, None) => now,
    };
    let expires = now.plus(parse_duration(&req.valid_for)?);
    let scope = Scope::of(t.keyring(), &req.repo.channel);
    let (b, g) = (c.base_tree.digest(), c.target_tree.digest());
    let statement = Statement {
        scope,
        base_tree: b,
        target_tree: g,
        tier: &tier,
        proposed_at,
        signed_at: now,
        expires,
    };
    let msg = statement.message();
    let signed = Signed {
        signer: req.key.signer.clone(),
        signed_at: now,
        expires,
        signature: key.sign(&msg),
    };
    let mut file = existing.unwrap_or(ApprovalFile {
        base_tree: b,
        target_tree: g,
        proposed_at,
        signatures: vec![],
    });
    // One entry per signer: signing again replaces the earlier signature.
    file.signatures.retain(|s| s.signer != signed.signer);
    file.signatures.push(signed);
    let comment = format!(
        "Approval of {}..{} (tier {tier}, channel {}, keyring {}).\nThe tree digests only pick this file; verify recomputes them.",
        c.base,
        c.target,
        req.repo.channel,
        t.keyring().version
    );
    write_replace(&path, file.to_toml(&comment).as_bytes())?;
    println!("{} signatures in {}", file.signatures.len(), path.display());
    log_event(
        req.log.as_deref(),
        &format!(
            "approve {}..{} tier {tier} by {}",
            c.base, c.target, req.key.signer
        ),
    )
}

pub fn verify(range: &str, repo: &RepoArgs, state: Option<&Path>, now: Timestamp) -> Result<()> {
    let t = trusted(&repo.keyrings(), now)?;
    crate::keys::check_state(state, &t)?;
    let c = read_change(&repo.repo, range)?;
    let dir = repo.approvals();
    let (approvals, emergencies) =
        load_approvals(&dir).with_context(|| format!("approvals in {}", dir.display()))?;
    match verify_change(
        &t,
        &repo.channel,
        &c.base_tree,
        &c.target_tree,
        &approvals,
        &emergencies,
        now,
    ) {
        Ok(ok) => {
            println!(
                "approved: {}..{} tier {} by {} ({} files changed; review ended {}{})",
                c.base,
                c.target,
                ok.tier,
                ok.signers.join(", "),
                ok.changed.len(),
                ok.review_until,
                if ok.emergency {
                    ", shortened by an emergency override"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Err(e) => {
            if let Error::NotApproved { ignored, .. } = &e {
                for (signer, why) in ignored {
                    eprintln!("  not counted: {signer}: {why}");
                }
            }
            Err(e).with_context(|| format!("{}..{} is NOT approved", c.base, c.target))
        }
    }
}

pub fn emergency(
    target: &str,
    repo: &RepoArgs,
    key: &KeyArgs,
    review_period: &str,
    valid_for: &str,
    now: Timestamp,
) -> Result<()> {
    let t = trusted(&repo.keyrings(), now)?;
    let commit = resolve_commit(&repo.repo, target)?;
    let tree = read_tree(&repo.repo, &commit)?;
    let signer = unlock_as(key, &t)?;
    let dir = repo.approvals();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.emergency.toml", &tree.digest().to_hex()[..16]));
    let mut e = match read_optional(&path)? {
        Some(b) => EmergencyFile::parse(&b)?,
        None => EmergencyFile {
            target_tree: tree.digest(),
            review_period: parse_duration(review_period)?,
            issued_at: now,
            expires: now.plus(parse_duration(valid_for)?),
            signatures: vec![],
        },
    };
    if e.target_tree != tree.digest() {
        bail!("{} names another tree", path.display());
    }
    let msg = emergency_message(&Scope::of(t.keyring(), &repo.channel), &e);
    e.signatures.retain(|(id, _)| *id != key.signer);
    e.signatures.push((key.signer.clone(), signer.sign(&msg)));
    write_replace(&path, e.to_toml().as_bytes())?;
    println!("{} signatures in {}", e.signatures.len(), path.display());
    Ok(())
}
