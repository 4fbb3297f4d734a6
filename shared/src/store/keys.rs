//! Orderings and encodings both store adapters share, so that they sort, page and expire identically.
//!
//! - Run records sort by a *run sort key* `<started_at, fixed width>#<run_id>`: fixed width makes the
//!   lexicographic order (DynamoDB's sort-key order) equal to the chronological order.
//! - Paging cursors are the hex encoding of the last returned run sort key: opaque to callers, URL-safe,
//!   and enough to resume a DynamoDB Query (`ExclusiveStartKey`) or a `BTreeMap` range.
//! - Lease expiry is compared in whole milliseconds, so both adapters agree to the millisecond.
use std::time::Duration;

use jiff::Timestamp;

use super::StoreError;
use crate::runs::RunRecord;

/// A new run id: time-ordered, sortable as a string, and unique enough for concurrent starts
/// (`20261127T223000123Z-1a2b3c4d`: UTC millisecond timestamp, then 32 random bits).
///
/// Run ids need not have this shape for the stores to work (they order by `started_at`), but ids of this
/// shape read well in logs and URLs and sort like the runs they name.
pub fn new_run_id(now: Timestamp) -> String {
    let millis = now.subsec_nanosecond().max(0) / 1_000_000;
    format!(
        "{}{:03}Z-{:08x}",
        now.strftime("%Y%m%dT%H%M%S"),
        millis,
        rand::random::<u32>()
    )
}

/// `2026-11-27T22:30:00.123456789Z`: RFC 3339 in UTC with exactly nine fraction digits, so that string
/// order is time order (for years 0000–9999, i.e. every timestamp this product will see).
pub(crate) fn sortable_timestamp(ts: Timestamp) -> String {
    format!(
        "{}.{:09}Z",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_nanosecond().max(0)
    )
}

/// The key runs are ordered by: newest first means descending order of this string.
pub(crate) fn run_sort_key(run: &RunRecord) -> String {
    format!("{}#{}", sortable_timestamp(run.started_at), run.run_id)
}

/// The key audit records are ordered by, like runs: `<at, fixed width>#<audit_id>`.
pub(crate) fn audit_sort_key(record: &crate::audit::AuditRecord) -> String {
    format!("{}#{}", sortable_timestamp(record.at), record.audit_id)
}

pub(crate) fn encode_cursor(run_sort_key: &str) -> String {
    hex::encode(run_sort_key.as_bytes())
}

/// A cursor that is not one this store handed out is reported as `Corrupt` with key `cursor`.
pub(crate) fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let invalid = |reason: &str| StoreError::Corrupt {
        key: "cursor".to_string(),
        reason: reason.to_string(),
    };
    let bytes = hex::decode(cursor).map_err(|_| invalid("not a cursor issued by this store"))?;
    String::from_utf8(bytes).map_err(|_| invalid("not a cursor issued by this store"))
}

/// Lease expiry in epoch milliseconds: `now + ttl`, saturating instead of overflowing.
pub(crate) fn lease_expiry_ms(now: Timestamp, ttl: Duration) -> i64 {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    now.as_millisecond().saturating_add(ttl_ms)
}

/// Converts epoch milliseconds back to a timestamp, clamping to jiff's supported range.
pub(crate) fn timestamp_from_ms(ms: i64) -> Timestamp {
    let bound = if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    };
    Timestamp::from_millisecond(ms).unwrap_or(bound)
}

/// A lease with expiry `expires_at_ms` is still held at `now` (held through its expiry instant inclusive;
/// the DynamoDB condition is `expires_at_ms < :now` for "expired").
#[cfg(any(test, feature = "testkit"))]
pub(crate) fn lease_is_live(expires_at_ms: i64, now: Timestamp) -> bool {
    expires_at_ms >= now.as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_timestamps_sort_like_time() {
        let a: Timestamp = "2026-03-29T00:59:59.9Z".parse().unwrap();
        let b: Timestamp = "2026-03-29T01:00:00Z".parse().unwrap();
        let c: Timestamp = "2026-03-29T01:00:00.000000001Z".parse().unwrap();
        let (sa, sb, sc) = (
            sortable_timestamp(a),
            sortable_timestamp(b),
            sortable_timestamp(c),
        );
        assert_eq!(sb, "2026-03-29T01:00:00.000000000Z");
        assert!(sa < sb && sb < sc);
        assert_eq!(sc.parse::<Timestamp>().unwrap(), c);
    }

    #[test]
    fn run_ids_are_time_ordered_and_distinct() {
        let t1: Timestamp = "2026-11-27T22:30:00.123Z".parse().unwrap();
        let t2: Timestamp = "2026-11-27T22:30:00.124Z".parse().unwrap();
        let id1 = new_run_id(t1);
        assert!(id1.starts_with("20261127T223000123Z-"), "{id1}");
        assert_eq!(id1.len(), "20261127T223000123Z-".len() + 8);
        assert!(id1 < new_run_id(t2));
        let many: std::collections::HashSet<String> = (0..200).map(|_| new_run_id(t1)).collect();
        assert!(many.len() > 190, "random suffix should make ids distinct");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let key = "2026-01-01T00:00:00.000000000Z#run-1";
        assert_eq!(decode_cursor(&encode_cursor(key)).unwrap(), key);
        assert!(matches!(
            decode_cursor("zz-not-hex"),
            Err(StoreError::Corrupt { ref key, .. }) if key == "cursor"
        ));
    }

    #[test]
    fn lease_expiry_is_inclusive_and_saturates() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let exp = lease_expiry_ms(now, Duration::from_secs(60));
        assert!(lease_is_live(exp, now));
        assert!(lease_is_live(exp, timestamp_from_ms(exp)));
        assert!(!lease_is_live(exp, timestamp_from_ms(exp + 1)));
        assert_eq!(lease_expiry_ms(now, Duration::MAX), i64::MAX);
        assert_eq!(timestamp_from_ms(i64::MAX), Timestamp::MAX);
    }
}
