//! Calls placed with `POST /flexml/v1/calls`: when the scheduler fires one, an INVITE goes to
//! the called party (through the trunk, or to a `sip:` URI); when answered, the app's `url`
//! (else the calling DID's) runs exactly as for an inbound call; busy, no answer and failures
//! go to the status callback.

use super::leg::{CallRecord, Leg, LegChannels, LegParts, Signaling};
use super::target::{next_leg_key, resolve};
use super::{drive, DriverChannels};
use crate::scheduler::Dialer;
use crate::sip_driver::{OutboundEvent, SipCommand};
use crate::CallContext;
use callflow::{CallInfo, ErrorHandler, FetchRequest, HttpMethod, Interpreter};
use sip::{sdp, OutboundCall};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long an outbound call may ring before it counts as not answered.
const RING_TIMEOUT: Duration = Duration::from_secs(60);

/// The scheduler's dialer that places real SIP calls.
pub struct SipDialer {
    pub ctx: Arc<CallContext>,
}

impl Dialer for SipDialer {
    async fn dial(&self, call: store::Call) {
        let sid = call.call_sid.clone();
        place(self.ctx.clone(), call).await;
        if let Err(e) = self.ctx.store.mark_done(&sid).await {
            tracing::warn!(call_sid = %sid, error = %e, "cannot record the call done");
        }
    }
}

fn method_of(m: &str) -> HttpMethod {
    HttpMethod::parse(m).unwrap_or(HttpMethod::Post)
}

/// The status callback and the call record of a call that never got answered.
fn unanswered_callback(
    ctx: &CallContext,
    call: &store::Call,
    (url, method): (&str, HttpMethod),
    target: Option<(String, HttpMethod)>,
    (status, sip_status): (&str, Option<u16>),
    placed_at: store::DateTime<store::Utc>,
) {
    tracing::info!(call_sid = %call.call_sid, called = %call.called_did, status, "outbound call not answered");
    let mut record = CallRecord::new("outbound", &call.calling_did, &call.called_did, placed_at);
    record.status = Some(status.into());
    record.sip_status = sip_status;
    record.timeline.push(format!("not answered: {status}"));
    if let Some((cb_url, _)) = &target {
        record
            .timeline
            .push(format!("status callback queued: {cb_url}"));
    }
    record.write(&ctx.store, &call.call_sid, &call.account_sid);
    let Some((cb_url, cb_method)) = target else {
        return;
    };
    let params = [
        ("AccountSid", call.account_sid.as_str()),
        ("ApiVersion", "2.0"),
        ("CallDuration", "0"),
        ("CallSid", call.call_sid.as_str()),
        ("CallStatus", status),
        ("Direction", "outbound"),
        ("From", call.calling_did.as_str()),
        ("OriginalFrom", call.calling_did.as_str()),
        ("OriginalTo", call.called_did.as_str()),
        ("RequestMethod", method.as_str()),
        ("RequestUrl", url),
        ("To", call.called_did.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let req = FetchRequest {
        url: cb_url,
        method: cb_method,
        params,
    };
    ctx.outbox.send(Some(&call.call_sid), "status", req);
}

async fn place(ctx: Arc<CallContext>, call: store::Call) {
    let placed_at = store::Utc::now();
    let (did, account) = match ctx.store.route_number(&call.calling_did).await {
        Ok(Some(route)) => route,
        other => {
            tracing::warn!(call_sid = %call.call_sid, calling_did = %call.calling_did, ?other, "the calling DID no longer routes to an account: call not placed");
            return;
        }
    };
    let url = call.url.clone().or(did.url.clone()).unwrap_or_default();
    let method = method_of(&call.method);
    let status_callback = match &call.status_callback_url {
        Some(u) => Some((u.clone(), method_of(&call.status_callback_method))),
        None => did
            .status_callback_url
            .clone()
            .map(|u| (u, method_of(&did.status_callback_method))),
    };
    let failed = |status: &str, sip_status: Option<u16>| {
        let (app, target) = ((url.as_str(), method), status_callback.clone());
        unanswered_callback(&ctx, &call, app, target, (status, sip_status), placed_at)
    };

    let limits = super::limits::account_limits(&ctx, &account.account_sid).await;
    if !limits.destination_allowed(&call.called_did) {
        tracing::warn!(call_sid = %call.call_sid, called = %call.called_did, "the destination is not allowed for the account: call not placed");
        return failed("failed", None);
    }
    let _permit = match super::limits::admit_placed(&ctx, &account.account_sid).await {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::warn!(call_sid = %call.call_sid, %refusal, "call not placed");
            return failed("failed", None);
        }
    };
    let target = resolve(&call.called_did, ctx.trunk, &ctx.registrations).await;
    let super::target::Resolved {
        destination,
        transport,
        request_uri,
        to_user,
    } = match target {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(call_sid = %call.call_sid, error = %e, "cannot place the call");
            return failed("failed", None);
        }
    };
    let rtp = match ctx.media.allocate() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(call_sid = %call.call_sid, error = %e, "cannot place the call");
            return failed("failed", None);
        }
    };
    let key = next_leg_key();
    let local_ip = super::leg::local_ip_towards(destination, ctx.advertised_ip);
    let mut extra_headers = Vec::new();
    let mut cnam = None;
    for (name, value) in &call.attributes {
        let value = value.as_str().unwrap_or_default().to_string();
        match name.strip_prefix("sip_header_") {
            Some(header) => extra_headers.push((header.to_string(), value)),
            None if name == "cnam" => cnam = Some(value),
            None => {}
        }
    }
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let invite = OutboundCall {
        request_uri,
        from_user: call.calling_did.clone(),
        from_display: cnam,
        to_user,
        destination,
        transport,
        sdp_offer: sdp::offer(local_ip, rtp.port, key),
        extra_headers,
        credentials: ctx.trunk_credentials.clone(),
    };
    tracing::info!(call_sid = %call.call_sid, called = %call.called_did, %destination, "placing outbound call");
    let _ = ctx.sip.send(SipCommand::Dial {
        key,
        call: invite,
        events: events_tx.clone(),
    });

    let deadline = tokio::time::Instant::now() + RING_TIMEOUT;
    let answer_sdp = loop {
        match tokio::time::timeout_at(deadline, events_rx.recv()).await {
            Ok(Some((_, OutboundEvent::Answered(sdp)))) => break sdp,
            Ok(Some((_, OutboundEvent::Progress(_)))) => continue,
            Ok(Some((_, OutboundEvent::Failed { status, .. }))) => {
                ctx.media.release(rtp);
                return failed(sip::ua::call_status_for(status), status);
            }
            Ok(Some((_, OutboundEvent::Ended))) | Ok(None) => {
                ctx.media.release(rtp);
                return failed("failed", None);
            }
            Err(_) => {
                let _ = ctx.sip.send(SipCommand::HangupOutbound(key));
                ctx.media.release(rtp);
                return failed("noanswer", None);
            }
        }
    };
    let negotiated = match sdp::parse_offer(&answer_sdp).and_then(|o| sdp::negotiate(&o)) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(call_sid = %call.call_sid, error = %e, "unusable answer SDP: hanging up");
            let _ = ctx.sip.send(SipCommand::HangupOutbound(key));
            ctx.media.release(rtp);
            return failed("failed", None);
        }
    };

    let info = CallInfo {
        call_sid: call.call_sid.clone(),
        account_sid: account.account_sid.clone(),
        from: call.calling_did.clone(),
        to: call.called_did.clone(),
        original_from: call.calling_did.clone(),
        original_to: call.called_did.clone(),
        caller_name: String::new(),
        direction: "outbound".into(),
        forwarded_from: None,
    };
    let error_handler = if account.error_handler == "none" {
        ErrorHandler::None
    } else {
        ErrorHandler::Basic
    };
    let interp = Interpreter::new(info, url, method, error_handler, status_callback);
    let (media_tx, media_rx) = mpsc::unbounded_channel();
    let (stored_tx, stored_rx) = mpsc::unbounded_channel();
    let (dial_media_tx, dial_media_rx) = mpsc::unbounded_channel();
    let remote_media = SocketAddr::new(negotiated.remote_address, negotiated.remote_port);
    let parts = LegParts {
        signaling: Signaling::Outbound(key),
        media_id: key,
        rtp,
        remote_media,
        negotiated,
        call_sid: call.call_sid.clone(),
        caller_number: call.calling_did.clone(),
        account_sid: call.account_sid.clone(),
        record: {
            let mut r = CallRecord::new("outbound", &call.calling_did, &call.called_did, placed_at);
            r.answered();
            r
        },
    };
    let leg = Leg::new(
        ctx.clone(),
        parts,
        LegChannels {
            media_events: media_tx,
            outbound_events: events_tx,
            dial_media: dial_media_tx,
            stored: stored_tx,
        },
    );
    tracing::info!(call_sid = %call.call_sid, "outbound call answered");
    drive(
        interp,
        leg,
        DriverChannels {
            signals: None,
            media: media_rx,
            outbound: events_rx,
            dial_media: dial_media_rx,
            stored: stored_rx,
        },
        Instant::now(),
    )
    .await;
}
