//! A registrar (RFC 3261 §10.3) for the SIP users of this server: bindings from a user name
//! to the contacts its softphones registered, each with an expiry on the caller's clock.
//! Authentication happens before: `register` receives a request already proven to be `user`'s.

use crate::message::{param, uri_of, Request};
use crate::transport::Peer;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Shorter registrations get 423 Interval Too Brief with this Min-Expires.
    pub min_expires: u32,
    /// Longer ones are shortened to this.
    pub max_expires: u32,
    /// For a Contact without any expiry.
    pub default_expires: u32,
    /// Contacts kept per user; the oldest goes when a new one comes.
    pub max_bindings: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_bindings: 10,
        }
    }
}

/// One registered contact of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI as registered (`sip:alice@10.0.0.5:5062;transport=tcp`).
    pub uri: String,
    /// Where the REGISTER came from: requests for the user go there, which also works when
    /// the phone is behind NAT and its Contact names a private address.
    pub source: Peer,
    pub expires_at: Instant,
    call_id: String,
    cseq: u32,
}

/// Why a REGISTER was refused: the status, reason and an extra header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
    pub header: Option<(&'static str, String)>,
}

fn refuse(status: u16, reason: &'static str) -> Refusal {
    Refusal {
        status,
        reason,
        header: None,
    }
}

#[derive(Debug, Default)]
pub struct Registrar {
    config: RegistrarConfig,
    bindings: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    pub fn new(config: RegistrarConfig) -> Self {
        Registrar {
            config,
            bindings: HashMap::new(),
        }
    }

    /// Applies a REGISTER of `user` that came from `source`. Returns the user's bindings
    /// afterwards as `(uri, seconds left)` for the 200 OK's Contact headers.
    pub fn register(
        &mut self,
        now: Instant,
        user: &str,
        req: &Request,
        source: Peer,
    ) -> Result<Vec<(String, u32)>, Refusal> {
        let header_expires = match req.headers.get("Expires") {
            Some(v) => Some(
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| refuse(400, "Bad Request (Expires)"))?,
            ),
            None => None,
        };
        let contacts = req.headers.get_all("Contact");
        let call_id = req.call_id().to_string();
        let cseq = req.cseq().map(|(n, _)| n).unwrap_or(0);
        if contacts.iter().any(|c| c.trim() == "*") {
            // §10.3 step 6: `*` only alone and only with Expires: 0.
            if contacts.len() != 1 || header_expires != Some(0) {
                return Err(refuse(400, "Bad Request (wildcard Contact)"));
            }
            self.bindings.remove(user);
            return Ok(Vec::new());
        }
        let mut wanted = Vec::new();
        for c in &contacts {
            let uri = uri_of(c).to_string();
            if !(uri.starts_with("sip:") || uri.starts_with("sips:")) {
                return Err(refuse(400, "Bad Request (Contact)"));
            }
            let expires = match param(c, "expires") {
                Some(e) => e
                    .parse::<u32>()
                    .map_err(|_| refuse(400, "Bad Request (expires)"))?,
                None => header_expires.unwrap_or(self.config.default_expires),
            };
            if expires != 0 && expires < self.config.min_expires {
                return Err(Refusal {
                    status: 423,
                    reason: "Interval Too Brief",
                    header: Some(("Min-Expires", self.config.min_expires.to_string())),
                });
            }
            wanted.push((uri, expires.min(self.config.max_expires)));
        }
        let list = self.bindings.entry(user.to_string()).or_default();
        for (uri, expires) in wanted {
            let existing = list.iter().position(|b| same_uri(&b.uri, &uri));
            if let Some(i) = existing {
                // §10.3 step 7: an older or repeated request of the same Call-ID changes nothing.
                if list[i].call_id == call_id && cseq <= list[i].cseq {
                    continue;
                }
                list.remove(i);
            }
            if expires == 0 {
                continue;
            }
            list.push(Binding {
                uri,
                source,
                expires_at: now + Duration::from_secs(expires as u64),
                call_id: call_id.clone(),
                cseq,
            });
            if list.len() > self.config.max_bindings {
                list.remove(0);
            }
        }
        let current = self.current(now, user);
        if current.is_empty() {
            self.bindings.remove(user);
        }
        Ok(current)
    }

    fn current(&self, now: Instant, user: &str) -> Vec<(String, u32)> {
        self.bindings
            .get(user)
            .map(|list| {
                list.iter()
                    .filter(|b| b.expires_at > now)
                    .map(|b| {
                        let left = b.expires_at.saturating_duration_since(now);
                        (b.uri.clone(), left.as_secs().max(1) as u32)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The most recently registered live contact of `user`.
    pub fn contact_for(&self, user: &str, now: Instant) -> Option<&Binding> {
        self.bindings
            .get(user)?
            .iter()
            .rev()
            .find(|b| b.expires_at > now)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.bindings.values().flatten().map(|b| b.expires_at).min()
    }

    /// Drops expired bindings; returns the users that lost their last one.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<String> {
        let mut gone = Vec::new();
        self.bindings.retain(|user, list| {
            list.retain(|b| b.expires_at > now);
            if list.is_empty() {
                gone.push(user.clone());
            }
            !list.is_empty()
        });
        gone
    }

    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.bindings.keys().map(String::as_str)
    }
}

/// Contact URIs compare without their parameters' case mattering much; exact match of the
/// part before parameters is what phones re-register with.
fn same_uri(a: &str, b: &str) -> bool {
    let base = |u: &str| u.split(';').next().unwrap_or(u).to_ascii_lowercase();
    base(a) == base(b)
}
