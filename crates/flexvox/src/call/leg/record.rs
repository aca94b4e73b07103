//! What a leg remembers for its call detail record: when it started, was answered and ended,
//! the parties, the final status, and a bounded timeline of what happened (documents, verbs,
//! digits, app errors and warnings, callbacks). The record is written when the leg ends.

use callflow::model::PlaySource;
use callflow::Output;
use serde_json::{json, Value};
use store::{format_timestamp, DateTime, NewCallDr, Store, Utc};

/// The wall-clock time of a monotonic instant in the past (the INVITE's arrival).
pub fn wall_clock(at: std::time::Instant) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(at.elapsed()).unwrap_or_default()
}

/// Timeline entries kept per leg; past this, one last entry says how many were dropped.
pub const MAX_TIMELINE: usize = 500;

#[derive(Debug, Default)]
pub struct Timeline {
    entries: Vec<Value>,
    dropped: usize,
}

impl Timeline {
    pub fn push(&mut self, event: impl Into<String>) {
        if self.entries.len() >= MAX_TIMELINE {
            self.dropped += 1;
            return;
        }
        let time = format_timestamp(Utc::now());
        self.entries
            .push(json!({ "time": time, "event": event.into() }));
    }

    fn into_json(mut self) -> Value {
        if self.dropped > 0 {
            let event = format!("truncated: {} more entries not kept", self.dropped);
            let time = format_timestamp(Utc::now());
            self.entries.push(json!({ "time": time, "event": event }));
        }
        Value::Array(self.entries)
    }
}

/// One leg's record in the making.
#[derive(Debug)]
pub struct CallRecord {
    pub parent_call_sid: Option<String>,
    pub direction: &'static str,
    pub number_src: String,
    pub number_dst: String,
    pub original_from: Option<String>,
    pub original_to: Option<String>,
    pub started: DateTime<Utc>,
    pub talk: Option<DateTime<Utc>>,
    pub status: Option<String>,
    pub sip_status: Option<u16>,
    pub hangup_by: Option<&'static str>,
    /// When the leg ended, if before the record is written.
    pub stopped: Option<DateTime<Utc>>,
    pub timeline: Timeline,
}

impl CallRecord {
    pub fn new(direction: &'static str, src: &str, dst: &str, started: DateTime<Utc>) -> Self {
        CallRecord {
            parent_call_sid: None,
            direction,
            number_src: src.into(),
            number_dst: dst.into(),
            original_from: None,
            original_to: None,
            started,
            talk: None,
            status: None,
            sip_status: None,
            hangup_by: None,
            stopped: None,
            timeline: Timeline::default(),
        }
    }

    pub fn answered(&mut self) {
        if self.talk.is_none() {
            self.talk = Some(Utc::now());
            self.sip_status = Some(200);
            self.timeline.push("answered");
        }
    }

    /// Notes what an interpreter output says about the call before the leg performs it.
    pub fn observe(&mut self, out: &Output) {
        match out {
            Output::Reject { status, .. } => {
                self.sip_status = Some(*status);
                self.hangup_by = Some("app");
            }
            Output::Hangup => self.hangup_by = self.hangup_by.or(Some("app")),
            Output::Finished { call_status, .. } => self.status = Some(call_status.clone()),
            _ => {}
        }
        if let Some(event) = describe(out) {
            self.timeline.push(event);
        }
    }

    /// Writes the record (in the background: the call is over and nothing waits for it).
    pub fn write(mut self, store: &Store, call_sid: &str, account_sid: &str) {
        let stop = self.stopped.unwrap_or_else(Utc::now);
        let status = self.status.take().unwrap_or_else(|| "failed".into());
        if status == "cancel" {
            self.sip_status = self.sip_status.or(Some(487));
        }
        // Whoever did not hang up from our side did from theirs.
        let remote = match self.direction {
            "inbound" => "caller",
            _ => "called",
        };
        let new = NewCallDr {
            call_sid: call_sid.into(),
            parent_call_sid: self.parent_call_sid,
            account_sid: account_sid.into(),
            direction: self.direction.into(),
            number_src: self.number_src,
            number_dst: self.number_dst,
            original_from: self.original_from,
            original_to: self.original_to,
            date_start: format_timestamp(self.started),
            date_talk: self.talk.map(format_timestamp),
            date_stop: format_timestamp(stop),
            duration: self.talk.map_or(0, |t| (stop - t).num_seconds().max(0)),
            status,
            sip_status: self.sip_status.map(i64::from),
            hangup_by: Some(self.hangup_by.unwrap_or(remote).into()),
            timeline: self.timeline.into_json(),
        };
        let store = store.clone();
        tokio::spawn(async move {
            match store.insert_call_dr(&new).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    tracing::info!(call_sid = %new.call_sid, "the account is gone: no call record")
                }
                Err(e) => {
                    tracing::warn!(call_sid = %new.call_sid, error = %e, "cannot write the call record")
                }
            }
        });
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The timeline entry of an output, if it is worth one.
fn describe(out: &Output) -> Option<String> {
    Some(match out {
        Output::Fetch(req) => format!("fetch {} {}", req.method.as_str(), req.url),
        Output::Answer => return None, // `answered` notes the moment it happens
        Output::EarlyMedia => "early media (183)".into(),
        Output::Say { text, voice, .. } => format!("verb Say ({voice}): {}", shorten(text)),
        Output::Play { source, .. } => match source {
            PlaySource::Url(url) => format!("verb Play {url}"),
            PlaySource::File(sid) => format!("verb Play file {sid}"),
            PlaySource::Digits(d) => format!("verb Play digits {d}"),
        },
        Output::Silence { millis } => format!("verb Pause {millis} ms"),
        Output::Listen { max_millis, .. } => format!("verb Pause up to {max_millis} ms"),
        Output::SendDigits { digits } => format!("send digits {digits}"),
        Output::Dial(spec) => {
            let targets: Vec<&str> = spec.numbers.iter().map(|n| n.target.as_str()).collect();
            format!("verb Dial {}", targets.join(", "))
        }
        Output::EndDial => "dial ended by the caller".into(),
        Output::Record(_) => "verb Record".into(),
        Output::Amd(_) => "answering machine detection".into(),
        Output::Sms { to, .. } => format!("verb Sms to {to}"),
        Output::Reject { status, reason, .. } => format!("verb Reject: {status} {reason}"),
        Output::Hangup => "verb Hangup".into(),
        Output::Callback(req) => format!("callback queued: {} {}", req.method.as_str(), req.url),
        Output::Timeline(entry) => entry.clone(),
        Output::Finished {
            call_status,
            status_callback,
        } => match status_callback {
            Some(req) => format!(
                "call ended: {call_status}; status callback queued: {} {}",
                req.method.as_str(),
                req.url
            ),
            None => format!("call ended: {call_status}"),
        },
        Output::StopMedia
        | Output::PlayControl(_)
        | Output::StopRecording { .. }
        | Output::SipCredentials { .. } => return None,
    })
}

/// A Dial leg's record: its own call SID, linked to the call that dialed it.
#[derive(Debug)]
pub struct DialLegRecord {
    pub call_sid: String,
    record: CallRecord,
}

impl DialLegRecord {
    pub fn new(parent_call_sid: &str, from: &str, target: &str) -> Self {
        let mut record = CallRecord::new("outbound", from, target, Utc::now());
        record.parent_call_sid = Some(parent_call_sid.into());
        record.timeline.push(format!("dialing {target}"));
        DialLegRecord {
            call_sid: uuid::Uuid::new_v4().to_string(),
            record,
        }
    }

    pub fn answered(&mut self) {
        self.record.answered();
    }

    /// The leg ended on its own (a final failure, or the far end hung up).
    pub fn ended(&mut self, status: &str, sip_status: Option<u16>) {
        if self.record.status.is_none() {
            self.record.status = Some(status.into());
            self.record.sip_status = sip_status.or(self.record.sip_status);
            self.record.hangup_by = Some("called");
            self.record
                .timeline
                .push(format!("ended: {status} ({})", sip_status.unwrap_or(0)));
            self.record.stopped = Some(Utc::now());
        }
    }

    /// Writes the record when the Dial is over; a leg still up or ringing was ended by us
    /// (`status` says why: the caller hung up, timeout, another leg answered).
    pub fn write(mut self, store: &Store, account_sid: &str, status: &str) {
        if self.record.status.is_none() {
            let status = match (self.record.talk, status) {
                (Some(_), _) => "completed",
                (None, "noanswer") => "noanswer",
                (None, _) => "cancel",
            };
            self.record.status = Some(status.into());
            self.record.hangup_by = Some("app");
        }
        self.record.write(store, &self.call_sid, account_sid);
    }
}
