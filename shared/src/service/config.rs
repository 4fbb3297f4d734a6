//! The functions' configuration, read from the environment once in each `main` and handed down: every
//! variable the template sets, checked with a clear error naming the variable, instead of readers spread
//! over the constructors.
use std::collections::BTreeMap;

use thiserror::Error;

use super::context::ClientFactory;
use crate::credentials::DEFAULT_SECRET_PREFIX;
use crate::domain::Workflow;
use crate::scheduling::SchedulerTargets;
use crate::webhooks::queue::queue_url_env;

/// What the environment configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the state table (required).
    pub table_name: String,
    /// `SECRET_PREFIX`: where credentials and webhook tokens live in Secrets Manager (default
    /// [`DEFAULT_SECRET_PREFIX`]).
    pub secret_prefix: String,
    /// `PERSONIO_BASE_URL`, `TIMETRACK_BASE_URL` (defaults: the real services).
    pub clients: ClientFactory,
    /// `SCHEDULE_GROUP`, `SCHEDULER_ROLE_ARN`, `*_FUNCTION_ARN` (required: continuations need them).
    pub scheduler: SchedulerTargets,
    /// `EMPLOYEES_QUEUE_URL`, `TIME_ENTRIES_QUEUE_URL`, `ABSENCES_QUEUE_URL` (unset ones are left out:
    /// enqueueing to them is an error).
    pub queues: BTreeMap<Workflow, String>,
    /// `WEBHOOK_RECEIVER_BASE_URL`: the public base URL of the webhook receiver, for subscriptions.
    pub webhook_receiver_base_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `lookup` (a variable's value, `None` when unset); blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &'static str| var(name).ok_or(ConfigError::Missing(name));
        let mut clients = ClientFactory::default();
        if let Some(v) = var("PERSONIO_BASE_URL") {
            clients.personio_base_url = http_url("PERSONIO_BASE_URL", v)?;
        }
        if let Some(v) = var("TIMETRACK_BASE_URL") {
            // A template: `{account}` is replaced by the integration's account.
            http_url("TIMETRACK_BASE_URL", v.replace("{account}", "account"))?;
            clients.timetrack_base_url_template = v;
        }
        let webhook_receiver_base_url = var("WEBHOOK_RECEIVER_BASE_URL")
            .map(|v| http_url("WEBHOOK_RECEIVER_BASE_URL", v))
            .transpose()?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            secret_prefix: var("SECRET_PREFIX")
                .unwrap_or_else(|| DEFAULT_SECRET_PREFIX.to_string()),
            clients,
            scheduler: SchedulerTargets {
                group: required("SCHEDULE_GROUP")?,
                role_arn: required("SCHEDULER_ROLE_ARN")?,
                employees_arn: required("EMPLOYEES_FUNCTION_ARN")?,
                time_entries_arn: required("TIME_ENTRIES_FUNCTION_ARN")?,
                absences_arn: required("ABSENCES_FUNCTION_ARN")?,
            },
            queues: Workflow::ALL
                .into_iter()
                .filter_map(|w| var(queue_url_env(w)).map(|url| (w, url)))
                .collect(),
            webhook_receiver_base_url,
        })
    }
}

/// `value` if it is an absolute http(s) URL.
fn http_url(name: &'static str, value: String) -> Result<String, ConfigError> {
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(value),
        Ok(u) => Err(ConfigError::Invalid {
            name,
            reason: format!("expected an http(s) URL, got scheme {:?}", u.scheme()),
        }),
        Err(e) => Err(ConfigError::Invalid {
            name,
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: [(&str, &str); 6] = [
        ("TABLE_NAME", "state"),
        ("SCHEDULE_GROUP", "sync"),
        ("SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/s"),
        ("EMPLOYEES_FUNCTION_ARN", "arn:e"),
        ("TIME_ENTRIES_FUNCTION_ARN", "arn:t"),
        ("ABSENCES_FUNCTION_ARN", "arn:a"),
    ];

    fn config(extra: &[(&str, &str)], without: &str) -> Result<Config, ConfigError> {
        let vars: BTreeMap<String, String> = REQUIRED
            .iter()
            .chain(extra)
            .filter(|(k, _)| *k != without)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_required_variables_give_a_config_with_defaults() {
        let c = config(&[("SECRET_PREFIX", "  ")], "").unwrap();
        assert_eq!(c.table_name, "state");
        assert_eq!(c.secret_prefix, DEFAULT_SECRET_PREFIX, "blank is unset");
        assert_eq!(c.clients, ClientFactory::default());
        assert!(c.queues.is_empty());
        assert_eq!(c.webhook_receiver_base_url, None);
        assert_eq!(c.scheduler.function_arn(Workflow::Absences), "arn:a");
    }

    #[test]
    fn every_missing_variable_is_named() {
        for (name, _) in REQUIRED {
            assert_eq!(config(&[], name), Err(ConfigError::Missing(name)));
        }
    }

    #[test]
    fn urls_and_queues_are_read_and_checked() {
        let c = config(
            &[
                ("PERSONIO_BASE_URL", "http://127.0.0.1:9001"),
                ("TIMETRACK_BASE_URL", "http://127.0.0.1:9002/{account}"),
                ("ABSENCES_QUEUE_URL", "http://127.0.0.1:5000/q.fifo"),
                ("WEBHOOK_RECEIVER_BASE_URL", "https://api.example.com"),
            ],
            "",
        )
        .unwrap();
        assert_eq!(c.clients.personio_base_url, "http://127.0.0.1:9001");
        assert_eq!(
            c.clients.timetrack_base_url_template,
            "http://127.0.0.1:9002/{account}"
        );
        assert_eq!(c.queues.len(), 1);
        for (name, value) in [
            ("PERSONIO_BASE_URL", "api.personio.de"),
            ("TIMETRACK_BASE_URL", "ftp://x/{account}"),
            ("WEBHOOK_RECEIVER_BASE_URL", "not a url"),
        ] {
            let err = config(&[(name, value)], "").unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{err}"
            );
        }
    }
}
