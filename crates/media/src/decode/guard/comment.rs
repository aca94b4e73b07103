//! Vorbis comments (in Vorbis, Opus and FLAC-in-Ogg streams) and FLAC picture blocks, checked
//! where symphonia reads them: it allocates each comment (a 32-bit length) and each picture
//! field (32-bit lengths, in a picture that may itself sit base64-encoded in a comment named
//! `METADATA_BLOCK_PICTURE`) before reading it. Every length must fit in what is left of its
//! packet.

use super::Check;

/// A comment block without framing: vendor string, count, then length-prefixed comments (all
/// lengths little-endian).
pub(super) fn check_comments(body: &[u8]) -> Check<()> {
    let mut r = Le { data: body, pos: 0 };
    let vendor = r.len("the vendor string")?;
    r.take(vendor, "the vendor string")?;
    let count = r.u32("the comment count")? as usize;
    if count > r.left() / 4 {
        return Err(format!("{count} comments announced in {} bytes", r.left()));
    }
    for i in 0..count {
        let len = r.len("a comment")?;
        let comment = r
            .take(len, "a comment")
            .map_err(|e| format!("comment {i}: {e}"))?;
        picture_in_comment(comment).map_err(|e| format!("comment {i}: {e}"))?;
    }
    Ok(())
}

/// A `METADATA_BLOCK_PICTURE=<base64>` comment holds a FLAC picture block. The key is matched
/// and the value decoded exactly as symphonia does, which skips values that do not decode.
fn picture_in_comment(comment: &[u8]) -> Check<()> {
    let text = String::from_utf8_lossy(comment);
    let Some((key, value)) = text.split_once('=') else {
        return Ok(());
    };
    if key.to_lowercase() != "metadata_block_picture" {
        return Ok(());
    }
    match base64_decode(value.trim_end_matches('=').as_bytes()) {
        Some(block) => check_picture(&block),
        None => Ok(()),
    }
}

/// A FLAC picture block (big-endian): type, MIME type, description, four 32-bit fields, data.
/// A block that ends early is harmless (symphonia stops with an error before allocating); a
/// length past its end is refused.
pub(super) fn check_picture(block: &[u8]) -> Check<()> {
    let mut pos = 4;
    for (field, skip_after) in [("MIME type", 0), ("description", 16), ("picture data", 0)] {
        let Some(len) = block.get(pos..pos + 4) else {
            return Ok(());
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        pos += 4;
        if len > block.len() - pos {
            return Err(format!(
                "a picture's {field} of {len} bytes where {} are left",
                block.len() - pos
            ));
        }
        pos += len + skip_after;
    }
    Ok(())
}

/// RFC 4648 base64 without padding, as symphonia decodes it: groups of four symbols, then two
/// or three trailing symbols for one or two more bytes (a single trailing symbol is ignored);
/// any other byte makes the whole value invalid.
fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut groups = text.chunks_exact(4);
    for g in &mut groups {
        let n = value(g[0])? << 18 | value(g[1])? << 12 | value(g[2])? << 6 | value(g[3])?;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = groups.remainder();
    if rest.len() >= 2 {
        let n = value(rest[0])? << 18 | value(rest[1])? << 12;
        out.push((n >> 16) as u8);
        if rest.len() == 3 {
            let n = n | value(rest[2])? << 6;
            out.push((n >> 8) as u8);
        }
    }
    Some(out)
}

/// Little-endian reads within a comment block.
struct Le<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Le<'a> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn u32(&mut self, what: &str) -> Check<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length, which must fit in the rest of the block.
    fn len(&mut self, what: &str) -> Check<usize> {
        let len = self.u32(what)? as usize;
        if len > self.left() {
            return Err(format!(
                "{what} of {len} bytes where {} are left",
                self.left()
            ));
        }
        Ok(len)
    }

    fn take(&mut self, n: usize, what: &str) -> Check<&'a [u8]> {
        if n > self.left() {
            return Err(format!("{what} runs past the end of the comment block"));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
}
