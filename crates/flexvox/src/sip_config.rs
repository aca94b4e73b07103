//! SIP settings of `serve`: transports, who may call in (trunk allow list, SIP users), and
//! how many calls at once. Flags and environment come through `SipArgs`; the TOML file's
//! keys have the same names (`sip_users = [{ name = "alice", password = "…" }]`).

use clap::Args;
use serde::Deserialize;
use sip::digest::Algorithm;
use sip::policy::{default_allow, Cidr};
use std::net::SocketAddr;

#[derive(Debug, Args, Default)]
pub struct SipArgs {
    /// SIP transports served on --sip-listen, comma separated: udp, tcp [default: udp,tcp]
    #[arg(long, env = "FLEXVOX_SIP_TRANSPORTS", value_delimiter = ',')]
    pub sip_transports: Vec<String>,
    /// Networks whose INVITEs are trusted without credentials, comma separated CIDRs
    /// [default: 127.0.0.0/8,::1 and the --trunk host]. `0.0.0.0/0,::/0` opens the server to
    /// anyone on the Internet (toll fraud!).
    #[arg(long, env = "FLEXVOX_SIP_ALLOW", value_delimiter = ',')]
    pub sip_allow: Vec<String>,
    /// A SIP user (softphone) as name:password; repeat the flag for more (env: comma separated)
    #[arg(long = "sip-user", env = "FLEXVOX_SIP_USERS", value_delimiter = ',')]
    pub sip_users: Vec<String>,
    /// Digest realm of the SIP users [default: flexvox]
    #[arg(long, env = "FLEXVOX_SIP_REALM")]
    pub sip_realm: Option<String>,
    /// Digest algorithms offered to SIP users, comma separated: md5, sha-256 [default: md5]
    /// (some clients, e.g. baresip 1.0, fail when SHA-256 is offered at all)
    #[arg(long, env = "FLEXVOX_SIP_DIGEST", value_delimiter = ',')]
    pub sip_digest: Vec<String>,
    /// New INVITEs past this many concurrent calls get 503 with Retry-After [default: 2000]
    #[arg(long, env = "FLEXVOX_MAX_CALLS")]
    pub max_calls: Option<usize>,
}

/// A `sip_users` entry of the TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipUserEntry {
    pub name: String,
    pub password: String,
}

/// The TOML file's SIP keys.
#[derive(Debug, Default)]
pub struct SipFile {
    pub sip_transports: Option<Vec<String>>,
    pub sip_allow: Option<Vec<String>>,
    pub sip_users: Option<Vec<SipUserEntry>>,
    pub sip_realm: Option<String>,
    pub sip_digest: Option<Vec<String>>,
    pub max_calls: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct SipSettings {
    pub udp: bool,
    pub tcp: bool,
    pub allow: Vec<Cidr>,
    pub users: Vec<(String, String)>,
    pub realm: String,
    pub digest: Vec<Algorithm>,
    pub max_calls: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SipConfigError {
    #[error("--sip-allow: {0}")]
    Allow(#[from] sip::policy::CidrError),
    #[error("--sip-user {0:?}: expected NAME:PASSWORD")]
    User(String),
    #[error("--sip-digest: unknown algorithm {0:?} (md5, sha-256)")]
    Digest(String),
    #[error("--sip-transports: unknown transport {0:?} (udp, tcp)")]
    Transport(String),
}

impl SipSettings {
    pub fn load(
        args: SipArgs,
        file: SipFile,
        trunk: Option<SocketAddr>,
    ) -> Result<SipSettings, SipConfigError> {
        let transports = match args.sip_transports.is_empty() {
            true => file
                .sip_transports
                .unwrap_or_else(|| vec!["udp".into(), "tcp".into()]),
            false => args.sip_transports,
        };
        let (mut udp, mut tcp) = (false, false);
        for t in &transports {
            match t.trim().to_ascii_lowercase().as_str() {
                "udp" => udp = true,
                "tcp" => tcp = true,
                "" => {}
                other => return Err(SipConfigError::Transport(other.to_string())),
            }
        }
        let allow = match args.sip_allow.is_empty() {
            true => file.sip_allow,
            false => Some(args.sip_allow),
        };
        let allow = match allow {
            Some(list) => list
                .iter()
                .map(|c| Cidr::parse(c))
                .collect::<Result<Vec<_>, _>>()?,
            // The trunk answers our INVITEs and sends us its own: trust its address.
            None => default_allow()
                .into_iter()
                .chain(trunk.map(|t| Cidr::host(t.ip())))
                .collect(),
        };
        let mut users = Vec::new();
        for u in &args.sip_users {
            let (name, password) = u
                .split_once(':')
                .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                .ok_or_else(|| SipConfigError::User(u.split(':').next().unwrap_or("").into()))?;
            users.push((name.to_string(), password.to_string()));
        }
        if users.is_empty() {
            users = file
                .sip_users
                .unwrap_or_default()
                .into_iter()
                .map(|u| (u.name, u.password))
                .collect();
        }
        let digest = match args.sip_digest.is_empty() {
            true => file.sip_digest.unwrap_or_else(|| vec!["md5".into()]),
            false => args.sip_digest,
        };
        let digest = digest
            .iter()
            .map(|a| match Algorithm::parse(a.trim()) {
                Some(alg @ (Algorithm::Md5 | Algorithm::Sha256)) => Ok(alg),
                _ => Err(SipConfigError::Digest(a.clone())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SipSettings {
            digest,
            udp,
            tcp,
            allow,
            users,
            realm: args
                .sip_realm
                .or(file.sip_realm)
                .unwrap_or_else(|| "flexvox".into()),
            max_calls: args.max_calls.or(file.max_calls).unwrap_or(2000),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_trust_this_machine_and_the_trunk() {
        let trunk: SocketAddr = "192.0.2.10:5060".parse().unwrap();
        let s = SipSettings::load(SipArgs::default(), SipFile::default(), Some(trunk)).unwrap();
        assert!(s.udp && s.tcp);
        assert_eq!(s.max_calls, 2000);
        let trusted = |ip: &str| s.allow.iter().any(|c| c.contains(ip.parse().unwrap()));
        assert!(trusted("127.0.0.1") && trusted("::1") && trusted("192.0.2.10"));
        assert!(!trusted("192.0.2.11"));
    }

    #[test]
    fn flags_win_and_bad_values_are_errors() {
        let args = SipArgs {
            sip_transports: vec!["udp".into()],
            sip_allow: vec!["10.0.0.0/8".into()],
            sip_users: vec!["alice:secret".into()],
            max_calls: Some(1),
            ..SipArgs::default()
        };
        let s = SipSettings::load(args, SipFile::default(), None).unwrap();
        assert!(s.udp && !s.tcp);
        assert_eq!(s.users, vec![("alice".to_string(), "secret".to_string())]);
        assert_eq!(s.max_calls, 1);
        let bad = SipArgs {
            sip_users: vec!["nopassword".into()],
            ..SipArgs::default()
        };
        assert!(SipSettings::load(bad, SipFile::default(), None).is_err());
        let bad = SipArgs {
            sip_allow: vec!["10.0.0.0/99".into()],
            ..SipArgs::default()
        };
        assert!(SipSettings::load(bad, SipFile::default(), None).is_err());
    }
}
