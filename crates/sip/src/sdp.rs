//! SDP (RFC 4566) for one audio stream and the offer/answer choice of RFC 3264: the first codec
//! of the offer that we support wins, telephone-event is kept when offered at 8 kHz.

use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    #[error("SDP is not UTF-8")]
    NotUtf8,
    #[error("SDP has no audio media line")]
    NoAudio,
    #[error("malformed media line: {0:?}")]
    MediaLine(String),
    #[error("SDP has no usable connection address")]
    NoConnection,
    #[error("none of the offered codecs is supported (we support PCMU and PCMA)")]
    NoCommonCodec,
}

/// The parts of a remote audio description that matter to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioOffer {
    pub address: IpAddr,
    pub port: u16,
    /// Payload types in the order of the m= line, with their rtpmap (name, rate) when given.
    pub formats: Vec<(u8, Option<(String, u32)>)>,
    pub ptime: Option<u32>,
}

pub fn parse_offer(body: &[u8]) -> Result<AudioOffer, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
    let mut session_addr = None;
    let mut media_addr = None;
    let mut media: Option<(u16, Vec<u8>)> = None;
    let mut rtpmaps: Vec<(u8, String, u32)> = Vec::new();
    let mut ptime = None;
    let mut in_audio = false;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(m) = line.strip_prefix("m=") {
            in_audio = m.starts_with("audio ") && media.is_none();
            if in_audio {
                let mut f = m.split_whitespace().skip(1);
                let port = f
                    .next()
                    .and_then(|p| p.split('/').next()?.parse().ok())
                    .ok_or_else(|| SdpError::MediaLine(m.to_string()))?;
                let _proto = f.next().ok_or_else(|| SdpError::MediaLine(m.to_string()))?;
                let pts = f.filter_map(|p| p.parse().ok()).collect();
                media = Some((port, pts));
            }
        } else if let Some(c) = line.strip_prefix("c=") {
            let addr = c
                .split_whitespace()
                .nth(2)
                .and_then(|a| a.split('/').next()?.parse().ok());
            if media.is_none() {
                session_addr = addr;
            } else if in_audio {
                media_addr = addr;
            }
        } else if let Some(a) = line.strip_prefix("a=") {
            if !in_audio {
                continue;
            }
            if let Some(map) = a.strip_prefix("rtpmap:") {
                let (pt, enc) = map.split_once(' ').unwrap_or((map, ""));
                let mut enc = enc.split('/');
                if let (Ok(pt), Some(name), Some(rate)) = (
                    pt.parse(),
                    enc.next(),
                    enc.next().and_then(|r| r.parse().ok()),
                ) {
                    rtpmaps.push((pt, name.to_string(), rate));
                }
            } else if let Some(p) = a.strip_prefix("ptime:") {
                ptime = p.trim().parse().ok();
            }
        }
    }
    let (port, pts) = media.ok_or(SdpError::NoAudio)?;
    let address = media_addr.or(session_addr).ok_or(SdpError::NoConnection)?;
    let formats = pts
        .into_iter()
        .map(|pt| {
            let map = rtpmaps
                .iter()
                .find(|(p, _, _)| *p == pt)
                .map(|(_, n, r)| (n.clone(), *r));
            (pt, map)
        })
        .collect();
    Ok(AudioOffer {
        address,
        port,
        formats,
        ptime,
    })
}

/// What we agreed to send and receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    pub telephone_event: Option<u8>,
    pub remote_address: IpAddr,
    pub remote_port: u16,
}

pub fn negotiate(offer: &AudioOffer) -> Result<Negotiated, SdpError> {
    let codec = offer
        .formats
        .iter()
        .find_map(|(pt, map)| match (pt, map) {
            (_, Some((name, 8000))) if name.eq_ignore_ascii_case("PCMU") => Some(Codec::Pcmu),
            (_, Some((name, 8000))) if name.eq_ignore_ascii_case("PCMA") => Some(Codec::Pcma),
            (0, None) => Some(Codec::Pcmu),
            (8, None) => Some(Codec::Pcma),
            _ => None,
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event = offer.formats.iter().find_map(|(pt, map)| match map {
        Some((name, 8000)) if name.eq_ignore_ascii_case("telephone-event") => Some(*pt),
        _ => None,
    });
    Ok(Negotiated {
        codec,
        telephone_event,
        remote_address: offer.address,
        remote_port: offer.port,
    })
}

/// Our answer for a negotiated stream, listening on `local` address and `port`.
pub fn answer(neg: &Negotiated, local: IpAddr, port: u16, session_id: u64) -> String {
    let ip_kind = if local.is_ipv4() { "IP4" } else { "IP6" };
    let pt = neg.codec.payload_type();
    let mut fmts = pt.to_string();
    let mut attrs = format!("a=rtpmap:{pt} {}/8000\r\n", neg.codec.name());
    if let Some(te) = neg.telephone_event {
        fmts.push_str(&format!(" {te}"));
        attrs.push_str(&format!(
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
        ));
    }
    format!(
        "v=0\r\no=flexvox {session_id} {session_id} IN {ip_kind} {local}\r\ns=flexvox\r\n\
c=IN {ip_kind} {local}\r\nt=0 0\r\nm=audio {port} RTP/AVP {fmts}\r\n{attrs}a=ptime:20\r\na=sendrecv\r\n"
    )
}

/// Our offer for an outbound call: PCMU, PCMA and telephone-event, listening on `port`.
pub fn offer(local: IpAddr, port: u16, session_id: u64) -> String {
    let ip_kind = if local.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\no=flexvox {session_id} {session_id} IN {ip_kind} {local}\r\ns=flexvox\r\n\
c=IN {ip_kind} {local}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    )
}

/// The media direction attribute (RFC 3264 §5.1, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes to this offered one (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether the side that wrote this direction wants to receive media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// The direction of the first audio stream: its own attribute, else the session's, else
/// sendrecv (RFC 4566 §6).
pub fn direction(body: &[u8]) -> Direction {
    let text = String::from_utf8_lossy(body);
    let (mut session, mut media, mut in_audio, mut seen_audio) = (None, None, false, false);
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(m) = line.strip_prefix("m=") {
            in_audio = m.starts_with("audio ") && !seen_audio;
            seen_audio |= in_audio;
            continue;
        }
        let dir = match line {
            "a=sendrecv" => Direction::SendRecv,
            "a=sendonly" => Direction::SendOnly,
            "a=recvonly" => Direction::RecvOnly,
            "a=inactive" => Direction::Inactive,
            _ => continue,
        };
        if !seen_audio {
            session = Some(dir);
        } else if in_audio {
            media = Some(dir);
        }
    }
    media.or(session).unwrap_or(Direction::SendRecv)
}

/// Our earlier SDP with a new direction and o= version: the answer to a re-offer that keeps
/// the codec and our address (RFC 3264 §8).
pub fn reanswer(previous: &str, dir: Direction, version: u64) -> String {
    let mut out = String::with_capacity(previous.len() + 16);
    let mut wrote_dir = false;
    for line in previous.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if matches!(
            line,
            "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"
        ) {
            if !wrote_dir {
                out.push_str(&format!("a={}\r\n", dir.attribute()));
                wrote_dir = true;
            }
            continue;
        }
        match line.strip_prefix("o=") {
            Some(o) => {
                let mut f: Vec<&str> = o.split(' ').collect();
                let v = version.to_string();
                if f.len() == 6 {
                    f[2] = &v;
                }
                out.push_str(&format!("o={}\r\n", f.join(" ")));
            }
            None => {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
    }
    if !wrote_dir {
        out.push_str(&format!("a={}\r\n", dir.attribute()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 18 8 0 101\r\n\
a=rtpmap:18 G729/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";

    #[test]
    fn picks_the_first_supported_codec_of_the_offer() {
        let offer = parse_offer(OFFER.as_bytes()).unwrap();
        let neg = negotiate(&offer).unwrap();
        assert_eq!(neg.codec, Codec::Pcma);
        assert_eq!(neg.telephone_event, Some(101));
        assert_eq!(neg.remote_port, 6000);
        let ans = answer(&neg, "127.0.0.1".parse().unwrap(), 20000, 7);
        assert!(ans.contains("m=audio 20000 RTP/AVP 8 101\r\n"));
        let again = negotiate(&parse_offer(ans.as_bytes()).unwrap()).unwrap();
        assert_eq!(again.codec, Codec::Pcma);
    }

    #[test]
    fn our_offer_negotiates_with_itself() {
        let o = offer("127.0.0.1".parse().unwrap(), 30000, 1);
        let neg = negotiate(&parse_offer(o.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            (neg.codec, neg.telephone_event, neg.remote_port),
            (Codec::Pcmu, Some(101), 30000)
        );
    }

    #[test]
    fn refuses_offers_without_g711() {
        let offer = parse_offer(
            b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n",
        )
        .unwrap();
        assert_eq!(negotiate(&offer), Err(SdpError::NoCommonCodec));
        assert_eq!(parse_offer(b"v=0\r\n"), Err(SdpError::NoAudio));
    }

    #[test]
    fn hold_offers_are_answered_with_the_reflected_direction() {
        let ans = answer(
            &negotiate(&parse_offer(OFFER.as_bytes()).unwrap()).unwrap(),
            "127.0.0.1".parse().unwrap(),
            20000,
            7,
        );
        let hold = format!("{OFFER}a=sendonly\r\n");
        assert_eq!(direction(hold.as_bytes()), Direction::SendOnly);
        let re = reanswer(&ans, direction(hold.as_bytes()).answer(), 8);
        assert!(re.contains("a=recvonly\r\n") && !re.contains("sendrecv"));
        assert!(re.contains("o=flexvox 7 8 IN IP4 127.0.0.1\r\n"));
        assert_eq!(direction(re.as_bytes()), Direction::RecvOnly);
        let session_level = "v=0\r\na=inactive\r\nm=audio 1 RTP/AVP 0\r\n";
        assert_eq!(direction(session_level.as_bytes()), Direction::Inactive);
        assert_eq!(Direction::Inactive.answer(), Direction::Inactive);
        assert_eq!(direction(OFFER.as_bytes()), Direction::SendRecv);
    }
}
