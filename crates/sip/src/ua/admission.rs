//! Who gets a call and who may register: the trunk allow list and SIP users' digest
//! credentials (403/407), overload (503), too brief a session timer (422), and REGISTER.
//!
//! Nonces are stateless: `age.signature`, where the signature hashes the seed with the age
//! (seconds since the first message this agent saw). A flood of unauthenticated requests
//! therefore costs no memory, and a nonce older than `NONCE_LIFETIME` is answered `stale`.

use super::dialog::SessionTimer;
use super::{UaEvent, UserAgent};
use crate::digest::{self, Algorithm};
use crate::message::{uri_of, uri_user, Request, Response};
use crate::policy::Admission;
use crate::transport::Peer;
use std::time::Instant;

const NONCE_LIFETIME_SECS: u64 = 300;
/// Seconds a client is asked to wait before trying again when we are full.
pub const RETRY_AFTER_SECS: u32 = 5;

enum Auth {
    /// Valid credentials of this user.
    User(String),
    /// Right password on an expired nonce: challenge again with `stale=true`.
    Stale,
    /// Missing or wrong.
    Denied,
}

impl UserAgent {
    fn nonce_age(&self, now: Instant) -> u64 {
        self.epoch
            .map(|e| now.saturating_duration_since(e).as_secs())
            .unwrap_or(0)
    }

    fn nonce_signature(&self, age: u64) -> String {
        let mut sig = Algorithm::Sha256.hash_hex(&format!("{}:{age}", self.config.seed));
        sig.truncate(24);
        sig
    }

    fn fresh_nonce(&self, now: Instant) -> String {
        let age = self.nonce_age(now);
        format!("{age:x}.{}", self.nonce_signature(age))
    }

    /// Whether we issued `nonce`, and if so whether it is still fresh.
    fn nonce_state(&self, nonce: &str, now: Instant) -> Option<bool> {
        let (age, sig) = nonce.split_once('.')?;
        let age = u64::from_str_radix(age, 16).ok()?;
        (sig == self.nonce_signature(age))
            .then(|| self.nonce_age(now).saturating_sub(age) <= NONCE_LIFETIME_SECS)
    }

    /// Checks the credentials in `header` against the configured SIP users.
    fn authenticate(&self, now: Instant, req: &Request, header: &str) -> Auth {
        let mut stale = false;
        for value in req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(header))
            .map(|(_, v)| v)
        {
            let Some(creds) = digest::parse_credentials(value) else {
                continue;
            };
            if creds.realm != self.config.realm {
                continue;
            }
            let Some(password) = self
                .config
                .users
                .iter()
                .find(|(name, _)| *name == creds.username)
                .map(|(_, p)| p)
            else {
                continue;
            };
            if !digest::verify(&creds, req.method.as_str(), password) {
                continue;
            }
            match self.nonce_state(&creds.nonce, now) {
                Some(true) => return Auth::User(creds.username),
                Some(false) => stale = true,
                None => {}
            }
        }
        if stale {
            Auth::Stale
        } else {
            Auth::Denied
        }
    }

    /// A 401/407 with one challenge per configured algorithm. Put MD5 first when offering
    /// both, although RFC 8760 §2.4 asks for preference order: clients that know SHA-256 pick
    /// the strongest anyway, while older ones (SIPp 3.6) only read the first challenge.
    fn challenge(
        &self,
        now: Instant,
        req: &Request,
        from: Peer,
        proxy: bool,
        stale: bool,
    ) -> Response {
        let (status, reason, header) = if proxy {
            (407, "Proxy Authentication Required", "Proxy-Authenticate")
        } else {
            (401, "Unauthorized", "WWW-Authenticate")
        };
        let mut resp = self.response_to(req, from, status, reason);
        let nonce = self.fresh_nonce(now);
        for &alg in &self.config.digest_algorithms {
            resp.headers.push(
                header,
                digest::challenge_value(&self.config.realm, &nonce, alg, stale),
            );
        }
        with_to_tag(resp, &self.stateless_tag(req))
    }

    /// A To tag for a stateless final response, the same for every retransmission.
    fn stateless_tag(&self, req: &Request) -> String {
        let mut tag = Algorithm::Md5.hash_hex(&format!(
            "{}:{}:{}",
            self.config.seed,
            req.call_id(),
            req.branch().unwrap_or("")
        ));
        tag.truncate(16);
        tag
    }

    /// Decides on a new INVITE. `Ok` carries its session timer; `Err` the refusal to send.
    pub(super) fn admit_invite(
        &mut self,
        now: Instant,
        from: Peer,
        req: &Request,
    ) -> Result<Option<SessionTimer>, Response> {
        let trusted = self.config.access.is_trusted(from.addr.ip());
        let auth = match trusted || self.config.users.is_empty() {
            true => Auth::Denied,
            false => self.authenticate(now, req, "Proxy-Authorization"),
        };
        let authenticated = matches!(auth, Auth::User(_));
        let refuse = |ua: &Self, status, reason| {
            with_to_tag(
                ua.response_to(req, from, status, reason),
                &ua.stateless_tag(req),
            )
        };
        match self
            .config
            .access
            .admit(from.addr.ip(), authenticated, !self.config.users.is_empty())
        {
            Admission::Accept => {}
            Admission::Challenge => {
                let stale = matches!(auth, Auth::Stale);
                return Err(self.challenge(now, req, from, true, stale));
            }
            Admission::Forbid => return Err(refuse(self, 403, "Forbidden")),
        }
        if self.active_calls() >= self.config.max_calls {
            let mut resp = refuse(self, 503, "Service Unavailable");
            resp.headers
                .push("Retry-After", RETRY_AFTER_SECS.to_string());
            return Err(resp);
        }
        SessionTimer::from_request(&self.config.session_timer, req, now).map_err(|min_se| {
            let mut resp = refuse(self, 422, "Session Interval Too Small");
            resp.headers.push("Min-SE", min_se.to_string());
            resp
        })
    }

    /// REGISTER: digest (401) for a configured user registering its own name, then the
    /// registrar; 403 for anyone else or when no SIP user is configured.
    pub(super) fn on_register(&mut self, now: Instant, from: Peer, branch: String, req: Request) {
        if self.absorb_retransmission(&branch, &req) {
            return;
        }
        let aor_user = req
            .headers
            .get("To")
            .and_then(|t| uri_user(uri_of(t)))
            .unwrap_or("")
            .to_string();
        let resp = match self.authenticate(now, &req, "Authorization") {
            _ if self.config.users.is_empty() => self.response_to(&req, from, 403, "Forbidden"),
            Auth::User(user) if user != aor_user => self.response_to(&req, from, 403, "Forbidden"),
            Auth::User(user) => match self.registrar.register(now, &user, &req, from) {
                Ok(bindings) => {
                    let mut resp = self.response_to(&req, from, 200, "OK");
                    for (uri, expires) in bindings {
                        resp.headers
                            .push("Contact", format!("<{uri}>;expires={expires}"));
                    }
                    let contact = self.registrar.contact_for(&user, now).cloned();
                    self.events
                        .push_back(UaEvent::Registration { user, contact });
                    resp
                }
                Err(refusal) => {
                    let mut resp = self.response_to(&req, from, refusal.status, refusal.reason);
                    if let Some((name, value)) = refusal.header {
                        resp.headers.push(name, value);
                    }
                    resp
                }
            },
            Auth::Stale => self.challenge(now, &req, from, false, true),
            Auth::Denied => self.challenge(now, &req, from, false, false),
        };
        let resp = match resp.headers.get("To") {
            Some(to) if crate::message::param(to, "tag").is_none() => {
                let tag = self.stateless_tag(&req);
                with_to_tag(resp, &tag)
            }
            _ => resp,
        };
        self.reply_non_invite(now, from, branch, &req, resp);
    }

    /// The live registered contact of SIP user `user`, if any.
    pub fn contact_for(&self, user: &str, now: Instant) -> Option<&crate::registrar::Binding> {
        self.registrar.contact_for(user, now)
    }
}

fn with_to_tag(mut resp: Response, tag: &str) -> Response {
    if let Some(to) = resp.headers.get("To").map(str::to_string) {
        resp.headers.set("To", super::with_tag(&to, tag));
    }
    resp
}
