//! Audio for Say and Play: TTS through the disk cache, and WAV files fetched over HTTP,
//! decoded to the call rate and kept in memory by URL.

use crate::url_policy::AppHttp;
use media::wav;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tts::{CachedTts, Flite, Tts, Voice};

const MAX_AUDIO_BYTES: usize = 50 * 1024 * 1024;

pub struct Prompts {
    tts: Arc<CachedTts<Flite>>,
    http: AppHttp,
    audio: Mutex<HashMap<String, Arc<[i16]>>>,
}

/// `man`/`woman` as the reference says; other voices (e.g. `Polly.Joanna`) fall back to the
/// built-in ones, with a note for the call's timeline.
pub fn voice_for(name: &str) -> (Voice, Option<String>) {
    match name.to_ascii_lowercase().as_str() {
        "man" | "male" | "" => (Voice::Man, None),
        "woman" | "female" => (Voice::Woman, None),
        other => (
            Voice::Man,
            Some(format!(
                "voice {other:?} is not available; using the built-in man voice"
            )),
        ),
    }
}

impl Prompts {
    pub fn new(cache_dir: &Path, http: AppHttp) -> Result<Prompts, tts::TtsError> {
        Ok(Prompts {
            tts: Arc::new(CachedTts::new(Flite::new(), cache_dir.join("tts"))?),
            http,
            audio: Mutex::new(HashMap::new()),
        })
    }

    pub async fn say(&self, voice: Voice, text: &str) -> Result<Arc<[i16]>, String> {
        let tts = self.tts.clone();
        let text = text.to_string();
        let samples = tokio::task::spawn_blocking(move || tts.synthesize(voice, &text))
            .await
            .map_err(|e| format!("TTS task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        Ok(samples.into())
    }

    /// A stored file's audio (`<Play><File fileSid=…>`): only files of the partner that owns
    /// the call's account, so a SID of another partner plays nothing, as if it did not exist.
    pub async fn play_file(
        &self,
        store: &store::Store,
        account_sid: &str,
        file_sid: &str,
    ) -> Result<Arc<[i16]>, String> {
        let (file, bytes) = store
            .account_file_data(account_sid, file_sid)
            .await
            .map_err(|e| format!("reading storage file {file_sid}: {e}"))?
            .ok_or_else(|| format!("no storage file {file_sid} for this account"))?;
        let samples = tokio::task::spawn_blocking(move || wav::decode_to_call_rate(&bytes))
            .await
            .map_err(|e| format!("decoder task failed: {e}"))?
            .map_err(|e| {
                format!(
                    "file {} ({}): {e} (this build plays WAV files)",
                    file.file_sid, file.name
                )
            })?;
        Ok(samples.into())
    }

    pub async fn play(&self, url: &str) -> Result<Arc<[i16]>, String> {
        if let Some(hit) = self
            .audio
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(url)
        {
            return Ok(hit.clone());
        }
        let resp = self
            .http
            .get(url)
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| format!("fetching {url} failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("fetching {url}: HTTP {}", resp.status()));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("reading {url} failed: {e}"))?;
        if bytes.len() > MAX_AUDIO_BYTES {
            return Err(format!("{url} is larger than {MAX_AUDIO_BYTES} bytes"));
        }
        let samples: Arc<[i16]> =
            tokio::task::spawn_blocking(move || wav::decode_to_call_rate(&bytes))
                .await
                .map_err(|e| format!("decoder task failed: {e}"))?
                .map_err(|e| format!("{url}: {e} (this build plays WAV files)"))?
                .into();
        self.audio
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.to_string(), samples.clone());
        Ok(samples)
    }
}
