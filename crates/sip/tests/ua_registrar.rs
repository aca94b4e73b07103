//! REGISTER on virtual time: the 401 digest challenge (MD5 and SHA-256), bindings with their
//! expiry (Expires header, contact parameter, min/max), 423 Interval Too Brief, un-register
//! with Expires: 0 and with `*`, expiry reported as an event, and `contact_for`.

mod support;

use sip::digest::{self, Algorithm, DigestInput};
use sip::{Transport, UaConfig, UaEvent};
use support::*;

fn with_alice() -> UaConfig {
    UaConfig {
        users: vec![("alice".into(), "secret".into())],
        digest_algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
        ..config()
    }
}

fn register(cseq: u32, contact: &str, extra: &str) -> String {
    format!(
        "REGISTER sip:198.51.100.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-reg{cseq};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@198.51.100.1>;tag=r1\r\n\
To: <sip:alice@198.51.100.1>\r\n\
Call-ID: reg-1@10.0.0.5\r\n\
CSeq: {cseq} REGISTER\r\n\
Contact: {contact}\r\n\
{extra}Content-Length: 0\r\n\r\n"
    )
}

/// REGISTERs, answers the 401 with `password` over `alg`, returns the final response.
fn register_with_digest(
    h: &mut Harness,
    at: u64,
    cseq: u32,
    contact: &str,
    extra: &str,
    password: &str,
    alg: Algorithm,
) -> sip::Response {
    h.recv(secs(at), &register(cseq, contact, extra));
    let challenge = h.only(401);
    let offered = challenge
        .headers
        .iter()
        .filter(|(n, _)| *n == "WWW-Authenticate")
        .find_map(|(_, v)| digest::parse_challenge(v).filter(|c| c.algorithm == alg))
        .expect("the algorithm is offered");
    let auth = digest::authorization(
        &offered,
        &DigestInput {
            method: "REGISTER",
            uri: "sip:198.51.100.1",
            username: "alice",
            password,
            cnonce: "abc",
            nc: 1,
        },
    );
    h.recv(
        secs(at),
        &register(
            cseq + 1,
            contact,
            &format!("{extra}Authorization: {auth}\r\n"),
        ),
    );
    let out = h.out();
    assert_eq!(out.len(), 1);
    response(&out[0].2).clone()
}

#[test]
fn register_with_md5_and_sha256_binds_until_expiry() {
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        let mut h = Harness::new(with_alice(), "203.0.113.7:40000", Transport::Udp);
        let ok = register_with_digest(
            &mut h,
            0,
            1,
            "<sip:alice@10.0.0.5:5062>",
            "Expires: 120\r\n",
            "secret",
            alg,
        );
        assert_eq!(ok.status, 200);
        assert_eq!(
            ok.headers.get("Contact"),
            Some("<sip:alice@10.0.0.5:5062>;expires=120")
        );
        let b = h.ua.contact_for("alice", h.at(secs(1))).unwrap().clone();
        assert_eq!(b.uri, "sip:alice@10.0.0.5:5062");
        // The phone is reached where its REGISTER came from (its NAT's public side).
        assert_eq!(b.source.addr, "203.0.113.7:40000".parse().unwrap());
        assert!(matches!(
            h.events().as_slice(),
            [UaEvent::Registration { user, contact: Some(_) }] if user == "alice"
        ));
        h.run_until(secs(119));
        assert!(h.ua.contact_for("alice", h.at(secs(119))).is_some());
        h.run_until(secs(121));
        assert!(h.ua.contact_for("alice", h.at(secs(121))).is_none());
        assert_eq!(
            h.events(),
            vec![UaEvent::Registration {
                user: "alice".into(),
                contact: None
            }]
        );
    }
}

#[test]
fn wrong_password_and_strangers_do_not_register() {
    let mut h = Harness::new(with_alice(), "203.0.113.7:40000", Transport::Udp);
    let again = register_with_digest(
        &mut h,
        0,
        1,
        "<sip:alice@10.0.0.5>",
        "",
        "nope",
        Algorithm::Md5,
    );
    assert_eq!(again.status, 401);
    assert!(h.ua.contact_for("alice", h.at(secs(1))).is_none());
    // No SIP users configured: REGISTER is forbidden outright.
    let mut h = Harness::new(config(), "203.0.113.7:40000", Transport::Udp);
    h.recv(secs(0), &register(1, "<sip:alice@10.0.0.5>", ""));
    assert_eq!(h.statuses(), vec![403]);
}

#[test]
fn too_brief_gets_423_long_is_capped_and_unregister_removes() {
    let mut h = Harness::new(with_alice(), "203.0.113.7:40000", Transport::Udp);
    let brief = register_with_digest(
        &mut h,
        0,
        1,
        "<sip:alice@10.0.0.5>",
        "Expires: 10\r\n",
        "secret",
        Algorithm::Md5,
    );
    assert_eq!(brief.status, 423);
    assert_eq!(brief.headers.get("Min-Expires"), Some("60"));
    let long = register_with_digest(
        &mut h,
        1,
        3,
        "<sip:alice@10.0.0.5>;expires=99999",
        "",
        "secret",
        Algorithm::Md5,
    );
    assert_eq!(
        long.headers.get("Contact"),
        Some("<sip:alice@10.0.0.5>;expires=3600")
    );
    let two = register_with_digest(
        &mut h,
        2,
        5,
        "<sip:alice@10.0.0.6>",
        "Expires: 600\r\n",
        "secret",
        Algorithm::Md5,
    );
    assert_eq!(two.headers.get_all("Contact").len(), 2);
    // The most recent registration is the one calls go to.
    assert_eq!(
        h.ua.contact_for("alice", h.at(secs(3))).unwrap().uri,
        "sip:alice@10.0.0.6"
    );
    let gone = register_with_digest(
        &mut h,
        3,
        7,
        "<sip:alice@10.0.0.6>",
        "Expires: 0\r\n",
        "secret",
        Algorithm::Md5,
    );
    assert_eq!(gone.headers.get_all("Contact").len(), 1);
    assert_eq!(
        h.ua.contact_for("alice", h.at(secs(4))).unwrap().uri,
        "sip:alice@10.0.0.5"
    );
    let bad_star = register_with_digest(
        &mut h,
        4,
        9,
        "*",
        "Expires: 30\r\n",
        "secret",
        Algorithm::Md5,
    );
    assert_eq!(bad_star.status, 400);
    let star = register_with_digest(
        &mut h,
        5,
        11,
        "*",
        "Expires: 0\r\n",
        "secret",
        Algorithm::Md5,
    );
    assert_eq!(star.status, 200);
    assert!(star.headers.get("Contact").is_none());
    assert!(h.ua.contact_for("alice", h.at(secs(6))).is_none());
}

#[test]
fn a_user_may_only_register_its_own_name() {
    let mut h = Harness::new(
        UaConfig {
            users: vec![
                ("alice".into(), "secret".into()),
                ("bob".into(), "pw".into()),
            ],
            ..config()
        },
        "203.0.113.7:40000",
        Transport::Udp,
    );
    h.recv(
        secs(0),
        &register(1, "<sip:x@10.0.0.5>", "").replace(
            "<sip:alice@198.51.100.1>\r\nCall",
            "<sip:bob@198.51.100.1>\r\nCall",
        ),
    );
    let challenge = h.only(401);
    let ch = digest::parse_challenge(challenge.headers.get("WWW-Authenticate").unwrap()).unwrap();
    let auth = digest::authorization(
        &ch,
        &DigestInput {
            method: "REGISTER",
            uri: "sip:198.51.100.1",
            username: "alice",
            password: "secret",
            cnonce: "c",
            nc: 1,
        },
    );
    let text = register(2, "<sip:x@10.0.0.5>", &format!("Authorization: {auth}\r\n"))
        .replace("To: <sip:alice@", "To: <sip:bob@");
    h.recv(secs(0), &text);
    assert_eq!(h.statuses(), vec![403]);
}
