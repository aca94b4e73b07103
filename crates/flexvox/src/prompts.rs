//! Audio for Say and Play: TTS through its disk cache, stored files, and audio files fetched
//! over HTTP through the HTTP cache, decoded to the call rate and kept in memory by URL.

use crate::audio_cache;
use crate::tts_http::HttpTts;
use crate::url_policy::AppHttp;
use media::decode::Poll;
use media::session::{GrowingAudio, Source};
use media::StreamDecoder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tokio::sync::{oneshot, watch};
use tts::{CachedTts, Flite, Tts, Voice};

const MAX_AUDIO_BYTES: usize = 50 * 1024 * 1024;

/// A decoded Play file and what the HTTP cache knows about it.
type CachedAudio = (audio_cache::CachedMeta, Arc<[i16]>);

pub struct Prompts {
    tts: Arc<CachedTts<Flite>>,
    http: AppHttp,
    audio: Mutex<HashMap<String, CachedAudio>>,
    audio_dir: PathBuf,
    /// The operator's TTS service, when set (`--tts-url`); the built-in engine otherwise.
    http_tts: Option<HttpTts>,
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
    pub fn new(
        cache_dir: &Path,
        http: AppHttp,
        tts_url: Option<String>,
    ) -> Result<Prompts, tts::TtsError> {
        Ok(Prompts {
            tts: Arc::new(CachedTts::new(Flite::new(), cache_dir.join("tts"))?),
            http_tts: tts_url
                .map(|url| HttpTts::new(url, http.clone(), cache_dir.join("tts-http"))),
            http,
            audio: Mutex::new(HashMap::new()),
            audio_dir: cache_dir.join("audio"),
        })
    }

    pub fn has_tts_service(&self) -> bool {
        self.http_tts.is_some()
    }

    /// Speech for `text`: from the TTS service with the app's voice name when one is
    /// configured (falling back to the built-in engine if it fails), else built in.
    pub async fn say(&self, voice_name: &str, text: &str) -> Result<Arc<[i16]>, String> {
        if let Some(service) = &self.http_tts {
            match service.synthesize(voice_name, text).await {
                Ok((audio, content_type)) => {
                    match decode_audio(audio, content_type, "TTS service audio".into()).await {
                        Ok(samples) => return Ok(samples),
                        Err(e) => {
                            tracing::warn!(error = %e, "TTS service audio: using the built-in voice")
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "using the built-in voice"),
            }
        }
        let (voice, _) = voice_for(voice_name);
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
        decode_audio(
            bytes,
            Some(file.mime_type.clone()),
            format!("file {} ({})", file.file_sid, file.name),
        )
        .await
    }

    /// A Play URL's audio in any supported format, through the HTTP cache (`audio_cache`).
    /// A download starts playing once its first half second is decoded; the rest follows
    /// while the call hears the beginning.
    pub async fn play(self: &Arc<Self>, url: &str) -> Result<Audio, String> {
        let now = SystemTime::now();
        let cached = self.cached(url).await;
        if let Some(copy) = &cached {
            if copy.meta().fresh_until > audio_cache::unix_secs(now) {
                return self.use_copy(url, cached).await.map(Audio::Whole);
            }
        }
        let mut request = self.http.get(url).map_err(|e| e.to_string())?;
        if let Some(copy) = &cached {
            for (name, value) in audio_cache::validators(copy.meta()) {
                request = request.header(name, value);
            }
        }
        let resp = match request.send().await {
            Ok(resp) => resp,
            // The origin is down: a stale copy is better than silence.
            Err(e) if cached.is_some() => {
                tracing::warn!(%url, error = %e, "playing a stale cached copy");
                return self.use_copy(url, cached).await.map(Audio::Whole);
            }
            Err(e) => return Err(format!("fetching {url} failed: {e}")),
        };
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let storage = audio_cache::storage_for(&headers, now);
        let fresh_until = match storage {
            audio_cache::Storage::Stored(d) => audio_cache::unix_secs(now + d),
            audio_cache::Storage::NotStored => 0,
        };
        if let (reqwest::StatusCode::NOT_MODIFIED, Some(mut copy)) = (resp.status(), cached) {
            copy.meta_mut().fresh_until = fresh_until;
            let (dir, saved) = (self.audio_dir.clone(), copy.meta().clone());
            let _ =
                tokio::task::spawn_blocking(move || audio_cache::save(&dir, &saved, None)).await;
            return self.use_copy(url, Some(copy)).await.map(Audio::Whole);
        }
        if !resp.status().is_success() {
            return Err(format!("fetching {url}: HTTP {}", resp.status()));
        }
        let content_type = audio_cache::header(&headers, "content-type").map(str::to_string);
        let meta = (storage != audio_cache::Storage::NotStored).then(|| audio_cache::CachedMeta {
            url: url.to_string(),
            etag: audio_cache::header(&headers, "etag").map(str::to_string),
            last_modified: audio_cache::header(&headers, "last-modified").map(str::to_string),
            content_type: content_type.clone(),
            fresh_until,
        });
        let download = Download {
            url: url.to_string(),
            content_type,
            meta,
            audio: GrowingAudio::new(),
        };
        download.start(resp, self.clone()).await
    }
    /// A Play URL's audio once all of it is there (hold and information audio, the simulator).
    pub async fn play_whole(self: &Arc<Self>, url: &str) -> Result<Arc<[i16]>, String> {
        Ok(self.play(url).await?.whole().await)
    }

    /// The copy of `url` decoded in memory, else its bytes on disk.
    async fn cached(&self, url: &str) -> Option<CachedCopy> {
        let memory = self
            .audio
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(url)
            .cloned();
        if let Some((meta, samples)) = memory {
            return Some(CachedCopy::Decoded(meta, samples));
        }
        let (dir, url) = (self.audio_dir.clone(), url.to_string());
        let (meta, body) = tokio::task::spawn_blocking(move || audio_cache::load(&dir, &url))
            .await
            .ok()
            .flatten()?;
        Some(CachedCopy::OnDisk(meta, body))
    }

    /// The samples of a copy (decoding one read from disk), remembered with its metadata.
    async fn use_copy(&self, url: &str, copy: Option<CachedCopy>) -> Result<Arc<[i16]>, String> {
        let (meta, samples) = match copy {
            Some(CachedCopy::Decoded(meta, samples)) => (meta, samples),
            Some(CachedCopy::OnDisk(meta, body)) => {
                let samples =
                    decode_audio(body, meta.content_type.clone(), url.to_string()).await?;
                (meta, samples)
            }
            None => return Err(format!("{url}: no cached copy")),
        };
        self.remember(url, meta, samples.clone());
        Ok(samples)
    }

    fn remember(&self, url: &str, meta: audio_cache::CachedMeta, samples: Arc<[i16]>) {
        self.audio
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.to_string(), (meta, samples));
    }
}

/// A prompt's audio: all there, or still arriving from its download.
#[derive(Clone)]
pub enum Audio {
    Whole(Arc<[i16]>),
    Arriving {
        audio: Arc<GrowingAudio>,
        done: watch::Receiver<bool>,
    },
}

impl Audio {
    pub fn into_source(self) -> Source {
        match self {
            Audio::Whole(samples) => Source::Samples(samples),
            Audio::Arriving { audio, .. } => Source::Growing(audio),
        }
    }

    /// All of it, once the download has ended (what arrived, if it failed part way).
    pub async fn whole(self) -> Arc<[i16]> {
        match self {
            Audio::Whole(samples) => samples,
            Audio::Arriving { audio, mut done } => {
                // A dropped sender means the download task is gone: take what it left.
                let _ = done.wait_for(|ended| *ended).await;
                audio.finish();
                audio.whole().unwrap_or_else(|| Arc::from(Vec::new()))
            }
        }
    }
}

/// A Play URL being fetched and decoded into `audio` as its bytes come.
struct Download {
    url: String,
    content_type: Option<String>,
    /// Set when the response may be cached.
    meta: Option<audio_cache::CachedMeta>,
    audio: Arc<GrowingAudio>,
}

/// Decoded audio that lets playback begin: enough not to run dry at once on a slow download.
const START_SAMPLES: usize = 4000;

impl Download {
    /// Spawns the download; returns once it can be played (or has failed before any audio).
    async fn start(self, resp: reqwest::Response, prompts: Arc<Prompts>) -> Result<Audio, String> {
        let (started_tx, started_rx) = oneshot::channel();
        let (done_tx, done_rx) = watch::channel(false);
        let (audio, url) = (self.audio.clone(), self.url.clone());
        tokio::spawn(async move {
            let outcome = self.run(resp, started_tx).await;
            self.audio.finish();
            let _ = done_tx.send(true);
            match outcome {
                Ok(body) => self.keep(body, &prompts).await,
                Err(e) => tracing::warn!(url = %self.url, error = %e, "Play download ended early"),
            }
        });
        match started_rx.await {
            Ok(Ok(())) => Ok(Audio::Arriving {
                audio,
                done: done_rx,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("fetching {url}: the download task ended")),
        }
    }

    /// Downloads and decodes; returns the whole body when it all came and decoded.
    async fn run(
        &self,
        mut resp: reqwest::Response,
        started: oneshot::Sender<Result<(), String>>,
    ) -> Result<Vec<u8>, String> {
        let mut started = Some(started);
        let fail = |started: &mut Option<oneshot::Sender<_>>, e: String| {
            if let Some(tx) = started.take() {
                let _ = tx.send(Err(e.clone()));
            }
            e
        };
        let mut decoder = StreamDecoder::new(self.content_type.as_deref(), Some(&self.url));
        let mut ended = false;
        while !ended {
            match resp.chunk().await {
                Ok(Some(bytes)) if decoder.received_len() + bytes.len() > MAX_AUDIO_BYTES => {
                    return Err(fail(
                        &mut started,
                        format!("{} is larger than {MAX_AUDIO_BYTES} bytes", self.url),
                    ));
                }
                Ok(Some(bytes)) => {
                    decoder.push(&bytes);
                }
                Ok(None) => {
                    decoder.finish();
                    ended = true;
                }
                Err(e) => {
                    return Err(fail(
                        &mut started,
                        format!("reading {} failed: {e}", self.url),
                    ))
                }
            }
            loop {
                match decoder.poll_frame() {
                    Ok(Poll::Frame(frame)) => self.audio.append(&frame[..]),
                    Ok(Poll::NeedData) => break,
                    Ok(Poll::End) => {
                        ended = true;
                        break;
                    }
                    Err(e) => return Err(fail(&mut started, format!("{}: {e}", self.url))),
                }
            }
            if ended || self.audio.available() >= START_SAMPLES {
                if let Some(tx) = started.take() {
                    let _ = tx.send(Ok(()));
                }
            }
        }
        Ok(decoder.take_received())
    }

    /// A complete download goes to the disk cache and the in-memory copy, if cacheable.
    async fn keep(self, body: Vec<u8>, prompts: &Prompts) {
        let (Some(meta), Some(samples)) = (self.meta, self.audio.whole()) else {
            return;
        };
        let (dir, saved) = (prompts.audio_dir.clone(), meta.clone());
        let written =
            tokio::task::spawn_blocking(move || audio_cache::save(&dir, &saved, Some(&body))).await;
        if let Ok(Err(e)) = written {
            tracing::warn!(url = %self.url, error = %e, "cannot write the audio cache");
        }
        prompts.remember(&self.url, meta, samples);
    }
}

/// A cached Play file: decoded in memory, or only its original bytes on disk.
enum CachedCopy {
    Decoded(audio_cache::CachedMeta, Arc<[i16]>),
    OnDisk(audio_cache::CachedMeta, Vec<u8>),
}

impl CachedCopy {
    fn meta(&self) -> &audio_cache::CachedMeta {
        match self {
            CachedCopy::Decoded(meta, _) | CachedCopy::OnDisk(meta, _) => meta,
        }
    }

    fn meta_mut(&mut self) -> &mut audio_cache::CachedMeta {
        match self {
            CachedCopy::Decoded(meta, _) | CachedCopy::OnDisk(meta, _) => meta,
        }
    }
}

/// Decodes any supported format (wav, mp3, flac, ogg/vorbis, aac/mp4) to the call rate, off
/// the async threads.
async fn decode_audio(
    bytes: Vec<u8>,
    content_type: Option<String>,
    name: String,
) -> Result<Arc<[i16]>, String> {
    let label = name.clone();
    tokio::task::spawn_blocking(move || media::decode(&bytes, content_type.as_deref(), Some(&name)))
        .await
        .map_err(|e| format!("decoder task failed: {e}"))?
        .map(Arc::from)
        .map_err(|e| format!("{label}: {e}"))
}
