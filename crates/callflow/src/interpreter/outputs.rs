//! What goes into the interpreter and what comes out of it.

use crate::model::{Amd, Dial, HttpMethod, Pause, PlaySource, Record};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub call_sid: String,
    pub account_sid: String,
    /// E.164 digits without `+` when the caller is a number; the raw user part otherwise.
    pub from: String,
    pub to: String,
    pub original_from: String,
    pub original_to: String,
    pub caller_name: String,
    pub direction: String,
    pub forwarded_from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorHandler {
    /// Play an error prompt, then hang up.
    Basic,
    /// Leave it to the carrier: hang up if answered, else refuse the call (500).
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub url: String,
    pub method: HttpMethod,
    /// Sent as a JSON object for POST, as query parameters for GET.
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialOutcome {
    /// completed, busy, noanswer, failed or cancel.
    pub status: String,
    pub duration_secs: u64,
    pub call_sid: Option<String>,
    /// Whether a dialed party answered (which answers the caller's leg too).
    pub answered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    /// completed, failed or absent.
    pub status: String,
    pub sid: String,
    pub url: String,
    pub duration_secs: u64,
    /// The key that ended the recording, if one did.
    pub digits: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The body of the fetched document, or why it could not be had.
    Fetched(Result<String, String>),
    /// The foreground media command (prompt, digits, listen) finished.
    MediaDone,
    /// The media command could not be performed (e.g. the Play URL failed).
    MediaFailed(String),
    /// The caller pressed a key.
    Digit(char),
    DialDone(DialOutcome),
    RecordDone(RecordOutcome),
    AmdDone {
        status: String,
        cause: String,
    },
    /// The caller hung up.
    RemoteHangup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayControl {
    Forward { secs: u32, strict: bool },
    Rewind { secs: u32 },
    Pause { audio_url: Option<String> },
    Restart,
    Information { audio_url: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Fetch(FetchRequest),
    /// Answer the call (200 OK) before the next media command.
    Answer,
    /// Send early media (183 Session Progress) before answer.
    EarlyMedia,
    Say {
        text: String,
        voice: String,
        loops: u32,
        loop_pause_secs: u32,
    },
    /// URLs are already resolved; `File` names a storage file SID.
    Play {
        source: PlaySource,
        loops: u32,
        loop_pause_secs: u32,
        skip_secs: u32,
        time_limit_secs: u32,
        background: bool,
    },
    Silence {
        millis: u64,
    },
    /// Pause with silence/noise detection: done when the condition is met or after `max_millis`.
    Listen {
        max_millis: u64,
        pause: Pause,
    },
    SendDigits {
        digits: String,
    },
    /// Stop the foreground prompt (barge-in or stopOnKey); no MediaDone is expected for it.
    StopMedia,
    PlayControl(PlayControl),
    Dial(Dial),
    /// hangupOnStar: end the dialed leg; the driver then reports DialDone.
    EndDial,
    Record(Record),
    /// finishOnKey: end the recording; the driver then reports RecordDone.
    StopRecording {
        key: char,
    },
    Amd(Amd),
    Sms {
        to: String,
        from: String,
        body: String,
    },
    /// Override's sipUsername/sipPassword for outbound legs of this call.
    SipCredentials {
        username: Option<String>,
        password: Option<String>,
    },
    Reject {
        status: u16,
        reason: String,
        call_info: Option<String>,
    },
    Hangup,
    /// A notification whose answer is not used (recordingStatusCallback, callbackUrl).
    Callback(FetchRequest),
    /// Something for the call's timeline (document fetched, warning, app error).
    Timeline(String),
    /// The call is over; send the status callback if there is one.
    Finished {
        call_status: String,
        status_callback: Option<FetchRequest>,
    },
}
