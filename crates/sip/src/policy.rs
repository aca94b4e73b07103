//! Who may start calls (toll-fraud protection): source networks that are trusted as trunks,
//! and the decision for a new INVITE given its source and whether it proved a SIP user's
//! identity. Scanners send INVITEs to every public SIP port; an open server pays their calls.

use std::net::IpAddr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CidrError {
    #[error("invalid network {0:?}: expected ADDRESS or ADDRESS/PREFIX")]
    Syntax(String),
    #[error("invalid prefix length in {0:?}")]
    Prefix(String),
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn host(addr: IpAddr) -> Cidr {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Cidr { addr, prefix }
    }

    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| CidrError::Syntax(s.to_string()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| CidrError::Prefix(s.to_string()))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Parses a comma-separated list (`127.0.0.0/8, ::1`).
    pub fn parse_list(s: &str) -> Result<Vec<Cidr>, CidrError> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Cidr::parse)
            .collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => mask_eq(
                u32::from(net) as u128,
                u32::from(ip) as u128,
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask_eq(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn mask_eq(net: u128, ip: u128, prefix: u8, bits: u32) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = bits - prefix as u32;
    (net >> shift) == (ip >> shift)
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The networks trusted by default: this machine only.
pub fn default_allow() -> Vec<Cidr> {
    vec![
        Cidr {
            addr: IpAddr::from([127, 0, 0, 0]),
            prefix: 8,
        },
        Cidr::host(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])),
    ]
}

/// What to do with a new INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accept,
    /// Not from a trusted network, but SIP users exist: ask for their credentials (407).
    Challenge,
    /// 403 Forbidden.
    Forbid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub allow: Vec<Cidr>,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            allow: default_allow(),
        }
    }
}

impl AccessPolicy {
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|c| c.contains(ip))
    }

    /// `authenticated`: the request carried valid credentials of a configured SIP user;
    /// `have_users`: whether any SIP user is configured (else there is nobody to challenge).
    pub fn admit(&self, source: IpAddr, authenticated: bool, have_users: bool) -> Admission {
        if authenticated || self.is_trusted(source) {
            Admission::Accept
        } else if have_users {
            Admission::Challenge
        } else {
            Admission::Forbid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_match_by_prefix() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(!net.contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(Cidr::parse("2001:db8::/32")
            .unwrap()
            .contains(ip("2001:db8:ffff::1")));
        assert!(Cidr::parse("192.0.2.1")
            .unwrap()
            .contains(ip("::ffff:192.0.2.1")));
        assert!(!Cidr::parse("192.0.2.1").unwrap().contains(ip("192.0.2.2")));
    }

    #[test]
    fn bad_networks_are_errors() {
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("banana").is_err());
        assert!(Cidr::parse("::1/129").is_err());
        assert!(Cidr::parse_list("127.0.0.1, x").is_err());
        assert_eq!(Cidr::parse_list(" 127.0.0.1 ,::1").unwrap().len(), 2);
    }

    #[test]
    fn admission_decisions() {
        let p = AccessPolicy::default();
        assert_eq!(p.admit(ip("127.0.0.1"), false, false), Admission::Accept);
        assert_eq!(p.admit(ip("::1"), false, true), Admission::Accept);
        assert_eq!(p.admit(ip("203.0.113.9"), false, false), Admission::Forbid);
        assert_eq!(
            p.admit(ip("203.0.113.9"), false, true),
            Admission::Challenge
        );
        assert_eq!(p.admit(ip("203.0.113.9"), true, true), Admission::Accept);
        let open = AccessPolicy {
            allow: Cidr::parse_list("0.0.0.0/0,::/0").unwrap(),
        };
        assert_eq!(
            open.admit(ip("203.0.113.9"), false, false),
            Admission::Accept
        );
    }
}
