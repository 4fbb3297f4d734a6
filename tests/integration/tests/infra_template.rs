//! Structural checks of `infra/template.yaml` that cfn-lint cannot make: every workflow has its schedule,
//! every manual-sync route is served by its own workflow's function, and no IAM statement grants `*`
//! resources where a scoped resource exists for that service.
use std::collections::BTreeMap;

use serde_yaml::Value;

const WORKFLOWS: [(&str, &str); 3] = [
    ("employees", "EmployeesFunction"),
    ("time-entries", "TimeEntriesFunction"),
    ("absences", "AbsencesFunction"),
];

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml");
    let text = std::fs::read_to_string(path).expect("infra/template.yaml is readable");
    serde_yaml::from_str(&text).expect("infra/template.yaml is valid YAML")
}

fn resources(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.clone()))
        .collect()
}

/// `!GetAtt X.Arn` / `!Ref X` → "X" (serde_yaml keeps CloudFormation short forms as tagged values).
fn referenced_resource(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) => {
            let inner = t.value.as_str()?;
            Some(inner.split('.').next().unwrap_or(inner).to_string())
        }
        Value::Mapping(m) => {
            if let Some(r) = m.get(Value::from("Ref")) {
                return r.as_str().map(str::to_string);
            }
            let ga = m.get(Value::from("Fn::GetAtt"))?;
            match ga {
                Value::Sequence(s) => s.first()?.as_str().map(str::to_string),
                Value::String(s) => s.split('.').next().map(str::to_string),
                _ => None,
            }
        }
        _ => None,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Tagged(t) => text_of(&t.value),
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default(),
    }
}

#[test]
fn every_workflow_has_a_schedule_targeting_its_function_with_retries_and_a_dead_letter_queue() {
    let t = template();
    let res = resources(&t);
    for (workflow, function) in WORKFLOWS {
        let schedule = res
            .values()
            .filter(|r| r["Type"] == *"AWS::Scheduler::Schedule")
            .find(|r| {
                referenced_resource(&r["Properties"]["Target"]["Arn"]).as_deref() == Some(function)
            })
            .unwrap_or_else(|| panic!("no schedule targets {function} ({workflow})"));
        let props = &schedule["Properties"];
        let target = &props["Target"];
        let input = text_of(&target["Input"]);
        assert!(
            input.contains("\"trigger\": \"schedule\""),
            "{workflow}: input {input}"
        );
        assert!(
            input.contains("\"integration_id\""),
            "{workflow}: input {input}"
        );
        assert!(
            target["RetryPolicy"]["MaximumRetryAttempts"]
                .as_u64()
                .unwrap_or(0)
                > 0
        );
        assert!(
            !target["DeadLetterConfig"]["Arn"].is_null(),
            "{workflow}: no DLQ"
        );
        // The interval is a template parameter: edited in infrastructure code, not hard-coded.
        let expr = referenced_resource(&props["ScheduleExpression"]).expect("expression is a !Ref");
        assert!(
            t["Parameters"][expr.as_str()].is_mapping(),
            "{workflow}: {expr} is a parameter"
        );
    }
}

#[test]
fn every_manual_sync_route_is_served_by_its_workflows_function() {
    let res = resources(&template());
    for (workflow, function) in WORKFLOWS {
        let path = format!("/integrations/{{integration_id}}/sync/{workflow}");
        let owners: Vec<&String> = res
            .iter()
            .filter(|(_, r)| r["Type"] == *"AWS::Serverless::Function")
            .filter(|(_, r)| {
                r["Properties"]["Events"]
                    .as_mapping()
                    .map(|events| {
                        events.values().any(|e| {
                            e["Type"] == *"HttpApi"
                                && e["Properties"]["Path"] == *path.as_str()
                                && e["Properties"]["Method"] == *"POST"
                        })
                    })
                    .unwrap_or(false)
            })
            .map(|(name, _)| name)
            .collect();
        assert_eq!(owners, vec![function], "route POST {path}");
    }
}

#[test]
fn the_http_api_requires_iam_authorization() {
    let res = resources(&template());
    let api = res
        .values()
        .find(|r| r["Type"] == *"AWS::Serverless::HttpApi")
        .expect("an HTTP API");
    assert_eq!(
        api["Properties"]["Auth"]["DefaultAuthorizer"],
        Value::from("AWS_IAM")
    );
}

#[test]
fn no_policy_statement_uses_a_wildcard_resource() {
    let res = resources(&template());
    let mut statements = Vec::new();
    for (name, r) in &res {
        let props = &r["Properties"];
        if let Some(policies) = props["Policies"].as_sequence() {
            for p in policies {
                // SAM inline statements, or IAM role policies with a PolicyDocument.
                let list = if p["Statement"].is_sequence() {
                    p["Statement"].clone()
                } else {
                    p["PolicyDocument"]["Statement"].clone()
                };
                for s in list.as_sequence().into_iter().flatten() {
                    statements.push((name.clone(), s.clone()));
                }
            }
        }
    }
    assert!(
        statements.len() >= 10,
        "expected the functions' and the scheduler role's statements"
    );
    for (owner, s) in statements {
        let resources = match &s["Resource"] {
            Value::Sequence(items) => items.clone(),
            other => vec![other.clone()],
        };
        for r in resources {
            let text = text_of(&r);
            assert!(
                text != "*" && !text.ends_with(":*"),
                "{owner}: wildcard resource in {s:?}"
            );
        }
    }
}

#[test]
fn the_table_is_protected_and_expires_run_records() {
    let res = resources(&template());
    let table = res
        .values()
        .find(|r| r["Type"] == *"AWS::DynamoDB::Table")
        .expect("a table");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], Value::from("PAY_PER_REQUEST"));
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"],
        Value::from("expires_at")
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["DeletionProtectionEnabled"], true);
}

/// The statements of every `Policies` entry of `resource` (SAM inline statements or IAM role policies).
fn policy_statements(resource: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for p in resource["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        let list = if p["Statement"].is_sequence() {
            &p["Statement"]
        } else {
            &p["PolicyDocument"]["Statement"]
        };
        out.extend(list.as_sequence().into_iter().flatten().cloned());
    }
    out
}

/// `Action` of a statement as a list of strings.
fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::Sequence(items) => items.iter().map(text_of).collect(),
        other => vec![text_of(other)],
    }
}

#[test]
fn alarms_can_publish_the_topic_key_is_customer_managed_and_admits_cloudwatch() {
    let res = resources(&template());
    let topics: Vec<&Value> = res
        .values()
        .filter(|r| r["Type"] == *"AWS::SNS::Topic")
        .collect();
    assert!(!topics.is_empty(), "an alarm topic");
    for topic in topics {
        let key_ref = &topic["Properties"]["KmsMasterKeyId"];
        // The AWS-managed alias/aws/sns key's policy cannot admit CloudWatch: alarms would stay silent.
        assert!(
            !text_of(key_ref).starts_with("alias/aws/"),
            "topic encrypted with an AWS-managed key: {key_ref:?}"
        );
        let key_name = referenced_resource(key_ref)
            .unwrap_or_else(|| panic!("topic key is not a key of this template: {key_ref:?}"));
        let key = &res[&key_name];
        assert_eq!(key["Type"], Value::from("AWS::KMS::Key"), "{key_name}");
        assert_eq!(key["Properties"]["EnableKeyRotation"], true, "{key_name}");
        let statements = key["Properties"]["KeyPolicy"]["Statement"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        let cloudwatch = statements
            .iter()
            .find(|s| {
                s["Effect"] == *"Allow"
                    && text_of(&s["Principal"]["Service"]) == "cloudwatch.amazonaws.com"
            })
            .expect("the key policy admits cloudwatch.amazonaws.com");
        let granted = actions(cloudwatch);
        for needed in ["kms:Decrypt", "kms:GenerateDataKey*"] {
            assert!(
                granted.iter().any(|a| a == needed),
                "{needed} in {granted:?}"
            );
        }
    }
    // Every alarm notifies the topic.
    for (name, alarm) in res
        .iter()
        .filter(|(_, r)| r["Type"] == *"AWS::CloudWatch::Alarm")
    {
        let actions = alarm["Properties"]["AlarmActions"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        assert!(
            actions.iter().any(|a| {
                referenced_resource(a)
                    .and_then(|r| res.get(&r).cloned())
                    .is_some_and(|r| r["Type"] == *"AWS::SNS::Topic")
            }),
            "{name} notifies no topic"
        );
    }
}

#[test]
fn failed_workflow_invocations_are_not_retried_and_land_in_an_alarmed_queue() {
    let res = resources(&template());
    for (workflow, function) in WORKFLOWS {
        let config = &res[function]["Properties"]["EventInvokeConfig"];
        // docs/adr/0018: no Lambda retries; the next scheduled run is the retry.
        assert_eq!(
            config["MaximumRetryAttempts"].as_u64(),
            Some(0),
            "{workflow}: retries"
        );
        let on_failure = &config["DestinationConfig"]["OnFailure"];
        assert_eq!(on_failure["Type"], Value::from("SQS"), "{workflow}");
        let queue = referenced_resource(&on_failure["Destination"])
            .unwrap_or_else(|| panic!("{workflow}: destination is not a queue of this template"));
        assert_eq!(res[&queue]["Type"], Value::from("AWS::SQS::Queue"));
        let alarmed = res.values().any(|r| {
            r["Type"] == *"AWS::CloudWatch::Alarm"
                && r["Properties"]["MetricName"] == *"ApproximateNumberOfMessagesVisible"
                && r["Properties"]["Dimensions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|d| referenced_resource(&d["Value"]).as_deref() == Some(queue.as_str()))
                && r["Properties"]["AlarmActions"].is_sequence()
        });
        assert!(alarmed, "{workflow}: no alarm on the depth of {queue}");
    }
}

#[test]
fn secrets_queues_log_groups_and_the_table_survive_stack_deletion_and_replacement() {
    let res = resources(&template());
    let stateful = [
        "AWS::SecretsManager::Secret",
        "AWS::SQS::Queue",
        "AWS::Logs::LogGroup",
        "AWS::DynamoDB::Table",
    ];
    let mut seen = 0;
    for (name, r) in &res {
        if stateful.iter().any(|t| r["Type"] == **t) {
            seen += 1;
            assert_eq!(r["DeletionPolicy"], Value::from("Retain"), "{name}");
            assert_eq!(r["UpdateReplacePolicy"], Value::from("Retain"), "{name}");
        }
    }
    // secret, two queues, five log groups, the table
    assert!(seen >= 9, "only {seen} stateful resources found");
}

#[test]
fn functions_get_only_the_actions_they_use_and_pass_role_only_to_the_scheduler() {
    let res = resources(&template());
    for (name, r) in res
        .iter()
        .filter(|(_, r)| r["Type"] == *"AWS::Serverless::Function")
    {
        let policies = r["Properties"]["Policies"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        assert!(
            policies
                .iter()
                .all(|p| p.get("DynamoDBCrudPolicy").is_none()),
            "{name}: DynamoDBCrudPolicy grants Scan, batch writes and more than the store uses"
        );
        let statements = policy_statements(r);
        let granted: Vec<String> = statements.iter().flat_map(actions).collect();
        for action in &granted {
            assert!(!action.ends_with('*'), "{name}: wildcard action {action}");
            assert!(
                !matches!(
                    action.as_str(),
                    "dynamodb:Scan"
                        | "dynamodb:BatchWriteItem"
                        | "dynamodb:BatchGetItem"
                        | "secretsmanager:DeleteSecret"
                        | "scheduler:DeleteSchedule"
                ),
                "{name}: {action} is not used by any function"
            );
        }
        let workflow_function = WORKFLOWS.iter().any(|(_, f)| f == name);
        if workflow_function {
            // Workflows read credentials; only the API writes them.
            assert!(
                granted
                    .iter()
                    .filter(|a| a.starts_with("secretsmanager:"))
                    .all(|a| a == "secretsmanager:GetSecretValue"),
                "{name}: {granted:?}"
            );
        }
        for s in statements
            .iter()
            .filter(|s| actions(s).iter().any(|a| a == "iam:PassRole"))
        {
            assert_eq!(
                text_of(&s["Condition"]["StringEquals"]["iam:PassedToService"]),
                "scheduler.amazonaws.com",
                "{name}: iam:PassRole without an iam:PassedToService condition"
            );
        }
    }
}

#[test]
fn the_http_api_logs_every_request_with_its_caller_and_is_throttled() {
    let res = resources(&template());
    let api = res
        .values()
        .find(|r| r["Type"] == *"AWS::Serverless::HttpApi")
        .expect("an HTTP API");
    let logs = &api["Properties"]["AccessLogSettings"];
    let group = referenced_resource(&logs["DestinationArn"]).expect("an access log destination");
    assert_eq!(res[&group]["Type"], Value::from("AWS::Logs::LogGroup"));
    let format = text_of(&logs["Format"]);
    for field in [
        "$context.identity.userArn",
        "$context.routeKey",
        "$context.status",
    ] {
        assert!(format.contains(field), "access log lacks {field}: {format}");
    }
    let route = &api["Properties"]["DefaultRouteSettings"];
    assert!(!route["ThrottlingRateLimit"].is_null(), "no rate limit");
    assert!(!route["ThrottlingBurstLimit"].is_null(), "no burst limit");
}

#[test]
fn every_function_has_a_concurrency_cap() {
    let res = resources(&template());
    for (name, r) in res
        .iter()
        .filter(|(_, r)| r["Type"] == *"AWS::Serverless::Function")
    {
        assert!(
            !r["Properties"]["ReservedConcurrentExecutions"].is_null(),
            "{name}: no reserved concurrency"
        );
    }
}

#[test]
fn every_skipped_checkov_check_gives_its_reason() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/checkov.yaml");
    let text = std::fs::read_to_string(path).expect("infra/checkov.yaml is readable");
    let config: Value = serde_yaml::from_str(&text).expect("valid YAML");
    let skipped = config["skip-check"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    assert!(!skipped.is_empty());
    let lines: Vec<&str> = text.lines().collect();
    for check in skipped {
        let id = check.as_str().expect("a check id");
        let at = lines
            .iter()
            .position(|l| l.trim() == format!("- {id}"))
            .unwrap_or_else(|| panic!("{id} is not on a line of its own"));
        // The reason is the comment block right above the entry.
        let reason = at
            .checked_sub(1)
            .map(|i| lines[i].trim())
            .unwrap_or_default();
        assert!(
            reason.starts_with('#') && reason.len() > 20,
            "{id}: no reason above it"
        );
    }
}

/// The resources whose statements grant `action` on `resource` (by logical id).
fn granted_on(r: &Value, action: &str) -> Vec<String> {
    policy_statements(r)
        .iter()
        .filter(|s| actions(s).iter().any(|a| a == action))
        .flat_map(|s| match &s["Resource"] {
            Value::Sequence(items) => items.iter().filter_map(referenced_resource).collect(),
            other => referenced_resource(other).into_iter().collect::<Vec<_>>(),
        })
        .collect()
}

const WEBHOOK_QUEUES: [(&str, &str, &str); 3] = [
    ("employees", "EmployeesFunction", "EmployeesWebhookQueue"),
    (
        "time-entries",
        "TimeEntriesFunction",
        "TimeEntriesWebhookQueue",
    ),
    ("absences", "AbsencesFunction", "AbsencesWebhookQueue"),
];

#[test]
fn every_workflow_consumes_its_own_fifo_webhook_queue_with_a_dead_letter_queue_and_partial_failures(
) {
    let res = resources(&template());
    for (workflow, function, queue) in WEBHOOK_QUEUES {
        let q = &res[queue]["Properties"];
        assert_eq!(q["FifoQueue"], Value::from(true), "{workflow}");
        assert_eq!(
            q["ContentBasedDeduplication"],
            Value::from(false),
            "{workflow}: dedup by event id"
        );
        assert_eq!(
            q["SqsManagedSseEnabled"],
            Value::from(true),
            "{workflow}: encrypted"
        );
        assert!(
            q["VisibilityTimeout"].as_u64().unwrap_or(0)
                >= res[function]["Properties"]["Timeout"]
                    .as_u64()
                    .unwrap_or(u64::MAX),
            "{workflow}: the visibility timeout is at least the function's timeout"
        );
        let dlq = referenced_resource(&q["RedrivePolicy"]["deadLetterTargetArn"])
            .unwrap_or_else(|| panic!("{workflow}: no dead-letter queue"));
        assert_eq!(res[&dlq]["Properties"]["FifoQueue"], Value::from(true));
        assert!(!q["RedrivePolicy"]["maxReceiveCount"].is_null());
        let alarmed = res.values().any(|r| {
            r["Type"] == *"AWS::CloudWatch::Alarm"
                && r["Properties"]["MetricName"] == *"ApproximateNumberOfMessagesVisible"
                && r["Properties"]["Dimensions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|d| referenced_resource(&d["Value"]).as_deref() == Some(dlq.as_str()))
        });
        assert!(alarmed, "{workflow}: no alarm on the depth of {dlq}");

        let events = res[function]["Properties"]["Events"].as_mapping().unwrap();
        let sqs: Vec<&Value> = events.values().filter(|e| e["Type"] == *"SQS").collect();
        assert_eq!(sqs.len(), 1, "{workflow}: one event source mapping");
        assert_eq!(
            referenced_resource(&sqs[0]["Properties"]["Queue"]).as_deref(),
            Some(queue),
            "{workflow}: its own queue"
        );
        assert_eq!(
            sqs[0]["Properties"]["FunctionResponseTypes"],
            serde_yaml::from_str::<Value>("[ReportBatchItemFailures]").unwrap()
        );
        // Least privilege: receive and delete on its own queue only.
        for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage"] {
            assert_eq!(
                granted_on(&res[function], action),
                [queue],
                "{workflow}: {action}"
            );
        }
        assert_eq!(
            text_of(
                &res[function]["Properties"]["Environment"]["Variables"][match workflow {
                    "employees" => "EMPLOYEES_QUEUE_URL",
                    "time-entries" => "TIME_ENTRIES_QUEUE_URL",
                    _ => "ABSENCES_QUEUE_URL",
                }]
            ),
            queue
        );
    }
}

#[test]
fn the_webhook_receiver_route_has_no_iam_authorizer_and_the_api_only_sends_to_the_webhook_queues() {
    let res = resources(&template());
    let api = &res["ApiFunction"]["Properties"];
    let receiver = api["Events"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|e| e["Properties"]["Path"] == *"/integrations/{integration_id}/webhooks/personio")
        .expect("the receiver route is declared");
    assert_eq!(receiver["Properties"]["Method"], Value::from("POST"));
    assert_eq!(
        receiver["Properties"]["Auth"]["Authorizer"],
        Value::from("NONE"),
        "Personio cannot sign requests"
    );
    let mut sent: Vec<String> = granted_on(&res["ApiFunction"], "sqs:SendMessage");
    sent.sort();
    let mut queues: Vec<String> = WEBHOOK_QUEUES
        .iter()
        .map(|(_, _, q)| q.to_string())
        .collect();
    queues.sort();
    assert_eq!(sent, queues);
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage"] {
        assert!(
            granted_on(&res["ApiFunction"], action).is_empty(),
            "api: {action}"
        );
    }
    // No other route lost its IAM authorizer.
    for (name, r) in res
        .iter()
        .filter(|(_, r)| r["Type"] == *"AWS::Serverless::Function")
    {
        for e in r["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(_, e)| e)
        {
            let path = text_of(&e["Properties"]["Path"]);
            if e["Properties"]["Auth"]["Authorizer"] == *"NONE" {
                assert!(
                    path.starts_with("/console") || path.ends_with("/webhooks/personio"),
                    "{name}: {path} without IAM auth"
                );
            }
        }
    }
}

#[test]
fn webhook_replays_are_scheduled_and_window_runs_default_to_a_daily_drift_check() {
    let t = template();
    let res = resources(&t);
    for (workflow, function, _) in WEBHOOK_QUEUES {
        let replay = res
            .values()
            .filter(|r| r["Type"] == *"AWS::Scheduler::Schedule")
            .find(|r| {
                referenced_resource(&r["Properties"]["Target"]["Arn"]).as_deref() == Some(function)
                    && text_of(&r["Properties"]["Target"]["Input"]).contains("webhook-replay")
            })
            .unwrap_or_else(|| panic!("{workflow}: no webhook replay schedule"));
        assert!(!replay["Properties"]["Target"]["DeadLetterConfig"]["Arn"].is_null());
    }
    for p in [
        "EmployeesScheduleExpression",
        "TimeEntriesScheduleExpression",
        "AbsencesScheduleExpression",
    ] {
        assert_eq!(
            t["Parameters"][p]["Default"],
            Value::from("rate(1 day)"),
            "{p}: webhooks carry Personio's changes; the window run is the daily drift check"
        );
    }
}
