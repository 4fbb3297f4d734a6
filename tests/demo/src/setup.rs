//! `demo setup`: creates what a deployment (infra/template.yaml) plus the setup UI would, with the real
//! AWS SDK clients against whatever `AWS_ENDPOINT_URL` points at (moto in the demo):
//! the state table, the integration's secret, its settings, the schedule group and the three recurring
//! schedules. Idempotent, so a second demo run (or a rerun against the same moto) works too.
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use secrecy::SecretString;
use serde_json::Value;
use shared::credentials::{Credentials, CredentialsSource, SecretsManagerCredentials};
use shared::domain::{System, Workflow};
use shared::scheduling::{EventBridgeScheduler, SchedulerTargets, WorkflowSchedule};
use shared::settings::{AbsenceTypeMapping, IntegrationSettings};
use shared::store::dynamodb::DynamoStore;
use shared::store::StateStore;

use crate::config::DemoConfig;
use crate::sim_state::Snapshot;

/// The simulators' fixed credentials (tests/simulators/README.md). Not secrets: they only open the
/// local simulators.
const SIM_PERSONIO_CLIENT_ID: &str = "papi-sim-client-id";
const SIM_PERSONIO_CLIENT_SECRET: &str = "papi-sim-client-secret";
const SIM_TIMETRACK_ACCOUNT: &str = "acme";
const SIM_TIMETRACK_KEY: &str = "tt-sim-key";
const SIM_TIMETRACK_SECRET: &str = "tt-sim-secret";

/// The absence-type mappings a customer of the seed company would choose:
/// (Personio type name, TimeTrack type name, TimeTrack half-day type name, master).
/// "Sonderurlaub" / "Special leave" stay unmapped on purpose (the report shows them as skipped), and the
/// hourly "Overtime compensation" is mapped to show that hourly absences are reported, not synced.
const ABSENCE_MAPPINGS: [(&str, &str, Option<&str>, System); 3] = [
    (
        "Vacation",
        "Urlaub",
        Some("Urlaub (½ Tag)"),
        System::Personio,
    ),
    ("Sick leave", "Krankenstand", None, System::Personio),
    (
        "Overtime compensation",
        "Zeitausgleich",
        None,
        System::TimeTrack,
    ),
];

/// The global id of the seed company's Personio custom attribute holding the personal number.
const PERSONAL_NUMBER_ATTRIBUTE: &str = "personal_number";

/// The TimeTrack-only user the demo exports to Personio.
const EXPORT_USERNAME: &str = "uwe.kuehn";

pub(crate) async fn run(config: &DemoConfig, targets: SchedulerTargets) -> Result<()> {
    let aws = shared::aws::load_aws_config().await;

    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    DynamoStore::create_table(&dynamodb, &config.table_name)
        .await
        .with_context(|| format!("creating table {}", config.table_name))?;
    println!("  table          {}", config.table_name);

    let secrets = SecretsManagerCredentials::new(
        aws_sdk_secretsmanager::Client::new(&aws),
        config.secret_prefix.clone(),
        Duration::ZERO,
    );
    secrets
        .store(&config.integration_id, &simulator_credentials())
        .await
        .context("storing the integration's secret")?;
    println!(
        "  secret         {} (the simulators' credentials)",
        secrets.secret_name(&config.integration_id)
    );

    let snapshot = Snapshot::fetch(&config.personio_sim_url, &config.timetrack_sim_url).await?;
    let settings = demo_settings(&snapshot)?;
    if let Err(problems) = settings.validate() {
        bail!("the demo settings are invalid: {problems:?}");
    }
    let store = DynamoStore::new(dynamodb, config.table_name.clone());
    store
        .put_settings(&config.integration_id, &settings)
        .await
        .context("saving the settings")?;
    println!(
        "  settings       {}, {} absence-type mappings, export of {EXPORT_USERNAME}, time entries {:?} (master {})",
        settings.time_zone,
        settings.absences.type_mappings.len(),
        settings.time_entries.mode,
        settings.time_entries.master
    );

    let scheduler = aws_sdk_scheduler::Client::new(&aws);
    create_schedule_group(&scheduler, &config.schedule_group).await?;
    println!("  schedule group {}", config.schedule_group);
    let schedules = EventBridgeScheduler::new(scheduler, targets);
    for (workflow, expression) in [
        (Workflow::Employees, "rate(1 day)"),
        (Workflow::TimeEntries, "rate(1 hour)"),
        (Workflow::Absences, "rate(1 hour)"),
    ] {
        let schedule = WorkflowSchedule {
            expression: expression.to_string(),
            enabled: true,
            time_zone: settings.time_zone.name().to_string(),
        };
        schedules
            .put_workflow_schedule(&config.integration_id, workflow, &schedule)
            .await
            .with_context(|| format!("creating the {workflow} schedule"))?;
        println!("  schedule       {workflow}: {expression}");
    }
    Ok(())
}

/// Receives before a webhook message moves to its dead-letter queue (the template's
/// `WebhookMaxReceiveCount` default).
const WEBHOOK_MAX_RECEIVES: u32 = 5;
/// The webhook queues' visibility timeout (the template's: longer than the functions' timeout).
const WEBHOOK_VISIBILITY_SECS: u32 = 960;

/// The three webhook queues (SQS FIFO, each with its dead-letter queue) as the template creates them;
/// writes `EMPLOYEES_QUEUE_URL=...` etc. to `env_file` for the functions and the api. Idempotent
/// (CreateQueue with the same attributes answers the existing queue).
pub(crate) async fn webhook_queues(config: &DemoConfig, env_file: &std::path::Path) -> Result<()> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let aws = shared::aws::load_aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let mut env = String::new();
    for (workflow, var) in [
        (Workflow::Employees, "EMPLOYEES_QUEUE_URL"),
        (Workflow::TimeEntries, "TIME_ENTRIES_QUEUE_URL"),
        (Workflow::Absences, "ABSENCES_QUEUE_URL"),
    ] {
        let name = format!("{}-{}-webhooks", config.table_name, workflow.as_str());
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .with_context(|| format!("creating {name}-dlq.fifo"))?;
        let dlq_url = dlq.queue_url().context("CreateQueue answered no URL")?;
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .context("reading the dead-letter queue's ARN")?
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .context("the dead-letter queue has no ARN")?;
        let queue = sqs
            .create_queue()
            .queue_name(format!("{name}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                WEBHOOK_VISIBILITY_SECS.to_string(),
            )
            .attributes(
                QueueAttributeName::RedrivePolicy,
                serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": WEBHOOK_MAX_RECEIVES})
                    .to_string(),
            )
            .send()
            .await
            .with_context(|| format!("creating {name}.fifo"))?;
        let url = queue.queue_url().context("CreateQueue answered no URL")?;
        println!("  webhook queue  {workflow}: {name}.fifo (DLQ {name}-dlq.fifo)");
        env.push_str(&format!("{var}={url}\n"));
    }
    std::fs::write(env_file, env).with_context(|| format!("writing {}", env_file.display()))
}

pub(crate) fn simulator_credentials() -> Credentials {
    Credentials {
        personio_client_id: SIM_PERSONIO_CLIENT_ID.to_string(),
        personio_client_secret: SecretString::from(SIM_PERSONIO_CLIENT_SECRET),
        timetrack_account: SIM_TIMETRACK_ACCOUNT.to_string(),
        timetrack_api_key: SecretString::from(SIM_TIMETRACK_KEY),
        timetrack_api_secret: SecretString::from(SIM_TIMETRACK_SECRET),
    }
}

async fn create_schedule_group(client: &aws_sdk_scheduler::Client, name: &str) -> Result<()> {
    match client.create_schedule_group().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conflict_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(anyhow!(
            "creating schedule group {name}: {}",
            aws_sdk_scheduler::error::DisplayErrorContext(e)
        )),
    }
}

/// Realistic settings for the seed company: Europe/Berlin, all active employees imported, the
/// TimeTrack-only user exported, time entries both ways with TimeTrack as master, absence types mapped
/// by name (ids are looked up in the simulators, never assumed).
pub(crate) fn demo_settings(snapshot: &Snapshot) -> Result<IntegrationSettings> {
    let mut settings = IntegrationSettings::example();
    settings.time_zone = "Europe/Berlin".into();
    settings.time_entries.master = System::TimeTrack;
    // The seed company keeps the personal number in a custom attribute; with it, people whose e-mails
    // differ between the systems (Elif Şahin) are linked instead of imported twice.
    settings.employees.personal_number_attribute = Some(PERSONAL_NUMBER_ATTRIBUTE.to_string());
    settings.employees.export_user_ids = vec![timetrack_user_id(snapshot, EXPORT_USERNAME)?];
    settings.absences.type_mappings = ABSENCE_MAPPINGS
        .iter()
        .map(|&(personio, timetrack, half_day, master)| {
            Ok(AbsenceTypeMapping {
                personio_type_id: personio_type_id(snapshot, personio)?,
                timetrack_type_id: timetrack_type_id(snapshot, timetrack)?,
                half_day_timetrack_type_id: half_day
                    .map(|name| timetrack_type_id(snapshot, name))
                    .transpose()?,
                master,
            })
        })
        .collect::<Result<_>>()?;
    Ok(settings)
}

fn find<'a>(snapshot: &'a Snapshot, pointer: &str, key: &str, value: &str) -> Result<&'a Value> {
    snapshot
        .0
        .pointer(pointer)
        .and_then(Value::as_array)
        .and_then(|records| {
            records
                .iter()
                .find(|r| r.get(key).and_then(Value::as_str) == Some(value))
        })
        .ok_or_else(|| anyhow!("the simulators have no record with {key} {value:?} in {pointer}"))
}

fn personio_type_id(snapshot: &Snapshot, name: &str) -> Result<String> {
    find(snapshot, "/personio/absence_types", "name", name)?
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("Personio absence type {name:?} has no string id"))
}

fn timetrack_type_id(snapshot: &Snapshot, name: &str) -> Result<i64> {
    find(snapshot, "/timetrack/absence_types", "name", name)?
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| anyhow!("TimeTrack absence type {name:?} has no numeric id"))
}

fn timetrack_user_id(snapshot: &Snapshot, username: &str) -> Result<i64> {
    find(snapshot, "/timetrack/users", "username", username)?
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| anyhow!("TimeTrack user {username:?} has no numeric id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::IntegrationId;
    use simulators::{PersonioConfig, PersonioSim, Seed, TimeTrackConfig, TimeTrackSim};

    /// The seed fixture the simulators serve (tests/fixtures/seed/company.json), as `/_sim/state` shows it.
    fn seed_snapshot() -> Snapshot {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/seed/company.json");
        let text = std::fs::read_to_string(path).unwrap();
        Snapshot(serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn demo_settings_for_the_seed_company_are_valid_and_map_by_name() {
        let snapshot = seed_snapshot();
        let settings = demo_settings(&snapshot).unwrap();
        assert_eq!(settings.validate(), Ok(()));
        let vacation = &settings.absences.type_mappings[0];
        assert_eq!(
            vacation.personio_type_id,
            personio_type_id(&snapshot, "Vacation").unwrap()
        );
        assert_eq!(vacation.timetrack_type_id, 1, "Urlaub in the seed");
        assert_eq!(
            vacation.half_day_timetrack_type_id,
            Some(2),
            "Urlaub (½ Tag)"
        );
        assert_eq!(vacation.master, System::Personio);
        assert_eq!(settings.absences.type_mappings[1].timetrack_type_id, 5);
        let uwe = timetrack_user_id(&snapshot, "uwe.kuehn").unwrap();
        assert_eq!(settings.employees.export_user_ids, [uwe]);
        assert_eq!(
            settings.employees.personal_number_attribute.as_deref(),
            Some("personal_number")
        );
    }

    #[test]
    fn a_missing_type_is_named() {
        let snapshot = Snapshot(serde_json::json!({"personio": {"absence_types": []}}));
        let err = personio_type_id(&snapshot, "Vacation").unwrap_err();
        assert!(err.to_string().contains("\"Vacation\""), "{err}");
    }

    /// `demo setup` against moto (real SDK clients, `scripts/with-moto.sh`) and in-process simulators:
    /// everything the functions look for exists afterwards, and a second setup (a rerun) succeeds too.
    #[tokio::test]
    async fn setup_creates_what_the_functions_read_and_can_run_twice() {
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
            "needs moto_server: run via `make test` or `scripts/with-moto.sh cargo nextest run -p demo`"
        );
        let seed = Seed::company(jiff::civil::date(2026, 11, 27));
        let personio = PersonioSim::start(PersonioConfig::default(), &seed)
            .await
            .unwrap();
        let timetrack = TimeTrackSim::start(TimeTrackConfig::default(), &seed)
            .await
            .unwrap();
        let suffix = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let config = DemoConfig {
            integration_id: IntegrationId::new(format!("demo-{suffix}")).unwrap(),
            table_name: format!("demo-{suffix}"),
            secret_prefix: format!("demo-test-{suffix}"),
            schedule_group: format!("demo-{suffix}"),
            personio_sim_url: personio.base_url(),
            timetrack_sim_url: format!("http://{}", timetrack.addr()),
        };
        let targets = SchedulerTargets {
            group: config.schedule_group.clone(),
            role_arn: "arn:aws:iam::123456789012:role/demo-scheduler".into(),
            employees_arn: "arn:aws:lambda:eu-central-1:123456789012:function:demo-employees"
                .into(),
            time_entries_arn: "arn:aws:lambda:eu-central-1:123456789012:function:demo-time-entries"
                .into(),
            absences_arn: "arn:aws:lambda:eu-central-1:123456789012:function:demo-absences".into(),
        };
        run(&config, targets.clone()).await.unwrap();
        run(&config, targets.clone()).await.unwrap();

        let aws = shared::aws::load_aws_config().await;
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            config.table_name.clone(),
        );
        let settings = store
            .get_settings(&config.integration_id)
            .await
            .unwrap()
            .expect("settings were saved");
        assert_eq!(
            settings,
            demo_settings(&Snapshot(seed_json(&seed))).unwrap()
        );

        let secrets = SecretsManagerCredentials::new(
            aws_sdk_secretsmanager::Client::new(&aws),
            config.secret_prefix.clone(),
            Duration::ZERO,
        );
        let stored = secrets.credentials(&config.integration_id).await.unwrap();
        assert_eq!(stored.timetrack_account, "acme");
        assert_eq!(stored.personio_client_id, SIM_PERSONIO_CLIENT_ID);

        let schedules = EventBridgeScheduler::new(aws_sdk_scheduler::Client::new(&aws), targets);
        let absences = schedules
            .get_workflow_schedule(&config.integration_id, Workflow::Absences)
            .await
            .unwrap();
        assert_eq!(absences.expression, "rate(1 hour)");
        assert!(absences.enabled);
    }

    /// The webhook queues are FIFO with a redrive to a FIFO dead-letter queue, as in the template, and
    /// their URLs land in the env file the functions and the api read; a second setup keeps them.
    #[tokio::test]
    async fn webhook_queues_are_fifo_with_dead_letter_queues_and_can_be_created_twice() {
        use aws_sdk_sqs::types::QueueAttributeName;
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
            "needs moto_server: run via `make test` or `scripts/with-moto.sh cargo nextest run -p demo`"
        );
        let suffix = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let config = DemoConfig {
            integration_id: IntegrationId::new(format!("demo-{suffix}")).unwrap(),
            table_name: format!("demo-{suffix}"),
            secret_prefix: format!("demo-test-{suffix}"),
            schedule_group: format!("demo-{suffix}"),
            personio_sim_url: "http://127.0.0.1:9".into(),
            timetrack_sim_url: "http://127.0.0.1:9".into(),
        };
        let dir = std::env::temp_dir().join(format!("demo-queues-{suffix}"));
        std::fs::create_dir_all(&dir).unwrap();
        let env_file = dir.join("queues.env");
        webhook_queues(&config, &env_file).await.unwrap();
        let first = std::fs::read_to_string(&env_file).unwrap();
        webhook_queues(&config, &env_file).await.unwrap();
        assert_eq!(std::fs::read_to_string(&env_file).unwrap(), first);

        let urls: std::collections::BTreeMap<&str, &str> =
            first.lines().filter_map(|l| l.split_once('=')).collect();
        assert_eq!(
            urls.keys().copied().collect::<Vec<_>>(),
            [
                "ABSENCES_QUEUE_URL",
                "EMPLOYEES_QUEUE_URL",
                "TIME_ENTRIES_QUEUE_URL"
            ]
        );
        let sqs = aws_sdk_sqs::Client::new(&shared::aws::load_aws_config().await);
        for url in urls.values() {
            assert!(url.ends_with("-webhooks.fifo"), "{url}");
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(*url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes()
                .cloned()
                .unwrap();
            assert_eq!(attributes[&QueueAttributeName::FifoQueue], "true");
            assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "960");
            let redrive: Value =
                serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
            assert!(redrive["deadLetterTargetArn"]
                .as_str()
                .unwrap()
                .ends_with("-webhooks-dlq.fifo"));
            assert_eq!(redrive["maxReceiveCount"].to_string(), "5");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn seed_json(seed: &Seed) -> Value {
        serde_json::from_str(&seed.to_json_pretty()).unwrap()
    }
}
