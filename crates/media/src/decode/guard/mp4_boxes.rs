//! The checks of the MP4 boxes symphonia 0.5's isomp4 reader parses, each mirroring what its
//! reader for that box allocates. Containers are followed along the paths symphonia follows
//! (`moov/trak/mdia/minf/stbl/...`); boxes elsewhere only have to fit in their parent.

use super::mp4::{children, name, read_header, MAX_SAMPLE};
use super::{Bytes, Check};

/// A top-level box symphonia parses (see `mp4::parsed`), given its payload.
pub(super) fn check_top_level(kind: &[u8; 4], payload: &[u8]) -> Check<()> {
    match kind {
        b"moov" | b"moof" => container(kind, payload),
        b"meta" => meta(payload),
        b"sidx" => sidx(payload),
        _ => Ok(()),
    }
}

/// The children of a container; those symphonia reads from this parent are checked.
fn container(parent: &[u8; 4], payload: &[u8]) -> Check<()> {
    for child in children(payload) {
        let (kind, body) = child?;
        check_child(parent, &kind, body).map_err(|e| format!("`{}`: {e}", name(&kind)))?;
    }
    Ok(())
}

fn check_child(parent: &[u8; 4], kind: &[u8; 4], body: &[u8]) -> Check<()> {
    match (parent, kind) {
        (b"moov", b"trak" | b"mvex" | b"udta")
        | (b"trak", b"edts" | b"mdia")
        | (b"mdia", b"minf")
        | (b"minf", b"stbl")
        | (b"moof", b"traf") => container(kind, body),
        (b"edts", b"elst") => elst(body),
        (b"mdia", b"hdlr") => hdlr(body),
        (b"stbl", b"stsd") => stsd(body),
        (b"stbl", b"stts") => table(body, 8, "stts"),
        (b"stbl", b"stsc") => stsc(body),
        (b"stbl", b"stsz") => stsz(body),
        (b"stbl", b"stco") => table(body, 4, "stco"),
        (b"stbl", b"co64") => table(body, 8, "co64"),
        (b"mvex", b"trex") => trex(body),
        (b"udta", b"meta") => meta(body),
        (b"traf", b"tfhd") => tfhd(body),
        (b"traf", b"trun") => trun(body),
        _ => Ok(()),
    }
}

/// A full box's version and flags, and the bytes after them.
fn full_box(body: &[u8]) -> Check<(u8, u32, Bytes<'_>)> {
    let mut r = Bytes::new(body);
    let vf = r.u32("the version and flags")?;
    Ok(((vf >> 24) as u8, vf & 0x00ff_ffff, r))
}

/// `count` entries of `entry` bytes must be in the rest of the box.
fn entries<'a>(r: &mut Bytes<'a>, count: u64, entry: u64, what: &str) -> Check<&'a [u8]> {
    let need = count.saturating_mul(entry);
    if need > r.left() as u64 {
        return Err(format!(
            "{what} declares {count} entries ({need} bytes) but its box holds {} bytes of them",
            r.left()
        ));
    }
    r.take(need as usize, what)
}

/// A version-0 table box: a 32-bit count, then the entries.
fn table(body: &[u8], entry: u64, what: &str) -> Check<()> {
    let (_, _, mut r) = full_box(body)?;
    let count = r.u32("the entry count")?;
    entries(&mut r, u64::from(count), entry, what).map(|_| ())
}

fn sample_size(size: u32, what: &str) -> Check<()> {
    if u64::from(size) > MAX_SAMPLE {
        return Err(format!(
            "{what} of {size} bytes (more than {} MiB)",
            MAX_SAMPLE >> 20
        ));
    }
    Ok(())
}

/// Sample-to-chunk: 12-byte entries; chunks count from 1 (symphonia subtracts 1).
fn stsc(body: &[u8]) -> Check<()> {
    let (_, _, mut r) = full_box(body)?;
    let count = r.u32("the entry count")?;
    let table = entries(&mut r, u64::from(count), 12, "stsc")?;
    if table.chunks_exact(12).any(|e| e[..4] == [0, 0, 0, 0]) {
        return Err("an stsc entry starts at chunk 0 (chunks count from 1)".into());
    }
    Ok(())
}

/// Sample sizes: one for all, or a table of `count` 32-bit sizes.
fn stsz(body: &[u8]) -> Check<()> {
    let (_, _, mut r) = full_box(body)?;
    let size = r.u32("the sample size")?;
    let count = r.u32("the sample count")?;
    if size != 0 {
        return sample_size(size, "a constant sample size");
    }
    let table = entries(&mut r, u64::from(count), 4, "stsz")?;
    for e in table.chunks_exact(4) {
        sample_size(u32::from_be_bytes([e[0], e[1], e[2], e[3]]), "a sample")?;
    }
    Ok(())
}

/// Edit list: 12-byte entries in version 0, 20-byte in version 1.
fn elst(body: &[u8]) -> Check<()> {
    let (version, _, mut r) = full_box(body)?;
    let count = r.u32("the entry count")?;
    let entry = match version {
        0 => 12,
        1 => 20,
        // Symphonia refuses other versions at the first entry.
        _ if count == 0 => return Ok(()),
        v => return Err(format!("elst version {v} (0 or 1)")),
    };
    entries(&mut r, u64::from(count), entry, "elst").map(|_| ())
}

/// Handler: symphonia reads the name as the box length minus 24.
fn hdlr(body: &[u8]) -> Check<()> {
    if body.len() < 24 {
        return Err(format!("hdlr of {} bytes (at least 24)", body.len()));
    }
    Ok(())
}

/// Sample descriptions: symphonia reads only the first entry, and only when there is one.
fn stsd(body: &[u8]) -> Check<()> {
    let (_, _, mut r) = full_box(body)?;
    let count = r.u32("the entry count")?;
    if count != 1 {
        // Symphonia refuses the file (none, or more than it supports) before reading an entry.
        return Ok(());
    }
    let rest = &body[r.pos..];
    let Some(header) = read_header(rest)? else {
        return Err("the sample entry's header runs past the end of stsd".into());
    };
    let Some(size) = header.size else {
        return Err("the sample entry has size 0".into());
    };
    if size > rest.len() as u64 {
        return Err(format!(
            "the sample entry declares {size} bytes where stsd has {} left",
            rest.len()
        ));
    }
    let entry = &rest[header.header_len..size as usize];
    audio_entry(&header.kind, entry)
        .map_err(|e| format!("sample entry `{}`: {e}", name(&header.kind)))
}

/// The sample entry types symphonia reads as audio.
const AUDIO_ENTRIES: [&[u8; 4]; 16] = [
    b"mp4a", b".mp3", b"alac", b"fLaC", b"Opus", b"lpcm", b"wave", b"alaw", b"ulaw", b"raw ",
    b"sowt", b"twos", b"in24", b"in32", b"fl32", b"fl64",
];

/// An audio sample entry: fixed fields whose length depends on the version, then boxes.
fn audio_entry(kind: &[u8; 4], entry: &[u8]) -> Check<()> {
    if !AUDIO_ENTRIES.contains(&kind) {
        return Ok(());
    }
    let mut r = Bytes::new(entry);
    r.take(8, "the reserved fields")?;
    let fixed = match r.u16("the version")? {
        0 => 28,
        1 => 44,
        2 => 64,
        // Symphonia refuses other versions before reading further.
        _ => return Ok(()),
    };
    if entry.len() < fixed {
        return Err(format!(
            "{} bytes where its version needs {fixed}",
            entry.len()
        ));
    }
    for child in children(&entry[fixed..]) {
        let (kind, body) = child?;
        match &kind {
            b"esds" => esds(body)?,
            b"wave" => {
                for inner in children(body) {
                    let (kind, body) = inner?;
                    if &kind == b"esds" {
                        esds(body)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Elementary stream descriptors (MPEG-4 Systems), read as symphonia reads them: its decoder
/// specific info is a buffer of the descriptor's 28-bit length, allocated before it is read.
fn esds(body: &[u8]) -> Check<()> {
    let (_, _, mut r) = full_box(body).map_err(|e| format!("esds: {e}"))?;
    let end = body.len();
    let mut found = false;
    while end - r.pos > 2 {
        let (tag, len) = descriptor_header(&mut r, end)?;
        if tag == 0x03 {
            es_descriptor(&mut r, len, end)?;
            found = true;
        } else {
            skip(&mut r, len as usize, end)?;
        }
    }
    if !found {
        return Err("esds without an ES descriptor".into());
    }
    Ok(())
}

/// A descriptor's tag and length (1 to 4 bytes of 7 bits), read within `limit`.
fn descriptor_header(r: &mut Bytes<'_>, limit: usize) -> Check<(u8, u32)> {
    let tag = byte(r, limit)?;
    let mut len = 0u32;
    for _ in 0..4 {
        let b = byte(r, limit)?;
        len = len << 7 | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((tag, len))
}

fn byte(r: &mut Bytes<'_>, limit: usize) -> Check<u8> {
    if r.pos >= limit {
        return Err("a descriptor runs past the end of esds".into());
    }
    r.u8("a descriptor")
}

fn skip(r: &mut Bytes<'_>, n: usize, limit: usize) -> Check<()> {
    if n > limit.saturating_sub(r.pos) {
        return Err(format!(
            "a descriptor of {n} bytes runs past the end of esds"
        ));
    }
    r.pos += n;
    Ok(())
}

/// ES_Descriptor: symphonia reads its optional fields, then takes the next `len - 3` bytes as
/// the scope of its sub-descriptors (whatever the optional fields took).
fn es_descriptor(r: &mut Bytes<'_>, len: u32, outer: usize) -> Check<()> {
    skip(r, 2, outer)?;
    let flags = byte(r, outer)?;
    if flags & 0x80 != 0 {
        skip(r, 2, outer)?;
    }
    if flags & 0x40 != 0 {
        let url = byte(r, outer)?;
        skip(r, usize::from(url), outer)?;
    }
    if flags & 0x20 != 0 {
        skip(r, 2, outer)?;
    }
    let Some(scope) = len.checked_sub(3) else {
        return Err(format!("an ES descriptor of {len} bytes (at least 3)"));
    };
    let scope_end = r.pos.saturating_add(scope as usize);
    let limit = scope_end.min(outer);
    while scope_end.saturating_sub(r.pos) > 2 {
        let (tag, len) = descriptor_header(r, limit)?;
        match tag {
            0x04 => decoder_config(r, len, limit)?,
            // SLConfigDescriptor: symphonia reads one byte of it and goes on from there.
            0x06 => skip(r, 1, limit)?,
            _ => skip(r, len as usize, limit)?,
        }
    }
    // The rest of the scope is skipped.
    skip(r, scope_end.saturating_sub(r.pos), outer)
}

/// DecoderConfigDescriptor: 13 bytes of fields, then sub-descriptors in `len - 13` bytes; a
/// DecoderSpecificInfo among them must fit in what is left of the box.
fn decoder_config(r: &mut Bytes<'_>, len: u32, outer: usize) -> Check<()> {
    skip(r, 13, outer)?;
    let Some(scope) = len.checked_sub(13) else {
        return Err(format!(
            "a decoder config descriptor of {len} bytes (at least 13)"
        ));
    };
    let scope_end = r.pos.saturating_add(scope as usize);
    let limit = scope_end.min(outer);
    while scope_end.saturating_sub(r.pos) > 2 {
        let (tag, len) = descriptor_header(r, limit)?;
        skip(r, len as usize, limit).map_err(|_| {
            if tag == 0x05 {
                format!("decoder specific info of {len} bytes runs past the end of esds")
            } else {
                format!("a descriptor of {len} bytes runs past the end of esds")
            }
        })?;
    }
    skip(r, scope_end.saturating_sub(r.pos), outer)
}

/// Metadata: version and flags, then boxes; `ilst` holds the tags.
fn meta(body: &[u8]) -> Check<()> {
    let (_, _, r) = full_box(body)?;
    for child in children(&body[r.pos..]) {
        let (kind, body) = child?;
        if &kind == b"ilst" {
            ilst(body).map_err(|e| format!("`ilst`: {e}"))?;
        }
    }
    Ok(())
}

/// Tags: each item holds `data` boxes (version, flags, 4 bytes, then the value) and, for
/// free-form tags, `mean` and `name` (version, flags, then the text); symphonia reads each
/// value as the box length minus those fields.
fn ilst(body: &[u8]) -> Check<()> {
    for item in children(body) {
        let (item_kind, item_body) = item?;
        for part in children(item_body) {
            let (kind, body) = part?;
            let least = match &kind {
                b"data" => 8,
                b"mean" | b"name" => 4,
                _ => 0,
            };
            if body.len() < least {
                return Err(format!(
                    "`{}` in tag `{}` has {} bytes (at least {least})",
                    name(&kind),
                    name(&item_kind),
                    body.len()
                ));
            }
        }
    }
    Ok(())
}

/// Track extends: default sample size among fixed fields.
fn trex(body: &[u8]) -> Check<()> {
    let (_, _, mut r) = full_box(body)?;
    r.take(12, "trex")?;
    sample_size(r.u32("trex")?, "a default sample size")
}

/// Track fragment header: optional fields by flag, among them a default sample size.
fn tfhd(body: &[u8]) -> Check<()> {
    let (_, flags, mut r) = full_box(body)?;
    r.take(4, "the track id")?;
    if flags & 0x01 != 0 {
        r.take(8, "the base data offset")?;
    }
    if flags & 0x02 != 0 {
        r.take(4, "the sample description index")?;
    }
    if flags & 0x08 != 0 {
        r.take(4, "the default sample duration")?;
    }
    if flags & 0x10 != 0 {
        sample_size(r.u32("the default sample size")?, "a default sample size")?;
    }
    if flags & 0x20 != 0 {
        r.take(4, "the default sample flags")?;
    }
    Ok(())
}

/// Track fragment run: a count, optional fields, then per sample the fields its flags name.
fn trun(body: &[u8]) -> Check<()> {
    let (_, flags, mut r) = full_box(body)?;
    let count = r.u32("the sample count")?;
    if flags & 0x001 != 0 {
        r.take(4, "the data offset")?;
    }
    if flags & 0x004 != 0 {
        r.take(4, "the first sample's flags")?;
    }
    let fields = (flags & 0xf00).count_ones() as u64;
    if fields == 0 {
        return Ok(());
    }
    let table = entries(&mut r, u64::from(count), 4 * fields, "trun")?;
    if flags & 0x200 != 0 {
        // The size is the second field when durations are present.
        let at = if flags & 0x100 != 0 { 4 } else { 0 };
        for e in table.chunks_exact(4 * fields as usize) {
            sample_size(
                u32::from_be_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]),
                "a sample",
            )?;
        }
    }
    Ok(())
}

/// Segment index: fixed fields by version, then 12-byte references.
fn sidx(body: &[u8]) -> Check<()> {
    let (version, _, mut r) = full_box(body)?;
    r.take(8, "sidx")?;
    match version {
        0 => r.take(8, "sidx")?,
        1 => r.take(16, "sidx")?,
        v => return Err(format!("sidx version {v} (0 or 1)")),
    };
    r.take(2, "sidx")?;
    let count = r.u16("the reference count")?;
    entries(&mut r, u64::from(count), 12, "sidx").map(|_| ())
}
