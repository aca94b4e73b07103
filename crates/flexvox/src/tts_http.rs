//! An HTTP text-to-speech provider for operators who want other voices than the built-in
//! ones: any service that takes text and returns audio in a format flexvox decodes. The URL
//! is a template: with `{text}` (and optionally `{voice}`) in it, flexvox GETs it with the
//! values URL-encoded (MaryTTS, Piper's HTTP server and most TTS proxies work this way);
//! without, it POSTs `{"text": …, "voice": …}` as JSON. Results are cached on disk by voice
//! and text, as the built-in engine's are.

use crate::audio_cache;
use crate::url_policy::AppHttp;
use std::path::PathBuf;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(15);

pub struct HttpTts {
    template: String,
    http: AppHttp,
    cache_dir: PathBuf,
}

/// The request to make for a text: the GET URL, or the POST URL and its JSON body.
#[derive(Debug, PartialEq, Eq)]
pub enum TtsRequest {
    Get(String),
    Post(String, serde_json::Value),
}

pub fn request_for(template: &str, voice: &str, text: &str) -> TtsRequest {
    if template.contains("{text}") {
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        TtsRequest::Get(
            template
                .replace("{voice}", &encode(voice))
                .replace("{text}", &encode(text)),
        )
    } else {
        TtsRequest::Post(
            template.to_string(),
            serde_json::json!({ "text": text, "voice": voice }),
        )
    }
}

impl HttpTts {
    pub fn new(template: String, http: AppHttp, cache_dir: PathBuf) -> HttpTts {
        HttpTts {
            template,
            http,
            cache_dir,
        }
    }

    /// The audio bytes and their content type, from the disk cache or the service.
    pub async fn synthesize(
        &self,
        voice: &str,
        text: &str,
    ) -> Result<(Vec<u8>, Option<String>), String> {
        // The cache key names the provider too, so changing --tts-url re-synthesises.
        let key = format!("tts:{}|{voice}|{text}", self.template);
        if let Some((meta, body)) = audio_cache::load(&self.cache_dir, &key) {
            return Ok((body, meta.content_type));
        }
        let request = match request_for(&self.template, voice, text) {
            TtsRequest::Get(url) => self.http.get(&url),
            TtsRequest::Post(url, body) => self.http.post(&url).map(|r| r.json(&body)),
        }
        .map_err(|e| e.to_string())?;
        let resp = request
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("TTS service: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("TTS service answered HTTP {}", resp.status()));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("TTS service: {e}"))?
            .to_vec();
        let meta = audio_cache::CachedMeta {
            url: key,
            etag: None,
            last_modified: None,
            content_type: content_type.clone(),
            fresh_until: u64::MAX,
        };
        if let Err(e) = audio_cache::save(&self.cache_dir, &meta, Some(&body)) {
            tracing::warn!(error = %e, "cannot write the TTS cache");
        }
        Ok((body, content_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_with_text_are_gets_and_others_posts() {
        assert_eq!(
            request_for(
                "http://tts/speak?v={voice}&t={text}",
                "Polly.Joanna",
                "Hello, 123 & you"
            ),
            TtsRequest::Get("http://tts/speak?v=Polly.Joanna&t=Hello%2C+123+%26+you".into())
        );
        assert_eq!(
            request_for("http://tts/speak", "woman", "Hi"),
            TtsRequest::Post(
                "http://tts/speak".into(),
                serde_json::json!({"text": "Hi", "voice": "woman"})
            )
        );
    }
}
