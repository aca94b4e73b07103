//! Which addresses the server's HTTP client may reach. A hosted app chooses the URLs flexvox
//! fetches (documents, Play audio, callbacks), so without a policy it could make the server
//! probe the operator's private network or a cloud metadata endpoint. The policy is applied
//! where the address is finally known: in the DNS resolver (names, also after redirects and
//! against DNS rebinding) and on literal IP hosts before a request and on each redirect.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sip::policy::Cidr;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Redirects followed per request, as reqwest's default.
const MAX_REDIRECTS: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    /// Refuse loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified and
    /// multicast addresses.
    pub deny_private: bool,
    /// Networks reachable even when `deny_private` is set (e.g. the app server's LAN).
    pub allow: Vec<Cidr>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: the address {ip} is in a private range that this server does not fetch from (allow it with --url-allow)")]
pub struct UrlDenied {
    pub url: String,
    pub ip: IpAddr,
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                // 100.64.0.0/10, carrier-grade NAT, as internal as RFC 1918 for an operator.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                    || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
            }
        },
    }
}

impl UrlPolicy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        !self.deny_private || !is_private(ip) || self.allow.iter().any(|net| net.contains(ip))
    }

    /// Checks a URL whose host is a literal address; names are checked when resolved.
    pub fn check_url(&self, url: &str) -> Result<(), UrlDenied> {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Ok(()); // reqwest reports the malformed URL itself
        };
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(UrlDenied {
                url: url.to_string(),
                ip,
            })
        }
    }
}

/// The server's HTTP client for URLs that apps choose, with the policy in its resolver, its
/// redirect rules and in front of every request to a literal address.
#[derive(Clone)]
pub struct AppHttp {
    client: reqwest::Client,
    policy: Arc<UrlPolicy>,
}

impl AppHttp {
    pub fn new(policy: UrlPolicy) -> reqwest::Result<AppHttp> {
        let policy = Arc::new(policy);
        let on_redirect = policy.clone();
        let client = reqwest::Client::builder()
            .user_agent(concat!("flexvox/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PolicyResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error("too many redirects");
                }
                match on_redirect.check_url(attempt.url().as_str()) {
                    Ok(()) => attempt.follow(),
                    Err(denied) => attempt.error(denied),
                }
            }))
            .build()?;
        Ok(AppHttp { client, policy })
    }

    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, UrlDenied> {
        self.policy.check_url(url)?;
        Ok(self.client.get(url))
    }

    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, UrlDenied> {
        self.policy.check_url(url)?;
        Ok(self.client.post(url))
    }
}

/// The system resolver, keeping only the addresses the policy permits.
struct PolicyResolver {
    policy: Arc<UrlPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            match (permitted.is_empty(), found.first()) {
                (true, Some(first)) => Err(Box::new(UrlDenied {
                    url: host,
                    ip: first.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(permitted.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(allow: &[&str]) -> UrlPolicy {
        UrlPolicy {
            deny_private: true,
            allow: allow.iter().map(|n| Cidr::parse(n).unwrap()).collect(),
        }
    }

    #[test]
    fn open_policy_permits_everything() {
        let open = UrlPolicy::default();
        assert!(open.check_url("http://127.0.0.1:9/x").is_ok());
        assert!(open.permits("169.254.169.254".parse().unwrap()));
    }

    #[test]
    fn strict_policy_refuses_internal_ranges() {
        let p = strict(&[]);
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!p.permits(ip.parse().unwrap()), "{ip} should be denied");
        }
        for ip in ["8.8.8.8", "100.128.0.1", "2001:4860::8888"] {
            assert!(p.permits(ip.parse().unwrap()), "{ip} should be permitted");
        }
    }

    #[test]
    fn allow_list_opens_chosen_networks() {
        let p = strict(&["10.0.0.0/8"]);
        assert!(p.permits("10.9.9.9".parse().unwrap()));
        assert!(!p.permits("192.168.0.1".parse().unwrap()));
    }

    #[test]
    fn literal_hosts_are_checked_and_names_are_left_to_the_resolver() {
        let p = strict(&[]);
        let denied = p.check_url("http://[::1]:8080/app").unwrap_err();
        assert_eq!(denied.ip, "::1".parse::<IpAddr>().unwrap());
        assert!(p.check_url("http://192.168.0.10/app").is_err());
        assert!(p.check_url("https://example.com/app").is_ok());
        assert!(p.check_url("not a url").is_ok());
    }

    #[tokio::test]
    async fn resolver_drops_denied_addresses() {
        let resolver = PolicyResolver {
            policy: Arc::new(strict(&[])),
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(resolver.resolve(name).await.is_err());
        let open = PolicyResolver {
            policy: Arc::new(UrlPolicy::default()),
        };
        let addrs: Vec<_> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
