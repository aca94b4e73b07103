//! Per-account call limits, set by the operator on the account's FlexML endpoint: `capacity`
//! (concurrent calls, the Endpoint object's own field; 0 = unlimited) and, in `properties`,
//! `calls_per_second` (new calls per second; 0 or absent = unlimited) and `allowed_prefixes`
//! (the destination numbers an app may reach, e.g. `["1", "44"]`; absent = any). They live on
//! the endpoint because the account's own credentials must not be able to lift them.
//!
//! `Admission` counts live calls and new-call rates per account; the API consults it for
//! `POST /calls`, the call layer for inbound calls and the calls it places. Time comes in as
//! an argument, so the rules are tested on virtual time.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A burst allowance of one second's worth of calls, and at least one call.
const BURST_SECONDS: f64 = 1.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountLimits {
    /// Concurrent calls; 0 = unlimited.
    pub capacity: u32,
    /// New calls per second; 0 = unlimited.
    pub calls_per_second: f64,
    /// Digit prefixes of reachable numbers; empty = any.
    pub allowed_prefixes: Vec<String>,
}

impl AccountLimits {
    /// From the endpoint's `capacity` and `properties`; unusable values mean "no limit".
    pub fn from_endpoint(capacity: i64, properties: &Map<String, Value>) -> AccountLimits {
        AccountLimits {
            capacity: u32::try_from(capacity).unwrap_or(0),
            calls_per_second: properties
                .get("calls_per_second")
                .and_then(Value::as_f64)
                .filter(|r| r.is_finite() && *r > 0.0)
                .unwrap_or(0.0),
            allowed_prefixes: properties
                .get("allowed_prefixes")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(|p| p.trim_start_matches('+').to_string())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether a destination (a number with an optional `+`, or a `sip:`/`sips:` URI whose
    /// user part is checked) is one the account may call.
    pub fn destination_allowed(&self, target: &str) -> bool {
        let digits = destination_number(target).trim_start_matches('+');
        self.allowed_prefixes.is_empty()
            || self.allowed_prefixes.iter().any(|p| digits.starts_with(p))
    }
}

/// The number part of a destination (`15551234567`, `+44…`, `sip:1555…@host;user=phone`).
pub fn destination_number(target: &str) -> &str {
    match target
        .strip_prefix("sip:")
        .or_else(|| target.strip_prefix("sips:"))
    {
        Some(uri) => uri.split(['@', ';', ':']).next().unwrap_or_default(),
        None => target,
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the account has {active} calls up, its limit of concurrent calls (endpoint capacity)"
    )]
    Capacity { active: u32 },
    #[error("the account is placing calls faster than its limit of {rate} per second")]
    Rate { rate: f64 },
}

#[derive(Debug)]
struct AccountState {
    active: u32,
    tokens: f64,
    refilled: Instant,
}

impl AccountState {
    /// Refills the bucket for the time since the last call, up to the burst.
    fn refill(&mut self, now: Instant, rate: f64) {
        let burst = (rate * BURST_SECONDS).max(1.0);
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.refilled = now;
    }
}

fn check_capacity(state: &AccountState, limits: &AccountLimits) -> Result<(), Refusal> {
    if limits.capacity > 0 && state.active >= limits.capacity {
        return Err(Refusal::Capacity {
            active: state.active,
        });
    }
    Ok(())
}

fn take_rate_token(
    state: &mut AccountState,
    limits: &AccountLimits,
    now: Instant,
) -> Result<(), Refusal> {
    if limits.calls_per_second > 0.0 {
        state.refill(now, limits.calls_per_second);
        if state.tokens < 1.0 {
            return Err(Refusal::Rate {
                rate: limits.calls_per_second,
            });
        }
        state.tokens -= 1.0;
    }
    Ok(())
}

/// Live calls and call rates of every account on this server.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    accounts: Arc<Mutex<HashMap<String, AccountState>>>,
}

/// A live call counted against its account until dropped.
#[derive(Debug)]
pub struct CallPermit {
    accounts: Arc<Mutex<HashMap<String, AccountState>>>,
    account_sid: String,
}

impl Drop for CallPermit {
    fn drop(&mut self) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = accounts.get_mut(&self.account_sid) {
            state.active = state.active.saturating_sub(1);
        }
    }
}

impl Admission {
    /// Admits a new call of the account (its rate and its live calls), or says which limit
    /// it would break. A refused call costs nothing.
    pub fn admit(
        &self,
        account_sid: &str,
        limits: &AccountLimits,
        now: Instant,
    ) -> Result<CallPermit, Refusal> {
        self.with_state(account_sid, limits, now, |state| {
            check_capacity(state, limits)?;
            take_rate_token(state, limits, now)
        })?;
        self.admit_live(account_sid, limits, now)
    }

    /// Counts a new call against the account's rate only: `POST /calls` is rate limited when
    /// it is made, the call it schedules is counted live when it is placed.
    pub fn take_rate(
        &self,
        account_sid: &str,
        limits: &AccountLimits,
        now: Instant,
    ) -> Result<(), Refusal> {
        self.with_state(account_sid, limits, now, |state| {
            take_rate_token(state, limits, now)
        })
    }

    /// Counts a live call against the account's capacity only.
    pub fn admit_live(
        &self,
        account_sid: &str,
        limits: &AccountLimits,
        now: Instant,
    ) -> Result<CallPermit, Refusal> {
        self.with_state(account_sid, limits, now, |state| {
            check_capacity(state, limits)?;
            state.active += 1;
            Ok(())
        })?;
        Ok(CallPermit {
            accounts: self.accounts.clone(),
            account_sid: account_sid.to_string(),
        })
    }

    fn with_state<T>(
        &self,
        account_sid: &str,
        limits: &AccountLimits,
        now: Instant,
        f: impl FnOnce(&mut AccountState) -> Result<T, Refusal>,
    ) -> Result<T, Refusal> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let state = accounts
            .entry(account_sid.to_string())
            .or_insert_with(|| AccountState {
                active: 0,
                tokens: (limits.calls_per_second * BURST_SECONDS).max(1.0),
                refilled: now,
            });
        f(state)
    }

    /// Whether the account has as many live calls as its capacity allows.
    pub fn at_capacity(&self, account_sid: &str, limits: &AccountLimits) -> bool {
        limits.capacity > 0 && self.active(account_sid) >= limits.capacity
    }

    /// Live calls of the account.
    pub fn active(&self, account_sid: &str) -> u32 {
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.get(account_sid).map_or(0, |s| s.active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn limits(capacity: u32, cps: f64) -> AccountLimits {
        AccountLimits {
            capacity,
            calls_per_second: cps,
            allowed_prefixes: vec![],
        }
    }

    #[test]
    fn capacity_counts_live_calls_and_frees_on_drop() {
        let a = Admission::default();
        let t = Instant::now();
        let one = a.admit("AC1", &limits(2, 0.0), t).unwrap();
        let _two = a.admit("AC1", &limits(2, 0.0), t).unwrap();
        assert_eq!(
            a.admit("AC1", &limits(2, 0.0), t).unwrap_err(),
            Refusal::Capacity { active: 2 }
        );
        // Another account is not affected.
        assert!(a.admit("AC2", &limits(2, 0.0), t).is_ok());
        drop(one);
        assert_eq!(a.active("AC1"), 1);
        assert!(a.admit("AC1", &limits(2, 0.0), t).is_ok());
    }

    #[test]
    fn rate_allows_a_one_second_burst_then_refills() {
        let a = Admission::default();
        let t = Instant::now();
        let l = limits(0, 2.0);
        let mut permits = vec![];
        for _ in 0..2 {
            permits.push(a.admit("AC1", &l, t).unwrap());
        }
        assert_eq!(
            a.admit("AC1", &l, t).unwrap_err(),
            Refusal::Rate { rate: 2.0 }
        );
        assert!(a.admit("AC1", &l, t + Duration::from_millis(400)).is_err());
        assert!(a.admit("AC1", &l, t + Duration::from_millis(500)).is_ok());
        // A refused call costs nothing: after a long pause the whole burst is back.
        let later = t + Duration::from_secs(10);
        assert!(a.admit("AC1", &l, later).is_ok());
        assert!(a.admit("AC1", &l, later).is_ok());
        assert!(a.admit("AC1", &l, later).is_err());
    }

    #[test]
    fn rate_and_capacity_can_be_counted_apart() {
        let a = Admission::default();
        let t = Instant::now();
        let l = limits(1, 1.0);
        a.take_rate("AC1", &l, t).unwrap();
        assert!(a.take_rate("AC1", &l, t).is_err());
        // The scheduled call is placed later: only its capacity is counted then.
        let _live = a.admit_live("AC1", &l, t).unwrap();
        assert!(a.admit_live("AC1", &l, t).is_err());
    }

    #[test]
    fn slow_rates_still_allow_one_call() {
        let a = Admission::default();
        let t = Instant::now();
        let l = limits(0, 0.1);
        let _p = a.admit("AC1", &l, t).unwrap();
        assert!(a.admit("AC1", &l, t + Duration::from_secs(5)).is_err());
        assert!(a.admit("AC1", &l, t + Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn limits_come_from_the_endpoint() {
        let props = json!({"calls_per_second": 5, "allowed_prefixes": ["+1", "44"], "login": "x"});
        let l = AccountLimits::from_endpoint(10, props.as_object().unwrap());
        assert_eq!(l.capacity, 10);
        assert_eq!(l.calls_per_second, 5.0);
        assert!(l.destination_allowed("15162065340"));
        assert!(l.destination_allowed("+447700900000"));
        assert!(!l.destination_allowed("882345"));
        assert!(l.destination_allowed("sip:+4477@carrier.example;user=phone"));
        assert!(!l.destination_allowed("sips:alice@example.com"));
        let open = AccountLimits::from_endpoint(-3, &Map::new());
        assert_eq!(open, AccountLimits::default());
        assert!(open.destination_allowed("882345"));
    }
}
