//! MP4 (ISO BMFF) pre-validation: the box tree, walked as symphonia's isomp4 reader walks it.
//!
//! Symphonia reads box contents straight from the stream: a table's count is trusted
//! (`Vec::with_capacity(count)` before reading a single entry) and a size field minus a constant
//! is trusted as a buffer length (underflowing into 2^64 for a box shorter than the constant).
//! Here every box must fit in its parent and in the file, a nested box may not have size 0
//! ("to the end", which symphonia then reads as an empty box while reading its fields from what
//! follows), and the boxes symphonia parses are checked in `mp4_boxes.rs`: each count-driven
//! table fits in its box, each length symphonia subtracts from fits, and sample sizes (buffers
//! symphonia allocates before reading a sample) are at most [`MAX_SAMPLE`]. Every allocation
//! symphonia makes from the file is then bounded by the bytes of the box it reads, or by
//! `MAX_SAMPLE`.
//!
//! Top-level boxes are checked one at a time as they arrive. The ones symphonia parses (`ftyp`,
//! `moov`, `moof`, `meta`, `sidx`) are shown to it only once complete and valid; others (`mdat`,
//! `free`, unknown) are shown as they arrive, since it only skips them or reads samples from them.

use super::mp4_boxes::check_top_level;
use super::{Check, End, Verdict};

/// Largest sample (packet) symphonia may be told to allocate: 64 MiB. An AAC frame is at most
/// 6144 bits per channel; FLAC frames in MP4 are a few hundred KB at most.
pub(super) const MAX_SAMPLE: u64 = 64 << 20;

/// A box header: its type, and where its payload lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BoxHeader {
    pub(super) kind: [u8; 4],
    /// 8, or 16 with a 64-bit size.
    pub(super) header_len: usize,
    /// The whole box, header included; `None`: size 0, to the end of the file.
    pub(super) size: Option<u64>,
}

/// The header at the start of `data`; `Ok(None)` if `data` is shorter than the header.
pub(super) fn read_header(data: &[u8]) -> Check<Option<BoxHeader>> {
    if data.len() < 8 {
        return Ok(None);
    }
    let size32 = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let kind = [data[4], data[5], data[6], data[7]];
    let (header_len, size) = match size32 {
        0 => (8, None),
        1 => {
            if data.len() < 16 {
                return Ok(None);
            }
            let mut large = [0u8; 8];
            large.copy_from_slice(&data[8..16]);
            (16, Some(u64::from_be_bytes(large)))
        }
        n => (8, Some(u64::from(n))),
    };
    if let Some(size) = size {
        if size < header_len as u64 {
            return Err(format!(
                "box `{}` declares {size} bytes, less than its {header_len}-byte header",
                name(&kind)
            ));
        }
    }
    Ok(Some(BoxHeader {
        kind,
        header_len,
        size,
    }))
}

/// A box type for messages (`©nam` and the like are not ASCII).
pub(super) fn name(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// The boxes inside a container's payload, each `(type, payload)`; they must fill it exactly.
pub(super) fn children(payload: &[u8]) -> Children<'_> {
    Children { rest: payload }
}

pub(super) struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Check<([u8; 4], &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let result = match read_header(self.rest) {
            Ok(Some(BoxHeader {
                kind,
                header_len,
                size: Some(size),
            })) => {
                if size > self.rest.len() as u64 {
                    Err(format!(
                        "box `{}` declares {size} bytes where its parent has {} left",
                        name(&kind),
                        self.rest.len()
                    ))
                } else {
                    let (this, rest) = self.rest.split_at(size as usize);
                    self.rest = rest;
                    Ok((kind, &this[header_len..]))
                }
            }
            Ok(Some(BoxHeader { kind, .. })) => Err(format!(
                "box `{}` inside another box has size 0 (\"to the end of the file\")",
                name(&kind)
            )),
            Ok(None) => Err(format!(
                "{} stray bytes at the end of a box, too few for a box header",
                self.rest.len()
            )),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.rest = &[];
        }
        Some(result)
    }
}

/// Top-level boxes symphonia parses rather than skips.
fn parsed(kind: &[u8; 4]) -> bool {
    matches!(kind, b"ftyp" | b"moov" | b"moof" | b"meta" | b"sidx")
}

/// The incremental top-level walk; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Mp4Guard {
    /// Start of the first top-level box not yet passed.
    next: usize,
    /// Set once the file has been cut short: where, and why.
    ended: Option<(usize, End)>,
}

impl Mp4Guard {
    pub(crate) fn check(&mut self, data: &[u8], complete: bool) -> Verdict {
        loop {
            if let Some((at, end)) = &self.ended {
                return Verdict {
                    visible: *at,
                    end: Some(end.clone()),
                };
            }
            let at = self.next;
            let rest = &data[at.min(data.len())..];
            if rest.is_empty() {
                return open(data.len());
            }
            let header = match read_header(rest) {
                Ok(Some(h)) => h,
                // A few bytes after the last box: the file was cut inside a box header.
                Ok(None) if complete => {
                    self.ended = Some((at, End::Cut));
                    continue;
                }
                Ok(None) => return open(at),
                Err(e) => {
                    self.ended = Some((at, End::Corrupt(e)));
                    continue;
                }
            };
            let box_end = match header.size {
                Some(size) => (at as u64).saturating_add(size),
                None if complete => data.len() as u64,
                None => u64::MAX,
            };
            if !parsed(&header.kind) {
                if box_end > data.len() as u64 {
                    // Media data still arriving (or cut): symphonia reads samples from it.
                    return open(data.len());
                }
                self.next = box_end as usize;
                continue;
            }
            if header.size.is_none() {
                let why = format!(
                    "top-level box `{}` has size 0, which symphonia reads as empty while taking its fields from the bytes after it",
                    name(&header.kind)
                );
                self.ended = Some((at, End::Corrupt(why)));
                continue;
            }
            if box_end > data.len() as u64 {
                if !complete {
                    // Shown only once whole.
                    return open(at);
                }
                let end = match &header.kind {
                    b"moov" | b"ftyp" => End::Corrupt(format!(
                        "the `{}` box is cut short: the file is truncated",
                        name(&header.kind)
                    )),
                    _ => End::Cut,
                };
                self.ended = Some((at, end));
                continue;
            }
            let payload = &rest[header.header_len..box_end as usize - at];
            if let Err(e) = check_top_level(&header.kind, payload) {
                let why = format!("in `{}`: {e}", name(&header.kind));
                self.ended = Some((at, End::Corrupt(why)));
                continue;
            }
            self.next = box_end as usize;
        }
    }
}

fn open(visible: usize) -> Verdict {
    Verdict { visible, end: None }
}
