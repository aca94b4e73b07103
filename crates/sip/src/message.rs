//! SIP message model, parser and printer (RFC 3261 §7, §20).
//!
//! Header names are stored in their canonical long form so that compact forms (`v`, `f`, `t`,
//! `i`, `m`, `l`, `c`, `k`, `s`, `e`) and any letter case compare equal. Folded header lines
//! are unfolded while parsing.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("message is not valid UTF-8 in its header section")]
    NotUtf8,
    #[error("no blank line ends the header section")]
    Incomplete,
    #[error("malformed start line: {0:?}")]
    StartLine(String),
    #[error("malformed header line: {0:?}")]
    HeaderLine(String),
    #[error("invalid Content-Length: {0:?}")]
    ContentLength(String),
    #[error("body shorter than Content-Length ({have} < {want})")]
    ShortBody { have: usize, want: usize },
    #[error("missing mandatory header {0}")]
    MissingHeader(&'static str),
    #[error("malformed CSeq: {0:?}")]
    CSeq(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Other(String),
}

impl Method {
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered header list; repeated headers keep their order, which matters for Via and Route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

pub(crate) fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let full = match lower.as_str() {
        "v" | "via" => "Via",
        "f" | "from" => "From",
        "t" | "to" => "To",
        "i" | "call-id" => "Call-ID",
        "m" | "contact" => "Contact",
        "l" | "content-length" => "Content-Length",
        "c" | "content-type" => "Content-Type",
        "k" | "supported" => "Supported",
        "s" | "subject" => "Subject",
        "e" | "content-encoding" => "Content-Encoding",
        "cseq" => "CSeq",
        "max-forwards" => "Max-Forwards",
        "record-route" => "Record-Route",
        "route" => "Route",
        "user-agent" => "User-Agent",
        "allow" => "Allow",
        "diversion" => "Diversion",
        "www-authenticate" => "WWW-Authenticate",
        "proxy-authenticate" => "Proxy-Authenticate",
        "authorization" => "Authorization",
        "proxy-authorization" => "Proxy-Authorization",
        "retry-after" => "Retry-After",
        "x" | "session-expires" => "Session-Expires",
        "min-se" => "Min-SE",
        "expires" => "Expires",
        "require" => "Require",
        _ => return name.to_string(),
    };
    full.to_string()
}

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((canonical_name(name), value.into()));
    }

    /// The first value of a header, by case-insensitive name (compact forms accepted).
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = canonical_name(name);
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, comma-separated lists split into their elements.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let name = canonical_name(name);
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
            .flat_map(|(_, v)| split_list(v))
            .collect()
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let name = canonical_name(name);
        let value = value.into();
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        let name = canonical_name(name);
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Splits a header value on commas that are outside quotes and angle brackets.
fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut in_angle, mut start) = (false, false, 0);
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quotes => i += 1,
            b'"' => in_quotes = !in_quotes,
            b'<' if !in_quotes => in_angle = true,
            b'>' if !in_quotes => in_angle = false,
            b',' if !in_quotes && !in_angle => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(value[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Message {
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }
}

/// Parses one SIP message from a datagram (or a framed stream chunk).
pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
    // Keep-alive CRLFs (RFC 5626) before a message are skipped.
    let start = data
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(data.len());
    let data = &data[start..];
    // The first blank line ends the head, whichever line ending it uses: a CRLF pair further
    // on may be inside the body of a message with bare-LF header lines.
    let crlf = find_subslice(data, b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = find_subslice(data, b"\n\n").map(|i| (i, i + 2));
    let head_end = crlf
        .into_iter()
        .chain(lf)
        .min_by_key(|(start, _)| *start)
        .ok_or(ParseError::Incomplete)?;
    let head = std::str::from_utf8(&data[..head_end.0]).map_err(|_| ParseError::NotUtf8)?;
    let rest = &data[head_end.1..];

    let mut lines = unfold(head).into_iter();
    let start_line = lines.next().unwrap_or_default();
    let mut headers = Headers::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| ParseError::HeaderLine(line.clone()))?;
        let name = name.trim();
        if name.is_empty() || name.contains(' ') {
            return Err(ParseError::HeaderLine(line.clone()));
        }
        headers.push(name, value.trim());
    }

    let body = match headers.get("Content-Length") {
        Some(v) => {
            let want: usize = v
                .trim()
                .parse()
                .map_err(|_| ParseError::ContentLength(v.to_string()))?;
            if rest.len() < want {
                return Err(ParseError::ShortBody {
                    have: rest.len(),
                    want,
                });
            }
            rest[..want].to_vec()
        }
        None => rest.to_vec(),
    };

    if let Some(version_rest) = start_line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = version_rest.split_once(' ').unwrap_or((version_rest, ""));
        let status: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..700).contains(c))
            .ok_or_else(|| ParseError::StartLine(start_line.clone()))?;
        return Ok(Message::Response(Response {
            status,
            reason: reason.to_string(),
            headers,
            body,
        }));
    }

    let mut parts = start_line.split(' ');
    let (method, uri, version) = (parts.next(), parts.next(), parts.next());
    match (method, uri, version, parts.next()) {
        (Some(m), Some(u), Some("SIP/2.0"), None)
            if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) && !u.is_empty() =>
        {
            Ok(Message::Request(Request {
                method: Method::parse(m),
                uri: u.to_string(),
                headers,
                body,
            }))
        }
        _ => Err(ParseError::StartLine(start_line)),
    }
}

fn find_subslice(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits the header section into logical lines, joining continuation lines (RFC 3261 §7.3.1).
fn unfold(head: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push(' ');
                last.push_str(raw.trim());
                continue;
            }
        }
        lines.push(raw.to_string());
    }
    lines
}

fn print_headers(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    for (name, value) in headers.iter() {
        if name == "Content-Length" {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} SIP/2.0\r\n", self.method, self.uri).into_bytes();
        print_headers(&mut out, &self.headers, &self.body);
        out
    }

    /// The five headers every request needs to be answered (RFC 3261 §8.1.1).
    pub fn check_mandatory(&self) -> Result<(), ParseError> {
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if self.headers.get(name).is_none() {
                return Err(ParseError::MissingHeader(name));
            }
        }
        self.cseq().map(|_| ())
    }

    pub fn cseq(&self) -> Result<(u32, Method), ParseError> {
        let raw = self
            .headers
            .get("CSeq")
            .ok_or(ParseError::MissingHeader("CSeq"))?;
        parse_cseq(raw)
    }

    pub fn call_id(&self) -> &str {
        self.headers.get("Call-ID").unwrap_or("")
    }

    /// The branch parameter of the top Via, which names the transaction.
    pub fn branch(&self) -> Option<&str> {
        self.headers
            .get_all("Via")
            .first()
            .and_then(|via| param(via, "branch"))
    }

    /// Builds a response echoing Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2).
    pub fn make_response(&self, status: u16, reason: &str) -> Response {
        let mut headers = Headers::new();
        for (name, value) in self.headers.iter() {
            if matches!(name, "Via" | "From" | "To" | "Call-ID" | "CSeq") {
                headers.push(name, value);
            }
        }
        Response {
            status,
            reason: reason.to_string(),
            headers,
            body: Vec::new(),
        }
    }
}

pub fn parse_cseq(raw: &str) -> Result<(u32, Method), ParseError> {
    let mut it = raw.split_whitespace();
    match (it.next().and_then(|n| n.parse().ok()), it.next(), it.next()) {
        (Some(n), Some(m), None) => Ok((n, Method::parse(m))),
        _ => Err(ParseError::CSeq(raw.to_string())),
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("SIP/2.0 {} {}\r\n", self.status, self.reason).into_bytes();
        print_headers(&mut out, &self.headers, &self.body);
        out
    }

    pub fn cseq(&self) -> Result<(u32, Method), ParseError> {
        parse_cseq(
            self.headers
                .get("CSeq")
                .ok_or(ParseError::MissingHeader("CSeq"))?,
        )
    }
}

impl Message {
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

/// The value of a `;name=value` parameter in a header value (outside any `<…>` URI).
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let after_uri = match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if close > open => &value[close + 1..],
        _ => value,
    };
    after_uri.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Whether a `;name` parameter is present at all (valueless parameters such as `;rport`).
pub fn has_param(value: &str, name: &str) -> bool {
    value.split(';').skip(1).any(|p| {
        p.split('=')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(name)
    })
}

/// The URI inside a name-addr (`"Bob" <sip:bob@host>;tag=x`) or an addr-spec (`sip:bob@host;tag=x`).
pub fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if close > open => &value[open + 1..close],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// The quoted or token display name of a name-addr, if any.
pub fn display_name(value: &str) -> Option<String> {
    let before = value[..value.find('<')?].trim();
    let name = match before.strip_prefix('"') {
        Some(quoted) => {
            let mut out = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    '"' => break,
                    c => out.push(c),
                }
            }
            out
        }
        None => before.to_string(),
    };
    (!name.trim().is_empty()).then(|| name.trim().to_string())
}

/// The user part of a SIP URI (`sip:+15551234@host;user=phone` → `+15551234`).
pub fn uri_user(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .or_else(|| uri.strip_prefix("tel:"))?;
    let user = match rest.find('@') {
        Some(at) => &rest[..at],
        None if uri.starts_with("tel:") => rest.split(';').next().unwrap_or(rest),
        None => return None,
    };
    Some(
        user.split(';')
            .next()
            .unwrap_or(user)
            .split(':')
            .next()
            .unwrap_or(user),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:15550000001@127.0.0.1:5060 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n\
f: \"Alice \\\"A\\\"\" <sip:+15162065338@127.0.0.1:5070>;tag=abc\r\n\
t: <sip:15550000001@127.0.0.1:5060>\r\n\
i: call-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Subject: folded\r\n  header\r\n\
content-type: application/sdp\r\n\
l: 4\r\n\r\nv=0\r\n";

    #[test]
    fn parses_compact_and_folded_headers() {
        let Message::Request(req) = parse(INVITE.as_bytes()).unwrap() else {
            panic!("expected a request")
        };
        assert_eq!(req.method, Method::Invite);
        assert_eq!(req.call_id(), "call-1@127.0.0.1");
        assert_eq!(req.branch(), Some("z9hG4bK-1"));
        assert_eq!(req.headers.get("subject"), Some("folded header"));
        assert_eq!(req.body, b"v=0\r");
        let from = req.headers.get("From").unwrap();
        assert_eq!(param(from, "tag"), Some("abc"));
        assert_eq!(uri_user(uri_of(from)), Some("+15162065338"));
        assert_eq!(display_name(from).as_deref(), Some("Alice \"A\""));
        assert!(has_param(req.headers.get("Via").unwrap(), "rport"));
    }

    #[test]
    fn round_trips_through_the_printer() {
        let msg = parse(INVITE.as_bytes()).unwrap();
        assert_eq!(parse(&msg.to_bytes()).unwrap(), msg);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(parse(b"hello"), Err(ParseError::Incomplete));
        assert!(matches!(
            parse(b"INVITE\r\n\r\n"),
            Err(ParseError::StartLine(_))
        ));
        assert!(matches!(
            parse(b"SIP/2.0 99 Odd\r\n\r\n"),
            Err(ParseError::StartLine(_))
        ));
        assert!(matches!(
            parse(b"BYE sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\nabc"),
            Err(ParseError::ShortBody { .. })
        ));
    }

    #[test]
    fn splits_lists_outside_quotes() {
        let mut h = Headers::new();
        h.push("Via", "SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2");
        h.push("v", "SIP/2.0/UDP c;branch=3");
        assert_eq!(h.get_all("VIA").len(), 3);
        h.push("Contact", "\"a, b\" <sip:x@y>");
        assert_eq!(h.get_all("Contact"), vec!["\"a, b\" <sip:x@y>"]);
    }
}
