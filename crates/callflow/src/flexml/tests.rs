use super::*;
use crate::model::*;

fn verbs(xml: &str) -> Vec<Verb> {
    parse(xml).unwrap_or_else(|e| panic!("{xml}: {e}")).verbs
}

fn err(xml: &str) -> String {
    parse(xml).expect_err(xml).to_string()
}

#[test]
fn parses_the_hello_document() {
    assert_eq!(
        verbs("<Response><Say>Hello, thank you for calling.</Say></Response>"),
        vec![Verb::Say(Say {
            text: "Hello, thank you for calling.".into(),
            voice: "man".into(),
            loops: 1,
            loop_pause_secs: 0
        })]
    );
}

#[test]
fn reads_attributes_and_trims_text() {
    let v = verbs(
        r#"<?xml version="1.0"?>
<Response>
  <Say voice="woman" loop="2" loopPause="5">  Thank you  </Say>
  <Play loop="0" stopOnKey="3*">
     http://example.com/a.wav
  </Play>
  <Pause length="3"/>
  <Wait/>
  <Redirect method="GET">next</Redirect>
  <Hangup/>
</Response>"#,
    );
    assert_eq!(v.len(), 6);
    assert_eq!(
        v[0],
        Verb::Say(Say {
            text: "Thank you".into(),
            voice: "woman".into(),
            loops: 2,
            loop_pause_secs: 5
        })
    );
    let Verb::Play(p) = &v[1] else { panic!() };
    assert_eq!(p.source, PlaySource::Url("http://example.com/a.wav".into()));
    assert_eq!(
        (p.loops, p.keys.stop.as_str(), p.control_skip_secs),
        (0, "3*", 60)
    );
    assert_eq!(
        v[3],
        Verb::Pause(Pause {
            length_secs: 1,
            silence: false,
            min_silence_ms: 2000,
            noise: false,
            min_noise_ms: 500
        })
    );
    assert_eq!(
        v[4],
        Verb::Redirect {
            url: "next".into(),
            method: HttpMethod::Get
        }
    );
}

#[test]
fn gather_defaults_and_nesting() {
    let v = verbs(
        r#"<Response><Gather numDigits="2"><Say>Enter</Say><Play>a.wav</Play><Pause/></Gather></Response>"#,
    );
    let Verb::Gather(g) = &v[0] else { panic!() };
    assert_eq!(g.finish_on_key, "#");
    assert_eq!(g.timeout_secs, 5);
    assert_eq!(g.num_digits, Some(2));
    assert_eq!(g.valid_digits, "1234567890#*abcdABCD");
    assert_eq!(g.prompts.len(), 3);
    let v = verbs(
        r#"<Response><Gather finishOnKey="_" startDigits="*" action="/pin" method="GET"/></Response>"#,
    );
    let Verb::Gather(g) = &v[0] else { panic!() };
    assert_eq!(g.finish_on_key, "");
    assert_eq!(g.start_digits, "*");
    assert_eq!(
        g.action,
        Some(Action {
            url: "/pin".into(),
            method: HttpMethod::Get
        })
    );
    assert_eq!(
        err("<Response><Gather><Dial>1</Dial></Gather></Response>"),
        "line 1: <Gather> cannot contain <Dial>"
    );
    assert_eq!(
        err(r#"<Response><Gather finishOnKey="x"/></Response>"#),
        "line 1: <Gather> attribute finishOnKey=\"x\": 'x' is not one of 0123456789#*_"
    );
}

#[test]
fn dial_numbers_headers_and_simultaneous_ring() {
    let v = verbs(
        r#"<Response><Dial timeLimit="15" hangupOnStar="true">15162065340</Dial></Response>"#,
    );
    let Verb::Dial(d) = &v[0] else { panic!() };
    assert_eq!(
        d.numbers,
        vec![DialNumber {
            target: "15162065340".into(),
            send_digits: "".into(),
            headers: vec![]
        }]
    );
    assert!(d.hangup_on_star);
    assert_eq!((d.time_limit_secs, d.timeout_secs), (15, 30));
    let v = verbs(
        r#"<Response><Dial><Number sendDigits=",,,,1928">15162065340?X-CustomHeader1=ABC&amp;X-CustomHeader2=DEF</Number><Number>sip:bob@example.com</Number></Dial></Response>"#,
    );
    let Verb::Dial(d) = &v[0] else { panic!() };
    assert_eq!(d.numbers.len(), 2);
    assert_eq!(d.numbers[0].send_digits, ",,,,1928");
    assert_eq!(
        d.numbers[0].headers,
        vec![
            ("X-CustomHeader1".into(), "ABC".into()),
            ("X-CustomHeader2".into(), "DEF".into())
        ]
    );
    assert_eq!(d.numbers[1].target, "sip:bob@example.com");
    assert!(err("<Response><Dial>call me</Dial></Response>")
        .contains("neither a phone number nor a sip: URI"));
    // A lone `+` is no number (it used to be accepted as an empty target).
    assert!(err("<Response><Dial>+</Dial></Response>").contains("neither a phone number"));
    assert!(
        err("<Response><Dial><Number> + ?X-A=1</Number></Dial></Response>")
            .contains("neither a phone number")
    );
    let Verb::Dial(d) = &verbs("<Response><Dial>+15162065340</Dial></Response>")[0] else {
        panic!()
    };
    assert_eq!(d.numbers[0].target, "15162065340");
    assert!(
        err("<Response><Dial><Number>1?Y=2</Number></Dial></Response>")
            .contains("not an X- header")
    );
    assert!(
        err(r#"<Response><Dial><Number sendDigits="12a">1</Number></Dial></Response>"#)
            .contains("not a DTMF key")
    );
}

#[test]
fn play_file_noun_and_digits() {
    let v = verbs(r#"<Response><Play timeLimit="30"><File>d620ec24-acd8-4193-9249-b89f46ee3654</File></Play><Play digits="1w"/></Response>"#.replace("1w", "12#").as_str());
    let Verb::Play(p) = &v[0] else { panic!() };
    assert_eq!(
        p.source,
        PlaySource::File("d620ec24-acd8-4193-9249-b89f46ee3654".into())
    );
    let Verb::Play(p) = &v[1] else { panic!() };
    assert_eq!(p.source, PlaySource::Digits("12#".into()));
    assert!(err("<Response><Play/></Response>").contains("needs a URL"));
}

#[test]
fn record_reject_store_override_sms_amd_preanswer() {
    let v = verbs(
        r#"<Response>
<PreAnswer><Say>Sorry</Say><Pause length="4"/></PreAnswer>
<Record maxLength="30" finishOnKey="none" fileFormat="ul" playBeep="true"/>
<Reject reason="intermediary-rejected">My reason</Reject>
<Store name="key1">some data</Store>
<Override statusCallbackUrl="http://x/s" statusCallbackMethod="GET"/>
<Sms to="15162065317">Have a great day!</Sms>
<Amd initialSilence="5000" greeting="2000"/>
<Dtmf>,,12</Dtmf>
</Response>"#,
    );
    assert!(matches!(&v[0], Verb::PreAnswer { prompts } if prompts.len() == 2));
    let Verb::Record(r) = &v[1] else { panic!() };
    assert_eq!(
        (
            r.max_length_secs,
            r.finish_on_key.as_deref(),
            r.file_format.as_str(),
            r.play_beep
        ),
        (Some(30), Some(""), "ul", true)
    );
    assert_eq!((r.timeout_secs, r.trim.as_str()), (5, "trim-silence"));
    assert_eq!(
        v[2],
        Verb::Reject {
            reason: "intermediary-rejected".into(),
            message: Some("My reason".into())
        }
    );
    assert_eq!(
        v[3],
        Verb::Store {
            name: "key1".into(),
            value: "some data".into()
        }
    );
    assert!(
        matches!(&v[4], Verb::Override { status_callback: Some(a), .. } if a.method == HttpMethod::Get)
    );
    assert!(matches!(&v[5], Verb::Sms(s) if s.to.as_deref() == Some("15162065317")));
    let Verb::Amd(a) = &v[6] else { panic!() };
    assert_eq!(
        (
            a.initial_silence_ms,
            a.greeting_ms,
            a.after_greeting_silence_ms
        ),
        (5000, 2000, 800)
    );
    assert_eq!(
        v[7],
        Verb::Dtmf {
            digits: ",,12".into()
        }
    );
    assert!(
        err(r#"<Response><Reject reason="nope"/></Response>"#).contains("must be one of redirect")
    );
}

#[test]
fn reports_precise_errors() {
    assert_eq!(
        err("<Response>\n<Say loop=\"-1\">x</Say></Response>"),
        "line 2: <Say> attribute loop=\"-1\": must be a whole number"
    );
    assert_eq!(
        err("<Response><Say loop=\"101\">x</Say></Response>"),
        "line 1: <Say> attribute loop=\"101\": must be between 0 and 100"
    );
    assert!(matches!(
        parse("<Response><Dance/></Response>"),
        Err(FlexmlError::UnknownVerb { .. })
    ));
    assert!(matches!(parse("<Reply/>"), Err(FlexmlError::Root { .. })));
    assert!(matches!(parse("<Response><Say>"), Err(FlexmlError::Xml(_))));
    assert!(matches!(parse("Hello"), Err(FlexmlError::Xml(_))));
}

#[test]
fn refuses_entity_expansion() {
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Response><Say>&lol2;</Say></Response>"#;
    assert!(matches!(parse(bomb), Err(FlexmlError::Xml(_))));
}

#[test]
fn warns_on_unknown_attributes() {
    let doc = parse(r#"<Response><Say colour="red">hi</Say></Response>"#).unwrap();
    assert_eq!(doc.warnings.len(), 1);
    assert!(doc.warnings[0].contains("unknown attribute colour"));
}
