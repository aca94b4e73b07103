//! Text to speech for flexvox: the `Tts` interface, the built-in offline engine (CMU flite) and a disk cache keyed by voice and text, so a prompt is synthesised once.

mod cache;
mod flite;

pub use cache::CachedTts;
pub use flite::Flite;

/// The voices a Say verb can ask for. Provider voices (`Polly.*`) map onto these until an HTTP
/// provider is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Voice {
    Man,
    Woman,
}

impl Voice {
    pub fn name(self) -> &'static str {
        match self {
            Voice::Man => "man",
            Voice::Woman => "woman",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("the TTS engine produced no audio for the text")]
    NoAudio,
    #[error("text contains a NUL byte")]
    NulInText,
    #[error("TTS cache I/O: {0}")]
    Cache(#[from] std::io::Error),
}

/// Turns text into 16-bit mono samples at the 8 kHz call rate.
pub trait Tts: Send + Sync {
    fn synthesize(&self, voice: Voice, text: &str) -> Result<Vec<i16>, TtsError>;
}
