//! Runs one call: fetches documents, performs their verbs one at a time, and ends with the
//! status callback. The driver feeds `Input`s with the current instant and drains `Output`s.

use crate::flexml;
use crate::model::{HttpMethod, Verb};
use std::collections::VecDeque;
use std::time::Instant;

/// Fetches without anything played in between before the chain is declared a loop.
pub const MAX_FETCHES_WITHOUT_MEDIA: u32 = 10;

const ERROR_PROMPT: &str = "We are sorry, an application error has occurred. Goodbye.";

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
pub enum Input {
    /// The body of the fetched document, or why it could not be had.
    Fetched(Result<String, String>),
    /// The media command in progress finished.
    MediaDone,
    /// The media command could not be performed (e.g. the Play URL failed).
    MediaFailed(String),
    /// The caller hung up.
    RemoteHangup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Fetch(FetchRequest),
    /// Answer the call (200 OK) before the next media command.
    Answer,
    Say {
        text: String,
        voice: String,
        loops: u32,
        loop_pause_secs: u32,
    },
    Play {
        url: String,
        loops: u32,
        loop_pause_secs: u32,
    },
    Silence {
        millis: u64,
    },
    Reject {
        status: u16,
        reason: String,
    },
    Hangup,
    /// Something for the call's timeline (document fetched, warning, app error).
    Timeline(String),
    /// The call is over; send the status callback if there is one.
    Finished {
        call_status: String,
        status_callback: Option<FetchRequest>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Fetching,
    Performing,
    Ended,
}

pub struct Interpreter {
    info: CallInfo,
    error_handler: ErrorHandler,
    initial: (String, HttpMethod),
    document_url: String,
    status_callback: Option<(String, HttpMethod)>,
    state: State,
    verbs: VecDeque<Verb>,
    answered_at: Option<Instant>,
    remote_hung_up: bool,
    fetches_without_media: u32,
    handling_error: bool,
    outputs: VecDeque<Output>,
}

/// SIP status for a Reject reason (FlexML reference; unknown reasons are a plain rejection).
pub fn reject_status(reason: &str) -> (u16, &'static str) {
    match reason {
        "busy" => (600, "Busy Everywhere"),
        "busy-here" => (486, "Busy Here"),
        "not-found" => (404, "Not Found"),
        "unavailable" => (480, "Temporarily Unavailable"),
        _ => (603, "Decline"),
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
            initial: (url.clone(), method),
            document_url: url,
            status_callback,
            state: State::Idle,
            verbs: VecDeque::new(),
            answered_at: None,
            remote_hung_up: false,
            fetches_without_media: 0,
            handling_error: false,
            outputs: VecDeque::new(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// Starts the call by fetching the initial document.
    pub fn start(&mut self, now: Instant) {
        if self.state == State::Idle {
            let (url, method) = self.initial.clone();
            self.fetch(now, url, method);
        }
    }

    pub fn handle_input(&mut self, now: Instant, input: Input) {
        if self.state == State::Ended {
            return;
        }
        match input {
            Input::RemoteHangup => {
                self.remote_hung_up = true;
                self.finish(now);
            }
            Input::Fetched(result) if self.state == State::Fetching => match result {
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
            },
            Input::MediaDone if self.state == State::Performing => self.next_verb(now),
            Input::MediaFailed(why) if self.state == State::Performing => {
                self.timeline(format!("media error: {why}"));
                self.next_verb(now);
            }
            other => self.timeline(format!("ignored input {other:?} in state {:?}", self.state)),
        }
    }

    fn timeline(&mut self, entry: String) {
        self.outputs.push_back(Output::Timeline(entry));
    }

    fn request_params(&self) -> Vec<(String, String)> {
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
        p
    }

    /// CallStatus as the reference defines it: `completed` for a call that is up or ended
    /// normally, `cancel` when the caller gave up before answer, `failed` when we refused it.
    fn call_status(&self) -> &'static str {
        match (self.answered_at.is_some(), self.remote_hung_up, self.state) {
            (false, true, _) => "cancel",
            (false, false, State::Ended) => "failed",
            _ => "completed",
        }
    }

    fn fetch(&mut self, now: Instant, url: String, method: HttpMethod) {
        self.fetches_without_media += 1;
        if self.fetches_without_media > MAX_FETCHES_WITHOUT_MEDIA {
            return self.app_error(
                now,
                format!("{MAX_FETCHES_WITHOUT_MEDIA} documents fetched in a row without playing anything: redirect loop cut off at {url}"),
            );
        }
        self.document_url = url.clone();
        self.state = State::Fetching;
        let params = self.request_params();
        self.outputs.push_back(Output::Fetch(FetchRequest {
            url,
            method,
            params,
        }));
    }

    fn answer_if_needed(&mut self, now: Instant) {
        if self.answered_at.is_none() {
            self.answered_at = Some(now);
            self.outputs.push_back(Output::Answer);
        }
    }

    fn next_verb(&mut self, now: Instant) {
        loop {
            let Some(verb) = self.verbs.pop_front() else {
                // The document ran out: the call ends (FlexML hangs up after the last verb).
                return self.hang_up(now);
            };
            if verb.has_media() {
                self.fetches_without_media = 0;
            }
            match verb {
                Verb::Say(say) => {
                    self.answer_if_needed(now);
                    self.state = State::Performing;
                    self.outputs.push_back(Output::Say {
                        text: say.text,
                        voice: say.voice,
                        loops: say.loops,
                        loop_pause_secs: say.loop_pause_secs,
                    });
                    return;
                }
                Verb::Play(play) => {
                    self.answer_if_needed(now);
                    self.state = State::Performing;
                    let url = self.resolve(&play.url);
                    self.outputs.push_back(Output::Play {
                        url,
                        loops: play.loops,
                        loop_pause_secs: play.loop_pause_secs,
                    });
                    return;
                }
                Verb::Pause { length_secs } => {
                    self.answer_if_needed(now);
                    self.state = State::Performing;
                    self.outputs.push_back(Output::Silence {
                        millis: length_secs as u64 * 1000,
                    });
                    return;
                }
                Verb::Hangup => {
                    // Hangup answers first, then hangs up (reference).
                    self.answer_if_needed(now);
                    return self.hang_up(now);
                }
                Verb::Reject { reason } => {
                    if self.answered_at.is_some() {
                        return self.hang_up(now);
                    }
                    let (status, text) = reject_status(&reason);
                    self.outputs.push_back(Output::Reject {
                        status,
                        reason: text.into(),
                    });
                    return self.finish(now);
                }
                Verb::Redirect { url, method } => {
                    let url = self.resolve(&url);
                    return self.fetch(now, url, method);
                }
                Verb::NotYetSupported { .. } => continue,
            }
        }
    }

    fn resolve(&self, target: &str) -> String {
        url::Url::parse(&self.document_url)
            .and_then(|base| base.join(target))
            .map(|u| u.to_string())
            .unwrap_or_else(|_| target.to_string())
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
                    Verb::Say(crate::model::Say {
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
                self.outputs.push_back(Output::Reject {
                    status: 500,
                    reason: "Server Internal Error".into(),
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
        if self.state == State::Ended {
            return;
        }
        self.state = State::Ended;
        let call_status = self.call_status().to_string();
        let status_callback = self.status_callback.clone().map(|(url, method)| {
            let mut params = self.request_params();
            let duration = self
                .answered_at
                .map(|t| now.saturating_duration_since(t).as_secs())
                .unwrap_or(0);
            params.push(("CallDuration".into(), duration.to_string()));
            params.push(("RequestMethod".into(), self.initial.1.as_str().into()));
            for p in params.iter_mut().filter(|(k, _)| k == "RequestUrl") {
                p.1 = self.initial.0.clone();
            }
            FetchRequest {
                url,
                method,
                params,
            }
        });
        self.outputs.push_back(Output::Finished {
            call_status,
            status_callback,
        });
    }
}
