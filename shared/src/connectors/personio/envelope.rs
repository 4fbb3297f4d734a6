//! Personio's response envelopes: the cursor-paged list (`_data` + `_meta.links.next.href`), the
//! single object (bare, or wrapped in `_data`), and the create answer (`id`, `_data.id` or `data.id`).
//!
//! The reference documents each of these in more than one shape across sources, so each reader accepts
//! every documented shape.
use std::collections::HashSet;

use serde::Deserialize;
use url::Url;

use crate::connectors::{lenient, rest};

/// One page of a list answer, records kept raw so each is parsed on its own.
#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    #[serde(
        rename = "_data",
        alias = "data",
        deserialize_with = "lenient::null_as_empty"
    )]
    pub data: Vec<serde_json::Value>,
    #[serde(rename = "_meta", alias = "meta", default)]
    meta: Option<Meta>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    links: Option<Links>,
}

#[derive(Debug, Default, Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<Link>,
}

#[derive(Debug, Default, Deserialize)]
struct Link {
    #[serde(default)]
    href: Option<String>,
}

impl Page {
    /// The `next` link, if there is another page (`next` absent, `null` or with an empty href: none).
    pub(crate) fn next_href(&self) -> Option<&str> {
        self.meta
            .as_ref()?
            .links
            .as_ref()?
            .next
            .as_ref()?
            .href
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
    }
}

/// Resolves a `next` href against the configured base URL.
///
/// Relative hrefs (`/v2/attendance-periods?cursor=…`, the old attendance form) are joined to the base.
/// Absolute hrefs keep their path and query but are re-homed onto the base URL's scheme, host and port:
/// the bearer token must only ever go to the configured host (a proxy, the simulator, or Personio), and
/// a base URL with a path prefix keeps its prefix.
pub(crate) fn resolve_next(base: &Url, href: &str) -> Result<Url, String> {
    let joined = base
        .join(href)
        .map_err(|e| format!("invalid next link {href:?}: {e}"))?;
    let prefix = base.path().trim_end_matches('/');
    let path = joined.path();
    let path = if prefix.is_empty() || path.starts_with(&format!("{prefix}/")) {
        path.to_string()
    } else {
        format!("{prefix}{path}")
    };
    let mut url = base.clone();
    url.set_path(&path);
    url.set_query(joined.query());
    url.set_fragment(None);
    Ok(url)
}

/// Remembers which pages were requested, by cursor, to detect a `next` link that loops.
#[derive(Debug, Default)]
pub(crate) struct SeenPages(HashSet<String>);

impl SeenPages {
    /// Records `url`; false when the same page (same cursor, or same URL without cursor) was seen before.
    pub(crate) fn first_visit(&mut self, url: &Url) -> bool {
        let key = url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| format!("cursor:{v}"))
            .unwrap_or_else(|| format!("url:{url}"));
        self.0.insert(key)
    }
}

/// A single-object answer: the bare object, or the object wrapped in `_data` / `data`.
pub(crate) fn unwrap_single(value: serde_json::Value) -> serde_json::Value {
    rest::unwrap_object(value, &["_data", "data"])
}

/// The id of a created resource: `id`, `_data.id` or `data.id` in the body (string or number), else the
/// last segment of a `Location` header.
pub(crate) fn created_id(body: &[u8], location: Option<&str>) -> Option<String> {
    let from_body = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let candidates = [
                v.get("id"),
                v.get("_data").and_then(|d| d.get("id")),
                v.get("data").and_then(|d| d.get("id")),
            ];
            candidates.into_iter().flatten().find_map(|id| match id {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        });
    from_body.or_else(|| rest::location_id(location).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:4010").unwrap()
    }

    #[test]
    fn relative_and_absolute_next_links_land_on_the_configured_host() {
        let rel = resolve_next(&base(), "/v2/attendance-periods?cursor=cur_Q2hh").unwrap();
        assert_eq!(
            rel.as_str(),
            "http://127.0.0.1:4010/v2/attendance-periods?cursor=cur_Q2hh"
        );
        let abs = resolve_next(
            &base(),
            "https://api.personio.de/v2/attendance-periods?cursor=cur_Q2hh",
        )
        .unwrap();
        assert_eq!(abs, rel);
        let prefixed = Url::parse("http://proxy.local/personio").unwrap();
        assert_eq!(
            resolve_next(&prefixed, "/v2/persons?cursor=a")
                .unwrap()
                .as_str(),
            "http://proxy.local/personio/v2/persons?cursor=a"
        );
        assert_eq!(
            resolve_next(&prefixed, "http://proxy.local/personio/v2/persons?cursor=a")
                .unwrap()
                .as_str(),
            "http://proxy.local/personio/v2/persons?cursor=a"
        );
    }

    #[test]
    fn reference_list_example_parses_with_its_next_link() {
        let body = r#"{"_data":[{"id":"a"},{"id":"b"}],
            "_meta":{"links":{"self":{"href":"https://api.personio.de/v2/persons?cursor=cur_x"},
                              "next":{"href":"https://api.personio.de/v2/persons?cursor=cur_y"}}}}"#;
        let page: Page = serde_json::from_str(body).unwrap();
        assert_eq!(page.data.len(), 2);
        assert_eq!(
            page.next_href(),
            Some("https://api.personio.de/v2/persons?cursor=cur_y")
        );
        for last in [
            r#"{"_data":[],"_meta":{"links":{"self":{"href":"x"}}}}"#,
            r#"{"data":[{"id":"a"}],"_meta":{"links":{"next":null}}}"#,
            r#"{"_data":[],"_meta":{"links":{"next":{"href":null}}}}"#,
            r#"{"_data":null}"#,
        ] {
            let page: Page = serde_json::from_str(last).unwrap();
            assert_eq!(page.next_href(), None, "{last}");
        }
        assert!(serde_json::from_str::<Page>(r#"{"items":[]}"#).is_err());
    }

    #[test]
    fn repeated_cursor_is_detected() {
        let mut seen = SeenPages::default();
        let first = Url::parse("http://h/v2/persons?limit=50").unwrap();
        let a = Url::parse("http://h/v2/persons?cursor=a").unwrap();
        let b = Url::parse("http://h/v2/persons?cursor=b&limit=50").unwrap();
        let a_again = Url::parse("http://h/v2/persons?limit=50&cursor=a").unwrap();
        assert!(seen.first_visit(&first));
        assert!(seen.first_visit(&a));
        assert!(seen.first_visit(&b));
        assert!(!seen.first_visit(&a_again));
    }

    #[test]
    fn single_objects_and_created_ids_accept_every_documented_shape() {
        let bare = serde_json::json!({"id": "7788", "first_name": "Lena"});
        assert_eq!(unwrap_single(bare.clone()), bare);
        assert_eq!(
            unwrap_single(serde_json::json!({"_data": bare.clone()})),
            bare
        );
        assert_eq!(
            unwrap_single(serde_json::json!({"data": bare.clone()})),
            bare
        );

        let id = |body: &str| created_id(body.as_bytes(), None);
        assert_eq!(id(r#"{"id":"c7e1","_meta":{}}"#).as_deref(), Some("c7e1"));
        assert_eq!(id(r#"{"_data":{"id":"c7e2"}}"#).as_deref(), Some("c7e2"));
        assert_eq!(id(r#"{"data":{"id":3003}}"#).as_deref(), Some("3003"));
        assert_eq!(id(r#"{"affected_periods":[]}"#), None);
        assert_eq!(
            created_id(b"", Some("https://api.personio.de/v2/persons/4242")).as_deref(),
            Some("4242")
        );
    }
}
