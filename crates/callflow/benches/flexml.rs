//! FlexML parse + validate of a typical 2 KB document, and the interpreter's own cost for a
//! 10-step IVR call (documents handed in directly: no HTTP, no media, virtual time).

use callflow::{flexml, CallInfo, ErrorHandler, HttpMethod, Input, Interpreter, Output};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::{Duration, Instant};

const TYPICAL: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Store name="customer">48213</Store>
  <Override statusCallbackUrl="https://app.example.com/status" statusCallbackMethod="POST"/>
  <Say voice="woman" loop="1">Thank you for calling Acme Hardware, where every tool is in stock.</Say>
  <Gather action="https://app.example.com/ivr/menu" method="POST" numDigits="1" timeout="6" finishOnKey="#" validDigits="0123456789*#">
    <Say voice="woman">For store hours and locations, press 1.</Say>
    <Say voice="woman">To check the status of an order, press 2.</Say>
    <Say voice="woman">For returns and exchanges, press 3.</Say>
    <Say voice="woman">To speak with a member of our team, press 0.</Say>
    <Play loop="1">https://cdn.example.com/audio/menu-chime.wav</Play>
    <Pause length="1"/>
  </Gather>
  <Say voice="woman">We did not receive your selection.</Say>
  <Gather action="https://app.example.com/ivr/menu" numDigits="1" timeout="8">
    <Say voice="woman">Please press 1 for hours, 2 for orders, 3 for returns, or 0 for an agent.</Say>
  </Gather>
  <Play stopOnKey="#" action="https://app.example.com/ivr/after-music">https://cdn.example.com/audio/hold-music.mp3</Play>
  <Dial timeout="25" timeLimit="3600" callerId="15550000001" action="https://app.example.com/ivr/dial-done" hangupOnStar="true">
    <Number sendDigits=",,1928">15162065340</Number>
    <Number>15162065341?X-Queue=support&amp;X-Priority=high</Number>
  </Dial>
  <Record action="https://app.example.com/ivr/voicemail" maxLength="120" timeout="5" finishOnKey="#" playBeep="true" fileFormat="wav"/>
  <Sms to="15162065338" from="15550000001">Thanks for calling Acme Hardware. Reply STOP to opt out of messages.</Sms>
  <Say voice="man">Your reference number is 4 8 2 1 3. We have also sent it to you by text message.</Say>
  <Pause length="2"/>
  <Say voice="man">Goodbye, and thank you for choosing Acme Hardware.</Say>
  <Hangup/>
</Response>"##;

fn info() -> CallInfo {
    CallInfo {
        call_sid: "c1".into(),
        account_sid: "a1".into(),
        from: "15162065338".into(),
        to: "15550000001".into(),
        original_from: "+15162065338".into(),
        original_to: "15550000001".into(),
        caller_name: String::new(),
        direction: "inbound".into(),
        forwarded_from: None,
    }
}

/// Ten documents, each Say + Gather, the caller pressing 1 at each.
fn ivr_documents() -> Vec<String> {
    (0..10)
        .map(|n| {
            format!(
                r#"<Response><Say>Step {n}. Please listen carefully.</Say><Gather numDigits="1" action="/step{}"><Say>Press 1 to continue.</Say></Gather><Hangup/></Response>"#,
                n + 1
            )
        })
        .chain(std::iter::once("<Response><Say>Done.</Say><Hangup/></Response>".to_string()))
        .collect()
}

fn run_ivr(docs: &[String]) -> usize {
    let t0 = Instant::now();
    let mut now = t0;
    let mut i = Interpreter::new(
        info(),
        "http://app/step0".into(),
        HttpMethod::Post,
        ErrorHandler::Basic,
        None,
    );
    let mut docs = docs.iter();
    let mut outputs = 0;
    i.start(now);
    while !i.is_ended() {
        let mut input = None;
        while let Some(out) = i.poll_output() {
            outputs += 1;
            input = match out {
                Output::Fetch(_) => {
                    Some(Input::Fetched(Ok(docs.next().cloned().unwrap_or_default())))
                }
                Output::Say { .. } => Some(Input::MediaDone),
                _ => input,
            };
        }
        now += Duration::from_secs(1);
        match input {
            Some(inp) => i.handle_input(now, inp),
            None if i.poll_timeout().is_some() => i.handle_input(now, Input::Digit('1')),
            None => break,
        }
    }
    outputs
}

fn benches(c: &mut Criterion) {
    assert!(
        (1800..2400).contains(&TYPICAL.len()),
        "typical document is {} bytes",
        TYPICAL.len()
    );
    assert_eq!(flexml::parse(TYPICAL).map(|d| d.verbs.len()).ok(), Some(14));
    c.bench_function("flexml_parse_validate_2kb", |b| {
        b.iter(|| flexml::parse(black_box(TYPICAL)))
    });
    let docs = ivr_documents();
    assert!(run_ivr(&docs) > 40);
    c.bench_function("interpreter_10_step_ivr_call", |b| {
        b.iter(|| run_ivr(black_box(&docs)))
    });
}

criterion_group!(group, benches);
criterion_main!(group);
