//! Fault injection shared by both simulators.
//!
//! Tests (and the demo, through `POST /_sim/faults`) queue [`FaultRule`]s; each rule fires for the next
//! `times` requests that match its method and path prefix, then disappears. This is how client retry,
//! timeout and connection-error handling is exercised against the real HTTP stack.
//!
//! A fault fires *instead of* the request, except [`Fault::AfterApply`]: the request is applied first
//! and only its answer is lost (5xx, a dropped connection, or an answer later than the client waits).
//! That is the case personio-api-v2.md §9 warns about — a POST answered with a 5xx or a timeout may
//! have been applied — and it works on every route of both simulators, writes included.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What happens to a request that a [`FaultRule`] matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this HTTP status, in the simulated API's own error shape
    /// (Personio: problem+json, with rate-limit headers for 429; TimeTrack: the `errors[]` envelope).
    Status(u16),
    /// Sleep this long, then answer normally: the client's timeout should fire first.
    #[serde(with = "duration_millis")]
    Hang(Duration),
    /// Close the TCP connection without writing any response bytes.
    DropConnection,
    /// Apply the request as usual, then lose its answer the way the inner fault says: `Status` replaces
    /// the real answer, `Hang` delays it (past the client's timeout), `DropConnection` closes the
    /// connection instead of answering. JSON: `{"after_apply": {"status": 504}}`.
    AfterApply(Box<Fault>),
    /// Apply the request, then answer with the real status but the body cut in half: JSON that does
    /// not parse (a proxy that broke off the transfer). JSON: `"truncate_body"`.
    TruncateBody,
    /// Apply the request, then remove this field from the first record of the list answered
    /// (Personio `_data[0]`, TimeTrack `data[0]`/`[0]`): one record that misses a required field.
    /// JSON: `{"drop_field": "email"}`.
    DropField(String),
    /// Apply the request, then set `field` of the first record of the list answered to `value`: one
    /// malformed record (`{"replace_field": {"field": "start", "value": "soon"}}`).
    ReplaceField {
        field: String,
        value: serde_json::Value,
    },
    /// Apply the request, then point the list answer's `next` link back at the page itself: a cursor
    /// that loops (Personio's `_meta.links.next.href`). JSON: `"loop_cursor"`.
    LoopCursor,
}

impl Fault {
    /// The request is applied, then answered with `status` (in the API's own error shape).
    pub fn applied_then_status(status: u16) -> Fault {
        Fault::AfterApply(Box::new(Fault::Status(status)))
    }

    /// The request is applied, then the connection is closed unanswered.
    pub fn applied_then_dropped() -> Fault {
        Fault::AfterApply(Box::new(Fault::DropConnection))
    }

    /// The request is applied, then the answer waits `duration` (the client's timeout fires first).
    pub fn applied_then_hang(duration: Duration) -> Fault {
        Fault::AfterApply(Box::new(Fault::Hang(duration)))
    }

    /// Whether this fault changes the real answer rather than replacing the request: the request is
    /// applied first and the answer rewritten (or lost).
    pub fn rewrites_answer(&self) -> bool {
        matches!(
            self,
            Fault::AfterApply(_)
                | Fault::TruncateBody
                | Fault::DropField(_)
                | Fault::ReplaceField { .. }
                | Fault::LoopCursor
        )
    }
}

/// The first record of a list answer, for the record faults: the first object of the body when it
/// is an array, else of its `_data` or `data` array (or of its first array of objects).
pub(crate) fn first_record(
    body: &mut serde_json::Value,
) -> Option<&mut serde_json::Map<String, serde_json::Value>> {
    use serde_json::Value;
    let list = match body {
        Value::Array(items) => items,
        Value::Object(map) => {
            let key = ["_data", "data"]
                .into_iter()
                .find(|k| map.get(*k).is_some_and(Value::is_array))
                .map(str::to_string)
                .or_else(|| {
                    map.iter()
                        .find(|(_, v)| v.as_array().is_some_and(|a| a.iter().any(Value::is_object)))
                        .map(|(k, _)| k.clone())
                })?;
            map.get_mut(&key)?.as_array_mut()?
        }
        _ => return None,
    };
    list.iter_mut().find_map(Value::as_object_mut)
}

/// Rewrites a JSON answer body the way a record fault says; `self_href` is the request's own path and
/// query (for [`Fault::LoopCursor`]). Other faults and bodies that are not JSON come back unchanged.
pub(crate) fn rewrite_body(fault: &Fault, body: &[u8], self_href: &str) -> Vec<u8> {
    if *fault == Fault::TruncateBody {
        return body[..body.len() / 2].to_vec();
    }
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    match fault {
        Fault::DropField(field) => {
            if let Some(record) = first_record(&mut json) {
                record.remove(field);
            }
        }
        Fault::ReplaceField { field, value } => {
            if let Some(record) = first_record(&mut json) {
                record.insert(field.clone(), value.clone());
            }
        }
        Fault::LoopCursor => {
            if let Some(links) = json.pointer_mut("/_meta/links") {
                links["next"] = serde_json::json!({ "href": self_href });
            }
        }
        _ => {}
    }
    serde_json::to_vec(&json).unwrap_or_else(|_| body.to_vec())
}

/// A queued fault: fires for the next `times` requests whose method and path match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `"GET"`, `"POST"`, ...; `None` matches any method.
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix, e.g. `"/v2/persons"`; for TimeTrack relative to the ext root (`"/users"`).
    pub path_prefix: String,
    pub fault: Fault,
    /// How many matching requests this rule still affects.
    pub times: u32,
    /// How many matching requests pass untouched before the rule starts firing (to hit the k-th
    /// write of a group: `skip = k - 1`).
    #[serde(default)]
    pub skip: u32,
}

impl FaultRule {
    /// A rule for any method.
    pub fn new(path_prefix: impl Into<String>, fault: Fault, times: u32) -> FaultRule {
        FaultRule {
            method: None,
            path_prefix: path_prefix.into(),
            fault,
            times,
            skip: 0,
        }
    }

    /// Lets the first `n` matching requests through untouched.
    pub fn after(mut self, n: u32) -> FaultRule {
        self.skip = n;
        self
    }

    /// Restricts the rule to one HTTP method.
    pub fn with_method(mut self, method: impl Into<String>) -> FaultRule {
        self.method = Some(method.into());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// The queue of pending fault rules of one simulator.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultQueue {
    pub(crate) fn push(&self, rule: FaultRule) {
        lock(&self.rules).push(rule);
    }

    pub(crate) fn clear(&self) {
        lock(&self.rules).clear();
    }

    /// Consumes one firing of the first rule matching the request, if any (rules fire in insertion order).
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let index = rules.iter().position(|r| r.matches(method, path))?;
        let rule = &mut rules[index];
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.times -= 1;
        let fault = rule.fault.clone();
        if rule.times == 0 {
            rules.remove(index);
        }
        Some(fault)
    }
}

/// Locks a mutex, recovering from poisoning: a panicking test thread must not wedge the simulator.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

mod duration_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fires_exactly_times_then_disappears() {
        let queue = FaultQueue::default();
        queue.push(FaultRule::new("/v2/persons", Fault::Status(503), 2).with_method("GET"));
        assert_eq!(queue.take("POST", "/v2/persons"), None);
        assert_eq!(queue.take("GET", "/v2/absence-periods"), None);
        assert_eq!(queue.take("get", "/v2/persons/7"), Some(Fault::Status(503)));
        assert_eq!(queue.take("GET", "/v2/persons"), Some(Fault::Status(503)));
        assert_eq!(queue.take("GET", "/v2/persons"), None);
    }

    #[test]
    fn a_rule_can_let_the_first_matches_through() {
        let queue = FaultQueue::default();
        queue.push(FaultRule::new("/absences", Fault::applied_then_status(504), 1).after(2));
        assert_eq!(queue.take("POST", "/absences"), None);
        assert_eq!(queue.take("GET", "/users"), None);
        assert_eq!(queue.take("DELETE", "/absences/3"), None);
        assert_eq!(
            queue.take("POST", "/absences"),
            Some(Fault::applied_then_status(504))
        );
        assert_eq!(queue.take("POST", "/absences"), None);
        let rule: FaultRule = serde_json::from_str(
            r#"{"path_prefix":"/","fault":{"status":500},"times":1,"skip":3}"#,
        )
        .unwrap();
        assert_eq!(rule.skip, 3);
    }

    #[test]
    fn fault_rules_have_a_json_form_for_the_control_api() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"method":"GET","path_prefix":"/users","fault":{"hang":1500},"times":1}"#,
        )
        .unwrap();
        assert_eq!(rule.fault, Fault::Hang(Duration::from_millis(1500)));
        let drop: FaultRule =
            serde_json::from_str(r#"{"path_prefix":"/","fault":"drop_connection","times":3}"#)
                .unwrap();
        assert_eq!(drop.fault, Fault::DropConnection);
        assert_eq!(drop.method, None);
        let lost: FaultRule = serde_json::from_str(
            r#"{"method":"POST","path_prefix":"/v2/attendance-periods","fault":{"after_apply":{"status":504}},"times":1}"#,
        )
        .unwrap();
        assert_eq!(lost.fault, Fault::applied_then_status(504));
        let json = serde_json::to_value(Fault::applied_then_dropped()).unwrap();
        assert_eq!(json, serde_json::json!({"after_apply": "drop_connection"}));
        let hang: Fault =
            serde_json::from_value(serde_json::json!({"after_apply": {"hang": 2000}})).unwrap();
        assert_eq!(hang, Fault::applied_then_hang(Duration::from_secs(2)));
        let drop: Fault =
            serde_json::from_value(serde_json::json!({"drop_field": "email"})).unwrap();
        assert_eq!(drop, Fault::DropField("email".to_string()));
        let looped: Fault = serde_json::from_value(serde_json::json!("loop_cursor")).unwrap();
        assert!(looped.rewrites_answer());
    }

    #[test]
    fn record_faults_rewrite_the_first_record_or_the_next_link_only() {
        let page = serde_json::json!({
            "_data": [{"id": "1", "email": "a@x"}, {"id": "2", "email": "b@x"}],
            "_meta": {"links": {"next": {"href": "/v2/persons?cursor=abc"}}}
        });
        let body = serde_json::to_vec(&page).unwrap();
        let dropped: serde_json::Value = serde_json::from_slice(&rewrite_body(
            &Fault::DropField("email".into()),
            &body,
            "/v2/persons",
        ))
        .unwrap();
        assert_eq!(dropped["_data"][0], serde_json::json!({"id": "1"}));
        assert_eq!(dropped["_data"][1]["email"], "b@x");
        let looped: serde_json::Value = serde_json::from_slice(&rewrite_body(
            &Fault::LoopCursor,
            &body,
            "/v2/persons?limit=2",
        ))
        .unwrap();
        assert_eq!(
            looped["_meta"]["links"]["next"]["href"],
            "/v2/persons?limit=2"
        );
        let replaced: serde_json::Value = serde_json::from_slice(&rewrite_body(
            &Fault::ReplaceField {
                field: "from".into(),
                value: serde_json::json!("soon"),
            },
            br#"{"data":[{"id":7,"from":"2026-01-01T08:00:00Z"}]}"#,
            "/attendances",
        ))
        .unwrap();
        assert_eq!(replaced["data"][0]["from"], "soon");
        let cut = rewrite_body(&Fault::TruncateBody, &body, "/");
        assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());
    }
}
