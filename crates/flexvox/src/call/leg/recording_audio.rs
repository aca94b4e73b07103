//! The bytes a finished recording is stored as: the engine's file as it is, encoded as MP3
//! (`fileFormat="mp3"`, with the mp3-recording feature), or merged into an existing storage
//! file (`fileSid`, appended by default or overwriting with `fileMode="overwrite"`), in that
//! file's own format.

use super::recording::file_format;
use crate::CallContext;
use callflow::model::Record;
use media::record::RecordFormat;
use store::StoredFile;

/// The MIME type of the engine's file for this verb.
fn recorded_mime(record: &Record) -> &'static str {
    match file_format(record).0 {
        RecordFormat::Ulaw => "audio/basic",
        _ => "audio/wav",
    }
}

/// A new File's bytes: the engine's file, or its audio encoded as MP3.
pub async fn new_file_bytes(record: &Record, file: Vec<u8>) -> Result<Vec<u8>, String> {
    if file_format(record).2 != "audio/mpeg" {
        return Ok(file);
    }
    let mime = recorded_mime(record);
    blocking(move || encode(&decode(&file, mime)?, "audio/mpeg")).await
}

/// `fileSid`: the recording goes into that file of the call's partner, after its audio or in
/// its place, and the file keeps its format (a 16 kHz WAV becomes 8 kHz: calls are 8 kHz).
pub async fn into_existing_file(
    ctx: &CallContext,
    account_sid: &str,
    record: &Record,
    file_sid: &str,
    recorded: Vec<u8>,
) -> Result<StoredFile, String> {
    let (file, existing) = ctx
        .store
        .account_file_data(account_sid, file_sid)
        .await
        .map_err(|e| format!("reading storage file {file_sid}: {e}"))?
        .ok_or_else(|| format!("no storage file {file_sid} for this account"))?;
    let append = record.file_mode != "overwrite";
    let (target, from) = (file.mime_type.clone(), recorded_mime(record));
    let merged = blocking(move || {
        let mut samples = match append && !existing.is_empty() {
            true => decode(&existing, &target)?,
            false => Vec::new(),
        };
        samples.extend(decode(&recorded, from)?);
        encode(&samples, &target)
    })
    .await?;
    ctx.store
        .replace_file_data(&file.partner_sid, file_sid, merged)
        .await
        .map_err(|e| format!("storing the recording in file {file_sid}: {e}"))?
        .ok_or_else(|| format!("storage file {file_sid} went away"))
}

async fn blocking(
    work: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("the recording's audio task failed: {e}"))?
}

fn decode(bytes: &[u8], mime: &str) -> Result<Vec<i16>, String> {
    media::decode(bytes, Some(mime), None).map_err(|e| format!("reading audio ({mime}): {e}"))
}

/// 8 kHz audio in the format `mime` names: µ-law for `audio/basic`, MP3, else 16-bit WAV.
fn encode(samples: &[i16], mime: &str) -> Result<Vec<u8>, String> {
    match mime {
        "audio/basic" | "audio/x-mulaw" | "audio/PCMU" => Ok(samples
            .iter()
            .map(|s| media::g711::linear_to_ulaw(*s))
            .collect()),
        "audio/mpeg" | "audio/mp3" => encode_mp3(samples),
        _ => Ok(media::wav::encode_pcm16(samples, media::CALL_RATE)),
    }
}

#[cfg(feature = "mp3-recording")]
fn encode_mp3(samples: &[i16]) -> Result<Vec<u8>, String> {
    use media::record::mp3::{Mp3Config, Mp3Encoder};
    let mut encoder =
        Mp3Encoder::with_lame_tag(std::io::Cursor::new(Vec::new()), Mp3Config::default())
            .map_err(|e| e.to_string())?;
    encoder.push(samples).map_err(|e| e.to_string())?;
    let (out, _) = encoder.finish().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(not(feature = "mp3-recording"))]
fn encode_mp3(_samples: &[i16]) -> Result<Vec<u8>, String> {
    Err("this build has no MP3 encoder (the mp3-recording feature)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_is_encoded_in_the_file_s_own_format() {
        let samples: Vec<i16> = (0..800).map(|i| ((i % 40) as i16 - 20) * 500).collect();
        let ul = encode(&samples, "audio/basic").unwrap();
        assert_eq!(ul.len(), 800);
        assert_eq!(decode(&ul, "audio/basic").unwrap().len(), 800);
        let wav = encode(&samples, "audio/wav").unwrap();
        assert_eq!(decode(&wav, "audio/wav").unwrap(), samples);
        assert_eq!(
            encode_mp3(&samples).is_ok(),
            cfg!(feature = "mp3-recording")
        );
    }
}
