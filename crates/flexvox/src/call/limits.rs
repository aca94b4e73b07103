//! The operator's per-account limits (see `api::admission`) applied to calls: inbound calls
//! and the calls flexvox places count against the account's rate and capacity. Dial and
//! outbound calls check their destinations with `AccountLimits::destination_allowed`.

use crate::CallContext;
use api::admission::{AccountLimits, CallPermit, Refusal};
use std::time::Instant;

/// The account's limits; none when its endpoint cannot be read (the call is not refused
/// for a database hiccup, which is logged).
pub async fn account_limits(ctx: &CallContext, account_sid: &str) -> AccountLimits {
    match ctx.store.account_endpoint(account_sid).await {
        Ok(Some(e)) => AccountLimits::from_endpoint(e.capacity, &e.properties),
        Ok(None) => AccountLimits::default(),
        Err(e) => {
            tracing::warn!(%account_sid, error = %e, "cannot read the account's limits");
            AccountLimits::default()
        }
    }
}

/// Admits an inbound call: rate and capacity.
pub async fn admit_inbound(ctx: &CallContext, account_sid: &str) -> Result<CallPermit, Refusal> {
    let limits = account_limits(ctx, account_sid).await;
    ctx.admission.admit(account_sid, &limits, Instant::now())
}

/// Admits a call of `POST /calls` when it is placed: its rate was counted by the API.
pub async fn admit_placed(ctx: &CallContext, account_sid: &str) -> Result<CallPermit, Refusal> {
    let limits = account_limits(ctx, account_sid).await;
    ctx.admission
        .admit_live(account_sid, &limits, Instant::now())
}

/// The SIP status and reason phrase an inbound call over a limit is refused with: busy for
/// the account's capacity (as a full line would be), 503 for its rate.
pub fn sip_refusal(refusal: &Refusal) -> (u16, &'static str) {
    match refusal {
        Refusal::Capacity { .. } => (486, "Busy Here (account call limit)"),
        Refusal::Rate { .. } => (503, "Service Unavailable (account call rate)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_busy_and_unavailable() {
        assert_eq!(sip_refusal(&Refusal::Capacity { active: 3 }).0, 486);
        assert_eq!(sip_refusal(&Refusal::Rate { rate: 1.0 }).0, 503);
    }
}
