//! Play's audio files over HTTP with a disk cache that follows the origin's caching headers:
//! `Cache-Control: max-age` (or `Expires`) says how long a copy is fresh, `no-store` keeps it
//! off disk, `no-cache` revalidates every time, and a stale copy is revalidated with
//! `If-None-Match` / `If-Modified-Since` so an unchanged file is not downloaded again (304).
//! The freshness rules are pure functions of the headers and the time, tested below.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Freshness when the origin gives no rule and no Last-Modified: short, so an app that
/// changes a file at the same URL is heard within a minute.
const DEFAULT_FRESHNESS: Duration = Duration::from_secs(60);
/// The cap of the Last-Modified heuristic (RFC 9111 §4.2.2 suggests 10% of the age).
const MAX_HEURISTIC: Duration = Duration::from_secs(24 * 3600);

/// What the cache keeps about a copy, next to its body on disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedMeta {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    /// Unix seconds until which the copy is used without asking the origin.
    pub fresh_until: u64,
}

/// How a response may be cached, from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    NotStored,
    /// Kept, fresh for this long (zero: revalidate before each use).
    Stored(Duration),
}

/// A response header's value, by case-insensitive name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The caching rule of a response (RFC 9111 §5.2.2, §4.2.1 and the §4.2.2 heuristic).
pub fn storage_for(headers: &[(String, String)], now: SystemTime) -> Storage {
    let mut max_age = None;
    if let Some(cc) = header(headers, "cache-control") {
        for directive in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
            match directive.as_str() {
                "no-store" | "private" => return Storage::NotStored,
                "no-cache" => max_age = Some(0),
                d => {
                    if let Some(secs) = d.strip_prefix("max-age=") {
                        if let Ok(secs) = secs.trim_matches('"').parse::<u64>() {
                            max_age = Some(max_age.map_or(secs, |m: u64| m.min(secs)));
                        }
                    }
                }
            }
        }
    }
    if let Some(secs) = max_age {
        return Storage::Stored(Duration::from_secs(secs));
    }
    let date = |name| header(headers, name).and_then(|v| httpdate::parse_http_date(v).ok());
    if let Some(expires) = header(headers, "expires") {
        // An unparsable Expires means "already expired" (RFC 9111 §5.3).
        let until = httpdate::parse_http_date(expires).unwrap_or(UNIX_EPOCH);
        let base = date("date").unwrap_or(now);
        return Storage::Stored(until.duration_since(base).unwrap_or_default());
    }
    if let Some(modified) = date("last-modified") {
        let age = now.duration_since(modified).unwrap_or_default();
        return Storage::Stored((age / 10).min(MAX_HEURISTIC));
    }
    Storage::Stored(DEFAULT_FRESHNESS)
}

/// The request headers that revalidate a stale copy.
pub fn validators(meta: &CachedMeta) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if let Some(etag) = &meta.etag {
        v.push(("if-none-match", etag.clone()));
    }
    if let Some(modified) = &meta.last_modified {
        v.push(("if-modified-since", modified.clone()));
    }
    v
}

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The files of one URL's copy: `<dir>/<hash>.body` and `<dir>/<hash>.json`.
pub fn paths(dir: &Path, url: &str) -> (PathBuf, PathBuf) {
    let mut h = DefaultHasher::new();
    url.hash(&mut h);
    let stem = format!("{:016x}", h.finish());
    (
        dir.join(format!("{stem}.body")),
        dir.join(format!("{stem}.json")),
    )
}

/// The copy of `url` on disk, if there is one for exactly this URL.
pub fn load(dir: &Path, url: &str) -> Option<(CachedMeta, Vec<u8>)> {
    let (body, meta) = paths(dir, url);
    let meta: CachedMeta = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
    if meta.url != url {
        return None; // a hash collision: treat as absent
    }
    Some((meta, std::fs::read(body).ok()?))
}

/// Writes a copy: body first, then its metadata, each through a rename, so a crash leaves
/// either the old copy or the new one, never metadata describing a missing body.
pub fn save(dir: &Path, meta: &CachedMeta, body: Option<&[u8]>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (body_path, meta_path) = paths(dir, &meta.url);
    let write = |path: &Path, bytes: &[u8]| {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    };
    if let Some(body) = body {
        write(&body_path, body)?;
    }
    write(&meta_path, &serde_json::to_vec(meta).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn cache_control_decides_first() {
        let now = SystemTime::now();
        assert_eq!(
            storage_for(&h(&[("Cache-Control", "public, max-age=300")]), now),
            Storage::Stored(Duration::from_secs(300))
        );
        assert_eq!(
            storage_for(&h(&[("cache-control", "no-store")]), now),
            Storage::NotStored
        );
        assert_eq!(
            storage_for(
                &h(&[
                    ("cache-control", "no-cache"),
                    ("expires", "Wed, 21 Oct 2099 07:28:00 GMT")
                ]),
                now
            ),
            Storage::Stored(Duration::ZERO)
        );
    }

    #[test]
    fn expires_is_relative_to_the_origins_date() {
        let now = SystemTime::now();
        let headers = h(&[
            ("date", "Wed, 21 Oct 2026 07:28:00 GMT"),
            ("expires", "Wed, 21 Oct 2026 07:38:00 GMT"),
        ]);
        assert_eq!(
            storage_for(&headers, now),
            Storage::Stored(Duration::from_secs(600))
        );
        assert_eq!(
            storage_for(&h(&[("expires", "0")]), now),
            Storage::Stored(Duration::ZERO)
        );
    }

    #[test]
    fn last_modified_gives_a_tenth_of_the_age_capped_at_a_day() {
        let modified = httpdate::parse_http_date("Wed, 21 Oct 2026 00:00:00 GMT").unwrap();
        let headers = h(&[("last-modified", "Wed, 21 Oct 2026 00:00:00 GMT")]);
        assert_eq!(
            storage_for(&headers, modified + Duration::from_secs(1000)),
            Storage::Stored(Duration::from_secs(100))
        );
        assert_eq!(
            storage_for(
                &headers,
                modified + Duration::from_secs(10 * 24 * 3600 * 10)
            ),
            Storage::Stored(MAX_HEURISTIC)
        );
        assert_eq!(
            storage_for(&[], modified),
            Storage::Stored(DEFAULT_FRESHNESS)
        );
    }

    #[test]
    fn copies_round_trip_on_disk_and_validators_follow_them() {
        let dir = std::env::temp_dir().join(format!("flexvox-audio-cache-{}", std::process::id()));
        let meta = CachedMeta {
            url: "http://example.com/a.wav".into(),
            etag: Some("\"v1\"".into()),
            last_modified: Some("Wed, 21 Oct 2026 00:00:00 GMT".into()),
            content_type: Some("audio/wav".into()),
            fresh_until: 42,
        };
        save(&dir, &meta, Some(b"RIFF")).unwrap();
        let (loaded, body) = load(&dir, &meta.url).unwrap();
        assert_eq!(
            (loaded.clone(), body.as_slice()),
            (meta.clone(), &b"RIFF"[..])
        );
        assert!(load(&dir, "http://example.com/b.wav").is_none());
        assert_eq!(
            validators(&loaded),
            vec![
                ("if-none-match", "\"v1\"".to_string()),
                (
                    "if-modified-since",
                    "Wed, 21 Oct 2026 00:00:00 GMT".to_string()
                )
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
