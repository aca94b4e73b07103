//! Who may start a call: the trunk allow list (403), SIP users' digest (407), overload (503
//! with Retry-After), too brief a session timer (422 with Min-SE). Refusals are stateless.

mod support;

use sip::digest::{self, Algorithm, DigestInput};
use sip::policy::{AccessPolicy, Cidr};
use sip::{Transport, UaConfig, UaEvent};
use support::*;

fn untrusted(users: &[(&str, &str)]) -> UaConfig {
    UaConfig {
        access: AccessPolicy {
            allow: Cidr::parse_list("127.0.0.0/8").unwrap(),
        },
        users: users
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect(),
        digest_algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
        ..config()
    }
}

#[test]
fn an_invite_from_outside_the_allow_list_gets_403_and_no_call() {
    let mut h = Harness::new(untrusted(&[]), "203.0.113.7:5062", Transport::Udp);
    assert_eq!(h.invite(""), None);
    let forbidden = h.only(403);
    assert!(forbidden.headers.get("To").unwrap().contains(";tag="));
    assert_eq!(h.ua.active_calls(), 0);
    // Stateless: nothing is kept, no timer runs, a retransmission is refused again.
    assert_eq!(h.ua.poll_timeout(), None);
    h.recv(ms(500), &invite(Transport::Udp, "z9hG4bK-inv", "", OFFER));
    assert_eq!(h.statuses(), vec![403]);
}

#[test]
fn trusted_networks_call_without_credentials() {
    let mut h = Harness::new(
        untrusted(&[("alice", "pw")]),
        "127.0.0.1:5062",
        Transport::Udp,
    );
    assert!(h.invite("").is_some());
    assert_eq!(h.statuses(), vec![100]);
}

fn answer_challenge(challenge: &str, password: &str, method: &str) -> String {
    let ch = digest::parse_challenge(challenge).unwrap();
    digest::authorization(
        &ch,
        &DigestInput {
            method,
            uri: "sip:15550000001@198.51.100.1:5060",
            username: "alice",
            password,
            cnonce: "c0ffee",
            nc: 1,
        },
    )
}

#[test]
fn a_sip_user_from_anywhere_is_challenged_with_407_and_admitted_with_digest() {
    for prefer_md5 in [false, true] {
        let mut h = Harness::new(
            untrusted(&[("alice", "secret")]),
            "203.0.113.7:5062",
            Transport::Udp,
        );
        assert_eq!(h.invite(""), None);
        let challenge = h.only(407);
        let offered: Vec<&str> = challenge
            .headers
            .iter()
            .filter(|(n, _)| *n == "Proxy-Authenticate")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(offered.len(), 2, "SHA-256 and MD5 are offered");
        assert!(offered[0].contains("MD5") && offered[1].contains("SHA-256"));
        let chosen = if prefer_md5 { offered[0] } else { offered[1] };

        // A wrong password is challenged again; the right one is let in.
        let wrong = answer_challenge(chosen, "guess", "INVITE");
        let text = invite(
            Transport::Udp,
            "z9hG4bK-2",
            &format!("Proxy-Authorization: {wrong}\r\n"),
            OFFER,
        )
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE");
        h.recv(ms(100), &text);
        assert_eq!(h.statuses(), vec![407]);
        let right = answer_challenge(chosen, "secret", "INVITE");
        let text = invite(
            Transport::Udp,
            "z9hG4bK-3",
            &format!("Proxy-Authorization: {right}\r\n"),
            OFFER,
        )
        .replace("CSeq: 1 INVITE", "CSeq: 3 INVITE");
        h.recv(ms(200), &text);
        assert_eq!(h.statuses(), vec![100]);
        assert!(h
            .events()
            .iter()
            .any(|e| matches!(e, UaEvent::IncomingCall(_))));
    }
}

#[test]
fn an_old_nonce_is_answered_stale() {
    let mut h = Harness::new(
        untrusted(&[("alice", "secret")]),
        "203.0.113.7:5062",
        Transport::Udp,
    );
    h.invite("");
    let challenge = h.only(407);
    let ch = challenge
        .headers
        .get("Proxy-Authenticate")
        .unwrap()
        .to_string();
    let right = answer_challenge(&ch, "secret", "INVITE");
    let text = invite(
        Transport::Udp,
        "z9hG4bK-late",
        &format!("Proxy-Authorization: {right}\r\n"),
        OFFER,
    );
    h.recv(secs(400), &text);
    let again = h.only(407);
    assert!(again
        .headers
        .get("Proxy-Authenticate")
        .unwrap()
        .contains("stale=true"));
}

#[test]
fn past_max_calls_new_invites_get_503_with_retry_after_and_calls_up_are_kept() {
    let cfg = UaConfig {
        max_calls: 1,
        ..config()
    };
    let mut h = Harness::new(cfg, "127.0.0.1:5062", Transport::Udp);
    let (call, _) = h.established("");
    let second =
        invite(Transport::Udp, "z9hG4bK-second", "", OFFER).replace(CALL_ID, "call-2@10.0.0.5");
    h.recv(secs(1), &second);
    let busy = h.only(503);
    assert_eq!(busy.headers.get("Retry-After"), Some("5"));
    assert_eq!(h.ua.active_calls(), 1);
    assert!(h
        .events()
        .iter()
        .all(|e| !matches!(e, UaEvent::Ended { call: c, .. } if *c == call)));

    let zero = UaConfig {
        max_calls: 0,
        ..config()
    };
    let mut h = Harness::new(zero, "127.0.0.1:5062", Transport::Udp);
    assert_eq!(h.invite(""), None);
    assert_eq!(h.only(503).headers.get("Retry-After"), Some("5"));
}

#[test]
fn a_session_interval_below_min_se_gets_422_with_min_se() {
    let mut h = Harness::new(config(), "127.0.0.1:5062", Transport::Udp);
    assert_eq!(
        h.invite("Session-Expires: 60\r\nSupported: timer\r\n"),
        None
    );
    assert_eq!(h.only(422).headers.get("Min-SE"), Some("90"));
}
