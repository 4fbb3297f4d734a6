//! Fingerprints of canonical values: what a mapping remembers as "last synced".
//!
//! A fingerprint must be stable across runs, processes and releases, because it is persisted and
//! compared with values computed by later versions of the code. It is therefore defined on a
//! canonical byte encoding, not on Rust's `Hash`:
//!
//! 1. the value is serialised with serde into a JSON tree;
//! 2. the tree is written back out canonically: object keys sorted by their UTF-8 bytes, no whitespace,
//!    strings escaped the way `serde_json` escapes them, numbers as `serde_json` prints them;
//! 3. the bytes are hashed with SHA-256 and hex-encoded, prefixed with the version tag `v1:`.
//!
//! Changing any of these steps (or the canonical value's serde shape) changes every fingerprint, which
//! would make every mapped record look "changed on both sides": such a change needs a new version tag
//! and a migration that recomputes the stored fingerprints.
mod canonical;

use std::cell::RefCell;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The version tag every fingerprint of this scheme starts with.
pub const FINGERPRINT_VERSION: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("canonical value cannot be encoded for fingerprinting: {0}")]
pub struct FingerprintError(pub String);

thread_local! {
    /// The direct writer of this thread, reused: its buffers keep their capacity between values.
    static CANONICAL: RefCell<canonical::Canonical> = RefCell::new(canonical::Canonical::default());
}

/// `v1:<sha256 hex of the canonical JSON>` of `value`.
pub fn fingerprint<V: Serialize + ?Sized>(value: &V) -> Result<String, FingerprintError> {
    let direct = CANONICAL.with(|cell| {
        let mut writer = cell.try_borrow_mut().ok()?;
        writer.write(value).ok().map(Sha256::digest)
    });
    let digest = match direct {
        Some(digest) => digest,
        None => Sha256::digest(canonical_bytes_via_value(value)?),
    };
    // Hex into a stack buffer: `hex::encode` builds its `String` a `char` at a time, which was a
    // twentieth of the planner's CPU at 100,000 pairs (issue 16).
    let mut hex = [0u8; 64];
    hex::encode_to_slice(digest, &mut hex).map_err(|e| FingerprintError(e.to_string()))?;
    let hex = std::str::from_utf8(&hex).map_err(|e| FingerprintError(e.to_string()))?;
    let mut out = String::with_capacity(FINGERPRINT_VERSION.len() + 1 + hex.len());
    out.push_str(FINGERPRINT_VERSION);
    out.push(':');
    out.push_str(hex);
    Ok(out)
}

/// The canonical JSON text of `value` (sorted keys, no whitespace) that [`fingerprint`] hashes.
pub fn canonical_json<V: Serialize + ?Sized>(value: &V) -> Result<String, FingerprintError> {
    let direct = CANONICAL.with(|cell| {
        let mut writer = cell.try_borrow_mut().ok()?;
        writer.write(value).ok().map(<[u8]>::to_vec)
    });
    let bytes = match direct {
        Some(bytes) => bytes,
        None => canonical_bytes_via_value(value)?,
    };
    String::from_utf8(bytes).map_err(|e| FingerprintError(e.to_string()))
}

/// The canonical JSON bytes through a `serde_json::Value` tree: the definition of the scheme, and
/// what values the direct writer (`canonical.rs`, which must give the same bytes) leaves alone take.
fn canonical_bytes_via_value<V: Serialize + ?Sized>(
    value: &V,
) -> Result<Vec<u8>, FingerprintError> {
    let tree = serde_json::to_value(value).map_err(|e| FingerprintError(e.to_string()))?;
    let mut out = Vec::with_capacity(256);
    write_canonical(&tree, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), FingerprintError> {
    let encoding = |e: serde_json::Error| FingerprintError(e.to_string());
    match value {
        // Scalars: serde_json's compact form is already canonical (escaping, number format).
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            serde_json::to_writer(&mut *out, value).map_err(encoding)?
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted explicitly: serde_json's map order depends on its `preserve_order` feature,
            // which another crate in the build could switch on.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key.as_str()).map_err(encoding)?;
                out.push(b':');
                write_canonical(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::HashMap;

    #[derive(Serialize)]
    struct Sample {
        payload: &'static str,
        key: &'static str,
        minutes: i64,
        tags: Vec<&'static str>,
        note: Option<&'static str>,
    }

    fn sample() -> Sample {
        Sample {
            payload: "Jürgen \"Jo\" Weiß",
            key: "jo@example.com",
            minutes: 450,
            tags: vec!["b", "a"],
            note: None,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canonical_json(&sample()).unwrap(),
            r#"{"key":"jo@example.com","minutes":450,"note":null,"payload":"Jürgen \"Jo\" Weiß","tags":["b","a"]}"#
        );
    }

    /// Golden value: computed independently with
    /// `printf '%s' '<canonical json above>' | sha256sum`. If this test fails, stored mappings would all
    /// look changed: do not update the constant, version the scheme instead.
    #[test]
    fn fingerprint_is_stable_golden_value() {
        assert_eq!(
            fingerprint(&sample()).unwrap(),
            "v1:a00f95da07379ed4c6c9e477bcb216caf0eb05c21814a15110745c48c8d49baa"
        );
    }

    #[test]
    fn fingerprint_ignores_map_insertion_order_but_not_content() {
        let mut a = HashMap::new();
        let mut b = HashMap::new();
        for (k, v) in [("x", 1), ("y", 2), ("z", 3)] {
            a.insert(k, v);
        }
        for (k, v) in [("z", 3), ("x", 1), ("y", 2)] {
            b.insert(k, v);
        }
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        b.insert("y", 4);
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
    }

    /// The direct writer and the `Value` path (the scheme's definition) give the same bytes.
    fn assert_same_bytes<V: Serialize>(value: &V) {
        let via_value = canonical_bytes_via_value(value).map(String::from_utf8);
        let direct = canonical::Canonical::default()
            .write(value)
            .map(|b| String::from_utf8(b.to_vec()));
        match (direct, via_value) {
            (Ok(d), Ok(v)) => assert_eq!(d.unwrap(), v.unwrap()),
            // Left to the `Value` path: `fingerprint` then gives exactly its answer.
            (Err(_), _) => {}
            (Ok(d), Err(e)) => panic!("direct wrote {d:?} where the Value path failed: {e}"),
        }
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { z: bool, a: Option<i64> },
    }

    #[derive(Serialize)]
    struct Nested {
        zeta: Vec<Shape>,
        alpha: std::collections::BTreeMap<u32, &'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        mid: (char, f64, f64),
        inner: Sample,
        unit: (),
    }

    #[test]
    fn the_direct_writer_gives_the_bytes_of_the_value_path() {
        assert_same_bytes(&sample());
        assert_same_bytes(&Nested {
            zeta: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(-3, "t\u{1}\n".into()),
                Shape::Struct {
                    z: true,
                    a: Some(i64::MIN),
                },
            ],
            alpha: [(10, "ten"), (9, "nine"), (100, "")].into_iter().collect(),
            skipped: None,
            mid: ('\u{1F600}', 0.1, f64::NAN),
            inner: sample(),
            unit: (),
        });
        // What it leaves to the Value path (f32, u128, bytes, odd keys): same fingerprint either way.
        assert_same_bytes(&(1.5f32, u128::MAX, serde_bytes_like()));
        let mut bool_keys = HashMap::new();
        bool_keys.insert(true, 1);
        assert_same_bytes(&bool_keys);
        assert_eq!(
            fingerprint(&(0.1f32, 1u128)).unwrap(),
            format!(
                "v1:{}",
                hex::encode(Sha256::digest(
                    canonical_bytes_via_value(&(0.1f32, 1u128)).unwrap()
                ))
            )
        );
    }

    fn serde_bytes_like() -> Vec<u8> {
        vec![0, 255]
    }

    fn json_tree() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((".{0,6}", inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_tree_is_written_as_the_value_path_writes_it(tree in json_tree()) {
            assert_same_bytes(&tree);
        }
    }

    #[test]
    fn values_that_json_cannot_encode_are_an_error_not_a_panic() {
        let mut m = HashMap::new();
        m.insert((1, 2), "tuple keys are not JSON object keys");
        assert!(fingerprint(&m).is_err());
    }
}
