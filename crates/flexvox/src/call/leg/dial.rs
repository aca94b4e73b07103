//! Dial on a real call: outbound legs through the trunk (numbers) or straight to a `sip:` URI,
//! first answer wins and the others are cancelled, then the two legs' audio is bridged until
//! either side hangs up, `hangupOnStar`, or `timeLimit`.

use super::record::DialLegRecord;
use super::Leg;
use crate::media_engine::{EngineEvent, RtpSocket};
use crate::sip_driver::{OutboundEvent, SipCommand};
use callflow::interpreter::DialOutcome;
use callflow::model::{Dial, DialNumber, Record, RecordKeys};
use callflow::Input;
use sip::sdp;
use sip::OutboundCall;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

struct Attempt {
    key: u64,
    rtp: Option<RtpSocket>,
    send_digits: String,
    finished: bool,
    /// Taken when the Dial is over and the leg's record is written.
    cdr: Option<DialLegRecord>,
}

pub struct DialRun {
    spec: Dial,
    attempts: Vec<Attempt>,
    ring_deadline: Instant,
    answered: Option<(u64, Instant)>,
    limit_at: Option<Instant>,
    last_status: Option<u16>,
    /// confirmKey: the answered leg that hears confirmSound and must press the key before it
    /// is bridged (others still ringing go on ringing meanwhile).
    confirming: Option<u64>,
}

fn outcome(status: &str, duration: Duration, answered: bool, call_sid: Option<String>) -> Input {
    Input::DialDone(DialOutcome {
        status: status.into(),
        duration_secs: duration.as_secs(),
        call_sid,
        answered,
    })
}

/// DialCallSid: the dialed leg that answered, else the first one placed (its call detail
/// record carries the same SID).
fn dialed_sid(attempts: &[Attempt], answered: Option<u64>) -> Option<String> {
    attempts
        .iter()
        .find(|a| Some(a.key) == answered)
        .or(attempts.first())
        .and_then(|a| a.cdr.as_ref())
        .map(|c| c.call_sid.clone())
}

impl Leg {
    /// Starts every leg of a Dial; returns the outcome at once if none could start.
    pub(super) async fn start_dial(&mut self, spec: Dial) -> Option<Input> {
        let now = Instant::now();
        // Once per Dial, not per number: the account's limits and the caller ID shown.
        let limits = crate::call::limits::account_limits(&self.ctx, &self.account_sid).await;
        let from_user = self.caller_id_for(&spec).await;
        let mut attempts = Vec::new();
        for DialNumber {
            target,
            send_digits,
            headers,
        } in &spec.numbers
        {
            let started = if limits.destination_allowed(target) {
                self.start_attempt(&spec, &from_user, target, headers).await
            } else {
                Err("not in the destinations allowed for the account".into())
            };
            match started {
                Ok((key, rtp)) => attempts.push(Attempt {
                    key,
                    rtp: Some(rtp),
                    send_digits: send_digits.clone(),
                    finished: false,
                    cdr: Some(DialLegRecord::new(&self.call_sid, &from_user, target)),
                }),
                Err(why) => {
                    tracing::info!(call_sid = %self.call_sid, %target, %why, "dial leg not placed");
                    if let Some(r) = &mut self.record {
                        r.timeline.push(format!("dial {target} not placed: {why}"));
                    }
                }
            }
        }
        if attempts.is_empty() {
            return Some(outcome("failed", Duration::ZERO, false, None));
        }
        self.dial = Some(DialRun {
            ring_deadline: now + Duration::from_secs(spec.timeout_secs as u64),
            spec,
            attempts,
            answered: None,
            limit_at: None,
            last_status: None,
            confirming: None,
        });
        None
    }

    async fn start_attempt(
        &mut self,
        spec: &Dial,
        from_user: &str,
        target: &str,
        headers: &[(String, String)],
    ) -> Result<(u64, RtpSocket), String> {
        let crate::call::target::Resolved {
            destination,
            transport,
            request_uri,
            to_user,
        } = crate::call::target::resolve(target, self.ctx.trunk, &self.ctx.registrations)
            .await
            .map_err(|e| e.to_string())?;
        let rtp = self.ctx.media.allocate().map_err(|e| e.to_string())?;
        let local_ip = super::local_ip_towards(destination, self.ctx.advertised_ip);
        let key = crate::call::target::next_leg_key();
        let call = OutboundCall {
            request_uri,
            from_user: from_user.to_string(),
            from_display: spec.caller_name.clone(),
            to_user,
            destination,
            transport,
            sdp_offer: sdp::offer(local_ip, rtp.port, key),
            extra_headers: headers.to_vec(),
            credentials: self.ctx.trunk_credentials.clone(),
        };
        tracing::info!(call_sid = %self.call_sid, %target, %destination, "dialing");
        let _ = self.ctx.sip.send(SipCommand::Dial {
            key,
            call,
            events: self.outbound_events.clone(),
        });
        Ok((key, rtp))
    }

    /// The caller ID of a dialed leg: the app's `callerId` when it is one of the account's
    /// DIDs or the caller's own number (forwarding shows who is calling), else the caller's
    /// number, so an app cannot present numbers it does not own.
    async fn caller_id_for(&self, spec: &Dial) -> String {
        let Some(wanted) = spec.caller_id.clone() else {
            return self.caller_number.clone();
        };
        let digits: String = wanted.chars().filter(char::is_ascii_digit).collect();
        if digits == self.caller_number.trim_start_matches('+') {
            return wanted;
        }
        match self.ctx.store.route_number(&digits).await {
            Ok(Some((_, account))) if account.account_sid == self.account_sid => wanted,
            _ => {
                tracing::warn!(call_sid = %self.call_sid, caller_id = %wanted, "Dial callerId is not one of the account's DIDs: the caller's number is shown instead");
                self.caller_number.clone()
            }
        }
    }

    /// When the Dial's ring timeout or time limit is due.
    pub fn dial_deadline(&self) -> Option<Instant> {
        let d = self.dial.as_ref()?;
        match d.answered {
            None => Some(d.ring_deadline),
            Some(_) => d.limit_at,
        }
    }

    pub fn on_dial_timer(&mut self, now: Instant) -> Option<Input> {
        let d = self.dial.as_ref()?;
        match d.answered {
            None if now >= d.ring_deadline => {
                tracing::info!(call_sid = %self.call_sid, "dial: no answer within the timeout");
                self.end_dial("noanswer")
            }
            Some(_) if d.limit_at.is_some_and(|t| now >= t) => {
                tracing::info!(call_sid = %self.call_sid, "dial: time limit reached");
                self.end_dial("completed")
            }
            _ => None,
        }
    }

    /// Ends the Dial from our side (timeout, time limit, hangupOnStar, the caller leaving).
    pub(super) fn end_dial(&mut self, status: &str) -> Option<Input> {
        let mut d = self.dial.take()?;
        if d.answered.is_some() && records_the_bridge(&d.spec) {
            self.ctx.media.stop_recording(self.media_id);
        }
        let sid = dialed_sid(&d.attempts, d.answered.map(|(k, _)| k));
        self.write_dial_records(&mut d.attempts, status);
        for a in d.attempts.iter().filter(|a| !a.finished) {
            let _ = self.ctx.sip.send(SipCommand::HangupOutbound(a.key));
        }
        self.release_attempts(d.attempts, d.answered.map(|(k, _)| k));
        let duration = d.answered.map(|(_, at)| at.elapsed()).unwrap_or_default();
        Some(outcome(status, duration, d.answered.is_some(), sid))
    }

    /// Each dialed leg's own call detail record, linked to this call; `status` is the
    /// Dial's outcome, which says how legs still up or ringing ended.
    fn write_dial_records(&self, attempts: &mut [Attempt], status: &str) {
        for cdr in attempts.iter_mut().filter_map(|a| a.cdr.take()) {
            cdr.write(&self.ctx.store, &self.account_sid, status);
        }
    }

    fn release_attempts(&mut self, attempts: Vec<Attempt>, bridged: Option<u64>) {
        for a in attempts {
            match a.rtp {
                Some(rtp) => self.ctx.media.release(rtp),
                None => self.ctx.media.remove(a.key),
            }
        }
        if bridged.is_some() {
            self.ctx.media.unbridge(self.media_id);
        }
    }

    pub fn on_outbound(&mut self, key: u64, event: OutboundEvent) -> Option<Input> {
        let dial = self.dial.as_mut()?;
        let index = dial.attempts.iter().position(|a| a.key == key)?;
        match event {
            OutboundEvent::Progress(status) => {
                tracing::info!(call_sid = %self.call_sid, status, "dial: ringing");
                None
            }
            OutboundEvent::Answered(sdp)
                if dial.answered.is_none()
                    && dial.confirming.is_none()
                    && dial.spec.confirm_key.is_some() =>
            {
                self.start_confirmation(index, &sdp);
                None
            }
            OutboundEvent::Answered(sdp)
                if dial.answered.is_none() && dial.spec.confirm_key.is_none() =>
            {
                self.connect(index, &sdp)?;
                self.bridge(index)
            }
            OutboundEvent::Answered(_) => {
                // Someone else answered first: this one is hung up.
                let _ = self.ctx.sip.send(SipCommand::HangupOutbound(key));
                None
            }
            OutboundEvent::Failed { status, .. } => {
                let attempt = &mut dial.attempts[index];
                attempt.finished = true;
                if let Some(cdr) = &mut attempt.cdr {
                    cdr.ended(sip::ua::call_status_for(status), status);
                }
                if let Some(rtp) = attempt.rtp.take() {
                    self.ctx.media.release(rtp);
                }
                dial.last_status = status.or(dial.last_status);
                if dial.answered.is_some() || dial.attempts.iter().any(|a| !a.finished) {
                    return None;
                }
                let status = sip::ua::call_status_for(dial.last_status);
                let mut sid = None;
                if let Some(mut d) = self.dial.take() {
                    sid = dialed_sid(&d.attempts, None);
                    self.write_dial_records(&mut d.attempts, status);
                }
                Some(outcome(status, Duration::ZERO, false, sid))
            }
            OutboundEvent::Ended => {
                dial.attempts[index].finished = true;
                if dial.confirming == Some(key) {
                    // Hung up without confirming: as if it had not answered.
                    dial.confirming = None;
                    if let Some(cdr) = &mut dial.attempts[index].cdr {
                        cdr.ended("completed", None);
                    }
                    self.ctx.media.remove(key);
                    if dial.attempts.iter().all(|a| a.finished) {
                        return self.end_dial("noanswer");
                    }
                    return None;
                }
                if dial.answered.map(|(k, _)| k) != Some(key) {
                    return None;
                }
                if let Some(cdr) = &mut dial.attempts[index].cdr {
                    cdr.ended("completed", None);
                }
                tracing::info!(call_sid = %self.call_sid, "dial: the dialed party hung up");
                self.end_dial("completed")
            }
        }
    }

    /// Adds an answered leg's stream to the engine (its events go to `dial_media`).
    fn connect(&mut self, index: usize, answer_sdp: &[u8]) -> Option<()> {
        let key = self.dial.as_ref()?.attempts[index].key;
        let negotiated = match sdp::parse_offer(answer_sdp).and_then(|o| sdp::negotiate(&o)) {
            Ok(n) => n,
            Err(e) => {
                tracing::info!(call_sid = %self.call_sid, error = %e, "dial: unusable answer SDP");
                let _ = self.ctx.sip.send(SipCommand::HangupOutbound(key));
                return None;
            }
        };
        let rtp = self.dial.as_mut()?.attempts[index].rtp.take()?;
        let stream = super::stream_format(&negotiated);
        let remote = SocketAddr::new(negotiated.remote_address, negotiated.remote_port);
        // The dialed leg's own events (its keys) come back tagged with its key.
        let (events, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let dial_media = self.dial_media.clone();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if dial_media.send((key, event)).is_err() {
                    break;
                }
            }
        });
        self.ctx.media.add(key, rtp, remote, stream, events);
        self.ctx.media.start_sending(key);
        Some(())
    }

    /// confirmKey: the answered party hears confirmSound and is bridged once it presses the key.
    fn start_confirmation(&mut self, index: usize, answer_sdp: &[u8]) {
        if self.connect(index, answer_sdp).is_none() {
            return;
        }
        let Some(dial) = self.dial.as_mut() else {
            return;
        };
        let key = dial.attempts[index].key;
        dial.confirming = Some(key);
        tracing::info!(call_sid = %self.call_sid, "dial: answered, waiting for the confirm key");
        if let Some(url) = dial.spec.confirm_sound.clone() {
            let ctx = self.ctx.clone();
            tokio::spawn(async move {
                match ctx.prompts.play(&url).await {
                    Ok(audio) => ctx
                        .media
                        .play(key, media::Prompt::of(0, audio.into_source(), 1, 0)),
                    Err(e) => tracing::info!(error = %e, "dial: confirmSound cannot play"),
                }
            });
        }
    }

    /// A key from a dialed leg: the confirm key bridges the leg waiting to confirm.
    pub fn on_dial_media(&mut self, key: u64, event: EngineEvent) -> Option<Input> {
        let EngineEvent::Digit(pressed) = event else {
            return None;
        };
        let dial = self.dial.as_mut()?;
        if dial.confirming != Some(key) || dial.spec.confirm_key != Some(pressed) {
            return None;
        }
        dial.confirming = None;
        let index = dial.attempts.iter().position(|a| a.key == key)?;
        self.ctx.media.stop(key);
        tracing::info!(call_sid = %self.call_sid, "dial: confirmed with {pressed}");
        self.bridge(index)
    }

    /// The first answer (confirmed, if confirmKey asks): connect its media to the caller's
    /// and let the others go.
    fn bridge(&mut self, index: usize) -> Option<Input> {
        self.setup_media()?;
        self.answer();
        let dial = self.dial.as_mut()?;
        let now = Instant::now();
        dial.answered = Some((dial.attempts[index].key, now));
        if dial.spec.time_limit_secs > 0 {
            dial.limit_at = Some(now + Duration::from_secs(dial.spec.time_limit_secs as u64));
        }
        let attempt = &mut dial.attempts[index];
        let key = attempt.key;
        let send_digits = std::mem::take(&mut attempt.send_digits);
        if let Some(cdr) = &mut attempt.cdr {
            cdr.answered();
        }
        for other in dial.attempts.iter().filter(|a| a.key != key && !a.finished) {
            let _ = self.ctx.sip.send(SipCommand::HangupOutbound(other.key));
        }
        self.ctx.media.bridge(self.media_id, key);
        if !send_digits.is_empty() {
            self.ctx.media.send_digits(key, &send_digits);
        }
        tracing::info!(call_sid = %self.call_sid, "dial: answered and bridged");
        let spec = self.dial.as_ref()?.spec.clone();
        if records_the_bridge(&spec) {
            // Reported like a session recording: the Dial's recordingStatusCallback.
            let _ = self.begin_recording(bridge_recording(&spec), false);
        }
        None
    }
}

/// `record-from-ringing` records from the answer too: until then the caller's leg may not be
/// answered, and flexvox does not relay the dialed party's early media.
fn records_the_bridge(spec: &Dial) -> bool {
    matches!(
        spec.record.as_str(),
        "record-from-answer" | "record-from-ringing"
    )
}

/// Dial's recording attributes as the recording they ask for: the whole bridge, both sides
/// mixed unless `recordDirection` picks one, stored like a Record verb's.
fn bridge_recording(spec: &Dial) -> Record {
    Record {
        action: None,
        error_action: None,
        background_audio_url: None,
        background_audio_loop: 0,
        callback_url: None,
        container_sid: spec.container_sid.clone(),
        direction: spec.record_direction.clone(),
        file_format: "wav".into(),
        file_mode: "append".into(),
        file_sid: None,
        finish_on_key: Some(String::new()),
        max_length_secs: None,
        play_beep: false,
        record_session: true,
        recording_status_callback: spec.recording_status_callback.clone(),
        recording_status_callback_event: spec.recording_status_callback_event.clone(),
        timeout_secs: 5,
        trim: spec.trim.clone(),
        transcribe: false,
        keys: RecordKeys::default(),
    }
}
