//! Strategies shared by the payload proptests of both clients (`personio/props.rs`,
//! `timetrack/props.rs`): arbitrary JSON values, and mutations of a real record — a field removed, a
//! field's value replaced by an arbitrary one, a field added.
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Strings that look like what the APIs send, and some that only almost do.
fn wire_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        Just(String::new()),
        Just("2025-03-03T08:00:00".to_string()),
        Just("2025-03-03T08:00:00.000Z".to_string()),
        Just("2025-02-30T25:61:00".to_string()),
        Just("9999-12-31T23:59:59".to_string()),
        Just("-0001-01-01".to_string()),
        Just("2025-03-03".to_string()),
        Just("WORK".to_string()),
        Just("BREAK".to_string()),
        Just("FIRST_HALF".to_string()),
        Just("CONFIRMED".to_string()),
        Just("1e400".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("48.137".to_string()),
    ]
}

/// Any JSON value, a few levels deep, with wire-like keys and strings.
pub(crate) fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        wire_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "_data",
            "data",
            "_meta",
            "links",
            "next",
            "href",
            "person",
            "type",
            "start",
            "end",
            "date_time",
            "user",
            "from",
            "to",
            "email",
            "status",
            "approval",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,10}",
    ]
}

/// One mutation of a record.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Remove(prop::sample::Index),
    Replace(prop::sample::Index, Value),
    Add(String, Value),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Remove),
        (any::<prop::sample::Index>(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (key(), any_json()).prop_map(|(k, v)| Mutation::Add(k, v)),
    ]
}

/// `record` with `mutations` applied to its top-level fields.
pub(crate) fn mutate(record: &Value, mutations: &[Mutation]) -> Value {
    let mut out = record.clone();
    if let Value::Object(map) = &mut out {
        for m in mutations {
            let keys: Vec<String> = map.keys().cloned().collect();
            match m {
                Mutation::Remove(i) if !keys.is_empty() => {
                    map.remove(&keys[i.index(keys.len())]);
                }
                Mutation::Replace(i, v) if !keys.is_empty() => {
                    map.insert(keys[i.index(keys.len())].clone(), v.clone());
                }
                Mutation::Add(k, v) => {
                    map.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    out
}
