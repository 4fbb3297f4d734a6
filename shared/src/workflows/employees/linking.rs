//! Pairing Personio persons with TimeTrack users.
//!
//! Order of evidence: a stored mapping first (it was decided before and may outlive an e-mail change),
//! then the e-mail (case-insensitive, trimmed), then the personal number where both sides have one and
//! the settings allow it. Whenever the evidence names more than one candidate on either side — the same
//! e-mail twice, a personal number shared — the records involved are reported as [`Ambiguous`] and left
//! unlinked: a wrong link would merge two people's working time, which is far worse than asking a human.
//!
//! The report also feeds the setup API's candidate list ([`LinkReport::candidates`]).
use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::canonical::normalise_email;
use super::personio::PersonioPersonView;
use super::timetrack::TimeTrackUserView;
use crate::domain::System;
use crate::store::Mapping;

/// How a pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkedBy {
    /// A stored mapping already links them.
    Mapping,
    Email,
    PersonalNumber,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub personio_id: String,
    pub timetrack_id: i64,
    pub by: LinkedBy,
}

/// Why records could not be linked automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum AmbiguityReason {
    /// More than one record on `system` carries this e-mail.
    DuplicateEmail { system: System, email: String },
    /// More than one record on `system` carries this personal number.
    DuplicatePersonalNumber {
        system: System,
        personal_number: String,
    },
}

/// A group of records that the evidence does not pair one-to-one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ambiguous {
    pub personio_ids: Vec<String>,
    pub timetrack_ids: Vec<i64>,
    pub reason: AmbiguityReason,
}

/// The outcome of linking. Every input record appears exactly once: in a link, in an ambiguous group,
/// or in one of the `*_only` lists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LinkReport {
    pub linked: Vec<Link>,
    pub ambiguous: Vec<Ambiguous>,
    pub personio_only: Vec<String>,
    pub timetrack_only: Vec<i64>,
}

/// Link status of one candidate, as the setup screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// A stored mapping links it.
    Linked,
    LinkableByEmail,
    LinkableByPersonalNumber,
    Ambiguous,
    /// Nothing on the other side matches it.
    Unmatched,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub personio_id: Option<String>,
    pub timetrack_id: Option<i64>,
    pub status: CandidateStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<AmbiguityReason>,
}

/// The `(Personio person id, TimeTrack user id)` pairs of stored employee mappings — the first evidence
/// [`link`] uses. Mappings with only one side (a create in flight) or a non-numeric user id are left out.
pub fn linked_pairs(mappings: &[Mapping]) -> Vec<(String, i64)> {
    mappings
        .iter()
        .filter_map(|m| {
            let person = m.personio_id.clone()?;
            let user = m.timetrack_id.as_deref()?.parse::<i64>().ok()?;
            Some((person, user))
        })
        .collect()
}

/// Links `persons` with `users`. `existing` are the pairs stored mappings already link (personio id,
/// TimeTrack user id); a stored pair is reported as [`LinkedBy::Mapping`] when either of its records is
/// among the inputs, and its records are never offered to another link.
pub fn link(
    persons: &[PersonioPersonView],
    users: &[TimeTrackUserView],
    existing: &[(String, i64)],
    by_personal_number: bool,
) -> LinkReport {
    let mut report = LinkReport::default();
    let mut taken_persons: HashSet<&str> = HashSet::new();
    let mut taken_users: HashSet<i64> = HashSet::new();

    for (personio_id, timetrack_id) in existing {
        let person_present = persons.iter().any(|p| &p.id == personio_id);
        let user_present = users.iter().any(|u| u.id == *timetrack_id);
        if person_present || user_present {
            report.linked.push(Link {
                personio_id: personio_id.clone(),
                timetrack_id: *timetrack_id,
                by: LinkedBy::Mapping,
            });
        }
        taken_persons.insert(personio_id.as_str());
        taken_users.insert(*timetrack_id);
    }

    // E-mail pass.
    let person_emails = group(persons, &taken_persons, |p| {
        p.email.as_deref().and_then(normalise_email)
    });
    let user_emails = group_users(users, &taken_users, |u| {
        u.email.as_deref().and_then(normalise_email)
    });
    match_groups(
        &person_emails,
        &user_emails,
        LinkedBy::Email,
        |system, key| AmbiguityReason::DuplicateEmail {
            system,
            email: key.to_string(),
        },
        &mut report,
        &mut taken_persons,
        &mut taken_users,
    );

    // Personal-number pass, over what the e-mail left.
    if by_personal_number {
        let person_numbers = group(persons, &taken_persons, |p| p.personal_number.clone());
        let user_numbers = group_users(users, &taken_users, |u| u.personal_number.clone());
        match_groups(
            &person_numbers,
            &user_numbers,
            LinkedBy::PersonalNumber,
            |system, key| AmbiguityReason::DuplicatePersonalNumber {
                system,
                personal_number: key.to_string(),
            },
            &mut report,
            &mut taken_persons,
            &mut taken_users,
        );
    }

    report.personio_only = persons
        .iter()
        .filter(|p| !taken_persons.contains(p.id.as_str()))
        .map(|p| p.id.clone())
        .collect();
    report.timetrack_only = users
        .iter()
        .filter(|u| !taken_users.contains(&u.id))
        .map(|u| u.id)
        .collect();
    report
}

/// Free persons grouped by a key, in key order (deterministic output).
fn group<'a>(
    persons: &'a [PersonioPersonView],
    taken: &HashSet<&str>,
    key: impl Fn(&PersonioPersonView) -> Option<String>,
) -> BTreeMap<String, Vec<&'a str>> {
    let mut groups: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for p in persons.iter().filter(|p| !taken.contains(p.id.as_str())) {
        if let Some(k) = key(p) {
            groups.entry(k).or_default().push(p.id.as_str());
        }
    }
    groups
}

fn group_users(
    users: &[TimeTrackUserView],
    taken: &HashSet<i64>,
    key: impl Fn(&TimeTrackUserView) -> Option<String>,
) -> BTreeMap<String, Vec<i64>> {
    let mut groups: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for u in users.iter().filter(|u| !taken.contains(&u.id)) {
        if let Some(k) = key(u) {
            groups.entry(k).or_default().push(u.id);
        }
    }
    groups
}

/// Pairs one-to-one groups; reports every group with a duplicate on either side as ambiguous (even when
/// the other side has no match yet, so that an import or export never creates the duplicate twice).
fn match_groups<'a>(
    persons: &BTreeMap<String, Vec<&'a str>>,
    users: &BTreeMap<String, Vec<i64>>,
    by: LinkedBy,
    reason: impl Fn(System, &str) -> AmbiguityReason,
    report: &mut LinkReport,
    taken_persons: &mut HashSet<&'a str>,
    taken_users: &mut HashSet<i64>,
) {
    let keys: std::collections::BTreeSet<&String> = persons.keys().chain(users.keys()).collect();
    for key in keys {
        let ps: &[&str] = persons.get(key).map(Vec::as_slice).unwrap_or(&[]);
        let us: &[i64] = users.get(key).map(Vec::as_slice).unwrap_or(&[]);
        match (ps.len(), us.len()) {
            (1, 1) => {
                report.linked.push(Link {
                    personio_id: ps[0].to_string(),
                    timetrack_id: us[0],
                    by,
                });
            }
            (p, u) if p > 1 || u > 1 => {
                let system = if p > 1 {
                    System::Personio
                } else {
                    System::TimeTrack
                };
                report.ambiguous.push(Ambiguous {
                    personio_ids: ps.iter().map(|s| s.to_string()).collect(),
                    timetrack_ids: us.to_vec(),
                    reason: reason(system, key),
                });
            }
            // One side only: not linked by this key; a later pass or the *_only lists take it.
            _ => continue,
        }
        taken_persons.extend(ps.iter().copied());
        taken_users.extend(us.iter().copied());
    }
}

impl LinkReport {
    /// The setup API's candidate list: one row per link, per record of an ambiguous group, and per
    /// unmatched record.
    pub fn candidates(&self) -> Vec<Candidate> {
        let mut rows = Vec::new();
        for l in &self.linked {
            rows.push(Candidate {
                personio_id: Some(l.personio_id.clone()),
                timetrack_id: Some(l.timetrack_id),
                status: match l.by {
                    LinkedBy::Mapping => CandidateStatus::Linked,
                    LinkedBy::Email => CandidateStatus::LinkableByEmail,
                    LinkedBy::PersonalNumber => CandidateStatus::LinkableByPersonalNumber,
                },
                reason: None,
            });
        }
        for a in &self.ambiguous {
            for p in &a.personio_ids {
                rows.push(Candidate {
                    personio_id: Some(p.clone()),
                    timetrack_id: None,
                    status: CandidateStatus::Ambiguous,
                    reason: Some(a.reason.clone()),
                });
            }
            for t in &a.timetrack_ids {
                rows.push(Candidate {
                    personio_id: None,
                    timetrack_id: Some(*t),
                    status: CandidateStatus::Ambiguous,
                    reason: Some(a.reason.clone()),
                });
            }
        }
        for p in &self.personio_only {
            rows.push(Candidate {
                personio_id: Some(p.clone()),
                timetrack_id: None,
                status: CandidateStatus::Unmatched,
                reason: None,
            });
        }
        for t in &self.timetrack_only {
            rows.push(Candidate {
                personio_id: None,
                timetrack_id: Some(*t),
                status: CandidateStatus::Unmatched,
                reason: None,
            });
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, email: Option<&str>, number: Option<&str>) -> PersonioPersonView {
        PersonioPersonView {
            id: id.into(),
            email: email.map(str::to_string),
            first_name: "F".into(),
            last_name: "L".into(),
            personal_number: number.map(str::to_string),
            ..PersonioPersonView::default()
        }
    }

    fn user(id: i64, email: Option<&str>, number: Option<&str>) -> TimeTrackUserView {
        TimeTrackUserView {
            id,
            username: format!("u{id}"),
            email: email.map(str::to_string),
            first_name: "F".into(),
            last_name: "L".into(),
            enabled: true,
            personal_number: number.map(str::to_string),
        }
    }

    fn link_of(report: &LinkReport, personio_id: &str) -> Option<(i64, LinkedBy)> {
        report
            .linked
            .iter()
            .find(|l| l.personio_id == personio_id)
            .map(|l| (l.timetrack_id, l.by))
    }

    #[test]
    fn links_by_email_ignoring_case_and_whitespace() {
        let persons = [
            person("1", Some("Jonas.Mueller@Example.com"), None),
            person("2", Some("lena@example.com"), None),
        ];
        let users = [
            user(10, Some(" jonas.mueller@example.COM"), None),
            user(11, Some("other@example.com"), None),
        ];
        let r = link(&persons, &users, &[], true);
        assert_eq!(link_of(&r, "1"), Some((10, LinkedBy::Email)));
        assert_eq!(r.personio_only, vec!["2".to_string()]);
        assert_eq!(r.timetrack_only, vec![11]);
        assert!(r.ambiguous.is_empty());
    }

    #[test]
    fn links_by_personal_number_when_email_finds_nothing() {
        let persons = [person("1", Some("jm@private.example"), Some("4711"))];
        let users = [user(10, Some("jonas@work.example"), Some("4711"))];
        let r = link(&persons, &users, &[], true);
        assert_eq!(link_of(&r, "1"), Some((10, LinkedBy::PersonalNumber)));

        let off = link(&persons, &users, &[], false);
        assert!(
            off.linked.is_empty(),
            "the setting turns the second pass off"
        );
        assert_eq!(off.personio_only, vec!["1".to_string()]);
    }

    #[test]
    fn email_wins_over_personal_number() {
        let persons = [person("1", Some("a@x.example"), Some("7"))];
        let users = [
            user(10, Some("b@x.example"), Some("7")),
            user(11, Some("A@x.example"), None),
        ];
        let r = link(&persons, &users, &[], true);
        assert_eq!(link_of(&r, "1"), Some((11, LinkedBy::Email)));
        assert_eq!(r.timetrack_only, vec![10]);
    }

    #[test]
    fn duplicate_email_on_either_side_is_ambiguous_never_guessed() {
        let persons = [person("1", Some("team@x.example"), None)];
        let users = [
            user(10, Some("team@x.example"), None),
            user(11, Some("TEAM@x.example"), None),
        ];
        let r = link(&persons, &users, &[], true);
        assert!(r.linked.is_empty());
        assert_eq!(
            r.ambiguous,
            vec![Ambiguous {
                personio_ids: vec!["1".into()],
                timetrack_ids: vec![10, 11],
                reason: AmbiguityReason::DuplicateEmail {
                    system: System::TimeTrack,
                    email: "team@x.example".into()
                }
            }]
        );
        assert!(r.personio_only.is_empty() && r.timetrack_only.is_empty());

        // Two persons share an e-mail and nobody in TimeTrack has it: still ambiguous (an import would
        // otherwise create the same user twice).
        let persons = [
            person("1", Some("dup@x.example"), None),
            person("2", Some("Dup@x.example"), None),
        ];
        let r = link(&persons, &[], &[], true);
        assert_eq!(r.ambiguous.len(), 1);
        assert_eq!(r.ambiguous[0].personio_ids, vec!["1", "2"]);
        assert!(r.personio_only.is_empty());
    }

    #[test]
    fn shared_personal_number_is_ambiguous() {
        let persons = [
            person("1", Some("a@x.example"), Some("42")),
            person("2", Some("b@x.example"), Some("42")),
        ];
        let users = [user(10, Some("c@x.example"), Some("42"))];
        let r = link(&persons, &users, &[], true);
        assert!(r.linked.is_empty());
        assert_eq!(r.ambiguous.len(), 1);
        assert_eq!(
            r.ambiguous[0].reason,
            AmbiguityReason::DuplicatePersonalNumber {
                system: System::Personio,
                personal_number: "42".into()
            }
        );
    }

    #[test]
    fn stored_mappings_take_precedence_and_block_relinking() {
        let persons = [
            person("1", Some("new@x.example"), None),
            person("2", Some("old@x.example"), None),
        ];
        // User 10 has person 2's e-mail but is mapped to person 1 (e-mail changed in Personio).
        let users = [user(10, Some("old@x.example"), None)];
        let r = link(&persons, &users, &[("1".into(), 10)], true);
        assert_eq!(link_of(&r, "1"), Some((10, LinkedBy::Mapping)));
        assert_eq!(link_of(&r, "2"), None);
        assert_eq!(r.personio_only, vec!["2".to_string()]);
    }

    #[test]
    fn every_record_appears_once_and_candidates_carry_statuses() {
        let persons = [
            person("1", Some("a@x.example"), None),
            person("2", None, Some("9")),
            person("3", Some("dup@x.example"), None),
            person("4", Some("nobody@x.example"), None),
            person("5", Some("mapped@x.example"), None),
        ];
        let users = [
            user(10, Some("A@x.example"), None),
            user(11, None, Some("0009")),
            user(12, Some("dup@x.example"), None),
            user(13, Some("dup@x.example"), None),
            user(14, Some("lonely@x.example"), None),
            user(15, Some("mapped@x.example"), None),
        ];
        // The adapter normalises personal numbers; "0009" stays as given here, so normalise it like
        // the adapter would.
        let users: Vec<_> = users
            .into_iter()
            .map(|mut u| {
                u.personal_number = u
                    .personal_number
                    .as_deref()
                    .and_then(crate::workflows::employees::canonical::normalise_personal_number);
                u
            })
            .collect();
        let r = link(&persons, &users, &[("5".into(), 15)], true);

        let mut seen_p: Vec<String> = r.linked.iter().map(|l| l.personio_id.clone()).collect();
        seen_p.extend(r.ambiguous.iter().flat_map(|a| a.personio_ids.clone()));
        seen_p.extend(r.personio_only.clone());
        seen_p.sort();
        assert_eq!(seen_p, vec!["1", "2", "3", "4", "5"]);
        let mut seen_t: Vec<i64> = r.linked.iter().map(|l| l.timetrack_id).collect();
        seen_t.extend(r.ambiguous.iter().flat_map(|a| a.timetrack_ids.clone()));
        seen_t.extend(r.timetrack_only.clone());
        seen_t.sort();
        assert_eq!(seen_t, vec![10, 11, 12, 13, 14, 15]);

        let status = |p: Option<&str>, t: Option<i64>| {
            r.candidates()
                .into_iter()
                .find(|c| c.personio_id.as_deref() == p && c.timetrack_id == t)
                .map(|c| c.status)
        };
        assert_eq!(
            status(Some("1"), Some(10)),
            Some(CandidateStatus::LinkableByEmail)
        );
        assert_eq!(
            status(Some("2"), Some(11)),
            Some(CandidateStatus::LinkableByPersonalNumber)
        );
        assert_eq!(status(Some("3"), None), Some(CandidateStatus::Ambiguous));
        assert_eq!(status(None, Some(13)), Some(CandidateStatus::Ambiguous));
        assert_eq!(status(Some("4"), None), Some(CandidateStatus::Unmatched));
        assert_eq!(status(None, Some(14)), Some(CandidateStatus::Unmatched));
        assert_eq!(status(Some("5"), Some(15)), Some(CandidateStatus::Linked));
    }

    #[test]
    fn linked_pairs_take_only_complete_numeric_mappings() {
        use crate::domain::{EntityKind, IntegrationId};
        use crate::store::contract::sample_mapping;
        let id = IntegrationId::new("acme").unwrap();
        let mut both = sample_mapping(&id, EntityKind::Employee, "m1", None);
        both.personio_id = Some("7788".into());
        both.timetrack_id = Some("42".into());
        let mut in_flight = sample_mapping(&id, EntityKind::Employee, "m2", None);
        in_flight.personio_id = Some("7789".into());
        in_flight.timetrack_id = None;
        let mut odd = sample_mapping(&id, EntityKind::Employee, "m3", None);
        odd.personio_id = Some("7790".into());
        odd.timetrack_id = Some("not-a-number".into());
        assert_eq!(
            linked_pairs(&[both, in_flight, odd]),
            vec![("7788".to_string(), 42)]
        );
    }
}
