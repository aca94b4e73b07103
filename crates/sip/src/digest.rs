//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760).
//!
//! `parse_challenge` reads one `WWW-Authenticate`/`Proxy-Authenticate` value,
//! `best_challenge` picks the strongest one we can answer among several, and `authorization`
//! computes the matching `Authorization`/`Proxy-Authorization` value. The client nonce comes
//! from the caller, so that nothing here draws random numbers.

use md5::Md5;
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Preference when a server offers several challenges (RFC 8760 §2.4: strongest first).
    fn strength(self) -> u8 {
        match self {
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
        }
    }

    /// Lower-case hex of the hash of `data`.
    pub fn hash_hex(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A parsed `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// The qop options offered (`auth`, `auth-int`), empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    pub algorithm: Algorithm,
    pub stale: bool,
}

impl Challenge {
    /// Whether we can answer it: qop absent (RFC 2069 compatibility) or offering `auth`.
    pub fn supported(&self) -> bool {
        self.qop.is_empty() || self.offers_auth()
    }

    fn offers_auth(&self) -> bool {
        self.qop.iter().any(|q| q.eq_ignore_ascii_case("auth"))
    }
}

/// Splits `k=v, k="v, with comma"` into pairs, unquoting quoted strings.
fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.trim().is_empty() && chars.peek().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
                // Skip anything up to the next comma.
                while chars.peek().is_some_and(|c| *c != ',') {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

/// Parses one `Digest …` challenge; `None` for another scheme, a missing realm or nonce, or
/// an algorithm we do not know.
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let params = auth_params(rest);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let algorithm = match get("algorithm") {
        Some(a) => Algorithm::parse(&a)?,
        None => Algorithm::Md5,
    };
    Some(Challenge {
        realm: get("realm")?,
        nonce: get("nonce")?,
        opaque: get("opaque"),
        qop: get("qop")
            .map(|q| {
                q.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        algorithm,
        stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
    })
}

/// The strongest challenge we can answer among several header values (RFC 8760 §2.4).
pub fn best_challenge<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    values
        .into_iter()
        .filter_map(parse_challenge)
        .filter(Challenge::supported)
        .enumerate()
        // Highest strength wins; among equals the first offered.
        .max_by_key(|(i, c)| (c.algorithm.strength(), usize::MAX - i))
        .map(|(_, c)| c)
}

/// What is needed to answer a challenge for one request.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub cnonce: &'a str,
    /// The nonce count, 1 for the first request with this nonce.
    pub nc: u32,
}

/// The `response` value: KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or KD(H(A1), nonce:H(A2))
/// without qop (RFC 2069 compatibility).
pub fn response(ch: &Challenge, input: &DigestInput) -> String {
    let alg = ch.algorithm;
    let mut ha1 = alg.hash_hex(&format!(
        "{}:{}:{}",
        input.username, ch.realm, input.password
    ));
    if alg.is_sess() {
        ha1 = alg.hash_hex(&format!("{ha1}:{}:{}", ch.nonce, input.cnonce));
    }
    let ha2 = alg.hash_hex(&format!("{}:{}", input.method, input.uri));
    if ch.offers_auth() {
        alg.hash_hex(&format!(
            "{ha1}:{}:{:08x}:{}:auth:{ha2}",
            ch.nonce, input.nc, input.cnonce
        ))
    } else {
        alg.hash_hex(&format!("{ha1}:{}:{ha2}", ch.nonce))
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The full `Authorization`/`Proxy-Authorization` header value answering `ch`.
pub fn authorization(ch: &Challenge, input: &DigestInput) -> String {
    let mut out = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response={}, algorithm={}",
        quote(input.username),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(input.uri),
        quote(&response(ch, input)),
        ch.algorithm.as_str(),
    );
    if ch.offers_auth() {
        out.push_str(&format!(
            ", cnonce={}, qop=auth, nc={:08x}",
            quote(input.cnonce),
            input.nc
        ));
    }
    if let Some(opaque) = &ch.opaque {
        out.push_str(&format!(", opaque={}", quote(opaque)));
    }
    out
}

/// The parameters of an `Authorization` value, unquoted (for tests and logging).
pub fn parse_authorization(value: &str) -> Vec<(String, String)> {
    let rest = value
        .trim()
        .split_once(char::is_whitespace)
        .map_or("", |(_, r)| r);
    auth_params(rest)
}

/// The credentials a request carries in `Authorization`/`Proxy-Authorization` (server side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Algorithm,
    pub cnonce: String,
    pub nc: u32,
    /// Whether `qop=auth` was used (else RFC 2069 form).
    pub qop_auth: bool,
}

/// Parses a `Digest` credentials value; `None` when a part we need is missing or unknown.
pub fn parse_credentials(value: &str) -> Option<Credentials> {
    let (scheme, rest) = value.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let params = auth_params(rest);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let qop = get("qop");
    let qop_auth = match qop.as_deref() {
        None => false,
        Some(q) if q.eq_ignore_ascii_case("auth") => true,
        Some(_) => return None,
    };
    Some(Credentials {
        username: get("username")?,
        realm: get("realm")?,
        nonce: get("nonce")?,
        uri: get("uri")?,
        response: get("response")?,
        algorithm: match get("algorithm") {
            Some(a) => Algorithm::parse(&a)?,
            None => Algorithm::Md5,
        },
        cnonce: get("cnonce").unwrap_or_default(),
        nc: match get("nc") {
            Some(nc) => u32::from_str_radix(&nc, 16).ok()?,
            None => 0,
        },
        qop_auth,
    })
}

/// Whether `creds` answer their nonce for `method` with `password`.
pub fn verify(creds: &Credentials, method: &str, password: &str) -> bool {
    let ch = Challenge {
        realm: creds.realm.clone(),
        nonce: creds.nonce.clone(),
        opaque: None,
        qop: if creds.qop_auth {
            vec!["auth".into()]
        } else {
            Vec::new()
        },
        algorithm: creds.algorithm,
        stale: false,
    };
    let expected = response(
        &ch,
        &DigestInput {
            method,
            uri: &creds.uri,
            username: &creds.username,
            password,
            cnonce: &creds.cnonce,
            nc: creds.nc,
        },
    );
    // Compare every byte so the time taken does not reveal how much matched.
    let got = creds.response.to_ascii_lowercase();
    expected.len() == got.len()
        && expected
            .bytes()
            .zip(got.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A `WWW-Authenticate`/`Proxy-Authenticate` value offering `qop=auth`.
pub fn challenge_value(realm: &str, nonce: &str, algorithm: Algorithm, stale: bool) -> String {
    let mut out = format!(
        "Digest realm={}, nonce={}, qop=\"auth\", algorithm={}",
        quote(realm),
        quote(nonce),
        algorithm.as_str()
    );
    if stale {
        out.push_str(", stale=true");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(password: &'a str, cnonce: &'a str) -> DigestInput<'a> {
        DigestInput {
            method: "GET",
            uri: "/dir/index.html",
            username: "Mufasa",
            password,
            cnonce,
            nc: 1,
        }
    }

    #[test]
    fn rfc2617_mufasa() {
        let ch = parse_challenge(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert_eq!(ch.realm, "testrealm@host.com");
        assert_eq!(ch.qop, vec!["auth", "auth-int"]);
        assert_eq!(ch.algorithm, Algorithm::Md5);
        assert_eq!(
            ch.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        let inp = input("Circle Of Life", "0a4f113b");
        assert_eq!(response(&ch, &inp), "6629fae49393a05397450978507c4ef1");
        let auth = authorization(&ch, &inp);
        let params = parse_authorization(&auth);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.as_str();
        assert_eq!(get("response"), "6629fae49393a05397450978507c4ef1");
        assert_eq!(get("nc"), "00000001");
        assert_eq!(get("qop"), "auth");
        assert_eq!(get("opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
        assert_eq!(get("uri"), "/dir/index.html");
    }

    #[test]
    fn rfc7616_sha256_and_md5() {
        let base = "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let sha = format!("Digest {base}, algorithm=SHA-256");
        let md5 = format!("Digest {base}, algorithm=MD5");
        let inp = input(
            "Circle of Life",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        let ch = parse_challenge(&sha).unwrap();
        assert_eq!(ch.algorithm, Algorithm::Sha256);
        assert_eq!(
            response(&ch, &inp),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let ch = parse_challenge(&md5).unwrap();
        assert_eq!(response(&ch, &inp), "8ca523f5e9506fed4657c9700eebdbec");
        // RFC 8760: offered both, the SHA-256 one is answered.
        let best = best_challenge([md5.as_str(), sha.as_str()]).unwrap();
        assert_eq!(best.algorithm, Algorithm::Sha256);
    }

    #[test]
    fn parse_edge_cases() {
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
        assert!(parse_challenge("Digest realm=\"x\"").is_none());
        assert!(parse_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512").is_none());
        let ch = parse_challenge(
            "digest nonce=abc,realm=\"a, \\\"b\\\"\" ,stale=TRUE,algorithm=md5-sess,qop=auth",
        )
        .unwrap();
        assert_eq!(ch.realm, "a, \"b\"");
        assert_eq!(ch.nonce, "abc");
        assert!(ch.stale);
        assert_eq!(ch.algorithm, Algorithm::Md5Sess);
        assert_eq!(ch.qop, vec!["auth"]);
        let only_int = parse_challenge("Digest realm=r, nonce=n, qop=\"auth-int\"").unwrap();
        assert!(!only_int.supported());
        // RFC 2069 form: no qop, no cnonce/nc in the answer.
        let old = parse_challenge("Digest realm=r, nonce=n").unwrap();
        let auth = authorization(&old, &input("p", "c"));
        assert!(!auth.contains("cnonce") && !auth.contains("qop"));
    }

    #[test]
    fn server_verifies_what_the_client_computes() {
        for alg in [Algorithm::Md5, Algorithm::Sha256] {
            let ch = parse_challenge(&challenge_value("flexvox", "n1", alg, false)).unwrap();
            let inp = DigestInput {
                method: "REGISTER",
                uri: "sip:127.0.0.1",
                username: "alice",
                password: "secret",
                cnonce: "c1",
                nc: 1,
            };
            let creds = parse_credentials(&authorization(&ch, &inp)).unwrap();
            assert_eq!(creds.algorithm, alg);
            assert!(verify(&creds, "REGISTER", "secret"));
            assert!(!verify(&creds, "REGISTER", "wrong"));
            assert!(!verify(&creds, "INVITE", "secret"));
        }
        assert!(parse_credentials("Digest username=\"a\"").is_none());
        assert!(parse_credentials("Basic abc").is_none());
    }
}
