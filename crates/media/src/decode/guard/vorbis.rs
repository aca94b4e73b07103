//! Vorbis header validation (Vorbis I specification, §4.2 and §3.2.1).
//!
//! Symphonia 0.5's Vorbis decoder builds every codebook of the setup header in memory: tables of
//! `entries` (24 bits) codeword lengths, codewords and lookup slots and, for lookup types 1 and
//! 2, a table of `entries × dimensions` (16 bits) floats, allocated and filled before anything
//! checks that the header could describe that many. A few bytes per codebook ask for gigabytes
//! (2 GB for 2^24 entries of 31 dimensions, up to 256 codebooks; 4 TB for 65535 dimensions):
//! the failed allocation aborts the process, or the OS kills it while the tables are filled.
//! The setup header is parsed here in full, as the decoder parses it, and
//! refused when it ends early (every field and value the counts announce must be in the
//! packet), when a codebook is larger than libvorbis accepts (`ilog(dimensions) +
//! ilog(entries) > 24`), or when all codebooks together exceed [`MAX_ENTRIES`] entries or
//! [`MAX_VQ_VALUES`] lookup values. Its other tables (floors, residues, mappings, modes) have
//! counts of 4 to 8 bits and are checked for consistency only.

use super::Check;

/// Codeword entries over all codebooks of a stream: 256 Ki. Symphonia keeps up to about 260
/// bytes per entry for codeword lengths shaped to make its lookup tables large (measured: 38 MB
/// for 147k entries), so about 70 MB at worst. The test fixture (libvorbis) has 10.5k entries.
pub(super) const MAX_ENTRIES: u64 = 1 << 18;
/// Lookup-table values (`entries × dimensions` for lookup types 1 and 2) over all codebooks:
/// 4 Mi, 16 MiB of floats (plus 8 MiB of read multiplicands for type 2). The fixture has 58k.
/// With both limits reached, symphonia's decoder setup peaks near 100 MB.
pub(super) const MAX_VQ_VALUES: u64 = 1 << 22;

/// What the setup header needs from the identification header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ident {
    pub(super) channels: u8,
}

/// The identification header, a 30-byte packet.
pub(super) fn check_ident(packet: &[u8]) -> Check<Ident> {
    if packet.len() != 30 {
        return Err(format!(
            "identification header of {} bytes (30)",
            packet.len()
        ));
    }
    if packet[0] != 1 || &packet[1..7] != b"vorbis" {
        return Err("identification header without its signature".into());
    }
    if packet[7..11] != [0, 0, 0, 0] {
        return Err("Vorbis version other than 0".into());
    }
    let channels = packet[11];
    if channels == 0 {
        return Err("identification header with 0 channels".into());
    }
    if packet[12..16] == [0, 0, 0, 0] {
        return Err("identification header with a sample rate of 0".into());
    }
    let (bs0, bs1) = (packet[28] & 0x0f, packet[28] >> 4);
    if !(6..=13).contains(&bs0) || !(6..=13).contains(&bs1) || bs0 > bs1 {
        return Err(format!(
            "block sizes 2^{bs0} and 2^{bs1} (each 2^6 to 2^13, the first not above the second)"
        ));
    }
    if packet[29] & 1 == 0 {
        return Err("identification header without its framing bit".into());
    }
    Ok(Ident { channels })
}

/// The headers symphonia hands its Vorbis decoder: the identification header (30 bytes) and
/// the setup header after it (the Ogg reader appends every setup packet it sees; the decoder
/// reads the first and ignores what is left). Checked right before the decoder is built.
pub(crate) fn check_decoder_headers(extra: &[u8]) -> Result<(), String> {
    let ident = check_ident(extra.get(..30).unwrap_or(extra))?;
    check_setup(&extra[30..], ident)
}

/// A setup header packet: type 5, "vorbis", then the bit-packed setup.
pub(super) fn check_setup(packet: &[u8], ident: Ident) -> Check<()> {
    if packet.len() < 7 || packet[0] != 5 || &packet[1..7] != b"vorbis" {
        return Err("setup header without its signature".into());
    }
    let mut b = Bits::new(&packet[7..]);
    setup(&mut b, ident).map_err(|e| format!("setup header: {e}"))
}

fn setup(b: &mut Bits<'_>, ident: Ident) -> Check<()> {
    let mut totals = Totals::default();
    let books = b.read(8)? + 1;
    let mut dimensions = Vec::with_capacity(books as usize);
    for i in 0..books {
        dimensions.push(codebook(b, &mut totals).map_err(|e| format!("codebook {i}: {e}"))?);
    }
    for _ in 0..b.read(6)? + 1 {
        if b.read(16)? != 0 {
            return Err("a time-domain transform other than 0".into());
        }
    }
    let floors = b.read(6)? + 1;
    for i in 0..floors {
        floor(b, books).map_err(|e| format!("floor {i}: {e}"))?;
    }
    let residues = b.read(6)? + 1;
    for i in 0..residues {
        residue(b, &dimensions).map_err(|e| format!("residue {i}: {e}"))?;
    }
    let mappings = b.read(6)? + 1;
    for i in 0..mappings {
        mapping(b, ident, floors, residues).map_err(|e| format!("mapping {i}: {e}"))?;
    }
    for i in 0..b.read(6)? + 1 {
        b.read(1)?;
        if b.read(16)? != 0 || b.read(16)? != 0 {
            return Err(format!("mode {i}: a window or transform type other than 0"));
        }
        if b.read(8)? >= mappings {
            return Err(format!("mode {i}: no such mapping"));
        }
    }
    if b.read(1)? != 1 {
        return Err("no framing bit".into());
    }
    Ok(())
}

#[derive(Default)]
struct Totals {
    entries: u64,
    vq_values: u64,
}

/// `ilog` of the specification: the position of the highest set bit (0 for 0).
fn ilog(x: u32) -> u32 {
    32 - x.leading_zeros()
}

/// One codebook; its dimensions.
fn codebook(b: &mut Bits<'_>, totals: &mut Totals) -> Check<u32> {
    if b.read(24)? != 0x56_4342 {
        return Err("no sync pattern".into());
    }
    let dimensions = b.read(16)?;
    let entries = b.read(24)?;
    if entries == 0 {
        return Err("no entries".into());
    }
    if ilog(dimensions) + ilog(entries) > 24 {
        return Err(format!(
            "{entries} entries of {dimensions} dimensions (libvorbis refuses ilog(dimensions) + ilog(entries) > 24)"
        ));
    }
    totals.entries += u64::from(entries);
    if totals.entries > MAX_ENTRIES {
        return Err(format!(
            "the codebooks hold more than {MAX_ENTRIES} entries in all"
        ));
    }
    if b.read(1)? == 0 {
        if b.read(1)? == 1 {
            // Sparse: a flag per entry, and a 5-bit length for each entry used.
            for _ in 0..entries {
                if b.read(1)? == 1 {
                    b.skip(5)?;
                }
            }
        } else {
            b.skip(5 * u64::from(entries))?;
        }
    } else {
        // Ordered: runs of entries of increasing length.
        let mut length = b.read(5)? + 1;
        let mut entry = 0;
        while entry < entries {
            let run = b.read(ilog(entries - entry))?;
            if run > 0 && length > 32 {
                return Err(format!("codewords of {length} bits (at most 32)"));
            }
            entry += run;
            if entry > entries {
                return Err("more codeword lengths than entries".into());
            }
            length += 1;
        }
    }
    match b.read(4)? {
        0 => Ok(dimensions),
        lookup @ (1 | 2) => {
            if dimensions == 0 {
                return Err("a lookup table of 0 dimensions".into());
            }
            b.skip(32 + 32)?;
            let value_bits = u64::from(b.read(4)? + 1);
            b.skip(1)?;
            let values = if lookup == 1 {
                lookup1_values(entries, dimensions)
            } else {
                u64::from(entries) * u64::from(dimensions)
            };
            totals.vq_values += u64::from(entries) * u64::from(dimensions);
            if totals.vq_values > MAX_VQ_VALUES {
                return Err(format!(
                    "the lookup tables hold more than {MAX_VQ_VALUES} values in all"
                ));
            }
            b.skip(values * value_bits)?;
            Ok(dimensions)
        }
        other => Err(format!("lookup type {other} (0 to 2)")),
    }
}

/// The greatest `r` with `r^dimensions <= entries` (§9.2.3), in integers.
fn lookup1_values(entries: u32, dimensions: u32) -> u64 {
    let fits = |r: u64| {
        if r <= 1 {
            return true;
        }
        let mut acc = 1u64;
        for _ in 0..dimensions {
            acc *= r;
            if acc > u64::from(entries) {
                return false;
            }
        }
        true
    };
    let mut r = (f64::from(entries)).powf(1.0 / f64::from(dimensions)) as u64;
    while r > 0 && !fits(r) {
        r -= 1;
    }
    while fits(r + 1) && r < u64::from(entries) {
        r += 1;
    }
    r
}

fn book_ref(book: u32, books: u32, what: &str) -> Check<()> {
    if book >= books {
        return Err(format!("{what} refers to codebook {book} of {books}"));
    }
    Ok(())
}

fn floor(b: &mut Bits<'_>, books: u32) -> Check<()> {
    match b.read(16)? {
        0 => {
            b.skip(8 + 16 + 16 + 6 + 8)?;
            for _ in 0..b.read(4)? + 1 {
                book_ref(b.read(8)?, books, "the floor")?;
            }
            Ok(())
        }
        1 => {
            let partitions = b.read(5)?;
            let mut classes = Vec::with_capacity(partitions as usize);
            for _ in 0..partitions {
                classes.push(b.read(4)? as usize);
            }
            let class_count = classes.iter().max().map_or(0, |m| m + 1);
            let mut dimensions = [0u32; 16];
            for dims in dimensions.iter_mut().take(class_count) {
                *dims = b.read(3)? + 1;
                let subclass_bits = b.read(2)?;
                if subclass_bits > 0 {
                    book_ref(b.read(8)?, books, "a floor class")?;
                }
                for _ in 0..1u32 << subclass_bits {
                    let book = b.read(8)?;
                    if book > 0 {
                        book_ref(book - 1, books, "a floor subclass")?;
                    }
                }
            }
            b.skip(2)?;
            let range_bits = u64::from(b.read(4)?);
            let points: u32 = classes.iter().map(|&c| dimensions[c]).sum();
            if points + 2 > 65 {
                return Err(format!("{} floor points (at most 65)", points + 2));
            }
            b.skip(u64::from(points) * range_bits)
        }
        other => Err(format!("floor type {other} (0 or 1)")),
    }
}

/// A residue; `dimensions` are the codebooks'. The classbook's dimensions are the partitions
/// per classword, which symphonia steps by (0 would panic).
fn residue(b: &mut Bits<'_>, dimensions: &[u32]) -> Check<()> {
    let books = dimensions.len() as u32;
    let kind = b.read(16)?;
    if kind > 2 {
        return Err(format!("residue type {kind} (0 to 2)"));
    }
    b.skip(24 + 24 + 24)?;
    let classifications = b.read(6)? + 1;
    let classbook = b.read(8)?;
    book_ref(classbook, books, "the classbook")?;
    if dimensions[classbook as usize] == 0 {
        return Err("a classbook of 0 dimensions".into());
    }
    let mut used = 0;
    for _ in 0..classifications {
        let low = b.read(3)?;
        let high = if b.read(1)? == 1 { b.read(5)? } else { 0 };
        used += (high << 3 | low).count_ones();
    }
    for _ in 0..used {
        book_ref(b.read(8)?, books, "a residue book")?;
    }
    Ok(())
}

fn mapping(b: &mut Bits<'_>, ident: Ident, floors: u32, residues: u32) -> Check<()> {
    if b.read(16)? != 0 {
        return Err("a mapping type other than 0".into());
    }
    let submaps = if b.read(1)? == 1 { b.read(4)? + 1 } else { 1 };
    let channels = u32::from(ident.channels);
    if b.read(1)? == 1 {
        let bits = ilog(channels - 1);
        for _ in 0..b.read(8)? + 1 {
            let (magnitude, angle) = (b.read(bits)?, b.read(bits)?);
            if magnitude == angle || magnitude >= channels || angle >= channels {
                return Err("an invalid channel coupling".into());
            }
        }
    }
    if b.read(2)? != 0 {
        return Err("reserved bits set".into());
    }
    if submaps > 1 {
        for _ in 0..channels {
            if b.read(4)? >= submaps {
                return Err("a channel mapped to no submap".into());
            }
        }
    }
    for _ in 0..submaps {
        b.skip(8)?;
        if b.read(8)? >= floors {
            return Err("a submap refers to no floor".into());
        }
        if b.read(8)? >= residues {
            return Err("a submap refers to no residue".into());
        }
    }
    Ok(())
}

/// Reads bits least significant first, as Vorbis packs them.
struct Bits<'a> {
    data: &'a [u8],
    /// Position in bits.
    pos: u64,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    fn left(&self) -> u64 {
        (self.data.len() as u64 * 8).saturating_sub(self.pos)
    }

    fn skip(&mut self, n: u64) -> Check<()> {
        if n > self.left() {
            return Err(format!(
                "needs {n} more bits where {} are left",
                self.left()
            ));
        }
        self.pos += n;
        Ok(())
    }

    /// `n` (at most 32) bits as a number.
    fn read(&mut self, n: u32) -> Check<u32> {
        if u64::from(n) > self.left() {
            return Err("ends early".into());
        }
        let mut value = 0u32;
        for i in 0..n {
            let at = self.pos + u64::from(i);
            let bit = (self.data[(at / 8) as usize] >> (at % 8)) & 1;
            value |= u32::from(bit) << i;
        }
        self.pos += u64::from(n);
        Ok(value)
    }
}
