//! One inbound call, from INVITE to the status callback: routes the dialed number, negotiates
//! media, and drives the sans-IO interpreter with real HTTP, TTS, RTP and SIP.

use crate::fetcher;
use crate::media_engine::{EngineEvent, RtpSocket};
use crate::prompts::voice_for;
use crate::sip_driver::SipCommand;
use crate::CallContext;
use callflow::{CallInfo, ErrorHandler, HttpMethod, Input, Interpreter, Output};
use media::session::Encoding;
use media::{Prompt, PromptId};
use sip::sdp::{self, Codec};
use sip::ua::{EndReason, IncomingCall};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSignal {
    /// The ACK for our 200 OK arrived.
    Confirmed,
    Ended(EndReason),
}

/// What an asynchronous step of the driver delivers back to the loop.
enum Step {
    Input(Input),
    PromptReady(Result<Prompt, String>),
}

type Pending = Pin<Box<dyn Future<Output = Step> + Send>>;

/// The number as the DID table stores it: digits only, no `+`.
fn e164_digits(user: &str) -> String {
    user.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// The local address that routes to `remote`, for the SDP we answer with.
fn local_ip_towards(remote: SocketAddr, fallback: IpAddr) -> IpAddr {
    std::net::UdpSocket::bind(SocketAddr::new(
        if remote.is_ipv4() {
            [0, 0, 0, 0].into()
        } else {
            [0u16; 8].into()
        },
        0,
    ))
    .and_then(|s| s.connect(remote).map(|_| s))
    .and_then(|s| s.local_addr())
    .map(|a| a.ip())
    .ok()
    .filter(|ip| !ip.is_unspecified())
    .unwrap_or(fallback)
}

pub async fn run(
    ctx: Arc<CallContext>,
    inc: IncomingCall,
    invite_at: Instant,
    mut signals: mpsc::UnboundedReceiver<CallSignal>,
) {
    let call = inc.call;
    let reject = |status: u16, reason: &str| {
        let _ = ctx
            .sip
            .send(SipCommand::Reject(call, status, reason.to_string()));
    };
    let number = e164_digits(&inc.to_user);
    let (did, account) = match ctx.store.route_number(&number).await {
        Ok(Some(route)) => route,
        Ok(None) => {
            tracing::info!(to = %inc.to_user, "no DID for the dialed number");
            return reject(404, "Not Found");
        }
        Err(e) => {
            tracing::error!(error = %e, "routing lookup failed");
            return reject(500, "Server Internal Error");
        }
    };
    let negotiated = match sdp::parse_offer(&inc.sdp).and_then(|offer| sdp::negotiate(&offer)) {
        Ok(n) => n,
        Err(e) => {
            tracing::info!(error = %e, "cannot accept the SDP offer");
            return reject(488, "Not Acceptable Here");
        }
    };
    let rtp = match ctx.media.allocate() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "no RTP port");
            return reject(503, "Service Unavailable");
        }
    };
    let _ = ctx.sip.send(SipCommand::Ringing(call));

    let call_sid = uuid::Uuid::new_v4().to_string();
    let from = match e164_digits(&inc.from_user) {
        d if !d.is_empty() && d.len() == inc.from_user.trim_start_matches('+').len() => d,
        _ => inc.from_user.clone(),
    };
    let info = CallInfo {
        call_sid: call_sid.clone(),
        account_sid: account.account_sid.clone(),
        from,
        to: number.clone(),
        original_from: inc.from_user.clone(),
        original_to: inc.to_user.clone(),
        caller_name: inc.display_name.clone().unwrap_or_default(),
        direction: "inbound".into(),
        forwarded_from: inc.diverted_from.clone(),
    };
    let (url, method) = match did.url.clone() {
        Some(url) => (url, did.method.clone()),
        None => (
            account.url.clone().unwrap_or_default(),
            account.method.clone(),
        ),
    };
    let method = HttpMethod::parse(&method).unwrap_or(HttpMethod::Post);
    let error_handler = if account.error_handler == "none" {
        ErrorHandler::None
    } else {
        ErrorHandler::Basic
    };
    let status_callback = did.status_callback_url.clone().map(|u| {
        (
            u,
            HttpMethod::parse(&did.status_callback_method).unwrap_or(HttpMethod::Post),
        )
    });
    let mut interp = Interpreter::new(info, url, method, error_handler, status_callback);
    tracing::info!(%call_sid, from = %inc.from_user, to = %number, "inbound call");

    let mut leg = Leg {
        ctx: ctx.clone(),
        call,
        media_id: call.0,
        rtp: Some(rtp),
        remote_media: SocketAddr::new(negotiated.remote_address, negotiated.remote_port),
        codec: negotiated.codec,
        telephone_event: negotiated.telephone_event,
        media_events: None,
        current_prompt: None,
        next_prompt: 1,
        answered_at: None,
        acked_at: None,
        first_rtp_at: None,
        call_sid,
    };
    let (media_tx, mut media_rx) = mpsc::unbounded_channel();
    leg.media_events = Some(media_tx);
    let mut pending: Option<Pending> = None;

    interp.start(Instant::now());
    loop {
        while let Some(out) = interp.poll_output() {
            if let Some(p) = leg.perform(out, &negotiated) {
                pending = Some(p);
            }
        }
        if interp.is_ended() {
            break;
        }
        let step = tokio::select! {
            Some(step) = async { match pending.as_mut() { Some(p) => Some(p.await), None => None } } => {
                pending = None;
                step
            }
            Some(signal) = signals.recv() => match signal {
                CallSignal::Confirmed => {
                    leg.acked_at = Some(Instant::now());
                    ctx.media.start_sending(leg.media_id);
                    continue;
                }
                CallSignal::Ended(_) => Step::Input(Input::RemoteHangup),
            },
            Some(event) = media_rx.recv() => match event {
                EngineEvent::PromptFinished(id) if Some(id) == leg.current_prompt => {
                    leg.current_prompt = None;
                    Step::Input(Input::MediaDone)
                }
                EngineEvent::FirstPacketSent(at) => {
                    leg.first_rtp_at = Some(at);
                    continue;
                }
                EngineEvent::FirstAudioSent(at) => {
                    if let (Some(answered), Some(acked), Some(first_rtp)) = (leg.answered_at, leg.acked_at, leg.first_rtp_at) {
                        tracing::info!(
                            call_sid = %leg.call_sid,
                            invite_to_200_us = (answered - invite_at).as_micros() as u64,
                            ack_to_first_rtp_us = first_rtp.saturating_duration_since(acked).as_micros() as u64,
                            ack_to_first_audio_us = at.saturating_duration_since(acked).as_micros() as u64,
                            "call timing"
                        );
                    }
                    continue;
                }
                EngineEvent::PromptFinished(_) => continue,
            },
            else => Step::Input(Input::RemoteHangup),
        };
        match step {
            Step::Input(input) => interp.handle_input(Instant::now(), input),
            Step::PromptReady(Ok(prompt)) => {
                leg.current_prompt = Some(prompt.id);
                ctx.media.play(leg.media_id, prompt);
            }
            Step::PromptReady(Err(why)) => {
                interp.handle_input(Instant::now(), Input::MediaFailed(why))
            }
        }
    }
    leg.finish();
}

struct Leg {
    ctx: Arc<CallContext>,
    call: sip::CallId,
    media_id: u64,
    rtp: Option<RtpSocket>,
    remote_media: SocketAddr,
    codec: Codec,
    telephone_event: Option<u8>,
    media_events: Option<mpsc::UnboundedSender<EngineEvent>>,
    current_prompt: Option<PromptId>,
    next_prompt: PromptId,
    answered_at: Option<Instant>,
    acked_at: Option<Instant>,
    first_rtp_at: Option<Instant>,
    call_sid: String,
}

impl Leg {
    /// Performs one interpreter output; returns the future of an asynchronous step, if any.
    fn perform(&mut self, out: Output, negotiated: &sdp::Negotiated) -> Option<Pending> {
        let ctx = self.ctx.clone();
        match out {
            Output::Fetch(req) => Some(Box::pin(async move {
                Step::Input(Input::Fetched(
                    fetcher::fetch_document(&ctx.http, &req).await,
                ))
            })),
            Output::Answer => {
                let rtp = self.rtp.take()?;
                let local_ip = local_ip_towards(self.remote_media, ctx.advertised_ip);
                let answer =
                    sdp::answer(negotiated, local_ip, rtp.port, rand::random::<u32>() as u64);
                let encoding = match self.codec {
                    Codec::Pcmu => Encoding::Ulaw,
                    Codec::Pcma => Encoding::Alaw,
                };
                let _ = self.telephone_event;
                let events = self.media_events.clone()?;
                ctx.media.add(
                    self.media_id,
                    rtp,
                    self.remote_media,
                    encoding,
                    self.codec.payload_type(),
                    events,
                );
                self.answered_at = Some(Instant::now());
                let _ = ctx.sip.send(SipCommand::Answer(self.call, answer));
                None
            }
            Output::Say {
                text,
                voice,
                loops,
                loop_pause_secs,
            } => {
                let id = self.fresh_prompt_id();
                let (voice, note) = voice_for(&voice);
                if let Some(note) = note {
                    tracing::info!(call_sid = %self.call_sid, "{note}");
                }
                Some(Box::pin(async move {
                    let result = ctx.prompts.say(voice, &text).await;
                    Step::PromptReady(
                        result
                            .map(|s| Prompt::audio(id, s, loops, loop_pause_secs as usize * 8000)),
                    )
                }))
            }
            Output::Play {
                url,
                loops,
                loop_pause_secs,
            } => {
                let id = self.fresh_prompt_id();
                Some(Box::pin(async move {
                    let result = ctx.prompts.play(&url).await;
                    Step::PromptReady(
                        result
                            .map(|s| Prompt::audio(id, s, loops, loop_pause_secs as usize * 8000)),
                    )
                }))
            }
            Output::Silence { millis } => {
                let id = self.fresh_prompt_id();
                Some(Box::pin(async move {
                    Step::PromptReady(Ok(Prompt::silence(id, millis)))
                }))
            }
            Output::Reject { status, reason } => {
                let _ = ctx.sip.send(SipCommand::Reject(self.call, status, reason));
                None
            }
            Output::Hangup => {
                let _ = ctx.sip.send(SipCommand::Hangup(self.call));
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
                    tokio::spawn(fetcher::send_status_callback(ctx.http.clone(), req));
                }
                None
            }
        }
    }

    fn fresh_prompt_id(&mut self) -> PromptId {
        self.next_prompt += 1;
        self.next_prompt
    }

    fn finish(&mut self) {
        match self.rtp.take() {
            Some(unused) => self.ctx.media.release(unused),
            None => self.ctx.media.remove(self.media_id),
        }
    }
}
