//! The three-way planner: a pure function from (both sides' records, the stored mappings, the run's
//! direction and window) to a [`Plan`]. It reads no clock, does no I/O and is deterministic: the same
//! input always yields the same plan in the same order, which is what makes re-planning after a crash or
//! in a continuation run idempotent.
//!
//! The decision table it implements is documented (row by row) in `docs/sync-engine.md`.
use std::collections::{BTreeMap, BTreeSet};

// foldhash, not std's SipHash, for the id sets: the planner hashes every id of both sides several
// times, and at 100,000 pairs SipHash was a sixth of its CPU (issue 16). Nothing here depends on a
// set's iteration order.
use foldhash::{HashMap, HashSet};

use super::fingerprint::fingerprint;
use super::kind::{Record, SyncKind};
use super::plan::{Action, Conflict, ConflictCause, Plan, Resolution, Skip, SkipReason};
use super::port::Rejected;
use crate::domain::{DateWindow, Direction, System};
use crate::store::Mapping;

/// What the engine knows about one system at planning time.
#[derive(Debug, Clone, PartialEq)]
pub struct SideState<V> {
    /// Records listed in the window, plus mapped records missing from the listing that get-by-id found
    /// (they are present, with the fetched value).
    pub records: Vec<Record<V>>,
    /// Records the port could not read: never synced, never treated as deleted.
    pub rejected: Vec<Rejected>,
    /// Ids confirmed gone by get-by-id. Only these can propagate a delete.
    pub gone: BTreeSet<String>,
}

impl<V> Default for SideState<V> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            rejected: Vec::new(),
            gone: BTreeSet::new(),
        }
    }
}

/// The mappings a run considers: those anchored in the window (or without an anchor) and those that
/// link a record listed in the window (a record moved into the window keeps its mapping).
pub(crate) fn considered_mappings<'m>(
    mappings: &'m [Mapping],
    window: &DateWindow,
    listed: &HashSet<(System, &str)>,
) -> Vec<&'m Mapping> {
    mappings
        .iter()
        .filter(|m| {
            m.anchor_date.is_none_or(|d| window.contains(d))
                || m.personio_id
                    .as_deref()
                    .is_some_and(|id| listed.contains(&(System::Personio, id)))
                || m.timetrack_id
                    .as_deref()
                    .is_some_and(|id| listed.contains(&(System::TimeTrack, id)))
        })
        .collect()
}

/// Plans one run. `mappings` may contain more than the run's window; see [`considered_mappings`].
pub fn plan<K: SyncKind>(
    kind: &K,
    direction: Direction,
    window: &DateWindow,
    personio: &SideState<K::Value>,
    timetrack: &SideState<K::Value>,
    mappings: &[Mapping],
) -> Plan<K::Value> {
    let fingerprints = (fingerprints_of(personio), fingerprints_of(timetrack));
    Planner::new(kind, direction, (personio, timetrack), &fingerprints).run(window, mappings)
}

/// Each record's fingerprint (or why it has none), in the records' order.
type Fingerprints = Vec<Result<String, String>>;

/// The [`Fingerprints`] of a side: computed once per record here — the planner's main cost (issue
/// 16) — and borrowed by everything below.
fn fingerprints_of<V: serde::Serialize>(state: &SideState<V>) -> Fingerprints {
    state
        .records
        .iter()
        .map(|r| fingerprint(&r.value).map_err(|e| e.0))
        .collect()
}

/// How one mapped side looks this run.
enum View<'a, V> {
    /// The mapping has no id on this side (a create was pending or never happened).
    NoId,
    Present(&'a Record<V>, &'a str),
    Gone,
    /// Rejected by the port or not confirmed: the mapping is left alone this run.
    Unknown,
}

struct Side<'a, V> {
    system: System,
    /// The listed records by id, with their fingerprints. A `BTreeMap`, not a hash map: the mappings
    /// are walked in id order, so its lookups stay in cache; a hash map measured 10–25 % slower at
    /// 100,000 pairs (issue 16).
    by_id: BTreeMap<&'a str, (&'a Record<V>, Result<&'a str, &'a str>)>,
    /// The fingerprint errors of `records`, in their order, reported as skips.
    unfingerprintable: Vec<(&'a str, &'a str)>,
    rejected: HashSet<&'a str>,
    gone: &'a BTreeSet<String>,
}

impl<'a, V: serde::Serialize> Side<'a, V> {
    /// `fingerprints`: those of `state.records`, in their order ([`fingerprints_of`]).
    fn new(
        system: System,
        state: &'a SideState<V>,
        fingerprints: &'a [Result<String, String>],
    ) -> Self {
        let mut by_id = BTreeMap::new();
        let mut unfingerprintable = Vec::new();
        for (r, fp) in state.records.iter().zip(fingerprints) {
            let fp = fp.as_ref().map(String::as_str).map_err(String::as_str);
            if let Err(e) = fp {
                unfingerprintable.push((r.id.as_str(), e));
            }
            // A later record with the same id wins, as `collect` into the map did.
            by_id.insert(r.id.as_str(), (r, fp));
        }
        let rejected = state
            .rejected
            .iter()
            .filter_map(|r| r.id.as_deref())
            .collect();
        Self {
            system,
            by_id,
            unfingerprintable,
            rejected,
            gone: &state.gone,
        }
    }

    /// The fingerprint of `record` (`None` when it has none): the one computed in [`Side::new`] when
    /// `record` is the listed record of its id, else computed now.
    fn fingerprint_of(&self, record: &Record<V>) -> Option<std::borrow::Cow<'a, str>> {
        match self.by_id.get(record.id.as_str()) {
            Some((known, fp)) if std::ptr::eq(*known, record) => {
                fp.ok().map(std::borrow::Cow::Borrowed)
            }
            _ => fingerprint(&record.value).ok().map(std::borrow::Cow::Owned),
        }
    }

    fn view(&self, id: Option<&str>) -> View<'a, V> {
        let Some(id) = id else { return View::NoId };
        if self.rejected.contains(id) {
            return View::Unknown;
        }
        match self.by_id.get(id) {
            Some(&(record, Ok(fp))) => View::Present(record, fp),
            Some((_, Err(_))) => View::Unknown,
            None if self.gone.contains(id) => View::Gone,
            None => View::Unknown,
        }
    }

    /// The fingerprinted records no mapping claims, in id order.
    fn unclaimed(&self, claimed: &HashSet<(System, &'a str)>) -> Vec<(&'a str, &'a Record<V>)> {
        self.by_id
            .iter()
            .filter(|(id, (_, fp))| fp.is_ok() && !claimed.contains(&(self.system, **id)))
            .map(|(id, (record, _))| (*id, *record))
            .collect()
    }
}

struct Planner<'a, K: SyncKind> {
    kind: &'a K,
    direction: Direction,
    p: Side<'a, K::Value>,
    t: Side<'a, K::Value>,
    personio: &'a SideState<K::Value>,
    timetrack: &'a SideState<K::Value>,
    plan: Plan<K::Value>,
    /// Per side, how many unreadable records no mapping claims (possible twins of new records).
    unreadable: HashMap<System, usize>,
}

impl<'a, K: SyncKind> Planner<'a, K> {
    fn new(
        kind: &'a K,
        direction: Direction,
        (personio, timetrack): (&'a SideState<K::Value>, &'a SideState<K::Value>),
        fingerprints: &'a (Fingerprints, Fingerprints),
    ) -> Self {
        Self {
            kind,
            direction,
            p: Side::new(System::Personio, personio, &fingerprints.0),
            t: Side::new(System::TimeTrack, timetrack, &fingerprints.1),
            personio,
            timetrack,
            plan: Plan::default(),
            unreadable: HashMap::default(),
        }
    }

    fn side(&self, system: System) -> &Side<'a, K::Value> {
        match system {
            System::Personio => &self.p,
            System::TimeTrack => &self.t,
        }
    }

    fn run(mut self, window: &DateWindow, mappings: &'a [Mapping]) -> Plan<K::Value> {
        self.skip_rejected();
        let considered = self.considered(window, mappings);
        // Every id a considered mapping names is claimed: it is not "new" and not a twin candidate.
        // Borrowed ids, not copies: one `String` per record and mapping was a large share of planning.
        let mut claimed: HashSet<(System, &'a str)> =
            HashSet::with_capacity_and_hasher(2 * considered.len(), Default::default());
        for m in &considered {
            if let Some(id) = &m.personio_id {
                claimed.insert((System::Personio, id.as_str()));
            }
            if let Some(id) = &m.timetrack_id {
                claimed.insert((System::TimeTrack, id.as_str()));
            }
        }
        self.count_unreadable(&claimed);
        let mut twins = self.twin_candidates(&claimed);
        for m in considered {
            self.mapping(m, &mut twins, &mut claimed);
        }
        self.plan_new(&mut twins, &mut claimed);
        self.plan
    }

    /// Rejected and unfingerprintable records are reported once each; their mappings are then left
    /// untouched.
    fn skip_rejected(&mut self) {
        for (system, state) in [
            (System::Personio, self.personio),
            (System::TimeTrack, self.timetrack),
        ] {
            for r in &state.rejected {
                self.skip(system, r.id.clone(), SkipReason::Rejected(r.reason.clone()));
            }
            let unfingerprintable = std::mem::take(match system {
                System::Personio => &mut self.p.unfingerprintable,
                System::TimeTrack => &mut self.t.unfingerprintable,
            });
            for (id, e) in unfingerprintable {
                self.skip(
                    system,
                    Some(id.to_string()),
                    SkipReason::Unfingerprintable(e.to_string()),
                );
            }
        }
    }

    /// The mappings this run decides about ([`considered_mappings`]), by mapping id.
    fn considered(&self, window: &DateWindow, mappings: &'a [Mapping]) -> Vec<&'a Mapping> {
        // Only a mapping anchored outside the window needs the listed ids (it counts when it links a
        // listed record); a window that holds every mapping's anchor skips building the set, a fifth
        // of a planning's hashing at 100,000 pairs (issue 16).
        let all_anchored_inside = mappings
            .iter()
            .all(|m| m.anchor_date.is_none_or(|d| window.contains(d)));
        let mut considered: Vec<&'a Mapping> = if all_anchored_inside {
            mappings.iter().collect()
        } else {
            let listed: HashSet<(System, &str)> = self
                .personio
                .records
                .iter()
                .map(|r| (System::Personio, r.id.as_str()))
                .chain(
                    self.timetrack
                        .records
                        .iter()
                        .map(|r| (System::TimeTrack, r.id.as_str())),
                )
                .collect();
            considered_mappings(mappings, window, &listed)
        };
        considered.sort_by(|a, b| a.mapping_id.cmp(&b.mapping_id));
        considered
    }

    /// Per side, the unreadable records no mapping claims (the run reports their count).
    fn count_unreadable(&mut self, claimed: &HashSet<(System, &'a str)>) {
        for (system, state) in [
            (System::Personio, self.personio),
            (System::TimeTrack, self.timetrack),
        ] {
            let unclaimed = state
                .rejected
                .iter()
                .filter(|r| {
                    r.is_unreadable()
                        && r.id
                            .as_ref()
                            .is_none_or(|id| !claimed.contains(&(system, id.as_str())))
                })
                .count();
            self.unreadable.insert(system, unclaimed);
        }
    }

    /// Unclaimed, readable records by natural key, lowest id last (so `pop()` yields it): the twin
    /// candidates.
    fn twin_candidates(
        &self,
        claimed: &HashSet<(System, &'a str)>,
    ) -> HashMap<(System, String), Vec<&'a Record<K::Value>>> {
        let mut twins: HashMap<(System, String), Vec<&'a Record<K::Value>>> = HashMap::default();
        for side in [&self.p, &self.t] {
            for (_, record) in side.unclaimed(claimed) {
                twins
                    .entry((side.system, self.kind.natural_key(&record.value)))
                    .or_default()
                    .push(record);
            }
        }
        for list in twins.values_mut() {
            list.reverse(); // pop() then yields the lowest id
        }
        twins
    }

    /// New records, Personio first (deterministic; the twin rule is symmetric anyway).
    fn plan_new(
        &mut self,
        twins: &mut HashMap<(System, String), Vec<&'a Record<K::Value>>>,
        claimed: &mut HashSet<(System, &'a str)>,
    ) {
        for system in [System::Personio, System::TimeTrack] {
            let new = self.side(system).unclaimed(claimed);
            for (_, record) in new {
                if claimed.contains(&(system, record.id.as_str())) {
                    continue; // adopted as a twin meanwhile
                }
                claimed.insert((system, record.id.as_str()));
                let key = self.kind.natural_key(&record.value);
                let twin = take_twin(twins, claimed, system.other(), &key);
                self.unmapped(system, record, twin, None);
            }
        }
    }

    fn skip(&mut self, system: System, record_id: Option<String>, reason: SkipReason) {
        self.plan.actions.push(Action::Skip(Skip {
            system: Some(system),
            record_id,
            reason,
        }));
    }

    /// Pushes `action` if the run may write to `target`, else the direction skip. A create that is
    /// skipped has no target record yet, so the skip names its source record instead (the user must be
    /// able to tell which record waits for a two-way run).
    fn write_to(&mut self, target: System, target_id: Option<String>, action: Action<K::Value>) {
        if self.direction.allows_writes_to(target) {
            self.plan.actions.push(action);
        } else if let (None, Action::Create { source, .. }) = (&target_id, &action) {
            self.skip(
                target.other(),
                Some(source.id.clone()),
                SkipReason::Direction { target },
            );
        } else {
            self.skip(target, target_id, SkipReason::Direction { target });
        }
    }

    /// A record with no mapping (or a mapping without the other side's id): adopt its twin, resolve
    /// differences by master, or create it on the other side.
    fn unmapped(
        &mut self,
        source_system: System,
        source: &'a Record<K::Value>,
        twin: Option<&'a Record<K::Value>>,
        mapping: Option<&Mapping>,
    ) {
        let target = source_system.other();
        let unreadable = self.unreadable.get(&target).copied().unwrap_or(0);
        if twin.is_none() && unreadable > 0 && self.direction.allows_writes_to(target) {
            self.skip(
                source_system,
                Some(source.id.clone()),
                SkipReason::TwinUnreadable { target, unreadable },
            );
            return;
        }
        let Some(twin) = twin else {
            self.write_to(
                target,
                None,
                Action::Create {
                    target,
                    source: source.clone(),
                    mapping: mapping.cloned(),
                },
            );
            return;
        };
        let (personio, timetrack) = match source_system {
            System::Personio => (source, twin),
            System::TimeTrack => (twin, source),
        };
        if self.p.fingerprint_of(personio) == self.t.fingerprint_of(timetrack) {
            self.plan.actions.push(Action::Adopt {
                personio: personio.clone(),
                timetrack: timetrack.clone(),
                mapping: mapping.cloned(),
            });
            return;
        }
        // The twin of a pending intent, made only of the writes that intent recorded: the product's own
        // create, left half done by a lost answer. It is completed with the intended value (the
        // source), whoever is master: the fragment is nobody's edit and must not reach the source.
        if let Some(m) = mapping {
            let recorded = m
                .intent
                .as_ref()
                .filter(|i| i.target == target)
                .map(|i| i.parts.as_slice())
                .unwrap_or_default();
            if !recorded.is_empty() && self.kind.is_remnant(&twin.value, recorded) {
                self.write_to(
                    target,
                    Some(twin.id.clone()),
                    Action::Update {
                        target,
                        target_id: twin.id.clone(),
                        value: source.value.clone(),
                        previous: Some(twin.value.clone()),
                        mapping: m.clone(),
                    },
                );
                return;
            }
        }
        let winner = self
            .kind
            .master(Some(&personio.value), Some(&timetrack.value));
        let loser_id = match winner {
            System::Personio => timetrack.id.clone(),
            System::TimeTrack => personio.id.clone(),
        };
        self.write_to(
            winner.other(),
            Some(loser_id),
            Action::Conflict(Conflict {
                cause: ConflictCause::LinkedWithDifferences,
                winner,
                resolution: Resolution::Update,
                personio: Some(personio.clone()),
                timetrack: Some(timetrack.clone()),
                mapping: mapping.cloned(),
            }),
        );
    }

    fn mapping(
        &mut self,
        m: &Mapping,
        twins: &mut HashMap<(System, String), Vec<&'a Record<K::Value>>>,
        claimed: &mut HashSet<(System, &'a str)>,
    ) {
        if let Some(why) = &m.parked {
            let (system, id) = match (&m.personio_id, &m.timetrack_id) {
                (Some(id), _) => (System::Personio, Some(id.clone())),
                (None, id) => (System::TimeTrack, id.clone()),
            };
            self.skip(system, id, SkipReason::Parked(why.clone()));
            return;
        }
        let p = self.p.view(m.personio_id.as_deref());
        let t = self.t.view(m.timetrack_id.as_deref());
        let last = m.fingerprint.as_deref();
        match (p, t) {
            (View::Unknown, _) | (_, View::Unknown) => {
                // Rejected ones were reported already; report only the unconfirmed.
                for (system, id) in [
                    (System::Personio, &m.personio_id),
                    (System::TimeTrack, &m.timetrack_id),
                ] {
                    if let Some(id) = id {
                        let side = self.side(system);
                        if !side.rejected.contains(id.as_str())
                            && !side.by_id.contains_key(id.as_str())
                            && !side.gone.contains(id)
                        {
                            self.skip(system, Some(id.clone()), SkipReason::Unconfirmed);
                        }
                    }
                }
            }
            (View::Present(pr, pfp), View::Present(tr, tfp)) => {
                if !self.superseded(m, pr, pfp, tr, tfp, last, twins, claimed) {
                    self.both_present(m, pr, pfp, tr, tfp, last, false)
                }
            }
            (View::Gone, View::Gone)
            | (View::NoId, View::NoId)
            | (View::NoId, View::Gone)
            | (View::Gone, View::NoId) => self
                .plan
                .actions
                .push(Action::ForgetMapping { mapping: m.clone() }),
            (View::Gone, View::Present(tr, tfp)) => {
                match self.moved(m, System::Personio, tr, twins, claimed) {
                    Some((relinked, pr, pfp)) => {
                        self.both_present(&relinked, pr, pfp, tr, tfp, last, true)
                    }
                    None => self.one_gone(m, System::Personio, tr, tfp, last),
                }
            }
            (View::Present(pr, pfp), View::Gone) => {
                match self.moved(m, System::TimeTrack, pr, twins, claimed) {
                    Some((relinked, tr, tfp)) => {
                        self.both_present(&relinked, pr, pfp, tr, tfp, last, true)
                    }
                    None => self.one_gone(m, System::TimeTrack, pr, pfp, last),
                }
            }
            (View::Present(source, _), View::NoId) => {
                self.pending(m, System::Personio, source, twins, claimed)
            }
            (View::NoId, View::Present(source, _)) => {
                self.pending(m, System::TimeTrack, source, twins, claimed)
            }
        }
    }

    /// A mapping with one side only: the create on the other side was intended (or failed). Adopt the
    /// record with the intent's natural key if it exists there, else create again.
    fn pending(
        &mut self,
        m: &Mapping,
        source_system: System,
        source: &'a Record<K::Value>,
        twins: &mut HashMap<(System, String), Vec<&'a Record<K::Value>>>,
        claimed: &mut HashSet<(System, &'a str)>,
    ) {
        let target = source_system.other();
        let key = match &m.intent {
            Some(intent) if intent.target == target => intent.natural_key.clone(),
            _ => self.kind.natural_key(&source.value),
        };
        let twin = take_twin(twins, claimed, target, &key).or_else(|| {
            // A remnant need not carry the whole record's natural key (the lone first part of a
            // TimeTrack absence split in parts ends earlier): any unclaimed record made only of the
            // writes this intent recorded is its unfinished create, and `unmapped` completes it.
            let recorded = m
                .intent
                .as_ref()
                .filter(|i| i.target == target && !i.parts.is_empty())?
                .parts
                .as_slice();
            take_remnant(twins, claimed, target, |r| {
                self.kind.is_remnant(&r.value, recorded)
            })
        });
        self.unmapped(source_system, source, twin, Some(m));
    }

    /// `gone_system`'s mapped record is confirmed gone, but an unclaimed record with the same natural
    /// key as `present` exists on that side: the record moved to a new id. This is what an update that
    /// a port implements as delete + re-create (TimeTrack absences) leaves behind when the run dies
    /// after the write but before the mapping update; treating the old id as deleted would propagate a
    /// delete (or re-create it: a duplicate) and create the new id again on the other side (another
    /// duplicate). Returns the mapping re-linked to the new id, with that record and its fingerprint.
    fn moved(
        &self,
        m: &Mapping,
        gone_system: System,
        present: &Record<K::Value>,
        twins: &mut HashMap<(System, String), Vec<&'a Record<K::Value>>>,
        claimed: &mut HashSet<(System, &'a str)>,
    ) -> Option<(Mapping, &'a Record<K::Value>, &'a str)> {
        let key = self.kind.natural_key(&present.value);
        let twin = take_twin(twins, claimed, gone_system, &key)?;
        // Twin candidates all have a fingerprint (see `run`); this only avoids an unwrap.
        let Some((_, Ok(fp))) = self.side(gone_system).by_id.get(twin.id.as_str()) else {
            return None;
        };
        let mut relinked = m.clone();
        match gone_system {
            System::Personio => relinked.personio_id = Some(twin.id.clone()),
            System::TimeTrack => relinked.timetrack_id = Some(twin.id.clone()),
        }
        Some((relinked, twin, *fp))
    }

    /// The "superseded twin" rule, for a mapping whose two records are present. Side A changed, side B
    /// did not (or did too, but A is master, so the planned write would overwrite B with A's value),
    /// and B also holds an unclaimed record with A's current natural key *and* fingerprint: that is the
    /// completed first half of an update that B's port performs as create-new + delete-old (TimeTrack
    /// absences), left behind by a run that died before deleting the old record or before writing the
    /// mapping. Updating the old record again would make a second replacement, and the replacement
    /// would be created on A's side as a new record (a duplicate, or a 409 overlap forever). Instead
    /// the old record is deleted and the mapping re-linked to the replacement ([`Action::Supersede`]).
    ///
    /// When the direction forbids writing to B the mapping is skipped as a whole (direction skip,
    /// mapping untouched) but the replacement stays claimed: re-linking without the delete would
    /// orphan the old record, which the next two-way run would create on A's side as new.
    /// Returns true when the rule took the mapping.
    #[allow(clippy::too_many_arguments)]
    fn superseded(
        &mut self,
        m: &Mapping,
        pr: &'a Record<K::Value>,
        pfp: &str,
        tr: &'a Record<K::Value>,
        tfp: &str,
        last: Option<&str>,
        twins: &mut HashMap<(System, String), Vec<&'a Record<K::Value>>>,
        claimed: &mut HashSet<(System, &'a str)>,
    ) -> bool {
        if pfp == tfp {
            return false; // in sync, or both reached the same content: nothing was interrupted
        }
        let p_changed = last != Some(pfp);
        let t_changed = last != Some(tfp);
        let changed = match (p_changed, t_changed) {
            (true, false) => System::Personio,
            (false, true) => System::TimeTrack,
            (true, true) => self.kind.master(Some(&pr.value), Some(&tr.value)),
            (false, false) => return false,
        };
        let (source, source_fp, stale) = match changed {
            System::Personio => (pr, pfp, tr),
            System::TimeTrack => (tr, tfp, pr),
        };
        let target = changed.other();
        let key = self.kind.natural_key(&source.value);
        let candidates = &self.side(target).by_id;
        let same_content = |r: &Record<K::Value>| {
            candidates
                .get(r.id.as_str())
                .is_some_and(|(_, fp)| *fp == Ok(source_fp))
        };
        let Some(replacement) = take_twin_where(twins, claimed, target, &key, same_content) else {
            return false;
        };
        let (personio, timetrack) = match target {
            System::Personio => (replacement, source),
            System::TimeTrack => (source, replacement),
        };
        self.write_to(
            target,
            Some(stale.id.clone()),
            Action::Supersede {
                target,
                stale_id: stale.id.clone(),
                personio: personio.clone(),
                timetrack: timetrack.clone(),
                mapping: m.clone(),
            },
        );
        true
    }

    /// Both mapped records are present. `relinked`: one side's id moved (see [`Self::moved`]), so the
    /// mapping must be written even when nothing changed.
    #[allow(clippy::too_many_arguments)]
    fn both_present(
        &mut self,
        m: &Mapping,
        pr: &'a Record<K::Value>,
        pfp: &str,
        tr: &'a Record<K::Value>,
        tfp: &str,
        last: Option<&str>,
        relinked: bool,
    ) {
        let p_changed = last != Some(pfp);
        let t_changed = last != Some(tfp);
        match (p_changed, t_changed) {
            (false, false) if relinked => self.plan.actions.push(Action::Adopt {
                personio: pr.clone(),
                timetrack: tr.clone(),
                mapping: Some(m.clone()),
            }),
            (false, false) => self.plan.in_sync += 1,
            (true, false) => self.update(m, System::TimeTrack, pr, tr),
            (false, true) => self.update(m, System::Personio, tr, pr),
            (true, true) if pfp == tfp => {
                // Both reached the same content (or a run died after writing): only the mapping moves.
                self.plan.actions.push(Action::Adopt {
                    personio: pr.clone(),
                    timetrack: tr.clone(),
                    mapping: Some(m.clone()),
                })
            }
            (true, true) => {
                let winner = self.kind.master(Some(&pr.value), Some(&tr.value));
                let cause = if last.is_some() {
                    ConflictCause::BothChanged
                } else {
                    ConflictCause::LinkedWithDifferences
                };
                let loser_id = match winner {
                    System::Personio => tr.id.clone(),
                    System::TimeTrack => pr.id.clone(),
                };
                self.write_to(
                    winner.other(),
                    Some(loser_id),
                    Action::Conflict(Conflict {
                        cause,
                        winner,
                        resolution: Resolution::Update,
                        personio: Some(pr.clone()),
                        timetrack: Some(tr.clone()),
                        mapping: Some(m.clone()),
                    }),
                );
            }
        }
    }

    fn update(
        &mut self,
        m: &Mapping,
        target: System,
        source: &Record<K::Value>,
        current: &Record<K::Value>,
    ) {
        self.write_to(
            target,
            Some(current.id.clone()),
            Action::Update {
                target,
                target_id: current.id.clone(),
                value: source.value.clone(),
                previous: Some(current.value.clone()),
                mapping: m.clone(),
            },
        );
    }

    /// `gone_system`'s record is confirmed gone; `present` is the other side's record.
    fn one_gone(
        &mut self,
        m: &Mapping,
        gone_system: System,
        present: &'a Record<K::Value>,
        present_fp: &str,
        last: Option<&str>,
    ) {
        let present_system = gone_system.other();
        if last == Some(present_fp) {
            // Deleted on one side, unchanged on the other: the delete propagates.
            self.write_to(
                present_system,
                Some(present.id.clone()),
                Action::Delete {
                    target: present_system,
                    target_id: present.id.clone(),
                    mapping: m.clone(),
                },
            );
            return;
        }
        let (personio, timetrack) = match gone_system {
            System::Personio => (None, Some(present)),
            System::TimeTrack => (Some(present), None),
        };
        let winner = self
            .kind
            .master(personio.map(|r| &r.value), timetrack.map(|r| &r.value));
        let conflict = |resolution| {
            Action::Conflict(Conflict {
                cause: ConflictCause::DeletedAndChanged,
                winner,
                resolution,
                personio: personio.cloned(),
                timetrack: timetrack.cloned(),
                mapping: Some(m.clone()),
            })
        };
        if winner == gone_system {
            // The master deleted it: the change on the other side is discarded with the record.
            self.write_to(
                present_system,
                Some(present.id.clone()),
                conflict(Resolution::Delete),
            );
        } else {
            // The master changed it: the record comes back on the side that deleted it.
            self.write_to(gone_system, None, conflict(Resolution::Recreate));
        }
    }
}

/// Takes (claims) the lowest-id unclaimed record of `system` with natural key `key` that `accept`s;
/// the others stay candidates.
fn take_twin_where<'a, V>(
    twins: &mut HashMap<(System, String), Vec<&'a Record<V>>>,
    claimed: &mut HashSet<(System, &'a str)>,
    system: System,
    key: &str,
    accept: impl Fn(&Record<V>) -> bool,
) -> Option<&'a Record<V>> {
    let list = twins.get_mut(&(system, key.to_string()))?;
    // Lists are kept in descending id order (see `Planner::run`): search from the end.
    let at = list
        .iter()
        .rposition(|r| !claimed.contains(&(system, r.id.as_str())) && accept(r))?;
    let record = list.remove(at);
    claimed.insert((system, record.id.as_str()));
    Some(record)
}

/// Takes (claims) the lowest-id unclaimed record of `system`, whatever its natural key, that
/// `accept`s: the search for a pending create's remnant, made only after no key matched.
fn take_remnant<'a, V>(
    twins: &mut HashMap<(System, String), Vec<&'a Record<V>>>,
    claimed: &mut HashSet<(System, &'a str)>,
    system: System,
    accept: impl Fn(&Record<V>) -> bool,
) -> Option<&'a Record<V>> {
    let (key, at) = twins
        .iter()
        .filter(|((s, _), _)| *s == system)
        .flat_map(|((_, key), list)| {
            list.iter()
                .enumerate()
                .filter(|(_, r)| !claimed.contains(&(system, r.id.as_str())) && accept(r))
                .map(move |(at, r)| (r.id.as_str(), key, at))
        })
        .min_by(|a, b| a.0.cmp(b.0))
        .map(|(_, key, at)| (key.clone(), at))?;
    let record = twins.get_mut(&(system, key))?.remove(at);
    claimed.insert((system, record.id.as_str()));
    Some(record)
}

/// Takes (claims) the lowest-id unclaimed record of `system` with natural key `key`.
fn take_twin<'a, V>(
    twins: &mut HashMap<(System, String), Vec<&'a Record<V>>>,
    claimed: &mut HashSet<(System, &'a str)>,
    system: System,
    key: &str,
) -> Option<&'a Record<V>> {
    let list = twins.get_mut(&(system, key.to_string()))?;
    while let Some(record) = list.pop() {
        if claimed.insert((system, record.id.as_str())) {
            return Some(record);
        }
    }
    None
}
