//! RFC 3261 §17 timers through the user agent on virtual time, with the configured T1/T2:
//! our lost BYE (Timer E backoff capped at T2, Timer F), the BYE server transaction lingering
//! for Timer J, a CANCEL that crosses our 200 OK, and a shorter T1 scaling every timer.

mod support;

use sip::message::Method;
use sip::transaction::Timers;
use sip::ua::EndReason;
use sip::{Transport, UaConfig, UaEvent};
use std::time::Duration;
use support::*;

#[test]
fn a_lost_bye_is_retransmitted_with_backoff_then_timer_f_ends_the_call() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (call, _) = h.established("");
    h.ua.hangup(h.at(secs(1)), call);
    assert_eq!(h.out().len(), 1);
    let sent = h.run_until(secs(40));
    let times: Vec<Duration> = sent.iter().map(|(t, _)| *t - secs(1)).collect();
    // Timer E: 0.5, 1, 2, 4, then every T2 (4 s) until Timer F at 64·T1 = 32 s.
    assert_eq!(
        &times[..6],
        &[ms(500), ms(1500), ms(3500), ms(7500), ms(11500), ms(15500)]
    );
    assert!(times.iter().all(|t| *t < secs(32)));
    assert!(sent.iter().all(|(_, m)| request(m).method == Method::Bye));
    assert!(h.events().contains(&UaEvent::Ended {
        call,
        reason: EndReason::LocalBye
    }));
}

#[test]
fn a_retransmitted_bye_gets_the_same_200_until_timer_j() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let (_call, tag) = h.established("");
    let bye = in_dialog(Transport::Udp, "BYE", "z9hG4bK-bye", 2, &tag, "", "");
    h.recv(secs(1), &bye);
    assert_eq!(h.statuses(), vec![200]);
    h.recv(secs(20), &bye);
    assert_eq!(h.statuses(), vec![200]);
    h.run_until(secs(40));
    h.recv(secs(40), &bye);
    assert_eq!(h.statuses(), vec![481], "after Timer J the dialog is gone");
}

#[test]
fn a_cancel_crossing_our_200_ok_does_not_end_the_call() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    let call = h.invite("").unwrap();
    h.out();
    h.ua.answer(h.at(ms(10)), call, ANSWER.to_string());
    assert_eq!(h.statuses(), vec![200]);
    let cancel = invite(Transport::Udp, "z9hG4bK-inv", "", "")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    h.recv(ms(20), &cancel);
    // 200 for the CANCEL itself, no 487: the INVITE already has its final response.
    assert_eq!(h.statuses(), vec![200]);
    assert!(h.events().is_empty());
    assert_eq!(h.ua.active_calls(), 1);
}

#[test]
fn a_shorter_t1_scales_the_200_ok_retransmissions_and_timer_h() {
    let cfg = UaConfig {
        timers: Timers {
            t1: ms(100),
            t2: ms(400),
            t4: secs(5),
        },
        ..config()
    };
    let mut h = Harness::new(cfg, "127.0.0.1:5062", Transport::Udp);
    let call = h.invite("").unwrap();
    h.out();
    h.ua.answer(h.at(ms(0)), call, ANSWER.to_string());
    h.out();
    let sent = h.run_until(secs(10));
    let oks: Vec<Duration> = sent
        .iter()
        .filter(|(_, m)| matches!(m, sip::Message::Response(_)))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(&oks[..4], &[ms(100), ms(300), ms(700), ms(1100)]);
    // Timer H at 64·T1 = 6.4 s: no ACK, so a BYE.
    let bye_at = sent
        .iter()
        .find(|(_, m)| matches!(m, sip::Message::Request(r) if r.method == Method::Bye))
        .map(|(t, _)| *t);
    assert_eq!(bye_at, Some(ms(6400)));
}
