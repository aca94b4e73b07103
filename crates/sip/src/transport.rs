//! Transports (RFC 3261 §18): which one a message came on or must leave on, and the framer
//! that cuts a TCP byte stream into messages by their Content-Length (§18.3).
//!
//! A stream connection is named by the remote address it is connected to: the driver keeps
//! one connection per remote address, so a response to a request that came over TCP leaves
//! on that same connection (§18.2.2), and a new request to a peer reuses it.

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
}

impl Transport {
    /// The protocol token of a Via header (`SIP/2.0/UDP`).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// Reliable transports need no retransmissions below the transaction user (§17.1.1.2).
    pub fn is_reliable(self) -> bool {
        self == Transport::Tcp
    }

    /// The `;transport=` URI parameter value, `None` for UDP (the default).
    pub fn uri_param(self) -> Option<&'static str> {
        match self {
            Transport::Udp => None,
            Transport::Tcp => Some("tcp"),
        }
    }

    /// The transport a URI or Via asks for (`;transport=tcp`), UDP when none is named.
    pub fn from_uri(uri: &str) -> Transport {
        let wants_tcp = uri.split(';').skip(1).any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("transport") && v.trim().eq_ignore_ascii_case("tcp")
            })
        });
        if wants_tcp {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }
}

/// Where a message came from or goes to: an address and the transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub addr: SocketAddr,
    pub transport: Transport,
}

impl Peer {
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            transport: Transport::Udp,
        }
    }

    pub fn tcp(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            transport: Transport::Tcp,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("message larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("invalid Content-Length: {0:?}")]
    ContentLength(String),
}

/// Cuts a stream into SIP messages. Feed it whatever a read returned; take messages out until
/// it has none. After an error the connection must be closed: the stream position is lost.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    max: usize,
}

/// The largest message a stream connection may carry unless configured otherwise.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;

impl StreamFramer {
    pub fn new(max_message: usize) -> Self {
        StreamFramer {
            buf: Vec::new(),
            max: max_message,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        // CRLF keep-alives (RFC 5626 §3.5.1) between messages carry nothing.
        let skip = self
            .buf
            .iter()
            .position(|b| *b != b'\r' && *b != b'\n')
            .unwrap_or(self.buf.len());
        self.buf.drain(..skip);
        if self.buf.is_empty() {
            return Ok(None);
        }
        let Some(head_end) = find(&self.buf, b"\r\n\r\n")
            .map(|i| i + 4)
            .or_else(|| find(&self.buf, b"\n\n").map(|i| i + 2))
        else {
            if self.buf.len() > self.max {
                return Err(FrameError::TooLarge { max: self.max });
            }
            return Ok(None);
        };
        let body_len = content_length(&self.buf[..head_end])?;
        let total = head_end
            .checked_add(body_len)
            .filter(|t| *t <= self.max)
            .ok_or(FrameError::TooLarge { max: self.max })?;
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }

    /// Bytes received but not yet part of a whole message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The Content-Length of a header section; a stream message without one has no body
/// (lenient: §18.3 requires it, but sloppy peers omit it on bodiless requests).
fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    let text = String::from_utf8_lossy(head);
    for line in text.split('\n') {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            let value = value.trim();
            return value
                .parse()
                .map_err(|_| FrameError::ContentLength(value.chars().take(40).collect()));
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nbody";

    #[test]
    fn frames_back_to_back_messages_and_skips_keepalives() {
        let mut f = StreamFramer::new(DEFAULT_MAX_MESSAGE);
        f.push(b"\r\n\r\n");
        f.push(MSG);
        f.push(b"\r\n");
        f.push(MSG);
        assert_eq!(f.next_message().unwrap().as_deref(), Some(MSG));
        assert_eq!(f.next_message().unwrap().as_deref(), Some(MSG));
        assert_eq!(f.next_message().unwrap(), None);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn waits_for_the_whole_body() {
        let mut f = StreamFramer::new(DEFAULT_MAX_MESSAGE);
        f.push(&MSG[..MSG.len() - 2]);
        assert_eq!(f.next_message().unwrap(), None);
        f.push(&MSG[MSG.len() - 2..]);
        assert_eq!(f.next_message().unwrap().as_deref(), Some(MSG));
    }

    #[test]
    fn oversized_and_garbage_lengths_are_errors() {
        let mut f = StreamFramer::new(100);
        f.push(b"INVITE sip:a SIP/2.0\r\nContent-Length: 1000\r\n\r\n");
        assert_eq!(f.next_message(), Err(FrameError::TooLarge { max: 100 }));
        let mut f = StreamFramer::new(100);
        f.push(&[b'A'; 200]);
        assert_eq!(f.next_message(), Err(FrameError::TooLarge { max: 100 }));
        let mut f = StreamFramer::new(1000);
        f.push(b"BYE sip:a SIP/2.0\r\nl: -1\r\n\r\n");
        assert!(matches!(
            f.next_message(),
            Err(FrameError::ContentLength(_))
        ));
        let mut f = StreamFramer::new(1000);
        f.push(b"BYE sip:a SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert!(f.next_message().is_err());
    }

    #[test]
    fn transport_of_a_uri() {
        assert_eq!(Transport::from_uri("sip:a@b;transport=TCP"), Transport::Tcp);
        assert_eq!(Transport::from_uri("sip:a@b"), Transport::Udp);
    }
}
