//! One inbound call, from INVITE to the status callback: routes the dialed number, negotiates
//! media, and drives the sans-IO interpreter with real HTTP, TTS, RTP and SIP.

pub(crate) mod leg;
pub(crate) mod limits;
mod outbound;
pub(crate) mod target;

pub use outbound::SipDialer;

use crate::sip_driver::SipCommand;
use crate::CallContext;
use callflow::{CallInfo, ErrorHandler, HttpMethod, Input, Interpreter, Output};
use leg::{Leg, LegChannels, LegParts, Pending, Signaling, Step};
use sip::sdp;
use sip::ua::{EndReason, IncomingCall};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSignal {
    /// The ACK for our 200 OK arrived.
    Confirmed,
    Ended(EndReason),
    /// A key press signalled with SIP INFO: the interpreter hears it like an RFC 4733 one.
    Digit(char),
    /// A re-INVITE/UPDATE moved the caller's media or put the call on hold.
    RemoteMedia {
        remote: SocketAddr,
        hold: bool,
    },
}

/// The number as the DID table stores it: digits only, no `+`.
fn e164_digits(user: &str) -> String {
    user.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// The caller as the app sees it: the digits of an E.164 number, else the SIP user as sent.
fn caller_number(inc: &IncomingCall) -> String {
    match e164_digits(&inc.from_user) {
        d if !d.is_empty() && d.len() == inc.from_user.trim_start_matches('+').len() => d,
        _ => inc.from_user.clone(),
    }
}

fn inbound_record(inc: &IncomingCall, number: &str, invite_at: Instant) -> leg::CallRecord {
    let mut record = leg::CallRecord::new(
        "inbound",
        &caller_number(inc),
        number,
        leg::wall_clock(invite_at),
    );
    (record.original_from, record.original_to) =
        (Some(inc.from_user.clone()), Some(inc.to_user.clone()));
    record
}

/// The record of a call refused before the app ran (account limits, codecs, RTP ports).
fn refused_record(
    inc: &IncomingCall,
    number: &str,
    invite_at: Instant,
    status: u16,
) -> leg::CallRecord {
    let mut record = inbound_record(inc, number, invite_at);
    record.status = Some(if status == 486 { "busy" } else { "failed" }.into());
    record.sip_status = Some(status);
    record.hangup_by = Some("system");
    record
}

/// Sleeps until `at`, or forever when there is no timer.
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

pub async fn run(
    ctx: Arc<CallContext>,
    inc: IncomingCall,
    invite_at: Instant,
    signals: mpsc::UnboundedReceiver<CallSignal>,
) {
    let call = inc.call;
    let reject = |status: u16, reason: &str| {
        let _ = ctx
            .sip
            .send(SipCommand::Reject(call, status, reason.to_string(), None));
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
    // From here the call has an account: a refusal leaves a call detail record for it.
    let refuse = |status: u16, reason: &str, why: String| {
        let mut record = refused_record(&inc, &number, invite_at, status);
        record
            .timeline
            .push(format!("refused with {status} {reason}: {why}"));
        record.write(
            &ctx.store,
            &uuid::Uuid::new_v4().to_string(),
            &account.account_sid,
        );
        reject(status, reason);
    };
    // Counted against the account until the call ends (the permit drops with this task).
    let _permit = match limits::admit_inbound(&ctx, &account.account_sid).await {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::info!(account_sid = %account.account_sid, to = %number, %refusal, "inbound call refused");
            let (status, reason) = limits::sip_refusal(&refusal);
            return refuse(status, reason, refusal.to_string());
        }
    };
    let negotiated = match sdp::parse_offer(&inc.sdp).and_then(|offer| sdp::negotiate(&offer)) {
        Ok(n) => n,
        Err(e) => {
            tracing::info!(error = %e, "cannot accept the SDP offer");
            return refuse(488, "Not Acceptable Here", e.to_string());
        }
    };
    let rtp = match ctx.media.allocate() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "no RTP port");
            return refuse(503, "Service Unavailable", e.to_string());
        }
    };
    let _ = ctx.sip.send(SipCommand::Ringing(call));

    let call_sid = uuid::Uuid::new_v4().to_string();
    let from = caller_number(&inc);
    let caller_number = from.clone();
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
    let interp = Interpreter::new(info, url, method, error_handler, status_callback);
    tracing::info!(%call_sid, from = %inc.from_user, to = %number, "inbound call");

    let (media_tx, media_rx) = mpsc::unbounded_channel();
    let (outbound_tx, outbound_rx) = mpsc::unbounded_channel();
    let (stored_tx, stored_rx) = mpsc::unbounded_channel();
    let (dial_media_tx, dial_media_rx) = mpsc::unbounded_channel();
    let remote_media = SocketAddr::new(negotiated.remote_address, negotiated.remote_port);
    let record = inbound_record(&inc, &number, invite_at);
    let parts = LegParts {
        signaling: Signaling::Inbound(call),
        media_id: call.0,
        rtp,
        remote_media,
        negotiated,
        call_sid,
        caller_number,
        account_sid: account.account_sid.clone(),
        record,
    };
    let channels = LegChannels {
        media_events: media_tx,
        outbound_events: outbound_tx,
        dial_media: dial_media_tx,
        stored: stored_tx,
    };
    let leg = Leg::new(ctx.clone(), parts, channels);
    let channels = DriverChannels {
        signals: Some(signals),
        media: media_rx,
        outbound: outbound_rx,
        dial_media: dial_media_rx,
        stored: stored_rx,
    };
    drive(interp, leg, channels, invite_at).await;
}

/// What the call loop listens to besides the interpreter.
pub(crate) struct DriverChannels {
    /// The inbound dialog's signals (an outbound leg's come through `outbound`).
    signals: Option<mpsc::UnboundedReceiver<CallSignal>>,
    media: mpsc::UnboundedReceiver<crate::media_engine::EngineEvent>,
    outbound: mpsc::UnboundedReceiver<(u64, crate::sip_driver::OutboundEvent)>,
    /// Dialed legs' media events (confirmKey).
    dial_media: mpsc::UnboundedReceiver<(u64, crate::media_engine::EngineEvent)>,
    /// Recordings stored off the loop.
    stored: mpsc::UnboundedReceiver<leg::Stored>,
}

async fn next_signal(
    signals: &mut Option<mpsc::UnboundedReceiver<CallSignal>>,
) -> Option<CallSignal> {
    match signals {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The call loop: performs the interpreter's outputs on the leg and feeds back what happens.
async fn drive(
    mut interp: Interpreter,
    mut leg: Leg,
    channels: DriverChannels,
    invite_at: Instant,
) {
    let DriverChannels {
        mut signals,
        media: mut media_rx,
        outbound: mut outbound_rx,
        mut dial_media,
        stored: mut stored_rx,
    } = channels;
    let mut pending: Option<Pending> = None;

    interp.start(Instant::now());
    loop {
        while let Some(out) = interp.poll_output() {
            if matches!(out, Output::Dial(_) | Output::EndDial) {
                if let Some(input) = leg.perform_dial(out).await {
                    interp.handle_input(Instant::now(), input);
                }
            } else if let Some(p) = leg.perform(out) {
                pending = Some(p);
            }
        }
        if interp.is_ended() {
            break;
        }
        let timer = interp.poll_timeout();
        let step = tokio::select! {
            _ = sleep_until_opt(timer) => {
                interp.handle_timeout(Instant::now());
                continue;
            }
            _ = sleep_until_opt(leg.dial_deadline()) => match leg.on_dial_timer(Instant::now()) {
                Some(input) => Step::Input(input),
                None => continue,
            },
            Some((key, event)) = outbound_rx.recv() => match (leg.outbound_key() == Some(key), event) {
                // The far end of a call we placed hung up.
                (true, crate::sip_driver::OutboundEvent::Ended) => Step::Input(Input::RemoteHangup),
                (true, _) => continue,
                (false, event) => match leg.on_outbound(key, event) {
                    Some(input) => Step::Input(input),
                    None => continue,
                },
            },
            Some(step) = async { match pending.as_mut() { Some(p) => Some(p.await), None => None } } => {
                pending = None;
                step
            }
            Some(signal) = next_signal(&mut signals) => match signal {
                CallSignal::Confirmed => {
                    leg.on_confirmed();
                    continue;
                }
                CallSignal::Ended(_) => Step::Input(Input::RemoteHangup),
                CallSignal::Digit(key) => Step::Input(Input::Digit(key)),
                CallSignal::RemoteMedia { remote, hold } => {
                    leg.on_remote_media(remote, hold);
                    continue;
                }
            },
            Some(event) = media_rx.recv() => match leg.on_engine_event(event, invite_at) {
                Some(input) => Step::Input(input),
                None => continue,
            },
            Some((key, event)) = dial_media.recv() => match leg.on_dial_media(key, event) {
                Some(input) => Step::Input(input),
                None => continue,
            },
            Some(stored) = stored_rx.recv() => {
                for input in leg.on_stored(stored) {
                    interp.handle_input(Instant::now(), input);
                }
                continue;
            }
            else => Step::Input(Input::RemoteHangup),
        };
        if matches!(step, Step::Input(Input::RemoteHangup)) {
            // A message left by hanging up is still stored and reported.
            conclude_recordings(
                &mut interp,
                &mut leg,
                &mut media_rx,
                &mut stored_rx,
                invite_at,
            )
            .await;
        }
        match step {
            Step::Input(input) => interp.handle_input(Instant::now(), input),
            Step::PromptReady(Ok(prompt)) => leg.play(prompt),
            Step::PromptReady(Err(why)) => {
                interp.handle_input(Instant::now(), Input::MediaFailed(why))
            }
        }
    }
    // A session recording lasts until the call ends, whoever ends it.
    conclude_recordings(
        &mut interp,
        &mut leg,
        &mut media_rx,
        &mut stored_rx,
        invite_at,
    )
    .await;
    leg.finish();
}

/// The longest the end of a call waits for its recordings to be stored.
const RECORDING_STORE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Stops the leg's recordings, stores them and tells the interpreter, whose requests then go
/// out as notifications: the call is over.
async fn conclude_recordings(
    interp: &mut Interpreter,
    leg: &mut Leg,
    media_rx: &mut mpsc::UnboundedReceiver<crate::media_engine::EngineEvent>,
    stored_rx: &mut mpsc::UnboundedReceiver<leg::Stored>,
    invite_at: Instant,
) {
    if !leg.stop_recordings() {
        return;
    }
    let deadline = tokio::time::Instant::now() + RECORDING_STORE_WAIT;
    while leg.recording_work_left() {
        tokio::select! {
            Some(event) = media_rx.recv() => {
                // Only the recordings' end matters now.
                let _ = leg.on_engine_event(event, invite_at);
            }
            Some(stored) = stored_rx.recv() => {
                for input in leg.on_stored(stored) {
                    interp.handle_input(Instant::now(), input);
                    while let Some(out) = interp.poll_output() {
                        leg.perform_after_hangup(out);
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                tracing::warn!("recordings not stored within {RECORDING_STORE_WAIT:?} of the call's end");
                break;
            }
        }
    }
}
