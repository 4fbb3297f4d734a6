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
