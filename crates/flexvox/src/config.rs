//! Settings from flags, environment, `flexvox.toml` and embedded defaults, in that order.

use clap::Args;
use serde::Deserialize;
use sip::policy::Cidr;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML file with the same settings as the flags (snake_case keys).
    #[arg(long, env = "FLEXVOX_CONFIG")]
    pub config: Option<PathBuf>,
    /// HTTP API address [default: 127.0.0.1:8080]
    #[arg(long, env = "FLEXVOX_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// SIP UDP address [default: 0.0.0.0:5060]
    #[arg(long, env = "FLEXVOX_SIP_LISTEN")]
    pub sip_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub sip: crate::sip_config::SipArgs,
    /// RTP port range, e.g. 20000-29999 [default: 20000-29999]
    #[arg(long, env = "FLEXVOX_RTP_PORTS")]
    pub rtp_ports: Option<String>,
    /// Folder for the database, caches and credentials.json [default: ./data]
    #[arg(long, env = "FLEXVOX_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database: postgres://user:password@host/db, or sqlite://path
    /// [default: the SQLite file flexvox.db in the data folder]
    #[arg(long, env = "FLEXVOX_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Preset Core API Bearer token for the operator (partner).
    #[arg(long, env = "FLEXVOX_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Address to advertise in SIP and SDP when listening on 0.0.0.0 [default: detected]
    #[arg(long, env = "FLEXVOX_PUBLIC_IP")]
    pub public_ip: Option<IpAddr>,
    /// Where the Sms verb's messages are POSTed as JSON {to, from, body, call_sid}.
    #[arg(long, env = "FLEXVOX_SMS_WEBHOOK")]
    pub sms_webhook: Option<String>,
    /// The outbound SIP trunk (IP:port) that Dial sends numbers to.
    #[arg(long, env = "FLEXVOX_TRUNK")]
    pub trunk: Option<SocketAddr>,
    /// Digest credentials for the trunk, as user:password.
    #[arg(long, env = "FLEXVOX_TRUNK_AUTH")]
    pub trunk_auth: Option<String>,
    /// Refuse to fetch app URLs (documents, audio, callbacks) on loopback, private,
    /// link-local and CGNAT addresses. Recommended when apps are not the operator's own.
    #[arg(long, env = "FLEXVOX_URL_DENY_PRIVATE")]
    pub url_deny_private: bool,
    /// Networks that stay reachable with --url-deny-private, comma separated CIDRs.
    #[arg(long, env = "FLEXVOX_URL_ALLOW", value_delimiter = ',', value_parser = Cidr::parse)]
    pub url_allow: Vec<Cidr>,
    /// A TTS service for Say: a URL template with {text} and {voice} (GET), or a URL that
    /// takes a JSON POST {text, voice}; it returns audio. [default: the built-in voices]
    #[arg(long, env = "FLEXVOX_TTS_URL")]
    pub tts_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    http_listen: Option<SocketAddr>,
    sip_listen: Option<SocketAddr>,
    sip_transports: Option<Vec<String>>,
    sip_allow: Option<Vec<String>>,
    sip_users: Option<Vec<crate::sip_config::SipUserEntry>>,
    sip_realm: Option<String>,
    sip_digest: Option<Vec<String>>,
    max_calls: Option<usize>,
    rtp_ports: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    admin_token: Option<String>,
    public_ip: Option<IpAddr>,
    sms_webhook: Option<String>,
    trunk: Option<SocketAddr>,
    trunk_auth: Option<String>,
    url_deny_private: Option<bool>,
    url_allow: Option<Vec<String>>,
    tts_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub http_listen: SocketAddr,
    pub sip_listen: SocketAddr,
    pub sip: crate::sip_config::SipSettings,
    pub rtp_ports: (u16, u16),
    pub data_dir: PathBuf,
    /// `None`: the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    pub admin_token: Option<String>,
    pub public_ip: Option<IpAddr>,
    pub sms_webhook: Option<String>,
    pub trunk: Option<SocketAddr>,
    /// (username, password) answering the trunk's digest challenges.
    pub trunk_credentials: Option<(String, String)>,
    pub url_policy: crate::url_policy::UrlPolicy,
    pub tts_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid {path}: {source}")]
    Toml {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error(transparent)]
    Sip(#[from] crate::sip_config::SipConfigError),
    #[error("invalid RTP port range {0:?}: expected LOW-HIGH with even LOW, LOW < HIGH")]
    RtpPorts(String),
    #[error("url_allow: {0}")]
    UrlAllow(#[from] sip::policy::CidrError),
}

pub fn parse_port_range(s: &str) -> Result<(u16, u16), ConfigError> {
    let err = || ConfigError::RtpPorts(s.to_string());
    let (lo, hi) = s.split_once('-').ok_or_else(err)?;
    let (lo, hi): (u16, u16) = (
        lo.trim().parse().map_err(|_| err())?,
        hi.trim().parse().map_err(|_| err())?,
    );
    if lo >= hi || lo % 2 != 0 || lo == 0 {
        return Err(err());
    }
    Ok((lo, hi))
}

impl Config {
    pub fn load(args: ServeArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Toml {
                    path: path.clone(),
                    source,
                })?
            }
        };
        let trunk = args.trunk.or(file.trunk);
        let sip_file = crate::sip_config::SipFile {
            sip_transports: file.sip_transports,
            sip_allow: file.sip_allow,
            sip_users: file.sip_users,
            sip_realm: file.sip_realm,
            sip_digest: file.sip_digest,
            max_calls: file.max_calls,
        };
        let sip = crate::sip_config::SipSettings::load(args.sip, sip_file, trunk)?;
        let rtp = args
            .rtp_ports
            .or(file.rtp_ports)
            .unwrap_or_else(|| "20000-29999".into());
        Ok(Config {
            http_listen: args
                .http_listen
                .or(file.http_listen)
                .unwrap_or(([127, 0, 0, 1], 8080).into()),
            sip_listen: args
                .sip_listen
                .or(file.sip_listen)
                .unwrap_or(([0, 0, 0, 0], 5060).into()),
            sip,
            rtp_ports: parse_port_range(&rtp)?,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| "data".into()),
            database_url: args.database_url.or(file.database_url),
            admin_token: args.admin_token.or(file.admin_token),
            public_ip: args.public_ip.or(file.public_ip),
            sms_webhook: args.sms_webhook.or(file.sms_webhook),
            trunk: args.trunk.or(file.trunk),
            trunk_credentials: args.trunk_auth.or(file.trunk_auth).and_then(|a| {
                a.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            }),
            tts_url: args.tts_url.or(file.tts_url),
            url_policy: crate::url_policy::UrlPolicy {
                deny_private: args.url_deny_private || file.url_deny_private.unwrap_or(false),
                allow: if args.url_allow.is_empty() {
                    file.url_allow
                        .unwrap_or_default()
                        .iter()
                        .map(|c| Cidr::parse(c))
                        .collect::<Result<_, _>>()?
                } else {
                    args.url_allow
                },
            },
        })
    }

    /// The address callers should use for SIP: the listen address, unless it is a wildcard.
    pub fn advertised_sip_ip(&self) -> IpAddr {
        if let Some(ip) = self.public_ip {
            return ip;
        }
        if !self.sip_listen.ip().is_unspecified() {
            return self.sip_listen.ip();
        }
        // A connected UDP socket reveals the address of the outgoing interface; nothing is sent.
        std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|s| s.connect("192.0.2.1:5060").map(|_| s))
            .and_then(|s| s.local_addr())
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]))
    }

    /// The base URL of the HTTP API as a local app would reach it.
    pub fn http_base(&self) -> String {
        let ip = match self.http_listen.ip() {
            ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.http_listen.port()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("20000-29999").unwrap(), (20000, 29999));
        assert!(parse_port_range("20001-29999").is_err());
        assert!(parse_port_range("3000-2000").is_err());
        assert!(parse_port_range("x").is_err());
    }
}
