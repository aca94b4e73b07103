//! RTCP packet formats (RFC 3550 §6.4-6.6) and compound packets (§6.1).

/// SDES item type of the canonical name, the only item every report must carry (§6.5.1).
pub const SDES_CNAME: u8 = 1;

const PT_SR: u8 = 200;
const PT_RR: u8 = 201;
const PT_SDES: u8 = 202;
const PT_BYE: u8 = 203;
const REPORT_BLOCK_LEN: usize = 24;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RtcpError {
    #[error("RTCP packet shorter than its 4-byte header")]
    TooShort,
    #[error("RTCP version {0} is not 2")]
    Version(u8),
    #[error("RTCP length field runs past the end of the datagram")]
    Truncated,
    #[error("RTCP packet type {0} has a body too short for its count")]
    Body(u8),
    #[error("padding on an RTCP packet that is not the last of its compound")]
    Padding,
    #[error("empty RTCP datagram")]
    Empty,
}

/// RFC 5761 §4: with rtcp-mux, the second byte tells RTCP (packet types 192-223, seen as RTP
/// payload types 64-95 once the marker bit is masked) from RTP, whose dynamic and static
/// audio types never use that range.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram
        .get(1)
        .is_some_and(|b| (64..=95).contains(&(b & 0x7F)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256ths.
    pub fraction_lost: u8,
    /// 24-bit signed on the wire: duplicates can make it negative.
    pub cumulative_lost: i32,
    pub extended_highest_seq: u32,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR heard from `ssrc`, 0 if none.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP format: seconds since 1900 in the high word, fraction in the low one.
    pub ntp_timestamp: u64,
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: u32,
    pub info: SenderInfo,
    pub reports: Vec<ReportBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverReport {
    pub ssrc: u32,
    pub reports: Vec<ReportBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    pub kind: u8,
    /// UTF-8 by the RFC, but kept as bytes: a peer's bad text is not worth refusing a report.
    pub text: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesChunk {
    pub ssrc: u32,
    pub items: Vec<SdesItem>,
}

impl SdesChunk {
    pub fn cname(ssrc: u32, cname: &str) -> Self {
        SdesChunk {
            ssrc,
            items: vec![SdesItem {
                kind: SDES_CNAME,
                text: cname.as_bytes().to_vec(),
            }],
        }
    }

    pub fn find(&self, kind: u8) -> Option<&[u8]> {
        self.items
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.text.as_slice())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    pub sources: Vec<u32>,
    pub reason: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport(SenderReport),
    ReceiverReport(ReceiverReport),
    SourceDescription(Vec<SdesChunk>),
    Bye(Bye),
    /// APP, feedback (RFC 4585), XR and the rest: carried so a compound still parses.
    Other {
        packet_type: u8,
        count: u8,
        body: Vec<u8>,
    },
}

/// Splits a compound datagram (§6.1) into its packets. A malformed packet fails the whole
/// datagram, as appendix A.2 advises: its length field cannot be trusted to find the next.
/// The first packet is not required to be a report so that reduced-size RTCP (RFC 5506)
/// feedback still parses.
pub fn parse_compound(data: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if data.is_empty() {
        return Err(RtcpError::Empty);
    }
    let mut packets = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let header = rest.get(..4).ok_or(RtcpError::TooShort)?;
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let padded = header[0] & 0x20 != 0;
        let count = header[0] & 0x1F;
        let packet_type = header[1];
        let len = (u16::from_be_bytes([header[2], header[3]]) as usize + 1) * 4;
        let packet = rest.get(..len).ok_or(RtcpError::Truncated)?;
        rest = &rest[len..];
        let mut body = &packet[4..];
        if padded {
            if !rest.is_empty() {
                return Err(RtcpError::Padding);
            }
            let pad = *body.last().ok_or(RtcpError::Body(packet_type))? as usize;
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Body(packet_type));
            }
            body = &body[..body.len() - pad];
        }
        packets.push(parse_one(packet_type, count, body)?);
    }
    Ok(packets)
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn parse_one(packet_type: u8, count: u8, body: &[u8]) -> Result<RtcpPacket, RtcpError> {
    let short = RtcpError::Body(packet_type);
    match packet_type {
        PT_SR => {
            let fixed = body.get(..24).ok_or(short)?;
            let info = SenderInfo {
                ntp_timestamp: (be32(fixed, 4) as u64) << 32 | be32(fixed, 8) as u64,
                rtp_timestamp: be32(fixed, 12),
                packet_count: be32(fixed, 16),
                octet_count: be32(fixed, 20),
            };
            Ok(RtcpPacket::SenderReport(SenderReport {
                ssrc: be32(fixed, 0),
                info,
                reports: report_blocks(&body[24..], count, packet_type)?,
            }))
        }
        PT_RR => {
            let fixed = body.get(..4).ok_or(short)?;
            Ok(RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: be32(fixed, 0),
                reports: report_blocks(&body[4..], count, packet_type)?,
            }))
        }
        PT_SDES => sdes(body, count).map(RtcpPacket::SourceDescription),
        PT_BYE => {
            let n = count as usize * 4;
            let ids = body.get(..n).ok_or(short)?;
            let sources = (0..count as usize).map(|i| be32(ids, i * 4)).collect();
            let reason = match body.get(n) {
                Some(&len) => {
                    let text = body
                        .get(n + 1..n + 1 + len as usize)
                        .ok_or(RtcpError::Body(packet_type))?;
                    Some(text.to_vec())
                }
                None => None,
            };
            Ok(RtcpPacket::Bye(Bye { sources, reason }))
        }
        _ => Ok(RtcpPacket::Other {
            packet_type,
            count,
            body: body.to_vec(),
        }),
    }
}

/// Report blocks; anything after them is a profile-specific extension (§6.4.1), skipped.
fn report_blocks(body: &[u8], count: u8, packet_type: u8) -> Result<Vec<ReportBlock>, RtcpError> {
    let blocks = body
        .get(..count as usize * REPORT_BLOCK_LEN)
        .ok_or(RtcpError::Body(packet_type))?;
    Ok(blocks
        .chunks_exact(REPORT_BLOCK_LEN)
        .map(|b| {
            let lost = be32(b, 4);
            ReportBlock {
                ssrc: be32(b, 0),
                fraction_lost: (lost >> 24) as u8,
                // Sign-extends the 24-bit field.
                cumulative_lost: ((lost << 8) as i32) >> 8,
                extended_highest_seq: be32(b, 8),
                jitter: be32(b, 12),
                last_sr: be32(b, 16),
                delay_since_last_sr: be32(b, 20),
            }
        })
        .collect())
}

fn sdes(body: &[u8], count: u8) -> Result<Vec<SdesChunk>, RtcpError> {
    let short = RtcpError::Body(PT_SDES);
    let mut chunks = Vec::with_capacity(count as usize);
    let mut at = 0;
    for _ in 0..count {
        let ssrc = body.get(at..at + 4).ok_or(short.clone())?;
        let ssrc = be32(ssrc, 0);
        at += 4;
        let mut items = Vec::new();
        loop {
            let kind = *body.get(at).ok_or(short.clone())?;
            if kind == 0 {
                // The null item ends the chunk, which is then padded to a word boundary.
                at = (at + 4) & !3;
                break;
            }
            let len = *body.get(at + 1).ok_or(short.clone())? as usize;
            let text = body.get(at + 2..at + 2 + len).ok_or(short.clone())?;
            items.push(SdesItem {
                kind,
                text: text.to_vec(),
            });
            at += 2 + len;
        }
        chunks.push(SdesChunk { ssrc, items });
    }
    Ok(chunks)
}

/// Appends `packets` to `out` as one compound datagram. Counts beyond what the 5-bit field
/// holds (31 report blocks, chunks or sources) are cut there rather than written wrong.
pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) {
    for packet in packets {
        write_one(packet, out);
    }
}

fn write_one(packet: &RtcpPacket, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0x80, 0, 0, 0]);
    let (packet_type, count) = match packet {
        RtcpPacket::SenderReport(sr) => {
            out.extend_from_slice(&sr.ssrc.to_be_bytes());
            out.extend_from_slice(&sr.info.ntp_timestamp.to_be_bytes());
            out.extend_from_slice(&sr.info.rtp_timestamp.to_be_bytes());
            out.extend_from_slice(&sr.info.packet_count.to_be_bytes());
            out.extend_from_slice(&sr.info.octet_count.to_be_bytes());
            (PT_SR, write_blocks(&sr.reports, out))
        }
        RtcpPacket::ReceiverReport(rr) => {
            out.extend_from_slice(&rr.ssrc.to_be_bytes());
            (PT_RR, write_blocks(&rr.reports, out))
        }
        RtcpPacket::SourceDescription(chunks) => {
            let chunks = &chunks[..chunks.len().min(31)];
            for chunk in chunks {
                out.extend_from_slice(&chunk.ssrc.to_be_bytes());
                for item in &chunk.items {
                    let text = &item.text[..item.text.len().min(255)];
                    out.push(item.kind);
                    out.push(text.len() as u8);
                    out.extend_from_slice(text);
                }
                // At least one zero byte ends the item list, then pad to a word.
                out.push(0);
                while (out.len() - start) & 3 != 0 {
                    out.push(0);
                }
            }
            (PT_SDES, chunks.len() as u8)
        }
        RtcpPacket::Bye(bye) => {
            let sources = &bye.sources[..bye.sources.len().min(31)];
            for s in sources {
                out.extend_from_slice(&s.to_be_bytes());
            }
            if let Some(reason) = &bye.reason {
                let reason = &reason[..reason.len().min(255)];
                out.push(reason.len() as u8);
                out.extend_from_slice(reason);
            }
            (PT_BYE, sources.len() as u8)
        }
        RtcpPacket::Other {
            packet_type,
            count,
            body,
        } => {
            out.extend_from_slice(body);
            (*packet_type, *count & 0x1F)
        }
    };
    while (out.len() - start) & 3 != 0 {
        out.push(0);
    }
    let words = ((out.len() - start) / 4 - 1) as u16;
    out[start] = 0x80 | count;
    out[start + 1] = packet_type;
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

fn write_blocks(blocks: &[ReportBlock], out: &mut Vec<u8>) -> u8 {
    let blocks = &blocks[..blocks.len().min(31)];
    for b in blocks {
        let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0x00FF_FFFF;
        out.extend_from_slice(&b.ssrc.to_be_bytes());
        out.extend_from_slice(&((b.fraction_lost as u32) << 24 | lost).to_be_bytes());
        out.extend_from_slice(&b.extended_highest_seq.to_be_bytes());
        out.extend_from_slice(&b.jitter.to_be_bytes());
        out.extend_from_slice(&b.last_sr.to_be_bytes());
        out.extend_from_slice(&b.delay_since_last_sr.to_be_bytes());
    }
    blocks.len() as u8
}
