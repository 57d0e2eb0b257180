//! RFC 5280 §6.1 certificate policy processing: the valid_policy_tree with explicit_policy,
//! policy_mapping and inhibit_anyPolicy (§6.1.2 initialisation, §6.1.3 (d)–(f), §6.1.4 (a)(b)
//! and (h)–(j), §6.1.5 (a)(b)(g)). Policy qualifiers are not interpreted.

use std::collections::BTreeSet;

use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::{CertificatePolicies, InhibitAnyPolicy, PolicyConstraints, PolicyMappings};

use crate::Certificate;

/// anyPolicy (RFC 5280 §4.2.1.4).
pub const ANY_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32.0");
/// Most nodes the tree may grow to (policy-mapping trees can explode, RFC 9618).
const MAX_NODES: usize = 10_000;

/// The relying party's policy inputs (RFC 5280 §6.1.1 (c), (e), (f), (g)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyParams {
    /// Acceptable policies; `None` means anyPolicy.
    pub user_initial_policy_set: Option<Vec<ObjectIdentifier>>,
    /// Require a valid policy on the whole path.
    pub initial_explicit_policy: bool,
    /// Forbid policy mapping.
    pub initial_policy_mapping_inhibit: bool,
    /// Do not let anyPolicy match everything.
    pub initial_any_policy_inhibit: bool,
}

#[derive(Clone, Debug)]
struct Node {
    policy: ObjectIdentifier,
    expected: BTreeSet<ObjectIdentifier>,
    parent: usize,
    alive: bool,
}

/// Policy processing state along one path of `n` certificates.
pub(crate) struct PolicyState {
    /// levels[d] holds the nodes of depth d; `None` once the tree is NULL.
    levels: Option<Vec<Vec<Node>>>,
    explicit_policy: usize,
    inhibit_any_policy: usize,
    policy_mapping: usize,
    n: usize,
}

fn ext<T: for<'a> der::Decode<'a> + const_oid::AssociatedOid>(c: &Certificate) -> Result<Option<T>, String> {
    c.extension::<T>().map(|o| o.map(|(_, v)| v)).map_err(|e| e.to_string())
}

impl PolicyState {
    /// §6.1.2 initialisation.
    pub(crate) fn new(n: usize, p: &PolicyParams) -> Self {
        let root = Node {
            policy: ANY_POLICY,
            expected: [ANY_POLICY].into(),
            parent: 0,
            alive: true,
        };
        PolicyState {
            levels: Some(vec![vec![root]]),
            explicit_policy: if p.initial_explicit_policy { 0 } else { n + 1 },
            inhibit_any_policy: if p.initial_any_policy_inhibit { 0 } else { n + 1 },
            policy_mapping: if p.initial_policy_mapping_inhibit { 0 } else { n + 1 },
            n,
        }
    }

    fn node_count(&self) -> usize {
        self.levels
            .as_ref()
            .map(|l| l.iter().map(|v| v.len()).sum())
            .unwrap_or(0)
    }

    /// Deletes nodes of depth < `depth` that have no living children (repeatedly), and makes
    /// the tree NULL when the root dies.
    fn prune(&mut self, depth: usize) {
        let Some(levels) = self.levels.as_mut() else { return };
        for d in (0..depth.min(levels.len().saturating_sub(1))).rev() {
            let (upper, lower) = levels.split_at_mut(d + 1);
            let children = &lower[0];
            for (idx, node) in upper[d].iter_mut().enumerate() {
                if node.alive && !children.iter().any(|c| c.alive && c.parent == idx) {
                    node.alive = false;
                }
            }
        }
        if !levels[0].iter().any(|r| r.alive) {
            self.levels = None;
        }
    }

    fn kill_subtree(levels: &mut [Vec<Node>], depth: usize, idx: usize) {
        levels[depth][idx].alive = false;
        if depth + 1 < levels.len() {
            let kids: Vec<usize> = levels[depth + 1]
                .iter()
                .enumerate()
                .filter(|(_, c)| c.alive && c.parent == idx)
                .map(|(i, _)| i)
                .collect();
            for k in kids {
                Self::kill_subtree(levels, depth + 1, k);
            }
        }
    }

    /// §6.1.3 (d)–(f) for certificate `i` (1-based).
    pub(crate) fn process(&mut self, cert: &Certificate, i: usize) -> Result<(), String> {
        let policies: Option<CertificatePolicies> = ext(cert)?;
        match (policies, self.levels.as_mut()) {
            (Some(cp), Some(levels)) => {
                let prev = i - 1;
                let mut new_level: Vec<Node> = Vec::new();
                let ids: Vec<ObjectIdentifier> = cp.0.iter().map(|p| p.policy_identifier).collect();
                // (d)(1)
                for p in ids.iter().filter(|p| **p != ANY_POLICY) {
                    let mut matched = false;
                    for (idx, node) in levels[prev].iter().enumerate() {
                        if node.alive && node.expected.contains(p) {
                            new_level.push(Node {
                                policy: *p,
                                expected: [*p].into(),
                                parent: idx,
                                alive: true,
                            });
                            matched = true;
                        }
                    }
                    if !matched && let Some(idx) = levels[prev].iter().position(|n| n.alive && n.policy == ANY_POLICY) {
                        new_level.push(Node {
                            policy: *p,
                            expected: [*p].into(),
                            parent: idx,
                            alive: true,
                        });
                    }
                }
                // (d)(2)
                if ids.contains(&ANY_POLICY) && (self.inhibit_any_policy > 0 || (i < self.n && cert.is_self_issued())) {
                    for (idx, node) in levels[prev].iter().enumerate() {
                        if !node.alive {
                            continue;
                        }
                        for e in &node.expected {
                            if !new_level.iter().any(|c| c.parent == idx && c.policy == *e) {
                                new_level.push(Node {
                                    policy: *e,
                                    expected: [*e].into(),
                                    parent: idx,
                                    alive: true,
                                });
                            }
                        }
                    }
                }
                levels.truncate(i);
                levels.push(new_level);
                if self.node_count() > MAX_NODES {
                    return Err("the certificate policy tree grows too large".into());
                }
                // (d)(3)
                self.prune(i);
            }
            (None, _) => self.levels = None, // (e)
            (Some(_), None) => {}
        }
        // (f)
        if self.explicit_policy == 0 && self.levels.is_none() {
            return Err("there is no valid set of policies".into());
        }
        Ok(())
    }

    /// §6.1.4 (a)(b)(h)(i)(j) after certificate `i` (an intermediate).
    pub(crate) fn prepare_next(&mut self, cert: &Certificate, i: usize) -> Result<(), String> {
        if let Some(pm) = ext::<PolicyMappings>(cert)? {
            // (a)
            if pm
                .0
                .iter()
                .any(|m| m.issuer_domain_policy == ANY_POLICY || m.subject_domain_policy == ANY_POLICY)
            {
                return Err("it contains a policy mapping for the any policy".into());
            }
            // (b)
            let issuer_policies: BTreeSet<ObjectIdentifier> = pm.0.iter().map(|m| m.issuer_domain_policy).collect();
            if let Some(levels) = self.levels.as_mut() {
                for idp in issuer_policies {
                    let mapped: BTreeSet<ObjectIdentifier> =
                        pm.0.iter()
                            .filter(|m| m.issuer_domain_policy == idp)
                            .map(|m| m.subject_domain_policy)
                            .collect();
                    if self.policy_mapping > 0 {
                        let mut found = false;
                        for node in levels[i].iter_mut().filter(|n| n.alive && n.policy == idp) {
                            node.expected = mapped.clone();
                            found = true;
                        }
                        if !found
                            && levels[i].iter().any(|n| n.alive && n.policy == ANY_POLICY)
                            && let Some(pidx) = levels[i - 1].iter().position(|n| n.alive && n.policy == ANY_POLICY)
                        {
                            levels[i].push(Node {
                                policy: idp,
                                expected: mapped.clone(),
                                parent: pidx,
                                alive: true,
                            });
                        }
                    } else {
                        for idx in 0..levels[i].len() {
                            if levels[i][idx].alive && levels[i][idx].policy == idp {
                                Self::kill_subtree(levels, i, idx);
                            }
                        }
                    }
                }
                if self.policy_mapping == 0 {
                    self.prune(i);
                }
            }
        }
        // (h)
        if !cert.is_self_issued() {
            self.explicit_policy = self.explicit_policy.saturating_sub(1);
            self.policy_mapping = self.policy_mapping.saturating_sub(1);
            self.inhibit_any_policy = self.inhibit_any_policy.saturating_sub(1);
        }
        // (i)
        if let Some(pc) = ext::<PolicyConstraints>(cert)? {
            if let Some(r) = pc.require_explicit_policy {
                self.explicit_policy = self.explicit_policy.min(r as usize);
            }
            if let Some(m) = pc.inhibit_policy_mapping {
                self.policy_mapping = self.policy_mapping.min(m as usize);
            }
        }
        // (j)
        if let Some(InhibitAnyPolicy(skip)) = ext::<InhibitAnyPolicy>(cert)? {
            self.inhibit_any_policy = self.inhibit_any_policy.min(skip as usize);
        }
        Ok(())
    }

    /// §6.1.5 (a)(b)(g) after the end-entity certificate (certificate `n`).
    pub(crate) fn wrap_up(&mut self, cert: &Certificate, params: &PolicyParams) -> Result<(), String> {
        self.explicit_policy = self.explicit_policy.saturating_sub(1);
        if let Some(pc) = ext::<PolicyConstraints>(cert)?
            && pc.require_explicit_policy == Some(0)
        {
            self.explicit_policy = 0;
        }
        let n = self.n;
        if let (Some(user), Some(levels)) = (&params.user_initial_policy_set, self.levels.as_mut())
            && !user.contains(&ANY_POLICY)
        {
            // (g)(iii)(1)(2): nodes whose parent is anyPolicy and whose policy is not acceptable go.
            for d in 1..levels.len() {
                for idx in 0..levels[d].len() {
                    let node = &levels[d][idx];
                    if !node.alive {
                        continue;
                    }
                    let parent_any = levels[d - 1][node.parent].policy == ANY_POLICY;
                    if parent_any && node.policy != ANY_POLICY && !user.contains(&node.policy) {
                        Self::kill_subtree(levels, d, idx);
                    }
                }
            }
            // (3): an anyPolicy leaf stands for the acceptable policies not otherwise present.
            if let Some(any_idx) = levels[n].iter().position(|x| x.alive && x.policy == ANY_POLICY) {
                let parent = levels[n][any_idx].parent;
                for p in user {
                    if !levels[n].iter().any(|x| x.alive && x.policy == *p) {
                        levels[n].push(Node {
                            policy: *p,
                            expected: [*p].into(),
                            parent,
                            alive: true,
                        });
                    }
                }
                levels[n][any_idx].alive = false;
            }
            // (4)
            let leaves_alive = levels[n].iter().any(|x| x.alive);
            if !leaves_alive {
                self.levels = None;
            } else {
                self.prune(n);
            }
        }
        if self.explicit_policy == 0
            && self
                .levels
                .as_ref()
                .map(|l| !l[n].iter().any(|x| x.alive))
                .unwrap_or(true)
        {
            return Err("there is no valid set of policies".into());
        }
        Ok(())
    }
}
