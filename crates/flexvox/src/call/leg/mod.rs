//! The caller's leg of a call: its RTP stream in the media engine, its SIP dialog, and how
//! each interpreter output is performed on them.

use crate::fetcher;
use crate::media_engine::{DetectKind, Detection, EngineEvent, RtpSocket, StreamFormat};
use crate::prompts::{voice_for, Audio};
use crate::sip_driver::{OutboundEvent, SipCommand};
use crate::CallContext;
use callflow::interpreter::RecordOutcome;
use callflow::model::{PlaySource, Record};
use callflow::{Input, Output};
use media::detect::AmdParams;
use media::session::Encoding;
use media::session::Source;
use media::{Prompt, PromptId};
use sip::sdp::{self, Codec, Negotiated};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// What an asynchronous step of the driver delivers back to the loop.
pub enum Step {
    Input(Input),
    PromptReady(Result<Prompt, String>),
}

pub type Pending = Pin<Box<dyn Future<Output = Step> + Send>>;

/// The local address that routes to `remote`, for the SDP we answer with.
pub(crate) fn local_ip_towards(remote: SocketAddr, fallback: IpAddr) -> IpAddr {
    let any: IpAddr = if remote.is_ipv4() {
        [0, 0, 0, 0].into()
    } else {
        [0u16; 8].into()
    };
    std::net::UdpSocket::bind(SocketAddr::new(any, 0))
        .and_then(|s| s.connect(remote).map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(fallback)
}

fn ready(input: Input) -> Pending {
    Box::pin(async move { Step::Input(input) })
}

pub struct Leg {
    ctx: Arc<CallContext>,
    signaling: Signaling,
    media_id: u64,
    rtp: Option<RtpSocket>,
    remote_media: SocketAddr,
    negotiated: Negotiated,
    media_events: mpsc::UnboundedSender<EngineEvent>,
    local_sdp: Option<String>,
    current_prompt: Option<PromptId>,
    next_prompt: PromptId,
    answered_at: Option<Instant>,
    acked_at: Option<Instant>,
    first_rtp_at: Option<Instant>,
    sending_digits: bool,
    call_sid: String,
    /// The caller's number: the default caller ID of Dial legs.
    caller_number: String,
    /// The FlexML account running the call: `<Play><File>` plays its partner's files.
    account_sid: String,
    dial: Option<dial::DialRun>,
    outbound_events: mpsc::UnboundedSender<(u64, OutboundEvent)>,
    /// Media events of dialed legs, tagged with the leg's key (confirmKey presses).
    dial_media: mpsc::UnboundedSender<(u64, EngineEvent)>,
    /// Taken when the leg ends and its call detail record is written.
    record: Option<CallRecord>,
    /// Recordings the engine is writing for this leg.
    recordings: Vec<recording::Active>,
    /// A Record verb whose beep is playing; recording starts when it ends.
    beeping: Option<(PromptId, Record)>,
    /// Record's backgroundAudioUrl, played while recording and not the interpreter's media.
    background_prompt: Option<PromptId>,
    background_task: Option<tokio::task::JoinHandle<()>>,
    /// A Pause with silence/noise detection is running.
    listening: bool,
    /// Finished recordings being stored; their outcomes come back on `stored`.
    storing: usize,
    stored: mpsc::UnboundedSender<Stored>,
    /// A session recording's outcome, held while a Record verb's is awaited.
    held: Vec<RecordOutcome>,
}

mod dial;
mod play_control;
mod record;
mod recording;
mod recording_audio;
mod recording_leg;

/// A recording turned into a File (or not), back from the task that stored it.
pub struct Stored {
    outcome: RecordOutcome,
    note: Option<String>,
    foreground: bool,
}

pub(crate) use record::{wall_clock, CallRecord};

/// The SIP side of the leg the app talks to: an inbound dialog we answer, or an outbound leg
/// (a call placed with POST /calls) that the far end has already answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signaling {
    Inbound(sip::CallId),
    Outbound(u64),
}

/// What the call knows about the leg when it is set up.
pub struct LegParts {
    pub signaling: Signaling,
    /// The media engine's id for this leg's stream.
    pub media_id: u64,
    pub rtp: RtpSocket,
    pub remote_media: SocketAddr,
    pub negotiated: Negotiated,
    pub call_sid: String,
    pub caller_number: String,
    pub account_sid: String,
    pub record: CallRecord,
}

/// Where the media engine and the outbound legs report to the call task.
pub struct LegChannels {
    pub media_events: mpsc::UnboundedSender<EngineEvent>,
    pub outbound_events: mpsc::UnboundedSender<(u64, OutboundEvent)>,
    pub dial_media: mpsc::UnboundedSender<(u64, EngineEvent)>,
    pub stored: mpsc::UnboundedSender<Stored>,
}

impl Leg {
    pub fn new(ctx: Arc<CallContext>, parts: LegParts, channels: LegChannels) -> Leg {
        Leg {
            ctx,
            signaling: parts.signaling,
            media_id: parts.media_id,
            rtp: Some(parts.rtp),
            remote_media: parts.remote_media,
            negotiated: parts.negotiated,
            media_events: channels.media_events,
            local_sdp: None,
            current_prompt: None,
            next_prompt: 1,
            answered_at: None,
            acked_at: None,
            first_rtp_at: None,
            sending_digits: false,
            call_sid: parts.call_sid,
            caller_number: parts.caller_number,
            account_sid: parts.account_sid,
            dial: None,
            outbound_events: channels.outbound_events,
            dial_media: channels.dial_media,
            record: Some(parts.record),
            recordings: Vec::new(),
            beeping: None,
            background_prompt: None,
            background_task: None,
            listening: false,
            storing: 0,
            stored: channels.stored,
            held: Vec::new(),
        }
    }

    pub fn on_confirmed(&mut self) {
        self.acked_at = Some(Instant::now());
        self.ctx.media.start_sending(self.media_id);
    }

    /// The caller's re-INVITE moved its media or held the call: follow it.
    pub fn on_remote_media(&mut self, remote: SocketAddr, hold: bool) {
        self.remote_media = remote;
        self.ctx.media.retarget(self.media_id, remote, hold);
    }

    pub fn play(&mut self, prompt: Prompt) {
        // A background Play gives way to the next verb that plays something.
        self.stop_background();
        self.current_prompt = Some(prompt.id);
        self.ctx.media.play(self.media_id, prompt);
    }

    fn note(&mut self, entry: String) {
        tracing::info!(call_sid = %self.call_sid, "{entry}");
        if let Some(r) = &mut self.record {
            r.timeline.push(entry);
        }
    }

    /// Turns an engine event into an interpreter input, if it is one.
    pub fn on_engine_event(&mut self, event: EngineEvent, invite_at: Instant) -> Option<Input> {
        match event {
            EngineEvent::PromptFinished(id) if self.beeping.as_ref().map(|b| b.0) == Some(id) => {
                self.current_prompt = None;
                let (_, record) = self.beeping.take()?;
                self.begin_recording(record, true)
            }
            EngineEvent::PromptFinished(id) if Some(id) == self.background_prompt => {
                self.background_prompt = None;
                None
            }
            EngineEvent::PromptFinished(id) if Some(id) == self.current_prompt => {
                self.current_prompt = None;
                if std::mem::take(&mut self.listening) {
                    self.ctx.media.stop_detect(self.media_id);
                }
                Some(Input::MediaDone)
            }
            EngineEvent::PromptFinished(_) => None,
            EngineEvent::Digit(key) => Some(Input::Digit(key)),
            EngineEvent::DigitsSent if self.sending_digits => {
                self.sending_digits = false;
                Some(Input::MediaDone)
            }
            EngineEvent::DigitsSent => None,
            EngineEvent::DigitsRefused(why) => {
                self.sending_digits = false;
                Some(Input::MediaFailed(why))
            }
            EngineEvent::RecordingStopped(done) => {
                self.recording_ended(done.path.clone(), Ok(done));
                None
            }
            EngineEvent::RecordingFailed { path, error } => {
                self.recording_ended(path, Err(error));
                None
            }
            EngineEvent::Detected(Detection::Pause(end)) if self.listening => {
                // The condition was met before the pause's length: cut the pause short.
                self.listening = false;
                self.current_prompt = None;
                self.ctx.media.stop(self.media_id);
                self.note(format!("pause ended early: {end:?} detected"));
                Some(Input::MediaDone)
            }
            EngineEvent::Detected(Detection::Amd(found)) => Some(Input::AmdDone {
                status: found.status.as_str().into(),
                cause: found.cause,
            }),
            EngineEvent::Detected(Detection::Pause(_)) => None,
            EngineEvent::FirstPacketSent(at) => {
                self.first_rtp_at = Some(at);
                None
            }
            EngineEvent::FirstAudioSent(at) => {
                if let (Some(answered), Some(acked), Some(first_rtp)) =
                    (self.answered_at, self.acked_at, self.first_rtp_at)
                {
                    tracing::info!(
                        call_sid = %self.call_sid,
                        invite_to_200_us = (answered - invite_at).as_micros() as u64,
                        ack_to_first_rtp_us = first_rtp.saturating_duration_since(acked).as_micros() as u64,
                        ack_to_first_audio_us = at.saturating_duration_since(acked).as_micros() as u64,
                        "call timing"
                    );
                }
                None
            }
        }
    }

    /// Answers the leg (once): 200 OK for an inbound call, whose media starts on the ACK; an
    /// outbound leg is already answered, so its media starts now.
    fn answer(&mut self) {
        if self.answered_at.is_some() {
            return;
        }
        let Some(answer) = self.setup_media() else {
            return;
        };
        self.answered_at = Some(Instant::now());
        if let Some(r) = &mut self.record {
            r.answered();
        }
        match self.signaling {
            Signaling::Inbound(call) => {
                let _ = self.ctx.sip.send(SipCommand::Answer(call, answer));
            }
            Signaling::Outbound(_) => self.ctx.media.start_sending(self.media_id),
        }
    }

    /// The outbound leg's key, when this leg was placed by us.
    pub fn outbound_key(&self) -> Option<u64> {
        match self.signaling {
            Signaling::Outbound(key) => Some(key),
            Signaling::Inbound(_) => None,
        }
    }

    /// Binds the negotiated stream to the engine (once) and returns our SDP answer.
    fn setup_media(&mut self) -> Option<String> {
        if let Some(answer) = &self.local_sdp {
            return Some(answer.clone());
        }
        let rtp = self.rtp.take()?;
        let local_ip = local_ip_towards(self.remote_media, self.ctx.advertised_ip);
        let answer = sdp::answer(
            &self.negotiated,
            local_ip,
            rtp.port,
            rand::random::<u32>() as u64,
        );
        let stream = stream_format(&self.negotiated);
        let events = self.media_events.clone();
        self.ctx
            .media
            .add(self.media_id, rtp, self.remote_media, stream, events);
        self.local_sdp = Some(answer.clone());
        Some(answer)
    }

    /// Queues DTMF on the caller's stream; the interpreter hears MediaDone once it is all sent.
    fn send_digits(&mut self, digits: &str) -> Option<Pending> {
        self.sending_digits = true;
        self.ctx.media.send_digits(self.media_id, digits);
        None
    }

    fn fresh_prompt_id(&mut self) -> PromptId {
        self.next_prompt += 1;
        self.next_prompt
    }

    fn prompt(
        &mut self,
        load: impl Future<Output = Result<Source, String>> + Send + 'static,
        loops: u32,
        gap_secs: u32,
    ) -> Pending {
        self.prompt_cut(load, loops, gap_secs, play_control::Cut::default())
    }

    /// A prompt that starts `cut.skip_secs` in and stops after `cut.limit_secs` (0: no limit).
    fn prompt_cut(
        &mut self,
        load: impl Future<Output = Result<Source, String>> + Send + 'static,
        loops: u32,
        gap_secs: u32,
        cut: play_control::Cut,
    ) -> Pending {
        let id = self.fresh_prompt_id();
        Box::pin(async move {
            Step::PromptReady(
                load.await
                    .map(|source| cut.prompt(id, source, loops, gap_secs)),
            )
        })
    }

    /// Performs one interpreter output; returns the future of an asynchronous step, if any.
    pub fn perform(&mut self, out: Output) -> Option<Pending> {
        if let Some(r) = &mut self.record {
            r.observe(&out);
        }
        let ctx = self.ctx.clone();
        match out {
            Output::Fetch(req) => Some(Box::pin(async move {
                Step::Input(Input::Fetched(
                    fetcher::fetch_document(&ctx.http, &req).await,
                ))
            })),
            Output::Answer => {
                self.answer();
                None
            }
            Output::EarlyMedia => {
                let answer = self.setup_media()?;
                match self.signaling {
                    Signaling::Inbound(call) => {
                        let _ = ctx.sip.send(SipCommand::SessionProgress(call, answer));
                    }
                    Signaling::Outbound(_) => self.answered_at = Some(Instant::now()),
                }
                // No ACK comes for a 183 (nor for an outbound leg's 200): media flows at once.
                ctx.media.start_sending(self.media_id);
                None
            }
            Output::Say {
                text,
                voice,
                loops,
                loop_pause_secs,
            } => {
                if let (_, Some(note)) = voice_for(&voice) {
                    if !ctx.prompts.has_tts_service() {
                        tracing::info!(call_sid = %self.call_sid, "{note}");
                    }
                }
                Some(self.prompt(
                    async move { ctx.prompts.say(&voice, &text).await.map(Source::Samples) },
                    loops,
                    loop_pause_secs,
                ))
            }
            Output::Play {
                source,
                loops,
                loop_pause_secs,
                skip_secs,
                time_limit_secs,
                background,
            } => {
                let load: Pin<Box<dyn Future<Output = Result<Source, String>> + Send>> =
                    match source {
                        PlaySource::Url(url) => {
                            Box::pin(
                                async move { ctx.prompts.play(&url).await.map(Audio::into_source) },
                            )
                        }
                        PlaySource::File(file_sid) => {
                            let account_sid = self.account_sid.clone();
                            Box::pin(async move {
                                ctx.prompts
                                    .play_file(&ctx.store, &account_sid, &file_sid)
                                    .await
                                    .map(Source::Samples)
                            })
                        }
                        PlaySource::Digits(digits) => return self.send_digits(&digits),
                    };
                let cut = play_control::Cut {
                    skip_secs,
                    limit_secs: time_limit_secs,
                };
                if background {
                    self.play_in_background(load, loops, loop_pause_secs, cut);
                    return None;
                }
                Some(self.prompt_cut(load, loops, loop_pause_secs, cut))
            }
            Output::Silence { millis } if self.background_prompt.is_some() => {
                // Timed beside the background audio, which goes on playing.
                Some(Box::pin(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
                    Step::Input(Input::MediaDone)
                }))
            }
            Output::Silence { millis } => {
                let id = self.fresh_prompt_id();
                Some(Box::pin(async move {
                    Step::PromptReady(Ok(Prompt::silence(id, millis)))
                }))
            }
            Output::Listen { max_millis, pause } => {
                // The pause is silence of its full length, cut short by the detection.
                let kind = DetectKind::Pause {
                    min_noise_ms: pause.noise.then_some(pause.min_noise_ms),
                    min_silence_ms: pause.silence.then_some(pause.min_silence_ms),
                };
                ctx.media.detect(self.media_id, kind);
                self.listening = true;
                let id = self.fresh_prompt_id();
                Some(Box::pin(async move {
                    Step::PromptReady(Ok(Prompt::silence(id, max_millis)))
                }))
            }
            Output::StopMedia => {
                self.current_prompt = None;
                if std::mem::take(&mut self.listening) {
                    ctx.media.stop_detect(self.media_id);
                }
                ctx.media.stop(self.media_id);
                None
            }
            Output::SendDigits { digits } => self.send_digits(&digits),
            // Dial and EndDial need the async path: see `perform_dial`.
            Output::Dial(_) | Output::EndDial => None,
            Output::Record(record) => self.record(record),
            Output::StopRecording { key } => {
                self.stop_recording(key);
                None
            }
            Output::Amd(amd) => {
                ctx.media
                    .detect(self.media_id, DetectKind::Amd(amd_params(&amd)));
                None
            }
            Output::PlayControl(control) => {
                self.play_control(control);
                None
            }
            out @ Output::SipCredentials { .. } => {
                tracing::info!(call_sid = %self.call_sid, ?out, "not performed on calls yet");
                None
            }
            Output::Sms { to, from, body } => {
                tracing::info!(call_sid = %self.call_sid, %to, %from, %body, "SMS");
                match ctx.sms_webhook.clone() {
                    Some(url) => {
                        let params = vec![
                            ("to".to_string(), to),
                            ("from".to_string(), from),
                            ("body".to_string(), body),
                            ("call_sid".to_string(), self.call_sid.clone()),
                        ];
                        let req = callflow::FetchRequest {
                            url,
                            method: callflow::HttpMethod::Post,
                            params,
                        };
                        ctx.outbox.send(Some(&self.call_sid), "sms", req);
                    }
                    None => {
                        tracing::info!(call_sid = %self.call_sid, "no SMS webhook is configured (--sms-webhook): the message is only logged")
                    }
                }
                None
            }
            Output::Reject {
                status,
                reason,
                call_info,
            } => {
                let _ = ctx.sip.send(match self.signaling {
                    Signaling::Inbound(call) => SipCommand::Reject(call, status, reason, call_info),
                    Signaling::Outbound(key) => SipCommand::HangupOutbound(key),
                });
                None
            }
            Output::Hangup => {
                let _ = ctx.sip.send(match self.signaling {
                    Signaling::Inbound(call) => SipCommand::Hangup(call),
                    Signaling::Outbound(key) => SipCommand::HangupOutbound(key),
                });
                None
            }
            Output::Callback(req) => {
                ctx.outbox.send(Some(&self.call_sid), "recording", req);
                None
            }
            Output::Timeline(entry) => {
                tracing::info!(call_sid = %self.call_sid, "{entry}");
                None
            }
            Output::Finished {
                call_status,
                status_callback,
            } => {
                tracing::info!(call_sid = %self.call_sid, %call_status, "call finished");
                if let Some(req) = status_callback {
                    ctx.outbox.send(Some(&self.call_sid), "status", req);
                }
                None
            }
        }
    }

    /// Dial starts outbound legs (address lookups are async); EndDial (hangupOnStar) ends the
    /// bridge. Returns the interpreter's input when the outcome is known at once.
    pub async fn perform_dial(&mut self, out: Output) -> Option<Input> {
        if let Some(r) = &mut self.record {
            r.observe(&out);
        }
        match out {
            Output::Dial(spec) => self.start_dial(spec).await,
            Output::EndDial => self.end_dial("completed"),
            _ => None,
        }
    }

    pub fn finish(&mut self) {
        let _ = self.end_dial("completed");
        if let Some(record) = self.record.take() {
            record.write(&self.ctx.store, &self.call_sid, &self.account_sid);
        }
        match self.rtp.take() {
            Some(unused) => self.ctx.media.release(unused),
            None => self.ctx.media.remove(self.media_id),
        }
    }
}

/// The Amd verb's attributes, which the detector takes as they are.
fn amd_params(amd: &callflow::model::Amd) -> AmdParams {
    AmdParams {
        initial_silence_ms: amd.initial_silence_ms,
        greeting_ms: amd.greeting_ms,
        after_greeting_silence_ms: amd.after_greeting_silence_ms,
        total_analysis_time_ms: amd.total_analysis_time_ms,
        minimum_word_length_ms: amd.minimum_word_length_ms,
        between_word_silence_ms: amd.between_word_silence_ms,
        maximum_number_of_words: amd.maximum_number_of_words,
        maximum_word_length_ms: amd.maximum_word_length_ms,
        silence_threshold: amd.silence_threshold,
    }
}

/// What the engine needs to know of a negotiated stream.
fn stream_format(negotiated: &Negotiated) -> StreamFormat {
    StreamFormat {
        encoding: match negotiated.codec {
            Codec::Pcmu => Encoding::Ulaw,
            Codec::Pcma => Encoding::Alaw,
        },
        payload_type: negotiated.codec.payload_type(),
        telephone_event: negotiated.telephone_event,
    }
}
