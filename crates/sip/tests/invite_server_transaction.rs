//! Scenarios for the INVITE server transaction on virtual time: no test here sleeps.

use sip::transaction::{InviteServerEvent, InviteServerState, InviteServerTransaction, Timers};
use std::time::{Duration, Instant};

fn drain(tx: &mut InviteServerTransaction) -> usize {
    std::iter::from_fn(|| tx.poll_transmit()).count()
}

/// Runs timers until `until`, returning the instants at which a response went out again.
fn run_until(tx: &mut InviteServerTransaction, start: Instant, until: Instant) -> Vec<Duration> {
    let mut sent = Vec::new();
    while let Some(at) = tx.poll_timeout().filter(|t| *t <= until) {
        tx.handle_timeout(at);
        for _ in 0..drain(tx) {
            sent.push(at - start);
        }
    }
    sent
}

#[test]
fn ok_lost_twice_is_retransmitted_at_t1_then_doubling_until_ack() {
    let t0 = Instant::now();
    let mut tx = InviteServerTransaction::new(Timers::default());
    tx.send_response(t0, 180, b"180".to_vec());
    tx.send_response(t0, 200, b"200".to_vec());
    assert_eq!(drain(&mut tx), 2);
    assert_eq!(tx.state(), InviteServerState::Accepted);

    let resent = run_until(&mut tx, t0, t0 + Duration::from_millis(1600));
    assert_eq!(
        resent,
        vec![Duration::from_millis(500), Duration::from_millis(1500)]
    );
    tx.on_ack(t0 + Duration::from_millis(1600));
    assert_eq!(tx.poll_event(), Some(InviteServerEvent::Acked));

    // After the ACK nothing is retransmitted any more, and a late ACK changes nothing.
    let resent = run_until(&mut tx, t0, t0 + Duration::from_secs(60));
    assert!(resent.is_empty());
    tx.on_ack(t0 + Duration::from_secs(2));
    assert_eq!(tx.poll_event(), None);
    assert_eq!(tx.state(), InviteServerState::Terminated);
}

#[test]
fn retransmissions_cap_at_t2_and_timer_h_gives_up_after_64_t1() {
    let t0 = Instant::now();
    let mut tx = InviteServerTransaction::new(Timers::default());
    tx.send_response(t0, 200, b"200".to_vec());
    drain(&mut tx);
    let resent = run_until(&mut tx, t0, t0 + Duration::from_secs(40));
    let gaps: Vec<u128> = resent
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert_eq!(&gaps[..4], &[1000, 2000, 4000, 4000]);
    assert!(gaps.iter().all(|g| *g <= 4000));
    assert_eq!(tx.poll_event(), Some(InviteServerEvent::AckTimeout));
    assert_eq!(tx.state(), InviteServerState::Terminated);
    assert!(resent.last().unwrap() < &Duration::from_secs(32));
}

#[test]
fn a_retransmitted_invite_gets_the_last_response_again() {
    let t0 = Instant::now();
    let mut tx = InviteServerTransaction::new(Timers::default());
    tx.send_response(t0, 100, b"100".to_vec());
    drain(&mut tx);
    tx.on_retransmitted_request();
    assert_eq!(tx.poll_transmit().as_deref(), Some(&b"100"[..]));
}

#[test]
fn non_2xx_final_is_confirmed_by_ack_then_terminates_after_t4() {
    let t0 = Instant::now();
    let mut tx = InviteServerTransaction::new(Timers::default());
    tx.send_response(t0, 486, b"486".to_vec());
    drain(&mut tx);
    tx.on_ack(t0 + Duration::from_millis(100));
    assert_eq!(tx.state(), InviteServerState::Confirmed);
    assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(5100)));
    tx.handle_timeout(t0 + Duration::from_millis(5100));
    assert_eq!(tx.state(), InviteServerState::Terminated);
}
