//! Ogg pre-validation: pages read and packets put together exactly as symphonia 0.5's Ogg
//! reader does, so that every header packet its stream mappers will parse is checked first.
//!
//! Pages: capture pattern (searched for, as symphonia resynchronises), version 0, no unknown
//! flags, segment table and body present, CRC. A page failing any of these is skipped as
//! symphonia skips it. Packets: per logical stream, with symphonia's rules for continued
//! packets, page sequence gaps and its 16 MiB packet limit. Streams are identified by the first
//! packet of their first page: Vorbis (whose identification header is then checked), Opus or
//! FLAC. Checked packets: Vorbis comment and setup headers (`vorbis.rs`, `comment.rs`), Opus
//! tags, and FLAC comment and picture blocks. Audio packets are counted, not copied.

use super::comment::{check_comments, check_picture};
use super::vorbis::{self, Ident};
use super::{Check, End, Verdict};
use std::collections::BTreeMap;

/// Symphonia's limit on a packet spread over pages.
const MAX_PACKET: usize = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vorbis(Ident),
    Opus,
    Flac,
    Other,
}

/// A packet begun on an earlier page.
#[derive(Debug)]
enum Partial {
    /// A header packet, kept whole to be checked.
    Kept(Vec<u8>),
    /// An audio packet: only its length.
    Counted(usize),
}

impl Partial {
    fn len(&self) -> usize {
        match self {
            Partial::Kept(v) => v.len(),
            Partial::Counted(n) => *n,
        }
    }
}

#[derive(Debug)]
struct Stream {
    kind: Kind,
    last_sequence: Option<u32>,
    partial: Option<Partial>,
}

/// The incremental page walk; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct OggGuard {
    /// Where the search for the next page starts: everything before it has been handled
    /// (pages checked, or bytes symphonia skips too).
    pos: usize,
    streams: BTreeMap<u32, Stream>,
    /// The last page read began a logical stream (a run of these begins a physical stream).
    after_first_page: bool,
    ended: Option<(usize, End)>,
}

/// A page's header fields that matter here.
struct Page<'a> {
    first: bool,
    continued: bool,
    serial: u32,
    sequence: u32,
    lacing: &'a [u8],
    body: &'a [u8],
}

enum Found<'a> {
    Page(Page<'a>, usize),
    /// Not a page (bad header or CRC): the search goes on from here.
    Skip(usize),
    /// The page (or the search) needs bytes that are not here.
    Short,
}

impl OggGuard {
    pub(crate) fn check(&mut self, data: &[u8], complete: bool) -> Verdict {
        loop {
            if let Some((at, end)) = &self.ended {
                return Verdict {
                    visible: *at,
                    end: Some(end.clone()),
                };
            }
            let Some(start) = find_capture(data, self.pos) else {
                // Bytes that hold no page: symphonia searches through them.
                if complete {
                    return open(data.len());
                }
                // The last three bytes may begin a capture pattern.
                self.pos = data.len().saturating_sub(3).max(self.pos);
                return open(self.pos);
            };
            match read_page(data, start) {
                Found::Page(page, end) => {
                    if let Err(e) = self.page(&page) {
                        self.ended = Some((start, End::Corrupt(e)));
                        continue;
                    }
                    self.pos = end;
                }
                Found::Skip(next) => self.pos = next,
                Found::Short if complete => self.ended = Some((start, End::Cut)),
                Found::Short => {
                    self.pos = start;
                    return open(start);
                }
            }
        }
    }

    /// One valid page, as symphonia's `OggReader` and `LogicalStream::read_page` take it.
    fn page(&mut self, page: &Page<'_>) -> Check<()> {
        let packets = split(page.lacing, page.body);
        if page.first {
            // A run of first pages starts a physical stream: the streams before it are gone.
            if !self.after_first_page {
                self.streams.clear();
            }
            self.after_first_page = true;
            // Only the page's first complete packet is read, to tell the stream's codec.
            let kind = match packets.complete.first() {
                Some(p) => identify(p)?,
                None => Kind::Other,
            };
            self.streams.insert(
                page.serial,
                Stream {
                    kind,
                    last_sequence: None,
                    partial: None,
                },
            );
            return Ok(());
        }
        self.after_first_page = false;
        let Some(stream) = self.streams.get_mut(&page.serial) else {
            return Ok(());
        };
        if let Some(last) = stream.last_sequence {
            if page.sequence < last || page.sequence - last > 1 {
                stream.partial = None;
            }
        }
        stream.last_sequence = Some(page.sequence);
        if !page.continued {
            stream.partial = None;
        }
        let mut complete = packets.complete.iter();
        if page.continued && stream.partial.is_none() {
            if complete.len() == 0 {
                return Ok(());
            }
            // The end of a packet whose start was lost.
            complete.next();
        }
        for chunk in complete {
            match stream.partial.take() {
                Some(Partial::Kept(mut start)) => {
                    start.extend_from_slice(chunk);
                    check_packet(stream.kind, &start)?;
                }
                Some(Partial::Counted(_)) => {}
                None => {
                    if interesting(stream.kind, chunk) {
                        check_packet(stream.kind, chunk)?;
                    }
                }
            }
        }
        if let Some(chunk) = packets.unfinished {
            let so_far = stream.partial.as_ref().map_or(0, Partial::len);
            if so_far + chunk.len() > MAX_PACKET {
                return Err(format!("a packet of more than {} MiB", MAX_PACKET >> 20));
            }
            stream.partial = Some(match stream.partial.take() {
                Some(Partial::Kept(mut start)) => {
                    start.extend_from_slice(chunk);
                    Partial::Kept(start)
                }
                Some(Partial::Counted(n)) => Partial::Counted(n + chunk.len()),
                None if interesting(stream.kind, chunk) => Partial::Kept(chunk.to_vec()),
                None => Partial::Counted(chunk.len()),
            });
        }
        Ok(())
    }
}

fn open(visible: usize) -> Verdict {
    Verdict { visible, end: None }
}

fn find_capture(data: &[u8], from: usize) -> Option<usize> {
    data.get(from..)?
        .windows(4)
        .position(|w| w == b"OggS")
        .map(|i| from + i)
}

/// The page whose capture pattern is at `start`.
fn read_page(data: &[u8], start: usize) -> Found<'_> {
    let Some(header) = data.get(start..start + 27) else {
        return Found::Short;
    };
    if header[4] != 0 || header[5] & 0xf8 != 0 {
        // Symphonia has read the whole header by then.
        return Found::Skip(start + 27);
    }
    let segments = usize::from(header[26]);
    let Some(lacing) = data.get(start + 27..start + 27 + segments) else {
        return Found::Short;
    };
    let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let end = start + 27 + segments + body_len;
    let Some(page) = data.get(start..end) else {
        return Found::Short;
    };
    let stored = u32::from_le_bytes([header[22], header[23], header[24], header[25]]);
    if crc(page) != stored {
        // Symphonia searches again right after the capture pattern.
        return Found::Skip(start + 4);
    }
    let field = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    Found::Page(
        Page {
            first: header[5] & 0x02 != 0,
            continued: header[5] & 0x01 != 0,
            serial: field(14),
            sequence: field(18),
            lacing,
            body: &page[27 + segments..],
        },
        end,
    )
}

struct Packets<'a> {
    /// Packets (or ends of packets) finished on this page.
    complete: Vec<&'a [u8]>,
    /// A packet going on to the next page.
    unfinished: Option<&'a [u8]>,
}

/// Splits a page body by its lacing values: a value below 255 ends a packet.
fn split<'a>(lacing: &[u8], body: &'a [u8]) -> Packets<'a> {
    let mut complete = Vec::new();
    let (mut start, mut at) = (0, 0);
    for &l in lacing {
        at += usize::from(l);
        if l < 255 {
            complete.push(&body[start..at]);
            start = at;
        }
    }
    let unfinished = (at > start).then(|| &body[start..at]);
    Packets {
        complete,
        unfinished,
    }
}

/// A stream's codec from its first packet, as symphonia's mappers detect it (FLAC first).
fn identify(packet: &[u8]) -> Check<Kind> {
    Ok(if packet.starts_with(b"\x7fFLAC") {
        Kind::Flac
    } else if packet.starts_with(b"\x01vorbis") {
        Kind::Vorbis(vorbis::check_ident(packet).map_err(|e| format!("Vorbis {e}"))?)
    } else if packet.starts_with(b"OpusHead") {
        Kind::Opus
    } else {
        Kind::Other
    })
}

/// Whether a packet starting with `head` is one the stream's mapper parses as a header.
fn interesting(kind: Kind, head: &[u8]) -> bool {
    let Some(&first) = head.first() else {
        return false;
    };
    match kind {
        // Odd packet types are headers; audio packets are even.
        Kind::Vorbis(_) => first & 1 == 1,
        Kind::Opus => first == b'O',
        // 0xff is audio, 0x00 and 0x80 are invalid; the rest are metadata blocks.
        Kind::Flac => !matches!(first, 0xff | 0x00 | 0x80),
        Kind::Other => false,
    }
}

fn check_packet(kind: Kind, packet: &[u8]) -> Check<()> {
    match kind {
        Kind::Vorbis(ident) => match (packet.first(), packet.get(1..7)) {
            (Some(3), Some(b"vorbis")) => {
                check_comments(&packet[7..]).map_err(|e| format!("Vorbis comment header: {e}"))
            }
            (Some(5), Some(b"vorbis")) => {
                vorbis::check_setup(packet, ident).map_err(|e| format!("Vorbis {e}"))
            }
            _ => Ok(()),
        },
        Kind::Opus => match packet.strip_prefix(b"OpusTags") {
            Some(body) => check_comments(body).map_err(|e| format!("Opus tags: {e}")),
            None => Ok(()),
        },
        Kind::Flac => {
            let Some(body) = packet.get(4..) else {
                return Ok(());
            };
            match packet[0] & 0x7f {
                4 => check_comments(body).map_err(|e| format!("FLAC comment block: {e}")),
                6 => check_picture(body).map_err(|e| format!("FLAC picture block: {e}")),
                _ => Ok(()),
            }
        }
        Kind::Other => Ok(()),
    }
}

/// The Ogg CRC-32: polynomial 0x04c11db7, no reflection, initial value and final XOR 0, over
/// the page with its CRC field taken as zeros.
pub(super) fn crc(page: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                r = if r & 0x8000_0000 != 0 {
                    r << 1 ^ 0x04c1_1db7
                } else {
                    r << 1
                };
                bit += 1;
            }
            table[i] = r;
            i += 1;
        }
        table
    };
    page.iter().enumerate().fold(0u32, |crc, (i, &b)| {
        let b = if (22..26).contains(&i) { 0 } else { b };
        crc << 8 ^ TABLE[usize::from((crc >> 24) as u8 ^ b)]
    })
}
