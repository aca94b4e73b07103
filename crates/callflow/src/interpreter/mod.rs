//! Runs one call: fetches documents, performs their verbs one at a time, and ends with the
//! status callback. The driver feeds `Input`s with the current instant, fires `handle_timeout`
//! at `poll_timeout`, and drains `Output`s. The same machine runs real calls and `simulate`.

mod gather;
mod outputs;
mod play_clock;

pub use gather::{GatherInput, KeyOutcome};
pub use outputs::{
    CallInfo, DialOutcome, ErrorHandler, FetchRequest, Input, Output, PlayControl, RecordOutcome,
};
use play_clock::PlayClock;

use crate::flexml;
use crate::model::{Action, HttpMethod, Play, PlaySource, Prompt, Say, Verb};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Fetches without anything played in between before the chain is declared a loop.
pub const MAX_FETCHES_WITHOUT_MEDIA: u32 = 10;

const ERROR_PROMPT: &str = "We are sorry, an application error has occurred. Goodbye.";

/// What the interpreter is waiting for.
#[derive(Debug)]
enum Waiting {
    Nothing,
    Fetch,
    /// A Say or Pause.
    Prompt,
    Play {
        play: Box<Play>,
        url: String,
        clock: PlayClock,
    },
    Gather {
        input: GatherInput,
        prompts: VecDeque<Prompt>,
        prompting: bool,
        deadline: Option<Instant>,
    },
    PreAnswer {
        prompts: VecDeque<Prompt>,
    },
    Digits,
    Dial {
        action: Option<Action>,
        hangup_on_star: bool,
    },
    Record {
        action: Option<Action>,
        /// Requested instead of `action` when the recording fails.
        error_action: Option<Action>,
        finish_keys: Option<String>,
        notify: RecordingNotify,
    },
    Amd {
        action: Option<Action>,
    },
    Ended,
}

pub struct Interpreter {
    info: CallInfo,
    error_handler: ErrorHandler,
    initial: Action,
    document_url: String,
    status_callback: Option<Action>,
    waiting: Waiting,
    started: bool,
    verbs: VecDeque<Verb>,
    answered_at: Option<Instant>,
    early_media: bool,
    remote_hung_up: bool,
    rejected: bool,
    fetches_without_media: u32,
    handling_error: bool,
    storage: Vec<(String, String)>,
    background_recording: Option<RecordingNotify>,
    outputs: VecDeque<Output>,
}

/// Who hears about a finished recording: recordingStatusCallback for the listed events, and
/// callbackUrl always.
#[derive(Debug, Clone)]
struct RecordingNotify {
    status_callback: Option<Action>,
    events: String,
    callback_url: Option<String>,
}

impl RecordingNotify {
    fn of(record: &crate::model::Record) -> Self {
        RecordingNotify {
            status_callback: record.recording_status_callback.clone(),
            events: record.recording_status_callback_event.clone(),
            callback_url: record.callback_url.clone(),
        }
    }

    fn targets(&self, status: &str) -> Vec<Action> {
        let wanted = self.events.split(',').any(|e| e.trim() == status);
        let status_callback = self.status_callback.clone().filter(|_| wanted);
        let callback = self.callback_url.clone().map(|url| Action {
            url,
            method: HttpMethod::Post,
        });
        status_callback.into_iter().chain(callback).collect()
    }
}

/// SIP status for a Reject reason (the reference's table).
pub fn reject_status(reason: &str) -> (u16, &'static str) {
    match reason {
        "redirect" => (302, "Moved Temporarily"),
        "forbidden" | "rejected" => (403, "Forbidden"),
        "not-found" => (404, "Not Found"),
        "busy-here" => (486, "Busy Here"),
        "bad-gateway" => (502, "Bad Gateway"),
        "unavailable" => (503, "Service Unavailable"),
        "busy" => (600, "Busy Everywhere"),
        "decline" => (603, "Decline"),
        "does-not-exist" => (604, "Does Not Exist Anywhere"),
        "unwanted" => (607, "Unwanted"),
        "intermediary-rejected" => (608, "Rejected"),
        _ => (403, "Forbidden"),
    }
}

impl Interpreter {
    pub fn new(
        info: CallInfo,
        url: String,
        method: HttpMethod,
        error_handler: ErrorHandler,
        status_callback: Option<(String, HttpMethod)>,
    ) -> Self {
        Interpreter {
            info,
            error_handler,
            initial: Action {
                url: url.clone(),
                method,
            },
            document_url: url,
            status_callback: status_callback.map(|(url, method)| Action { url, method }),
            waiting: Waiting::Nothing,
            started: false,
            verbs: VecDeque::new(),
            answered_at: None,
            early_media: false,
            remote_hung_up: false,
            rejected: false,
            fetches_without_media: 0,
            handling_error: false,
            storage: Vec::new(),
            background_recording: None,
            outputs: VecDeque::new(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn is_ended(&self) -> bool {
        matches!(self.waiting, Waiting::Ended)
    }

    /// When `handle_timeout` must be called next (a Gather waiting for keys).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.waiting {
            Waiting::Gather { deadline, .. } => *deadline,
            _ => None,
        }
    }

    /// Whether the call is waiting on the caller's keys: a Gather past its prompts, a Play with
    /// control keys, a Dial with hangupOnStar. Simulated callers press keys then. (A Record
    /// hears keys too, but its end is the caller's speech, so it is not "waiting on keys".)
    pub fn listening_for_keys(&self) -> bool {
        match &self.waiting {
            Waiting::Gather { deadline, .. } => deadline.is_some(),
            Waiting::Play { play, .. } => {
                let k = &play.keys;
                [
                    &k.stop,
                    &k.forward,
                    &k.rewind,
                    &k.minor_forward,
                    &k.minor_rewind,
                    &k.pause,
                    &k.restart,
                    &k.information,
                ]
                .iter()
                .any(|keys| !keys.is_empty())
            }
            Waiting::Dial { hangup_on_star, .. } => *hangup_on_star,
            _ => false,
        }
    }

    /// Starts the call by fetching the initial document.
    pub fn start(&mut self, now: Instant) {
        if !self.started {
            self.started = true;
            let initial = self.initial.clone();
            self.fetch(now, initial, Vec::new());
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let Waiting::Gather {
            input,
            deadline: Some(at),
            ..
        } = &self.waiting
        else {
            return;
        };
        if now < *at {
            return;
        }
        let digits = input.digits().to_string();
        let action = input.spec().action.clone();
        self.timeline(format!("gather timed out with digits {digits:?}"));
        if digits.is_empty() {
            // No input: on to the next verb (reference).
            return self.next_verb(now);
        }
        self.submit_gather(now, action, digits);
    }

    pub fn handle_input(&mut self, now: Instant, input: Input) {
        if self.is_ended() {
            // A session recording is stored after the call ends: its callbacks still go out.
            if let Input::RecordDone(outcome) = input {
                if self.background_recording.is_some() {
                    self.on_record_done(now, outcome);
                }
            }
            return;
        }
        match input {
            Input::RemoteHangup => {
                self.remote_hung_up = true;
                self.finish(now);
            }
            Input::Fetched(result) if matches!(self.waiting, Waiting::Fetch) => {
                self.on_document(now, result)
            }
            Input::MediaDone => self.on_media_done(now),
            Input::MediaFailed(why) => self.on_media_failed(now, why),
            Input::Digit(key) => self.on_key(now, key),
            Input::DialDone(outcome) => self.on_dial_done(now, outcome),
            Input::RecordDone(outcome) => self.on_record_done(now, outcome),
            Input::AmdDone { status, cause } => {
                if let Waiting::Amd { action } =
                    std::mem::replace(&mut self.waiting, Waiting::Nothing)
                {
                    self.timeline(format!("AMD result {status} ({cause})"));
                    let params = vec![("AMDStatus".into(), status), ("AMDCause".into(), cause)];
                    self.continue_or_fetch(now, action, params);
                }
            }
            other => self.timeline(format!(
                "ignored {other:?} while waiting for {:?}",
                self.waiting_name()
            )),
        }
    }

    fn waiting_name(&self) -> &'static str {
        match self.waiting {
            Waiting::Nothing => "nothing",
            Waiting::Fetch => "a document",
            Waiting::Prompt | Waiting::Play { .. } | Waiting::PreAnswer { .. } => "media",
            Waiting::Gather { .. } => "gathered digits",
            Waiting::Digits => "digits to be sent",
            Waiting::Dial { .. } => "the dialed call",
            Waiting::Record { .. } => "the recording",
            Waiting::Amd { .. } => "answering machine detection",
            Waiting::Ended => "nothing (call ended)",
        }
    }

    fn timeline(&mut self, entry: String) {
        self.outputs.push_back(Output::Timeline(entry));
    }

    fn request_params(&self, extra: Vec<(String, String)>) -> Vec<(String, String)> {
        let i = &self.info;
        let mut p = vec![
            ("AccountSid".into(), i.account_sid.clone()),
            ("ApiVersion".into(), "2.0".into()),
            ("CallerName".into(), i.caller_name.clone()),
            ("CallSid".into(), i.call_sid.clone()),
            ("CallStatus".into(), self.call_status().into()),
            ("Direction".into(), i.direction.clone()),
            ("From".into(), i.from.clone()),
            ("OriginalFrom".into(), i.original_from.clone()),
            ("OriginalTo".into(), i.original_to.clone()),
            ("RequestUrl".into(), self.document_url.clone()),
            ("To".into(), i.to.clone()),
        ];
        if let Some(fwd) = &i.forwarded_from {
            p.push(("ForwardedFrom".into(), fwd.clone()));
        }
        p.extend(
            self.storage
                .iter()
                .map(|(k, v)| (format!("Storage_{k}"), v.clone())),
        );
        p.extend(extra);
        p
    }

    /// `completed` for a call that is up or ended normally, `cancel` when the caller gave up
    /// before answer, `failed` when we refused it.
    fn call_status(&self) -> &'static str {
        match (
            self.answered_at.is_some(),
            self.remote_hung_up,
            self.rejected,
        ) {
            (false, true, _) => "cancel",
            (false, false, true) => "failed",
            _ => "completed",
        }
    }

    fn resolve(&self, target: &str) -> String {
        resolve_against(&self.document_url, target)
    }

    fn fetch(&mut self, now: Instant, action: Action, extra: Vec<(String, String)>) {
        let url = if self.started && action.url != self.initial.url {
            self.resolve(&action.url)
        } else {
            action.url
        };
        self.fetches_without_media += 1;
        if self.fetches_without_media > MAX_FETCHES_WITHOUT_MEDIA {
            return self.app_error(
                now,
                format!("{MAX_FETCHES_WITHOUT_MEDIA} documents fetched in a row without playing anything: redirect loop cut off at {url}"),
            );
        }
        self.document_url = url.clone();
        self.waiting = Waiting::Fetch;
        let params = self.request_params(extra);
        self.outputs.push_back(Output::Fetch(FetchRequest {
            url,
            method: action.method,
            params,
        }));
    }

    /// After a verb with an optional action: fetch it, or go on with the next verb.
    fn continue_or_fetch(
        &mut self,
        now: Instant,
        action: Option<Action>,
        params: Vec<(String, String)>,
    ) {
        match action {
            Some(action) => self.fetch(now, action, params),
            None => self.next_verb(now),
        }
    }

    fn on_document(&mut self, now: Instant, result: Result<String, String>) {
        match result {
            Err(why) => {
                self.app_error(now, format!("fetching {} failed: {why}", self.document_url))
            }
            Ok(body) => match flexml::parse(&body) {
                Err(e) => self.app_error(
                    now,
                    format!("document from {} is invalid: {e}", self.document_url),
                ),
                Ok(doc) => {
                    self.timeline(format!(
                        "document {} with {} verbs",
                        self.document_url,
                        doc.verbs.len()
                    ));
                    for w in doc.warnings {
                        self.timeline(format!("warning: {w}"));
                    }
                    self.verbs = doc.verbs.into();
                    self.next_verb(now);
                }
            },
        }
    }

    fn answer_if_needed(&mut self, now: Instant) {
        if self.answered_at.is_none() {
            self.answered_at = Some(now);
            self.outputs.push_back(Output::Answer);
        }
    }

    /// Emits the media command of one prompt (Say, Play or Pause).
    fn emit_prompt(&mut self, prompt: Prompt) {
        match prompt {
            Prompt::Say(s) => self.outputs.push_back(Output::Say {
                text: s.text,
                voice: s.voice,
                loops: s.loops,
                loop_pause_secs: s.loop_pause_secs,
            }),
            Prompt::Play(p) => {
                let source = match p.source {
                    PlaySource::Url(u) => PlaySource::Url(self.resolve(&u)),
                    other => other,
                };
                self.outputs.push_back(Output::Play {
                    source,
                    loops: p.loops,
                    loop_pause_secs: p.loop_pause_secs,
                    skip_secs: p.skip_secs,
                    time_limit_secs: p.time_limit_secs,
                    background: p.background,
                });
            }
            Prompt::Pause(p) => {
                if p.silence || p.noise {
                    self.outputs.push_back(Output::Listen {
                        max_millis: p.length_secs as u64 * 1000,
                        pause: p,
                    });
                } else {
                    self.outputs.push_back(Output::Silence {
                        millis: p.length_secs as u64 * 1000,
                    });
                }
            }
        }
    }

    fn next_verb(&mut self, now: Instant) {
        let Some(verb) = self.verbs.pop_front() else {
            // The document ran out: FlexML hangs up after the last verb.
            return self.hang_up(now);
        };
        if verb.has_media() {
            self.fetches_without_media = 0;
        }
        match verb {
            Verb::Say(say) => {
                self.answer_if_needed(now);
                self.waiting = Waiting::Prompt;
                self.emit_prompt(Prompt::Say(say));
            }
            Verb::Pause(pause) => {
                self.answer_if_needed(now);
                self.waiting = Waiting::Prompt;
                self.emit_prompt(Prompt::Pause(pause));
            }
            Verb::Play(play) => self.start_play(now, play),
            Verb::Gather(mut g) => {
                self.answer_if_needed(now);
                let prompts: VecDeque<Prompt> = std::mem::take(&mut g.prompts).into();
                self.waiting = Waiting::Gather {
                    input: GatherInput::new(g),
                    prompts,
                    prompting: false,
                    deadline: None,
                };
                self.next_gather_prompt(now);
            }
            Verb::PreAnswer { prompts } => {
                if self.answered_at.is_some() {
                    self.timeline("PreAnswer after answer: played as normal media".into());
                } else if !self.early_media {
                    self.early_media = true;
                    self.outputs.push_back(Output::EarlyMedia);
                }
                self.waiting = Waiting::PreAnswer {
                    prompts: prompts.into(),
                };
                self.next_preanswer_prompt(now);
            }
            Verb::Dtmf { digits } => {
                self.answer_if_needed(now);
                self.waiting = Waiting::Digits;
                self.outputs.push_back(Output::SendDigits { digits });
            }
            Verb::Dial(mut dial) => {
                dial.confirm_sound = dial.confirm_sound.map(|url| self.resolve(&url));
                if dial.record != "do-not-record" {
                    // The bridged call's recording is reported like a session recording.
                    self.background_recording = Some(RecordingNotify {
                        status_callback: dial.recording_status_callback.clone(),
                        events: dial.recording_status_callback_event.clone(),
                        callback_url: None,
                    });
                }
                self.waiting = Waiting::Dial {
                    action: dial.action.clone(),
                    hangup_on_star: dial.hangup_on_star,
                };
                self.outputs.push_back(Output::Dial(dial));
            }
            Verb::Record(record) => {
                self.answer_if_needed(now);
                let background = record.record_session;
                let action = record.action.clone();
                let error_action = record.error_action.clone();
                let finish_keys = record.finish_on_key.clone();
                let notify = RecordingNotify::of(&record);
                self.outputs.push_back(Output::Record(record));
                if background {
                    // recordSession records the whole call in the background: carry on.
                    self.background_recording = Some(notify);
                    return self.next_verb(now);
                }
                self.waiting = Waiting::Record {
                    action,
                    error_action,
                    finish_keys,
                    notify,
                };
            }
            Verb::Amd(amd) => {
                self.answer_if_needed(now);
                self.waiting = Waiting::Amd {
                    action: amd.action.clone(),
                };
                self.outputs.push_back(Output::Amd(amd));
            }
            Verb::Hangup => {
                // Hangup answers first, then hangs up (reference).
                self.answer_if_needed(now);
                self.hang_up(now);
            }
            Verb::Reject { reason, message } => {
                if self.answered_at.is_some() {
                    self.timeline("Reject after answer: hanging up instead".into());
                    return self.hang_up(now);
                }
                let (status, text) = reject_status(&reason);
                let call_info = message.filter(|_| reason == "intermediary-rejected");
                self.rejected = true;
                self.outputs.push_back(Output::Reject {
                    status,
                    reason: text.into(),
                    call_info,
                });
                self.finish(now);
            }
            Verb::Redirect { url, method } => self.fetch(now, Action { url, method }, Vec::new()),
            Verb::Store { name, value } => {
                self.storage.retain(|(k, _)| *k != name);
                self.storage.push((name, value));
                self.next_verb(now);
            }
            Verb::Override {
                status_callback,
                sip_username,
                sip_password,
            } => {
                if let Some(cb) = status_callback {
                    self.status_callback = Some(Action {
                        url: self.resolve(&cb.url),
                        method: cb.method,
                    });
                }
                if sip_username.is_some() || sip_password.is_some() {
                    self.outputs.push_back(Output::SipCredentials {
                        username: sip_username,
                        password: sip_password,
                    });
                }
                self.next_verb(now);
            }
            Verb::Sms(sms) => {
                let to = sms.to.unwrap_or_else(|| self.info.to.clone());
                let from = sms.from.unwrap_or_else(|| self.info.from.clone());
                self.outputs.push_back(Output::Sms {
                    to,
                    from,
                    body: sms.body,
                });
                self.continue_or_fetch(now, sms.action, Vec::new());
            }
        }
    }

    fn start_play(&mut self, now: Instant, play: Play) {
        self.answer_if_needed(now);
        let url = match &play.source {
            PlaySource::Url(u) => self.resolve(u),
            PlaySource::File(sid) => sid.clone(),
            PlaySource::Digits(d) => d.clone(),
        };
        let background = play.background;
        self.emit_prompt(Prompt::Play(Box::new(play.clone())));
        if background {
            return self.next_verb(now);
        }
        let clock = PlayClock::new(now, play.skip_secs);
        self.waiting = Waiting::Play {
            play: Box::new(play),
            url,
            clock,
        };
    }

    fn next_gather_prompt(&mut self, now: Instant) {
        let Waiting::Gather {
            prompts,
            prompting,
            deadline,
            input,
        } = &mut self.waiting
        else {
            return;
        };
        match prompts.pop_front() {
            Some(p) => {
                *prompting = true;
                self.emit_prompt(p);
            }
            None => {
                // The timeout starts once the prompts have played (reference).
                *prompting = false;
                let spec = input.spec();
                *deadline = Some(now + Duration::from_secs(spec.timeout_secs as u64));
                let note = format!(
                    "gather listening: timeout {} s, finish on {}, {}",
                    spec.timeout_secs,
                    if spec.finish_on_key.is_empty() {
                        "no key".to_string()
                    } else {
                        format!("{:?}", spec.finish_on_key)
                    },
                    match spec.num_digits {
                        Some(1) => "1 digit".to_string(),
                        Some(n) => format!("up to {n} digits"),
                        None => "any number of digits".to_string(),
                    }
                );
                self.timeline(note);
            }
        }
    }

    fn next_preanswer_prompt(&mut self, now: Instant) {
        let Waiting::PreAnswer { prompts } = &mut self.waiting else {
            return;
        };
        match prompts.pop_front() {
            Some(p) => self.emit_prompt(p),
            None => self.next_verb(now),
        }
    }

    fn on_media_done(&mut self, now: Instant) {
        match &self.waiting {
            Waiting::Prompt | Waiting::Digits => self.next_verb(now),
            Waiting::Play { .. } => self.finish_play(now, String::new()),
            Waiting::Gather {
                prompting: true, ..
            } => self.next_gather_prompt(now),
            Waiting::PreAnswer { .. } => self.next_preanswer_prompt(now),
            _ => self.timeline("media finished with nothing waiting for it".into()),
        }
    }

    fn on_media_failed(&mut self, now: Instant, why: String) {
        self.timeline(format!("media error: {why}"));
        match std::mem::replace(&mut self.waiting, Waiting::Nothing) {
            Waiting::Play { play, .. } => match play.error_action {
                Some(a) => self.fetch(now, a, Vec::new()),
                None => self.next_verb(now),
            },
            Waiting::Gather { input, prompts, .. } => {
                // A broken prompt must not stop the caller from typing.
                self.waiting = Waiting::Gather {
                    input,
                    prompts,
                    prompting: true,
                    deadline: None,
                };
                self.next_gather_prompt(now);
            }
            Waiting::PreAnswer { prompts } => {
                self.waiting = Waiting::PreAnswer { prompts };
                self.next_preanswer_prompt(now);
            }
            // Background audio that cannot play does not end the recording.
            waiting @ Waiting::Record { .. } => self.waiting = waiting,
            _ => self.next_verb(now),
        }
    }

    fn finish_play(&mut self, now: Instant, digits: String) {
        let Waiting::Play { play, url, clock } =
            std::mem::replace(&mut self.waiting, Waiting::Nothing)
        else {
            return;
        };
        let offset = clock.offset_secs(now);
        let params = vec![
            ("Digits".into(), digits),
            ("PlaybackUrl".into(), url),
            ("PlayOffset".into(), offset.to_string()),
        ];
        self.continue_or_fetch(now, play.action, params);
    }

    fn on_key(&mut self, now: Instant, key: char) {
        self.timeline(format!("caller pressed {key}"));
        let base = self.document_url.clone();
        match &mut self.waiting {
            Waiting::Gather {
                input,
                prompting,
                deadline,
                prompts,
            } => {
                let outcome = input.on_key(key);
                if outcome == KeyOutcome::Ignored {
                    return;
                }
                if *prompting {
                    // Barge-in: a key during the prompts stops them.
                    *prompting = false;
                    prompts.clear();
                    self.outputs.push_back(Output::StopMedia);
                }
                let timeout = Duration::from_secs(input.spec().timeout_secs as u64);
                *deadline = Some(now + timeout);
                if let KeyOutcome::Submit(digits) = outcome {
                    let action = input.spec().action.clone();
                    self.submit_gather(now, action, digits);
                }
            }
            Waiting::Play { play, clock, .. } => {
                let keys = &play.keys;
                let control = if keys.stop.contains(key) {
                    self.outputs.push_back(Output::StopMedia);
                    return self.finish_play(now, key.to_string());
                } else if keys.forward.contains(key) {
                    PlayControl::Forward {
                        secs: play.control_skip_secs,
                        strict: play.strict_forward_control,
                    }
                } else if keys.rewind.contains(key) {
                    PlayControl::Rewind {
                        secs: play.control_skip_secs,
                    }
                } else if keys.minor_forward.contains(key) {
                    PlayControl::Forward {
                        secs: play.minor_control_skip_secs,
                        strict: play.strict_forward_control,
                    }
                } else if keys.minor_rewind.contains(key) {
                    PlayControl::Rewind {
                        secs: play.minor_control_skip_secs,
                    }
                } else if keys.pause.contains(key) {
                    PlayControl::Pause {
                        audio_url: play
                            .pause_audio_url
                            .as_deref()
                            .map(|url| resolve_against(&base, url)),
                    }
                } else if keys.restart.contains(key) {
                    PlayControl::Restart
                } else if keys.information.contains(key) {
                    match &play.information_audio_url {
                        Some(url) => PlayControl::Information {
                            audio_url: resolve_against(&base, url),
                        },
                        None => return,
                    }
                } else {
                    return;
                };
                if play.streaming
                    && matches!(
                        control,
                        PlayControl::Forward { .. } | PlayControl::Rewind { .. }
                    )
                {
                    return; // streaming disables forward and rewind (reference)
                }
                clock.apply(now, &control);
                self.outputs.push_back(Output::PlayControl(control));
            }
            Waiting::Dial {
                hangup_on_star: true,
                ..
            } if key == '*' => self.outputs.push_back(Output::EndDial),
            Waiting::Record { finish_keys, .. } => {
                let ends = match finish_keys {
                    None => "0123456789#*".contains(key),
                    Some(keys) => keys.contains(key),
                };
                if ends {
                    self.outputs.push_back(Output::StopRecording { key });
                }
            }
            _ => {}
        }
    }

    fn submit_gather(&mut self, now: Instant, action: Option<Action>, digits: String) {
        self.timeline(format!("gathered digits {digits:?}"));
        self.waiting = Waiting::Nothing;
        match action {
            Some(action) => self.fetch(now, action, vec![("Digits".into(), digits)]),
            // Without an action the flow goes on with the next verb (reference).
            None => self.next_verb(now),
        }
    }

    fn on_dial_done(&mut self, now: Instant, outcome: DialOutcome) {
        let Waiting::Dial { action, .. } = std::mem::replace(&mut self.waiting, Waiting::Nothing)
        else {
            return;
        };
        if outcome.answered && self.answered_at.is_none() {
            self.answered_at = Some(now);
        }
        self.timeline(format!(
            "dial finished: {} after {} s",
            outcome.status, outcome.duration_secs
        ));
        let mut params = vec![
            ("DialCallStatus".into(), outcome.status),
            ("DialCallDuration".into(), outcome.duration_secs.to_string()),
        ];
        if let Some(sid) = outcome.call_sid {
            params.push(("DialCallSid".into(), sid));
        }
        self.continue_or_fetch(now, action, params);
    }

    fn on_record_done(&mut self, now: Instant, outcome: RecordOutcome) {
        let foreground = match std::mem::replace(&mut self.waiting, Waiting::Nothing) {
            Waiting::Record {
                action,
                error_action,
                notify,
                ..
            } => {
                // A failed recording goes to errorAction when there is one (reference).
                let failed = outcome.status == "failed";
                Some((error_action.filter(|_| failed).or(action), notify))
            }
            other => {
                self.waiting = other;
                None
            }
        };
        self.timeline(format!(
            "recording {} ({} s)",
            outcome.status, outcome.duration_secs
        ));
        let absent = outcome.status == "absent";
        let mut params = vec![
            (
                "RecordingDuration".into(),
                outcome.duration_secs.to_string(),
            ),
            ("RecordingSid".into(), outcome.sid),
            ("RecordingStatus".into(), outcome.status.clone()),
            ("RecordingUrl".into(), outcome.url),
        ];
        if let Some(key) = outcome.digits {
            params.push(("Digits".into(), key));
        }
        let notify = match &foreground {
            Some((_, notify)) => Some(notify.clone()),
            None => self.background_recording.take(),
        };
        if let Some(notify) = notify {
            for target in notify.targets(&outcome.status) {
                let url = self.resolve(&target.url);
                let req = FetchRequest {
                    url,
                    method: target.method,
                    params: self.request_params(params.clone()),
                };
                self.outputs.push_back(Output::Callback(req));
            }
        }
        let Some((action, _)) = foreground else {
            return;
        };
        if absent {
            // No audio (or nothing left after trimming): the action is skipped (reference).
            return self.next_verb(now);
        }
        self.continue_or_fetch(now, action, params);
    }

    fn app_error(&mut self, now: Instant, message: String) {
        self.timeline(format!("app error: {message}"));
        if self.handling_error {
            return self.hang_up(now);
        }
        self.handling_error = true;
        match self.error_handler {
            ErrorHandler::Basic => {
                self.verbs = VecDeque::from([
                    Verb::Say(Say {
                        text: ERROR_PROMPT.into(),
                        voice: "woman".into(),
                        loops: 1,
                        loop_pause_secs: 0,
                    }),
                    Verb::Hangup,
                ]);
                self.next_verb(now);
            }
            ErrorHandler::None if self.answered_at.is_some() => self.hang_up(now),
            ErrorHandler::None => {
                self.rejected = true;
                self.outputs.push_back(Output::Reject {
                    status: 500,
                    reason: "Server Internal Error".into(),
                    call_info: None,
                });
                self.finish(now);
            }
        }
    }

    fn hang_up(&mut self, now: Instant) {
        self.outputs.push_back(Output::Hangup);
        self.finish(now);
    }

    fn finish(&mut self, now: Instant) {
        if self.is_ended() {
            return;
        }
        self.waiting = Waiting::Ended;
        let call_status = self.call_status().to_string();
        let status_callback = self.status_callback.clone().map(|cb| {
            let duration = self
                .answered_at
                .map(|t| now.saturating_duration_since(t).as_secs())
                .unwrap_or(0);
            let mut params = self.request_params(vec![
                ("CallDuration".into(), duration.to_string()),
                ("RequestMethod".into(), self.initial.method.as_str().into()),
            ]);
            for p in params.iter_mut().filter(|(k, _)| k == "RequestUrl") {
                p.1 = self.initial.url.clone();
            }
            FetchRequest {
                url: cb.url,
                method: cb.method,
                params,
            }
        });
        self.outputs.push_back(Output::Finished {
            call_status,
            status_callback,
        });
    }
}

/// `target` relative to the document's URL (absolute URLs stay as they are).
fn resolve_against(document_url: &str, target: &str) -> String {
    url::Url::parse(document_url)
        .and_then(|base| base.join(target))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| target.to_string())
}
