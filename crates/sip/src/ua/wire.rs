//! How messages meet the wire: Via and Contact for the transport in use, responses completed
//! and addressed per RFC 3261 §18.2 and RFC 3581, and a 400 salvaged from an unparsable request.

use super::UserAgent;
use crate::message::{self, param, Headers, Request, Response};
use crate::transport::{Peer, Transport};
use std::net::SocketAddr;

impl UserAgent {
    /// A Via for a request we send to `to`, on a fresh `branch`.
    pub(crate) fn via(&self, to: Peer, branch: &str) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            to.transport.via_token(),
            self.config.local_addr
        )
    }

    /// Our Contact URI as reachable over `transport`.
    pub(crate) fn contact(&self, transport: Transport) -> String {
        match transport.uri_param() {
            Some(t) => format!("<sip:flexvox@{};transport={t}>", self.config.local_addr),
            None => format!("<sip:flexvox@{}>", self.config.local_addr),
        }
    }

    /// A response with the top Via completed by `received`/`rport` (RFC 3581).
    pub(super) fn response_to(
        &self,
        req: &Request,
        from: Peer,
        status: u16,
        reason: &str,
    ) -> Response {
        let mut resp = req.make_response(status, reason);
        let mut headers = Headers::new();
        for (i, via) in req.headers.get_all("Via").into_iter().enumerate() {
            headers.push(
                "Via",
                if i == 0 {
                    complete_via(via, from.addr)
                } else {
                    via.to_string()
                },
            );
        }
        for (name, value) in resp.headers.iter().filter(|(n, _)| *n != "Via") {
            headers.push(name, value);
        }
        headers.push("Server", self.config.user_agent.clone());
        resp.headers = headers;
        resp
    }
}

/// The top Via completed for the response (§18.2.1, RFC 3581 §4): `received` when the
/// source address differs from the sent-by host or `rport` was asked for, `rport` filled in.
pub(super) fn complete_via(via: &str, from: SocketAddr) -> String {
    let wants_rport = param(via, "rport").is_some_and(|v| v.is_empty());
    let sent_by_host = via_sent_by(via).map(|(host, _)| host);
    let host_matches = sent_by_host
        .and_then(|h| h.trim_start_matches('[').trim_end_matches(']').parse().ok())
        .is_some_and(|ip: std::net::IpAddr| ip == from.ip());
    if !wants_rport && (host_matches || param(via, "received").is_some()) {
        return via.to_string();
    }
    let mut parts: Vec<String> = via
        .split(';')
        .map(|p| match p.trim().eq_ignore_ascii_case("rport") {
            true => format!("rport={}", from.port()),
            false => p.to_string(),
        })
        .collect();
    if param(via, "received").is_none() {
        parts.push(format!("received={}", from.ip()));
    }
    parts.join(";")
}

/// The sent-by host and port of a Via (`SIP/2.0/UDP host:port;…`).
fn via_sent_by(via: &str) -> Option<(&str, Option<u16>)> {
    let sent_by = via.split(';').next()?.split_whitespace().nth(1)?;
    if let Some(rest) = sent_by.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host, port));
    }
    match sent_by.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok())),
        None => Some((sent_by, None)),
    }
}

/// Where responses to a request go (§18.2.2, RFC 3581): over a stream, back on its
/// connection; over UDP, to the source port with `rport`, else to the source address and the
/// port the top Via names.
pub(super) fn response_peer(req: &Request, from: Peer) -> Peer {
    if from.transport.is_reliable() {
        return from;
    }
    let Some(via) = req.headers.get_all("Via").first().copied() else {
        return from;
    };
    if crate::message::has_param(via, "rport") {
        return from;
    }
    let port = via_sent_by(via).and_then(|(_, p)| p).unwrap_or(5060);
    Peer::udp(SocketAddr::new(from.addr.ip(), port))
}

/// Reason phrases must be one line of printable text.
pub(super) fn reason_phrase(why: &str) -> String {
    let clean: String = why.chars().filter(|c| !c.is_control()).take(100).collect();
    format!("Bad Request ({clean})")
}

/// Builds a 400 for a request whose parse failed, if enough headers can be found to address it.
pub(super) fn salvage_bad_request(data: &[u8], why: &str) -> Option<Response> {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next()?;
    if first.starts_with("SIP/") || first.starts_with("ACK ") || !first.ends_with("SIP/2.0") {
        return None;
    }
    let mut headers = Headers::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            let canonical = message::canonical_name(name.trim());
            if matches!(
                canonical.as_str(),
                "Via" | "From" | "To" | "Call-ID" | "CSeq"
            ) {
                headers.push(&canonical, value.trim());
            }
        }
    }
    headers.get("Via")?;
    Some(Response {
        status: 400,
        reason: reason_phrase(why),
        headers,
        body: Vec::new(),
    })
}
