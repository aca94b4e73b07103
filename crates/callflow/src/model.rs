//! The instruction model shared by every dialect (FlexML today; Kazoo Pivot JSON parses into
//! the same verbs). Values are typed and already validated; defaults are the reference's.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn parse(s: &str) -> Option<HttpMethod> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// Where to go after a verb, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub url: String,
    pub method: HttpMethod,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    pub text: String,
    /// As written: `man`, `woman`, or a provider voice such as `Polly.Joanna`.
    pub voice: String,
    /// 0 = until the call ends.
    pub loops: u32,
    pub loop_pause_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaySource {
    Url(String),
    /// A file in the account's storage, by file SID (`<File>`).
    File(String),
    /// `digits="…"`: DTMF instead of audio.
    Digits(String),
}

/// Keys that control a playback in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlayKeys {
    pub stop: String,
    pub forward: String,
    pub rewind: String,
    pub minor_forward: String,
    pub minor_rewind: String,
    pub pause: String,
    pub restart: String,
    pub information: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Play {
    pub source: PlaySource,
    pub loops: u32,
    pub loop_pause_secs: u32,
    pub action: Option<Action>,
    pub error_action: Option<Action>,
    pub background: bool,
    pub skip_secs: u32,
    pub time_limit_secs: u32,
    pub streaming: bool,
    pub control_skip_secs: u32,
    pub minor_control_skip_secs: u32,
    pub strict_forward_control: bool,
    pub keys: PlayKeys,
    pub information_audio_url: Option<String>,
    pub pause_audio_url: Option<String>,
    pub pre_buffer_secs: u32,
    pub wait_initial: Option<(u32, String)>,
    pub wait_repeat: Option<(u32, String)>,
}

impl Play {
    pub fn url(url: impl Into<String>) -> Play {
        Play {
            source: PlaySource::Url(url.into()),
            loops: 1,
            loop_pause_secs: 0,
            action: None,
            error_action: None,
            background: false,
            skip_secs: 0,
            time_limit_secs: 0,
            streaming: false,
            control_skip_secs: 60,
            minor_control_skip_secs: 60,
            strict_forward_control: false,
            keys: PlayKeys::default(),
            information_audio_url: None,
            pause_audio_url: None,
            pre_buffer_secs: 0,
            wait_initial: None,
            wait_repeat: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub length_secs: u32,
    pub silence: bool,
    pub min_silence_ms: u32,
    pub noise: bool,
    pub min_noise_ms: u32,
}

/// What Gather and PreAnswer may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Say(Say),
    Play(Box<Play>),
    Pause(Pause),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    pub action: Option<Action>,
    /// Keys that submit; empty when disabled with `_`.
    pub finish_on_key: String,
    pub num_digits: Option<u32>,
    pub timeout_secs: u32,
    pub start_digits: String,
    pub valid_digits: String,
    pub prompts: Vec<Prompt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialNumber {
    /// E.164 digits or a `sip:` URI.
    pub target: String,
    pub send_digits: String,
    /// `X-` headers from `?X-Name=value&…` after the number.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    pub numbers: Vec<DialNumber>,
    pub action: Option<Action>,
    pub caller_id: Option<String>,
    pub caller_name: Option<String>,
    pub confirm_key: Option<char>,
    pub confirm_sound: Option<String>,
    pub container_sid: Option<String>,
    pub hangup_on_star: bool,
    pub record: String,
    pub record_direction: String,
    pub recording_status_callback: Option<Action>,
    pub recording_status_callback_event: String,
    pub ringing: String,
    pub time_limit_secs: u32,
    pub timeout_secs: u32,
    pub trim: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub action: Option<Action>,
    pub error_action: Option<Action>,
    pub background_audio_url: Option<String>,
    pub background_audio_loop: u32,
    pub callback_url: Option<String>,
    pub container_sid: Option<String>,
    pub direction: String,
    pub file_format: String,
    pub file_mode: String,
    pub file_sid: Option<String>,
    /// Keys that end the recording; `None` means any key (the default), empty means disabled.
    pub finish_on_key: Option<String>,
    pub max_length_secs: Option<u32>,
    pub play_beep: bool,
    pub record_session: bool,
    pub recording_status_callback: Option<Action>,
    pub recording_status_callback_event: String,
    pub timeout_secs: u32,
    pub trim: String,
    pub transcribe: bool,
    pub keys: RecordKeys,
}

/// Referential fields stored on the recording's File object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordKeys {
    pub integer_key_1: Option<i64>,
    pub integer_key_2: Option<i64>,
    pub string_key_1: Option<String>,
    pub string_key_2: Option<String>,
    pub lifecycle_action: String,
    pub lifecycle_ttl_secs: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amd {
    pub action: Option<Action>,
    pub initial_silence_ms: u32,
    pub greeting_ms: u32,
    pub after_greeting_silence_ms: u32,
    pub total_analysis_time_ms: u32,
    pub minimum_word_length_ms: u32,
    pub between_word_silence_ms: u32,
    pub maximum_number_of_words: u32,
    pub maximum_word_length_ms: u32,
    pub silence_threshold: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub to: Option<String>,
    pub from: Option<String>,
    pub body: String,
    pub action: Option<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Say(Say),
    Play(Play),
    Pause(Pause),
    Gather(Gather),
    Dial(Dial),
    Dtmf {
        digits: String,
    },
    Record(Record),
    Amd(Amd),
    PreAnswer {
        prompts: Vec<Prompt>,
    },
    Hangup,
    Reject {
        reason: String,
        message: Option<String>,
    },
    Redirect {
        url: String,
        method: HttpMethod,
    },
    Store {
        name: String,
        value: String,
    },
    Override {
        status_callback: Option<Action>,
        sip_username: Option<String>,
        sip_password: Option<String>,
    },
    Sms(Sms),
}

impl Verb {
    /// Whether the verb makes the caller hear or do something (the redirect-loop guard counts
    /// documents fetched without any of these).
    pub fn has_media(&self) -> bool {
        !matches!(
            self,
            Verb::Redirect { .. } | Verb::Store { .. } | Verb::Override { .. } | Verb::Sms(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub verbs: Vec<Verb>,
    /// Non-fatal findings, such as unknown attributes, with their line.
    pub warnings: Vec<String>,
}
