//! Where an outbound leg goes: numbers through the configured trunk, `sip:` URIs straight to
//! their host; and the keys that name outbound legs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// Where to send the INVITE for a Dial target, and the Request-URI.
pub async fn resolve(
    target: &str,
    trunk: Option<SocketAddr>,
) -> Result<(SocketAddr, String, String), TargetError> {
    if let Some(rest) = target.strip_prefix("sip:") {
        let (user, hostport) = rest.split_once('@').unwrap_or(("", rest));
        let hostport = hostport.split(';').next().unwrap_or(hostport);
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
        return Ok((addr, target.to_string(), user.to_string()));
    }
    let trunk = trunk.ok_or(TargetError::NoTrunk)?;
    Ok((trunk, format!("sip:{target}@{trunk}"), target.to_string()))
}
