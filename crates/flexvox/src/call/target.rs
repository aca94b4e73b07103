//! Where an outbound leg goes: registered SIP users to the contact they registered, numbers
//! through the configured trunk, other `sip:` URIs straight to their host; and the keys that
//! name outbound legs.

use sip::registrar::Binding;
use sip::Transport;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Outbound legs' keys double as their media ids: kept far above inbound call ids.
static NEXT_KEY: AtomicU64 = AtomicU64::new(1 << 40);

pub fn next_leg_key() -> u64 {
    NEXT_KEY.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("no outbound trunk is configured for numbers (--trunk)")]
    NoTrunk,
    #[error("cannot find the host of {0}")]
    Host(String),
}

/// SIP users' live registrations, mirrored by the SIP task from the user agent's registrar.
#[derive(Clone, Default)]
pub struct Registrations {
    bindings: Arc<RwLock<HashMap<String, Binding>>>,
    /// Hosts that name this server in a `sip:user@host` Dial target.
    local_hosts: Arc<Vec<String>>,
}

impl Registrations {
    pub fn new(local_hosts: Vec<String>) -> Self {
        Registrations {
            bindings: Arc::default(),
            local_hosts: Arc::new(local_hosts),
        }
    }

    pub fn set(&self, user: &str, binding: Option<Binding>) {
        let mut map = self.bindings.write().unwrap_or_else(|e| e.into_inner());
        match binding {
            Some(b) => map.insert(user.to_string(), b),
            None => map.remove(user),
        };
    }

    pub fn contact_for(&self, user: &str) -> Option<Binding> {
        let map = self.bindings.read().unwrap_or_else(|e| e.into_inner());
        map.get(user).cloned()
    }

    fn is_local(&self, host: &str) -> bool {
        let host = host
            .rsplit_once(':')
            .map_or(host, |(h, p)| match p.parse::<u16>() {
                Ok(_) => h,
                Err(_) => host,
            });
        self.local_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Where the INVITE for a Dial target goes, over which transport, and its Request-URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub destination: SocketAddr,
    pub transport: Transport,
    pub request_uri: String,
    pub to_user: String,
}

/// A registered user's contact: the INVITE names its Contact URI and goes where its
/// REGISTER came from (which also passes the phone's NAT).
fn to_registered(user: &str, b: Binding) -> Resolved {
    Resolved {
        destination: b.source.addr,
        transport: b.source.transport,
        request_uri: b.uri,
        to_user: user.to_string(),
    }
}

/// Where to send the INVITE for a Dial target, and the Request-URI.
pub async fn resolve(
    target: &str,
    trunk: Option<SocketAddr>,
    users: &Registrations,
) -> Result<Resolved, TargetError> {
    if let Some(rest) = target.strip_prefix("sip:") {
        let (user, hostport) = rest.split_once('@').unwrap_or(("", rest));
        let hostport = hostport.split(';').next().unwrap_or(hostport);
        if users.is_local(hostport) {
            if let Some(b) = users.contact_for(user) {
                return Ok(to_registered(user, b));
            }
        }
        let with_port = if hostport
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            hostport.to_string()
        } else {
            format!("{hostport}:5060")
        };
        let addr = tokio::net::lookup_host(&with_port)
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| TargetError::Host(target.to_string()))?;
        return Ok(Resolved {
            destination: addr,
            transport: Transport::from_uri(target),
            request_uri: target.to_string(),
            to_user: user.to_string(),
        });
    }
    if let Some(b) = users.contact_for(target) {
        return Ok(to_registered(target, b));
    }
    let trunk = trunk.ok_or(TargetError::NoTrunk)?;
    Ok(Resolved {
        destination: trunk,
        transport: Transport::Udp,
        request_uri: format!("sip:{target}@{trunk}"),
        to_user: target.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::Peer;

    #[tokio::test]
    async fn registered_users_are_reached_at_their_contact() {
        let users = Registrations::new(vec!["127.0.0.1".into(), "flexvox".into()]);
        let trunk: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let phone: SocketAddr = "127.0.0.1:5062".parse().unwrap();
        assert_eq!(
            resolve("alice", Some(trunk), &users)
                .await
                .unwrap()
                .destination,
            trunk
        );
        let t0 = std::time::Instant::now();
        let mut registrar = sip::registrar::Registrar::default();
        let register = sip::message::parse(
            b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bK1\r\n\
From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:alice@10.0.0.5:5062;transport=tcp>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
        );
        let Ok(sip::Message::Request(register)) = register else {
            panic!("REGISTER does not parse")
        };
        registrar
            .register(t0, "alice", &register, Peer::tcp(phone))
            .unwrap();
        users.set("alice", registrar.contact_for("alice", t0).cloned());
        for target in ["alice", "sip:alice@127.0.0.1:5060", "sip:alice@flexvox"] {
            let r = resolve(target, Some(trunk), &users).await.unwrap();
            assert_eq!(
                (r.destination, r.transport, r.request_uri.as_str()),
                (
                    phone,
                    Transport::Tcp,
                    "sip:alice@10.0.0.5:5062;transport=tcp"
                ),
                "{target}"
            );
        }
        users.set("alice", None);
        assert_eq!(
            resolve("alice", Some(trunk), &users)
                .await
                .unwrap()
                .destination,
            trunk
        );
    }
}
