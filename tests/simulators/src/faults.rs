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

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
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
    }
}
