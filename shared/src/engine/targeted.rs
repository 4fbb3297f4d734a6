//! A targeted run: the engine on the narrowed scope a batch of change hints names (docs/sync-engine.md,
//! "Targeted runs"; ADR 0023).
//!
//! Order: locate each distinct hinted record through the Personio port (GET by id: its person and
//! days, or gone) → for gone records, the mappings that name them (one mapping query, only then) and a
//! get of the other side's record, which says whose days to re-read → coalesce the scope → list both
//! sides per scope entry with the systems' person and date filters → keep only the mappings of what
//! was listed or pinned by a gone hint → confirm missing mapped records (reusing what was read) → the
//! same plan and apply as every run. The planner is untouched: the scope narrows its inputs.
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::stream::{self, StreamExt};

use super::apply::ApplyReport;
use super::hint::{ChangeHint, HintFamily, Located, TargetScope};
use super::kind::SyncKind;
use super::planner::SideState;
use super::port::{Listing, PortErrorClass};
use super::runner::{Prefetched, RunFailure, RunRequest, Scope, SyncRunner};
use crate::domain::{DateWindow, ScopeEntry, System};
use crate::runs::{RecordFailure, RunPlan, SkipReport, TargetReport};
use crate::store::Mapping;

/// What a targeted run leaves on its record besides the apply report.
pub(super) struct TargetOutcome {
    /// The span of the scope (the run record's `window`).
    pub(super) window: DateWindow,
    pub(super) report: TargetReport,
}

/// The hinted records, once each: (family, Personio id) → the events that named it.
fn distinct_records(hints: &[ChangeHint]) -> BTreeMap<(HintFamily, String), Vec<String>> {
    let mut records: BTreeMap<(HintFamily, String), Vec<String>> = BTreeMap::new();
    for h in hints {
        let events = records
            .entry((h.family, h.resource_id.clone()))
            .or_default();
        if !events.contains(&h.event_id) {
            events.push(h.event_id.clone());
        }
    }
    records
}

impl<K: SyncKind> SyncRunner<'_, K> {
    pub(super) async fn sync_targeted(
        &self,
        request: &RunRequest,
        scope: &Scope,
        run_id: &str,
        hints: Vec<ChangeHint>,
    ) -> Result<(ApplyReport, RunPlan, TargetOutcome), RunFailure> {
        let mut report = TargetReport::default();
        let mut failures = Vec::new();
        let mut skipped = Vec::new();
        let mut entries: Vec<ScopeEntry> = Vec::new();
        let mut prefetched: Prefetched<K::Value> = Prefetched::new();
        let records = distinct_records(&hints);
        let hinted = records.len();

        // 1. Locate every hinted record by reading it (never trusting the event).
        let located: Vec<_> = stream::iter(records)
            .map(|((family, id), events)| async move {
                let result = self.personio.locate(family, &id).await;
                (family, id, events, result)
            })
            .buffer_unordered(self.settings.sync.concurrency.max(1))
            .collect()
            .await;
        let mut gone: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (family, id, events, result) in located {
            match result {
                Ok(Located::Found(entry)) => {
                    entries.push(entry);
                    report.synced.extend(events);
                }
                Ok(Located::Gone) => gone.entry(id).or_default().extend(events),
                Err(e) if e.class == PortErrorClass::NotFound => {
                    gone.entry(id).or_default().extend(events)
                }
                Ok(Located::NotHandled) => {
                    skipped.push(SkipReport {
                        system: Some(System::Personio),
                        record_id: Some(id.clone()),
                        reason: format!(
                            "{family} events are not synced by the {} workflow",
                            request.workflow
                        ),
                    });
                    report.ignored.extend(events);
                }
                // The system could not answer for now, or the run cannot go on: the run fails, so the
                // batch is redelivered and tried again.
                Err(e) if matches!(e.class, PortErrorClass::Transient | PortErrorClass::Fatal) => {
                    return Err(RunFailure(format!("reading personio {family} {id}: {e}")));
                }
                Err(e) => {
                    failures.push(RecordFailure {
                        system: Some(System::Personio),
                        record_id: Some(id.clone()),
                        action: "locate".to_string(),
                        error: e.to_string(),
                        parked: false,
                    });
                    report.unresolved.extend(events);
                }
            }
        }

        // 2. Gone in Personio: a delete candidate when a mapping names it, else a stale hint.
        let mut pinned: Vec<Mapping> = Vec::new();
        if !gone.is_empty() {
            let gone_ids: HashSet<String> = gone.keys().cloned().collect();
            pinned = self
                .store
                .find_mappings(
                    &request.integration_id,
                    self.kind.kind(),
                    &gone_ids,
                    &HashSet::new(),
                )
                .await
                .map_err(|e| RunFailure(format!("loading mappings: {e}")))?;
            let named: HashSet<&str> = pinned
                .iter()
                .filter_map(|m| m.personio_id.as_deref())
                .collect();
            for (id, events) in &gone {
                if named.contains(id.as_str()) {
                    prefetched.insert((System::Personio, id.clone()), None);
                    report.gone.extend(events.iter().cloned());
                } else {
                    report.stale.extend(events.iter().cloned());
                }
            }
            // The other side's record says whose days to re-read (a record re-created with the same
            // natural key is then an edit, not a delete); what it reads is reused below.
            let others: Vec<String> = pinned
                .iter()
                .filter(|m| m.parked.is_none())
                .filter_map(|m| m.timetrack_id.clone())
                .collect();
            let fetched: Vec<_> = stream::iter(others)
                .map(|id| async move {
                    let result = self.timetrack.get(&id).await;
                    (id, result)
                })
                .buffer_unordered(self.settings.sync.concurrency.max(1))
                .collect()
                .await;
            for (id, result) in fetched {
                match result {
                    Ok(Some(record)) => {
                        entries.extend(self.kind.scope_entry(&record.value));
                        prefetched.insert((System::TimeTrack, id), Some(record));
                    }
                    Ok(None) => {
                        prefetched.insert((System::TimeTrack, id), None);
                    }
                    Err(e) if e.class == PortErrorClass::NotFound => {
                        prefetched.insert((System::TimeTrack, id), None);
                    }
                    Err(e) if e.class == PortErrorClass::Fatal => {
                        return Err(RunFailure(format!("get timetrack {id}: {e}")));
                    }
                    // Left unconfirmed: the planner skips that mapping this run.
                    Err(e) => {
                        tracing::warn!(id = %id, error = %e, "could not read the other side of a gone record");
                    }
                }
            }
        }

        // 3. One entry per person and adjacent days.
        let target = TargetScope::coalesce(entries);
        report.entries = target.entries().to_vec();
        let window = target
            .span(pinned.iter().filter_map(|m| m.anchor_date))
            .unwrap_or(scope.window);
        tracing::info!(
            hints = hints.len(), records = hinted, entries = target.entries().len(),
            gone = report.gone.len(), stale = report.stale.len(), ignored = report.ignored.len(),
            window = %window, "targeted run scope resolved"
        );

        // 4. The narrowed listings.
        let listings: Vec<_> = stream::iter(target.entries().to_vec())
            .map(|entry| async move {
                let (p, t) = futures::join!(
                    self.personio.list_scope(&entry),
                    self.timetrack.list_scope(&entry)
                );
                (entry, p, t)
            })
            .buffer_unordered(self.settings.sync.concurrency.max(1))
            .collect()
            .await;
        let mut p = Listing::default();
        let mut t = Listing::default();
        for (entry, pl, tl) in listings {
            let pl = pl.map_err(|e| {
                RunFailure(format!("listing personio for person {}: {e}", entry.person))
            })?;
            let tl = tl.map_err(|e| {
                RunFailure(format!(
                    "listing timetrack for person {}: {e}",
                    entry.person
                ))
            })?;
            merge(&mut p, pl);
            merge(&mut t, tl);
        }

        // 5. Only the mappings of what was listed, and those the gone hints pinned.
        let mappings = if p.records.is_empty()
            && t.records.is_empty()
            && p.rejected.is_empty()
            && t.rejected.is_empty()
        {
            Vec::new()
        } else {
            self.mappings(&request.integration_id, &window, &p, &t)
                .await
                .map_err(|e| RunFailure(format!("loading mappings: {e}")))?
        };
        let listed: HashSet<(System, &str)> = listed_ids(&p, System::Personio)
            .chain(listed_ids(&t, System::TimeTrack))
            .collect();
        let mut in_scope: Vec<Mapping> = mappings
            .into_iter()
            .filter(|m| names_listed(m, &listed))
            .collect();
        let kept: BTreeSet<String> = in_scope.iter().map(|m| m.mapping_id.clone()).collect();
        in_scope.extend(pinned.into_iter().filter(|m| !kept.contains(&m.mapping_id)));

        let mut personio = SideState {
            records: p.records,
            rejected: p.rejected,
            gone: BTreeSet::new(),
        };
        let mut timetrack = SideState {
            records: t.records,
            rejected: t.rejected,
            gone: BTreeSet::new(),
        };
        self.confirm_missing(
            &window,
            &in_scope,
            &mut personio,
            &mut timetrack,
            &prefetched,
        )
        .await?;

        // 6. The same plan and apply as every run, over the scope's span.
        let narrowed = Scope {
            window,
            direction: scope.direction,
            dry_run: scope.dry_run,
            sequence: scope.sequence,
        };
        let (mut applied, plan_json) = self
            .plan_and_apply(request, &narrowed, run_id, &personio, &timetrack, &in_scope)
            .await?;
        report.hints = hints.len() as u64;
        report.records = hinted as u64;
        let order: HashMap<&str, usize> = hints
            .iter()
            .enumerate()
            .rev()
            .map(|(i, h)| (h.event_id.as_str(), i))
            .collect();
        for list in [
            &mut report.synced,
            &mut report.gone,
            &mut report.stale,
            &mut report.ignored,
            &mut report.unresolved,
        ] {
            list.sort_by_key(|e| order.get(e.as_str()).copied().unwrap_or(usize::MAX));
            list.dedup();
        }
        applied.failures.splice(0..0, failures);
        applied.skipped.splice(0..0, skipped);
        Ok((applied, plan_json, TargetOutcome { window, report }))
    }
}

fn merge<V>(into: &mut Listing<V>, from: Listing<V>) {
    let mut seen: HashSet<String> = into.records.iter().map(|r| r.id.clone()).collect();
    into.records.extend(
        from.records
            .into_iter()
            .filter(|r| seen.insert(r.id.clone())),
    );
    let mut seen: HashSet<Option<String>> = into.rejected.iter().map(|r| r.id.clone()).collect();
    into.rejected.extend(
        from.rejected
            .into_iter()
            .filter(|r| r.id.is_none() || seen.insert(r.id.clone())),
    );
}

fn listed_ids<V>(listing: &Listing<V>, system: System) -> impl Iterator<Item = (System, &str)> {
    listing
        .records
        .iter()
        .map(|r| r.id.as_str())
        .chain(listing.rejected.iter().filter_map(|r| r.id.as_deref()))
        .map(move |id| (system, id))
}

/// A mapping is in a targeted run's scope when it names a record the narrowed listings returned: a
/// mapped record of another person or day is never considered, so it can never look deleted.
fn names_listed(m: &Mapping, listed: &HashSet<(System, &str)>) -> bool {
    m.personio_id
        .as_deref()
        .is_some_and(|id| listed.contains(&(System::Personio, id)))
        || m.timetrack_id
            .as_deref()
            .is_some_and(|id| listed.contains(&(System::TimeTrack, id)))
}
