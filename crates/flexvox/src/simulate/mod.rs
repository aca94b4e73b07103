//! `flexvox simulate`: runs an app against a virtual caller on virtual time, without SIP. The
//! same interpreter as real calls; media durations come from the real TTS and the real files,
//! the caller's keys and outcomes from a script.

mod render;
mod script;

use crate::fetcher;
use crate::prompts::{voice_for, Prompts};
use callflow::interpreter::{DialOutcome, PlayControl, RecordOutcome};
use callflow::model::PlaySource;
use callflow::{CallInfo, ErrorHandler, HttpMethod, Input, Interpreter, Output};
use clap::Args;
use render::Timeline;
use script::{parse_script, DialAnswer, ScriptStep};
use serde_json::json;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The app's URL (the document flexvox would fetch first).
    pub url: String,
    /// The caller's number.
    #[arg(long, default_value = "15551230000")]
    pub from: String,
    /// The number called.
    #[arg(long, default_value = "15550000001")]
    pub to: String,
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// Keys the caller presses when asked, e.g. "12#" (same as a script with `press 12#`).
    #[arg(long, conflicts_with = "script")]
    pub digits: Option<String>,
    /// A caller script (press, wait, speak, dial, amd, hangup; see docs/simulate.md).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// The account's error handler: basic or none.
    #[arg(long, default_value = "basic")]
    pub error_handler: String,
    /// Where status callbacks go, as a DID's status_callback_url would.
    #[arg(long)]
    pub status_callback: Option<String>,
    /// One JSON object per event instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error(transparent)]
    Script(#[from] script::ScriptError),
    #[error("reading the script {path}: {source}")]
    ReadScript {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--method must be GET or POST")]
    Method,
    #[error("--error-handler must be basic or none")]
    ErrorHandler,
    #[error("the app had {0} error(s)")]
    AppErrors(usize),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("text to speech: {0}")]
    Tts(#[from] tts::TtsError),
}

/// Virtual time cap: a call still going after this is hung up.
const MAX_CALL: Duration = Duration::from_secs(4 * 3600);
const KEY_GAP: Duration = Duration::from_millis(200);

#[derive(Debug)]
enum Event {
    /// Media of generation `n` finished (a StopMedia bumps the generation, cancelling it).
    MediaDone(u64),
    Key(char),
    Input(Input),
    /// A `wait` step elapsed: the script may go on.
    ScriptResume,
}

struct Sim {
    interp: Interpreter,
    t0: Instant,
    now: Instant,
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    events: Vec<Option<Event>>,
    script: VecDeque<ScriptStep>,
    /// Keys and waits of the current script step still to come.
    script_pending: usize,
    media_gen: u64,
    media_pending: bool,
    media_started: Instant,
    media_end: Option<Instant>,
    paused_remaining: Option<Duration>,
    timeline: Timeline,
    prompts: std::sync::Arc<Prompts>,
    http: crate::url_policy::AppHttp,
    recordings: u32,
}

pub async fn simulate(args: SimulateArgs) -> Result<(), SimulateError> {
    let method = HttpMethod::parse(&args.method).ok_or(SimulateError::Method)?;
    let error_handler = match args.error_handler.as_str() {
        "basic" => ErrorHandler::Basic,
        "none" => ErrorHandler::None,
        _ => return Err(SimulateError::ErrorHandler),
    };
    let mut steps = match (&args.script, &args.digits) {
        (Some(path), _) => parse_script(&std::fs::read_to_string(path).map_err(|source| {
            SimulateError::ReadScript {
                path: path.clone(),
                source,
            }
        })?)?,
        (None, Some(d)) => parse_script(&format!("press {d}"))?,
        (None, None) => Vec::new(),
    };
    steps.retain(|s| !matches!(s, ScriptStep::Press(k) if k.is_empty()));
    let info = CallInfo {
        call_sid: uuid::Uuid::new_v4().to_string(),
        account_sid: String::new(),
        from: args.from.trim_start_matches('+').to_string(),
        to: args.to.trim_start_matches('+').to_string(),
        original_from: args.from.clone(),
        original_to: args.to.clone(),
        caller_name: String::new(),
        direction: "inbound".into(),
        forwarded_from: None,
    };
    let status_callback = args.status_callback.clone().map(|u| (u, HttpMethod::Post));
    // A developer's own machine: the app usually runs on localhost, so nothing is denied.
    let http = crate::url_policy::AppHttp::new(crate::url_policy::UrlPolicy::default())?;
    let prompts = std::sync::Arc::new(Prompts::new(
        &std::env::temp_dir().join("flexvox-simulate-cache"),
        http.clone(),
        None,
    )?);
    let t0 = Instant::now();
    let mut sim = Sim {
        interp: Interpreter::new(
            info,
            args.url.clone(),
            method,
            error_handler,
            status_callback,
        ),
        t0,
        now: t0,
        queue: BinaryHeap::new(),
        events: Vec::new(),
        script: steps.into(),
        script_pending: 0,
        media_gen: 0,
        media_pending: false,
        media_started: t0,
        media_end: None,
        paused_remaining: None,
        timeline: Timeline::new(args.json),
        prompts,
        http,
        recordings: 0,
    };
    sim.run().await;
    match sim.timeline.app_errors {
        0 => Ok(()),
        n => Err(SimulateError::AppErrors(n)),
    }
}

impl Sim {
    fn t(&self) -> f64 {
        (self.now - self.t0).as_secs_f64()
    }

    fn schedule(&mut self, after: Duration, event: Event) {
        self.events.push(Some(event));
        self.queue
            .push(Reverse((self.now + after, self.events.len() as u64 - 1)));
    }

    fn note(&mut self, kind: &str, text: &str) {
        let t = self.t();
        self.timeline.event(t, kind, text, json!({}));
    }

    async fn run(&mut self) {
        self.interp.start(self.now);
        loop {
            while let Some(out) = self.interp.poll_output() {
                self.perform(out).await;
            }
            if self.interp.is_ended() {
                break;
            }
            self.feed_script();
            let timer = self.interp.poll_timeout();
            let next_event = self.queue.peek().map(|Reverse((at, _))| *at);
            let at = match (timer, next_event) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(at) => at,
                    None => {
                        self.note("caller", "nothing more happens: the caller hangs up");
                        self.interp.handle_input(self.now, Input::RemoteHangup);
                        continue;
                    }
                },
            };
            if at - self.t0 > MAX_CALL {
                self.note("caller", "hangs up after 4 hours of virtual time");
                self.interp.handle_input(self.now, Input::RemoteHangup);
                continue;
            }
            self.now = self.now.max(at);
            if timer == Some(at) && next_event != Some(at) {
                self.interp.handle_timeout(self.now);
                continue;
            }
            let Some(Reverse((_, idx))) = self.queue.pop() else {
                continue;
            };
            let Some(event) = self.events.get_mut(idx as usize).and_then(Option::take) else {
                continue;
            };
            self.deliver(event);
        }
    }

    fn deliver(&mut self, event: Event) {
        match event {
            Event::MediaDone(generation) if generation == self.media_gen && self.media_pending => {
                self.media_pending = false;
                self.interp.handle_input(self.now, Input::MediaDone);
            }
            Event::MediaDone(_) => {}
            Event::Key(k) => {
                self.script_pending -= 1;
                self.note("caller", &format!("presses {k}"));
                self.interp.handle_input(self.now, Input::Digit(k));
            }
            Event::Input(Input::RemoteHangup) => {
                self.note("caller", "hangs up");
                self.interp.handle_input(self.now, Input::RemoteHangup);
            }
            Event::Input(input) => self.interp.handle_input(self.now, input),
            Event::ScriptResume => self.script_pending -= 1,
        }
    }

    /// Gives the caller's next steps when the call listens for keys.
    fn feed_script(&mut self) {
        // One step at a time: the next only once the previous one's keys or wait are done.
        if !self.interp.listening_for_keys() || self.script_pending > 0 {
            return;
        }
        match self.script.front().cloned() {
            Some(ScriptStep::Wait(secs)) => {
                self.script.pop_front();
                self.script_pending += 1;
                self.schedule(Duration::from_secs_f64(secs), Event::ScriptResume);
            }
            Some(ScriptStep::Press(keys)) => {
                self.script.pop_front();
                for (i, k) in keys.chars().enumerate() {
                    self.script_pending += 1;
                    self.schedule(KEY_GAP * (i as u32 + 1), Event::Key(k));
                }
            }
            Some(ScriptStep::Hangup) => {
                self.script.pop_front();
                self.schedule(Duration::ZERO, Event::Input(Input::RemoteHangup));
            }
            // Steps for other verbs wait for those verbs.
            _ => {}
        }
    }

    /// `[wait W] speak N` at the head of the script, as (silence before, speech) in ms.
    fn take_speech(&mut self) -> (u64, u64) {
        let ms = |secs: f64| (secs * 1000.0).round() as u64;
        match (self.script.front().cloned(), self.script.get(1).cloned()) {
            (Some(ScriptStep::Wait(w)), Some(ScriptStep::Speak(n))) => {
                self.script.drain(..2);
                (ms(w), ms(n))
            }
            (Some(ScriptStep::Speak(n)), _) => {
                self.script.pop_front();
                (0, ms(n))
            }
            _ => (0, 0),
        }
    }

    /// The next script step if it answers this kind of verb.
    fn take_step(&mut self, matches: impl Fn(&ScriptStep) -> bool) -> Option<ScriptStep> {
        while let Some(ScriptStep::Wait(secs)) = self.script.front().cloned() {
            self.script.pop_front();
            self.now += Duration::from_secs_f64(secs);
        }
        if self.script.front().is_some_and(&matches) {
            return self.script.pop_front();
        }
        None
    }

    fn media(&mut self, duration: Option<Duration>) {
        self.media_pending = true;
        self.media_started = self.now;
        self.media_end = duration.map(|d| self.now + d);
        if let Some(d) = duration {
            let generation = self.media_gen;
            self.schedule(d, Event::MediaDone(generation));
        }
    }

    /// Moves the end of the playing media (forward, rewind, pause, resume), cancelling the old.
    fn reschedule_media(&mut self, end: Option<Instant>) {
        self.media_gen += 1;
        self.media_end = end;
        if let Some(end) = end {
            let generation = self.media_gen;
            self.schedule(
                end.saturating_duration_since(self.now),
                Event::MediaDone(generation),
            );
        }
    }

    async fn play_control(&mut self, control: PlayControl) {
        let Some(end) = self
            .media_end
            .or(self.paused_remaining.map(|r| self.now + r))
        else {
            return self.note("control", &format!("{control:?} with nothing playing"));
        };
        match control {
            PlayControl::Forward { secs, strict } => {
                let skip = Duration::from_secs(secs as u64);
                if strict && end.saturating_duration_since(self.now) <= skip {
                    return self.note(
                        "control",
                        &format!("forward {secs}s ignored: past the end (strictForwardControl)"),
                    );
                }
                self.note("control", &format!("forward {secs}s"));
                self.reschedule_media(Some(
                    end.checked_sub(skip).unwrap_or(self.now).max(self.now),
                ));
            }
            PlayControl::Rewind { secs } => {
                let back = Duration::from_secs(secs as u64)
                    .min(self.now.saturating_duration_since(self.media_started));
                self.note("control", &format!("rewind {:.0}s", back.as_secs_f64()));
                self.media_started += back;
                self.reschedule_media(Some(end + back));
            }
            PlayControl::Pause { audio_url } => {
                if self.paused_remaining.is_none() {
                    self.paused_remaining = Some(end.saturating_duration_since(self.now));
                    let hold = audio_url.unwrap_or_else(|| "comfort noise".into());
                    self.note("control", &format!("pause (the caller hears {hold})"));
                    self.reschedule_media(None);
                }
            }
            PlayControl::Restart => {
                if let Some(remaining) = self.paused_remaining.take() {
                    self.note("control", "resume");
                    self.reschedule_media(Some(self.now + remaining));
                }
            }
            PlayControl::Information { audio_url } => {
                let info = self
                    .prompts
                    .play_whole(&audio_url)
                    .await
                    .map(|s| s.len() as f64 / 8000.0)
                    .unwrap_or(0.0);
                self.note(
                    "control",
                    &format!("information {audio_url} ({info:.1}s), then playback resumes"),
                );
                self.reschedule_media(Some(end + Duration::from_secs_f64(info)));
            }
        }
    }

    async fn perform(&mut self, out: Output) {
        let t = self.t();
        match out {
            Output::Fetch(req) => {
                self.timeline
                    .request(t, "request", req.method.as_str(), &req.url, &req.params);
                let result = fetcher::fetch_document(&self.http, &req).await;
                if let Ok(body) = &result {
                    let compact: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
                    let shown: String = compact.chars().take(160).collect();
                    self.note("document", &shown);
                }
                self.interp.handle_input(self.now, Input::Fetched(result));
            }
            Output::Answer => self.note("answer", "the call is answered (200 OK)"),
            Output::EarlyMedia => {
                self.note("early", "early media before answer (183 Session Progress)")
            }
            Output::Say {
                text,
                voice,
                loops,
                loop_pause_secs,
            } => {
                if let (_, Some(w)) = voice_for(&voice) {
                    self.note("warning", &w);
                }
                match self.prompts.say(&voice, &text).await {
                    Ok(samples) => {
                        let once = samples.len() as f64 / 8000.0;
                        let total = repeat(once, loops, loop_pause_secs);
                        self.note(
                            "say",
                            &format!("{text:?} ({voice}, {once:.1}s{})", times(loops)),
                        );
                        self.media(total);
                    }
                    Err(e) => self.interp.handle_input(self.now, Input::MediaFailed(e)),
                }
            }
            Output::Play {
                source,
                loops,
                loop_pause_secs,
                background,
                skip_secs,
                time_limit_secs,
            } => {
                let (label, result) = match source {
                    PlaySource::Url(url) => (
                        url.clone(),
                        self.prompts
                            .play_whole(&url)
                            .await
                            .map(|s| s.len() as f64 / 8000.0),
                    ),
                    PlaySource::File(sid) => (
                        format!("file {sid}"),
                        Err("playing files from storage needs the storage API".into()),
                    ),
                    PlaySource::Digits(d) => (format!("digits {d}"), Ok(digits_secs(&d))),
                };
                match result {
                    Ok(once) => {
                        let bg = if background {
                            ", in the background"
                        } else {
                            ""
                        };
                        self.note("play", &format!("{label} ({once:.1}s{}{bg})", times(loops)));
                        if !background {
                            // skip shortens the first pass; timeLimit caps the whole playback.
                            let skipped = Duration::from_secs(skip_secs as u64)
                                .min(Duration::from_secs_f64(once));
                            let mut total = repeat(once, loops, loop_pause_secs)
                                .map(|d| d.saturating_sub(skipped));
                            if time_limit_secs > 0 {
                                let limit = Duration::from_secs(time_limit_secs as u64);
                                total = Some(total.map_or(limit, |t| t.min(limit)));
                            }
                            self.media(total);
                        }
                    }
                    Err(e) => self.interp.handle_input(self.now, Input::MediaFailed(e)),
                }
            }
            Output::Silence { millis } => {
                self.note(
                    "pause",
                    &format!("{:.1}s of silence", millis as f64 / 1000.0),
                );
                self.media(Some(Duration::from_millis(millis)));
            }
            Output::Listen { max_millis, pause } => {
                let what = match (pause.silence, pause.noise) {
                    (true, true) => "noise, then silence",
                    (true, false) => "silence",
                    _ => "noise",
                };
                let (quiet_ms, speech_ms) = self.take_speech();
                let ends = listen_end_ms(&pause, quiet_ms, speech_ms).min(max_millis);
                let heard = match speech_ms {
                    0 => "the caller stays silent".to_string(),
                    n => format!(
                        "the caller speaks {:.1}s after {:.1}s",
                        n as f64 / 1000.0,
                        quiet_ms as f64 / 1000.0
                    ),
                };
                self.note(
                    "pause",
                    &format!(
                        "listening for {what}, at most {:.1}s: {heard} → ends at {:.1}s",
                        max_millis as f64 / 1000.0,
                        ends as f64 / 1000.0
                    ),
                );
                self.media(Some(Duration::from_millis(ends)));
            }
            Output::SendDigits { digits } => {
                self.note("dtmf", &format!("sends {digits}"));
                self.media(Some(Duration::from_secs_f64(digits_secs(&digits))));
            }
            Output::StopMedia => {
                self.media_gen += 1;
                self.media_pending = false;
                self.media_end = None;
                self.paused_remaining = None;
                self.note("stop", "the prompt stops (barge-in)");
            }
            Output::PlayControl(c) => self.play_control(c).await,
            Output::Dial(dial) => self.dial(dial),
            Output::EndDial => {
                self.note("dial", "the caller ends the dialed leg with *");
                let outcome = DialOutcome {
                    status: "completed".into(),
                    duration_secs: 0,
                    call_sid: None,
                    answered: true,
                };
                self.schedule(Duration::ZERO, Event::Input(Input::DialDone(outcome)));
            }
            Output::Record(record) => self.record(record),
            Output::StopRecording { key } => self.note("record", &format!("ended by key {key}")),
            Output::Amd(amd) => {
                let status = match self.take_step(|s| matches!(s, ScriptStep::Amd(_))) {
                    Some(ScriptStep::Amd(s)) => s,
                    _ => "HUMAN".into(),
                };
                self.note("amd", &format!("answering machine detection → {status}"));
                let cause = format!("{status}-SIMULATED");
                let after = Duration::from_millis(amd.total_analysis_time_ms.min(2000) as u64);
                self.schedule(after, Event::Input(Input::AmdDone { status, cause }));
            }
            Output::Sms { to, from, body } => self.note("sms", &format!("{from} → {to}: {body:?}")),
            Output::SipCredentials { username, .. } => self.note(
                "override",
                &format!("SIP credentials for outbound legs (user {username:?})"),
            ),
            Output::Reject {
                status,
                reason,
                call_info,
            } => {
                let info = call_info
                    .map(|i| format!(", Call-Info {i:?}"))
                    .unwrap_or_default();
                self.note(
                    "reject",
                    &format!("the call is refused: {status} {reason}{info}"),
                );
            }
            Output::Hangup => self.note("hangup", "flexvox hangs up"),
            Output::Callback(req) => {
                self.timeline
                    .request(t, "callback", req.method.as_str(), &req.url, &req.params);
                fetcher::send_notification(self.http.clone(), req).await;
            }
            Output::Timeline(entry) => {
                let kind = if entry.starts_with("app error") {
                    "error"
                } else if entry.starts_with("warning") {
                    "warning"
                } else if entry.starts_with("gather listening") {
                    "gather"
                } else {
                    "note"
                };
                // The simulator prints documents and keys itself.
                if entry.starts_with("document ") || entry.starts_with("caller pressed") {
                    return;
                }
                let text = entry
                    .strip_prefix("gather listening: ")
                    .map(|r| format!("listening for keys: {r}"));
                self.note(kind, text.as_deref().unwrap_or(&entry));
            }
            Output::Finished {
                call_status,
                status_callback,
            } => {
                if let Some(req) = status_callback {
                    self.timeline.request(
                        t,
                        "callback",
                        req.method.as_str(),
                        &req.url,
                        &req.params,
                    );
                    fetcher::send_notification(self.http.clone(), req).await;
                }
                let text = format!(
                    "call {call_status} after {t:.1}s; {} request(s), {} app error(s)",
                    self.timeline.requests, self.timeline.app_errors
                );
                self.note("end", &text);
            }
        }
    }

    fn dial(&mut self, dial: callflow::model::Dial) {
        let targets: Vec<String> = dial
            .numbers
            .iter()
            .map(|n| match n.send_digits.is_empty() {
                true => n.target.clone(),
                false => format!("{} (then sends {})", n.target, n.send_digits),
            })
            .collect();
        let answer = match self.take_step(|s| matches!(s, ScriptStep::Dial(_))) {
            Some(ScriptStep::Dial(a)) => a,
            _ => DialAnswer::Answer { talk_secs: 10.0 },
        };
        let ring = Duration::from_secs(3);
        let (status, after, talk) = match answer {
            DialAnswer::Answer { talk_secs } => {
                let mut talk = Duration::from_secs_f64(talk_secs);
                if dial.time_limit_secs > 0 {
                    talk = talk.min(Duration::from_secs(dial.time_limit_secs as u64));
                }
                ("completed", ring + talk, talk)
            }
            DialAnswer::Busy => ("busy", Duration::from_secs(1), Duration::ZERO),
            DialAnswer::NoAnswer => (
                "noanswer",
                Duration::from_secs(dial.timeout_secs as u64),
                Duration::ZERO,
            ),
            DialAnswer::Failed => ("failed", Duration::from_millis(100), Duration::ZERO),
        };
        self.note(
            "dial",
            &format!(
                "{} → {status}{}",
                targets.join(", "),
                if talk.is_zero() {
                    String::new()
                } else {
                    format!(", talking {:.0}s", talk.as_secs_f64())
                }
            ),
        );
        let outcome = DialOutcome {
            status: status.into(),
            duration_secs: talk.as_secs(),
            call_sid: Some(uuid::Uuid::new_v4().to_string()),
            answered: status == "completed",
        };
        self.schedule(after, Event::Input(Input::DialDone(outcome)));
    }

    fn record(&mut self, record: callflow::model::Record) {
        if record.record_session {
            self.note("record", "the whole call is recorded in the background");
            return;
        }
        let beep = if record.play_beep {
            ", after a beep"
        } else {
            ""
        };
        let spoken = match self.take_step(|s| matches!(s, ScriptStep::Speak(_))) {
            Some(ScriptStep::Speak(secs)) => secs,
            _ => 0.0,
        };
        let key = match self.script.front() {
            Some(ScriptStep::Press(k)) => k.chars().next(),
            _ => None,
        };
        if key.is_some() {
            self.script.pop_front();
        }
        let max = record.max_length_secs.map(|m| m as f64).unwrap_or(f64::MAX);
        let heard = spoken.min(max);
        // The recording ends on a key, at maxLength, or after `timeout` seconds of silence.
        let ends_after = match key {
            Some(_) => heard,
            None if spoken >= max => max,
            None => heard + record.timeout_secs as f64,
        };
        self.recordings += 1;
        let status = if heard > 0.0 { "completed" } else { "absent" };
        self.note(
            "record",
            &format!("recording{beep}: the caller speaks {heard:.1}s → {status}"),
        );
        let outcome = RecordOutcome {
            status: status.into(),
            sid: format!("simulated-recording-{}", self.recordings),
            url: format!(
                "simulate://recordings/{}.{}",
                self.recordings, record.file_format
            ),
            duration_secs: heard.round() as u64,
            digits: key.map(|k| k.to_string()),
        };
        self.schedule(
            Duration::from_secs_f64(ends_after),
            Event::Input(Input::RecordDone(outcome)),
        );
    }
}

/// When a Pause with detection ends, given the caller's silence then speech (reference: with
/// both, it waits for the speech and then for `minSilence` of silence after it).
fn listen_end_ms(p: &callflow::model::Pause, quiet_ms: u64, speech_ms: u64) -> u64 {
    let (min_noise, min_silence) = (p.min_noise_ms as u64, p.min_silence_ms as u64);
    match (p.noise, p.silence) {
        (true, true) if speech_ms == 0 => u64::MAX,
        (true, true) => quiet_ms + speech_ms + min_silence,
        (true, false) if speech_ms >= min_noise => quiet_ms + min_noise,
        (true, false) => u64::MAX,
        (false, true) if quiet_ms >= min_silence || speech_ms == 0 => min_silence,
        (false, true) => quiet_ms + speech_ms + min_silence,
        (false, false) => u64::MAX,
    }
}

/// Total length of a prompt played `loops` times (0 = until the call ends: no end).
fn repeat(once: f64, loops: u32, pause_secs: u32) -> Option<Duration> {
    (loops > 0).then(|| {
        Duration::from_secs_f64(once * loops as f64 + pause_secs as f64 * (loops - 1) as f64)
    })
}

fn times(loops: u32) -> String {
    match loops {
        0 => ", looping until hangup".into(),
        1 => String::new(),
        n => format!(" × {n}"),
    }
}

/// DTMF at 100 ms tone + 100 ms gap per key, 0.5 s per comma.
fn digits_secs(digits: &str) -> f64 {
    digits
        .chars()
        .map(|c| if c == ',' { 0.5 } else { 0.2 })
        .sum()
}
