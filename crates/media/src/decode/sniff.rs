//! Which container or codec a file holds: its first bytes decide, and the Content-Type or file
//! name only breaks ties the bytes cannot (raw G.711 has no header at all).

/// The Play formats this crate decodes, plus G.722, which is recognised only to be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    Wav,
    Mp3,
    Flac,
    Ogg,
    /// AAC (or anything else) in an MP4/M4A container.
    Mp4,
    /// AAC in ADTS frames (`.aac`).
    Adts,
    /// Headerless G.711 µ-law at 8 kHz (`.ul`, `.ulaw`, `audio/basic`).
    Ulaw,
    /// Headerless G.711 A-law at 8 kHz (`.al`, `.alaw`).
    Alaw,
    G722,
}

impl AudioFormat {
    pub fn name(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Flac => "flac",
            AudioFormat::Ogg => "ogg",
            AudioFormat::Mp4 => "mp4",
            AudioFormat::Adts => "aac",
            AudioFormat::Ulaw => "ulaw",
            AudioFormat::Alaw => "alaw",
            AudioFormat::G722 => "g722",
        }
    }

    /// The format named by a Content-Type (parameters ignored) or a file name or URL path
    /// (by its extension); the Content-Type wins when both name one.
    pub fn from_hint(content_type: Option<&str>, name: Option<&str>) -> Option<AudioFormat> {
        content_type
            .and_then(from_mime)
            .or_else(|| name.and_then(from_name))
    }
}

fn from_mime(mime: &str) -> Option<AudioFormat> {
    let essence = mime.split(';').next()?.trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "audio/wav" | "audio/wave" | "audio/x-wav" | "audio/vnd.wave" => AudioFormat::Wav,
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => AudioFormat::Mp3,
        "audio/flac" | "audio/x-flac" => AudioFormat::Flac,
        "audio/ogg" | "audio/vorbis" | "application/ogg" => AudioFormat::Ogg,
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "video/mp4" => AudioFormat::Mp4,
        "audio/aac" | "audio/aacp" | "audio/x-aac" => AudioFormat::Adts,
        "audio/basic" | "audio/pcmu" | "audio/x-mulaw" | "audio/ulaw" => AudioFormat::Ulaw,
        "audio/pcma" | "audio/x-alaw" | "audio/alaw" => AudioFormat::Alaw,
        "audio/g722" => AudioFormat::G722,
        _ => return None,
    })
}

fn from_name(name: &str) -> Option<AudioFormat> {
    // A URL's query or fragment is not part of the name.
    let path = name.split(['?', '#']).next()?;
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "wav" | "wave" => AudioFormat::Wav,
        "mp3" => AudioFormat::Mp3,
        "flac" => AudioFormat::Flac,
        "ogg" | "oga" => AudioFormat::Ogg,
        "mp4" | "m4a" | "mp4a" => AudioFormat::Mp4,
        "aac" => AudioFormat::Adts,
        "ul" | "ulaw" | "mulaw" | "pcmu" | "u8" => AudioFormat::Ulaw,
        "al" | "alaw" | "pcma" => AudioFormat::Alaw,
        "g722" => AudioFormat::G722,
        _ => return None,
    })
}

/// What the first bytes say. `Ok(None)`: too few bytes to tell yet; `Err(())`: they match no
/// format with a signature.
pub(crate) fn sniff(data: &[u8], complete: bool) -> Result<Option<AudioFormat>, ()> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(b"RIFF") && data.len() >= 12 {
        return if &data[8..12] == b"WAVE" {
            Ok(Some(AudioFormat::Wav))
        } else {
            Err(())
        };
    }
    if starts(b"fLaC") {
        return Ok(Some(AudioFormat::Flac));
    }
    if starts(b"OggS") {
        return Ok(Some(AudioFormat::Ogg));
    }
    if data.len() >= 8 && &data[4..8] == b"ftyp" {
        return Ok(Some(AudioFormat::Mp4));
    }
    // ID3v2 tags are put before MP3 audio (and rarely before ADTS; the probe sorts that out).
    if starts(b"ID3") {
        return Ok(Some(AudioFormat::Mp3));
    }
    if data.len() >= 2 && data[0] == 0xFF {
        // MPEG audio and ADTS share the 12-bit sync; ADTS has layer 00, which MPEG audio
        // reserves.
        if data[1] & 0xF6 == 0xF0 {
            return Ok(Some(AudioFormat::Adts));
        }
        if data[1] & 0xE0 == 0xE0 && data[1] & 0x06 != 0 {
            return Ok(Some(AudioFormat::Mp3));
        }
    }
    // The longest signature above is 12 bytes.
    if data.len() < 12 && !complete {
        return Ok(None);
    }
    Err(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        assert_eq!(
            AudioFormat::from_hint(Some("audio/mpeg; charset=x"), Some("a.wav")),
            Some(AudioFormat::Mp3)
        );
        assert_eq!(
            AudioFormat::from_hint(Some("application/octet-stream"), Some("/p/a.UL?x=1.mp3")),
            Some(AudioFormat::Ulaw)
        );
        assert_eq!(AudioFormat::from_hint(None, Some("noext")), None);
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WAVEfmt ", true),
            Ok(Some(AudioFormat::Wav))
        );
        assert_eq!(
            sniff(&[0xFF, 0xFB, 0x90, 0], true),
            Ok(Some(AudioFormat::Mp3))
        );
        assert_eq!(
            sniff(&[0xFF, 0xF1, 0x50, 0x80], true),
            Ok(Some(AudioFormat::Adts))
        );
        assert_eq!(
            sniff(b"\0\0\0\x20ftypM4A ", true),
            Ok(Some(AudioFormat::Mp4))
        );
        assert_eq!(sniff(b"Ogg", false), Ok(None));
        assert_eq!(sniff(b"hello world, not audio", false), Err(()));
    }
}
