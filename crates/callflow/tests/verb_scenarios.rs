//! One scenario per verb behaviour, on virtual time: no test here sleeps.

use callflow::interpreter::{DialOutcome, RecordOutcome};
use callflow::model::PlaySource;
use callflow::{CallInfo, ErrorHandler, FetchRequest, HttpMethod, Input, Interpreter, Output};
use std::time::{Duration, Instant};

fn info() -> CallInfo {
    CallInfo {
        call_sid: "c1".into(),
        account_sid: "a1".into(),
        from: "15162065338".into(),
        to: "15550000001".into(),
        original_from: "+15162065338".into(),
        original_to: "15550000001".into(),
        caller_name: "".into(),
        direction: "inbound".into(),
        forwarded_from: None,
    }
}

/// An interpreter that has fetched `doc` as its first document at t0.
fn running(doc: &str) -> (Interpreter, Instant, Vec<Output>) {
    let t0 = Instant::now();
    let cb = Some(("http://app/status".to_string(), HttpMethod::Post));
    let mut i = Interpreter::new(
        info(),
        "http://app/ivr/start".into(),
        HttpMethod::Post,
        ErrorHandler::Basic,
        cb,
    );
    i.start(t0);
    drain(&mut i);
    i.handle_input(t0, Input::Fetched(Ok(doc.into())));
    let out = drain(&mut i);
    (i, t0, out)
}

fn drain(i: &mut Interpreter) -> Vec<Output> {
    std::iter::from_fn(|| i.poll_output())
        .filter(|o| !matches!(o, Output::Timeline(_)))
        .collect()
}

fn fetch(out: &[Output]) -> &FetchRequest {
    out.iter()
        .find_map(|o| match o {
            Output::Fetch(f) => Some(f),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no fetch in {out:?}"))
}

fn param<'a>(f: &'a FetchRequest, name: &str) -> Option<&'a str> {
    f.params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const MENU: &str = r#"<Response>
  <Gather action="menu" timeout="5" numDigits="2"><Say>Enter two digits</Say><Play>beep.wav</Play></Gather>
  <Say>No input</Say>
</Response>"#;

#[test]
fn gather_timeout_starts_after_the_prompts_and_no_input_moves_on() {
    let (mut i, t0, out) = running(MENU);
    assert!(matches!(&out[1], Output::Say { text, .. } if text == "Enter two digits"));
    assert_eq!(i.poll_timeout(), None, "no timeout while prompts play");
    i.handle_input(t0 + Duration::from_secs(2), Input::MediaDone);
    let out = drain(&mut i);
    assert!(
        matches!(&out[0], Output::Play { source: PlaySource::Url(u), .. } if u == "http://app/ivr/beep.wav")
    );
    i.handle_input(t0 + Duration::from_secs(3), Input::MediaDone);
    assert_eq!(i.poll_timeout(), Some(t0 + Duration::from_secs(8)));
    i.handle_timeout(t0 + Duration::from_secs(8));
    assert!(matches!(&drain(&mut i)[0], Output::Say { text, .. } if text == "No input"));
}

#[test]
fn a_key_during_the_prompt_barges_in_and_the_timeout_counts_between_keys() {
    let (mut i, t0, _) = running(MENU);
    i.handle_input(t0 + Duration::from_secs(1), Input::Digit('4'));
    assert_eq!(drain(&mut i), vec![Output::StopMedia]);
    assert_eq!(i.poll_timeout(), Some(t0 + Duration::from_secs(6)));
    i.handle_input(t0 + Duration::from_secs(4), Input::Digit('2'));
    let out = drain(&mut i);
    let f = fetch(&out);
    assert_eq!(f.url, "http://app/ivr/menu");
    assert_eq!(param(f, "Digits"), Some("42"));
}

#[test]
fn finish_key_submits_partial_input_and_a_timeout_submits_what_was_typed() {
    let (mut i, t0, _) =
        running(r##"<Response><Gather action="/pin" finishOnKey="#*"/></Response>"##);
    for k in ['1', '2'] {
        i.handle_input(t0, Input::Digit(k));
    }
    i.handle_input(t0, Input::Digit('*'));
    assert_eq!(param(fetch(&drain(&mut i)), "Digits"), Some("12"));

    let (mut i, t0, _) = running(r#"<Response><Gather action="/pin" timeout="3"/></Response>"#);
    i.handle_input(t0 + Duration::from_secs(1), Input::Digit('7'));
    assert_eq!(i.poll_timeout(), Some(t0 + Duration::from_secs(4)));
    i.handle_timeout(t0 + Duration::from_secs(4));
    let out = drain(&mut i);
    assert_eq!(fetch(&out).url, "http://app/pin");
    assert_eq!(param(fetch(&out), "Digits"), Some("7"));
}

#[test]
fn start_digits_ignore_other_keys_until_a_start_key() {
    let (mut i, t0, _) = running(
        r#"<Response><Gather startDigits="*" validDigits="0123456789" numDigits="3" action="/pin"><Play>intro.mp3</Play></Gather></Response>"#,
    );
    i.handle_input(t0, Input::Digit('5'));
    assert!(
        drain(&mut i).is_empty(),
        "ignored keys do not stop the prompt"
    );
    i.handle_input(t0, Input::Digit('*'));
    assert_eq!(drain(&mut i), vec![Output::StopMedia]);
    i.handle_input(t0, Input::Digit('A'));
    assert!(drain(&mut i).is_empty(), "A is not among validDigits");
    i.handle_input(t0, Input::Digit('1'));
    i.handle_input(t0, Input::Digit('2'));
    assert_eq!(
        param(fetch(&drain(&mut i)), "Digits"),
        Some("*12"),
        "the start key counts towards numDigits"
    );
}

#[test]
fn play_stop_on_key_reports_the_key_url_and_offset_to_the_action() {
    let (mut i, t0, out) = running(
        r#"<Response><Play stopOnKey="9" skip="5" forwardOnKey="6" action="done">song.mp3</Play></Response>"#,
    );
    assert!(matches!(&out[1], Output::Play { skip_secs: 5, .. }));
    i.handle_input(t0 + Duration::from_secs(3), Input::Digit('6'));
    assert!(matches!(
        &drain(&mut i)[0],
        Output::PlayControl(callflow::interpreter::PlayControl::Forward { secs: 60, .. })
    ));
    i.handle_input(t0 + Duration::from_secs(12), Input::Digit('9'));
    let out = drain(&mut i);
    assert_eq!(out[0], Output::StopMedia);
    let f = fetch(&out);
    assert_eq!(f.url, "http://app/ivr/done");
    assert_eq!(param(f, "Digits"), Some("9"));
    assert_eq!(param(f, "PlaybackUrl"), Some("http://app/ivr/song.mp3"));
    assert_eq!(
        param(f, "PlayOffset"),
        Some("77"),
        "12 s played + skip 5 + forward 60"
    );
}

#[test]
fn preanswer_sends_early_media_then_reject_refuses_without_answering() {
    let (mut i, t0, out) = running(
        r#"<Response><PreAnswer><Say>Sorry</Say><Pause length="4"/></PreAnswer><Reject reason="busy"/></Response>"#,
    );
    assert_eq!(out[0], Output::EarlyMedia);
    assert!(matches!(out[1], Output::Say { .. }));
    assert!(!out.contains(&Output::Answer));
    i.handle_input(t0, Input::MediaDone);
    assert_eq!(drain(&mut i), vec![Output::Silence { millis: 4000 }]);
    i.handle_input(t0, Input::MediaDone);
    let out = drain(&mut i);
    assert_eq!(
        out[0],
        Output::Reject {
            status: 600,
            reason: "Busy Everywhere".into(),
            call_info: None
        }
    );
    assert!(matches!(&out[1], Output::Finished { call_status, .. } if call_status == "failed"));
}

#[test]
fn intermediary_rejected_carries_its_text_for_call_info() {
    let (_, _, out) = running(
        r#"<Response><Reject reason="intermediary-rejected">Spam likely</Reject></Response>"#,
    );
    assert_eq!(
        out[0],
        Output::Reject {
            status: 608,
            reason: "Rejected".into(),
            call_info: Some("Spam likely".into())
        }
    );
}

#[test]
fn store_values_reach_every_later_request_and_override_moves_the_status_callback() {
    let (mut i, t0, out) = running(
        r#"<Response><Store name="key1">some_data</Store><Override statusCallbackUrl="/cb" statusCallbackMethod="GET"/><Redirect>next</Redirect></Response>"#,
    );
    assert_eq!(param(fetch(&out), "Storage_key1"), Some("some_data"));
    i.handle_input(
        t0,
        Input::Fetched(Ok("<Response><Hangup/></Response>".into())),
    );
    let out = drain(&mut i);
    let Some(Output::Finished {
        status_callback: Some(cb),
        ..
    }) = out.last()
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        (cb.url.as_str(), cb.method),
        ("http://app/cb", HttpMethod::Get)
    );
    assert_eq!(param(cb, "Storage_key1"), Some("some_data"));
}

#[test]
fn dial_reports_its_outcome_to_the_action_and_hangup_on_star_ends_it() {
    let (mut i, t0, out) = running(
        r#"<Response><Dial action="after" hangupOnStar="true">15162065340</Dial></Response>"#,
    );
    assert!(matches!(&out[0], Output::Dial(d) if d.numbers[0].target == "15162065340"));
    assert!(
        !out.contains(&Output::Answer),
        "the caller is answered when the dialed party answers"
    );
    i.handle_input(t0, Input::Digit('*'));
    assert_eq!(drain(&mut i), vec![Output::EndDial]);
    let outcome = DialOutcome {
        status: "completed".into(),
        duration_secs: 42,
        call_sid: Some("d1".into()),
        answered: true,
    };
    i.handle_input(t0 + Duration::from_secs(45), Input::DialDone(outcome));
    let f = fetch(&drain(&mut i)).clone();
    assert_eq!(param(&f, "DialCallStatus"), Some("completed"));
    assert_eq!(param(&f, "DialCallDuration"), Some("42"));
}

#[test]
fn record_finish_key_ends_it_and_an_absent_recording_skips_the_action() {
    let (mut i, t0, out) = running(
        r##"<Response><Record action="saved" finishOnKey="#"/><Say>after</Say></Response>"##,
    );
    assert_eq!(out[0], Output::Answer);
    assert!(matches!(&out[1], Output::Record(r) if r.timeout_secs == 5));
    i.handle_input(t0, Input::Digit('1'));
    assert!(drain(&mut i).is_empty(), "only # ends this recording");
    i.handle_input(t0, Input::Digit('#'));
    assert_eq!(drain(&mut i), vec![Output::StopRecording { key: '#' }]);
    let done = RecordOutcome {
        status: "completed".into(),
        sid: "r1".into(),
        url: "http://s/r1".into(),
        duration_secs: 7,
        digits: Some("#".into()),
    };
    i.handle_input(t0, Input::RecordDone(done));
    let f = fetch(&drain(&mut i)).clone();
    assert_eq!(param(&f, "RecordingUrl"), Some("http://s/r1"));
    assert_eq!(param(&f, "RecordingDuration"), Some("7"));

    let (mut i, t0, _) =
        running(r#"<Response><Record action="saved"/><Say>after</Say></Response>"#);
    let absent = RecordOutcome {
        status: "absent".into(),
        sid: "".into(),
        url: "".into(),
        duration_secs: 0,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(absent));
    assert!(matches!(&drain(&mut i)[0], Output::Say { text, .. } if text == "after"));
}

#[test]
fn amd_result_goes_to_the_action_and_sms_does_not_wait() {
    let (mut i, t0, out) =
        running(r#"<Response><Sms>Hi there</Sms><Amd action="amd"/></Response>"#);
    assert_eq!(
        out[0],
        Output::Sms {
            to: "15550000001".into(),
            from: "15162065338".into(),
            body: "Hi there".into()
        }
    );
    assert!(matches!(out.last(), Some(Output::Amd(a)) if a.total_analysis_time_ms == 5000));
    i.handle_input(
        t0,
        Input::AmdDone {
            status: "MACHINE".into(),
            cause: "MACHINE-GREETING-2100".into(),
        },
    );
    let f = fetch(&drain(&mut i)).clone();
    assert_eq!(param(&f, "AMDStatus"), Some("MACHINE"));
    assert_eq!(param(&f, "AMDCause"), Some("MACHINE-GREETING-2100"));
}

#[test]
fn dtmf_and_play_digits_send_keys_and_a_failed_play_goes_to_error_action() {
    let (mut i, t0, out) =
        running(r#"<Response><Dtmf>,,12</Dtmf><Play errorAction="oops">bad.wav</Play></Response>"#);
    assert!(out.contains(&Output::SendDigits {
        digits: ",,12".into()
    }));
    i.handle_input(t0, Input::MediaDone);
    drain(&mut i);
    i.handle_input(t0, Input::MediaFailed("404".into()));
    assert_eq!(fetch(&drain(&mut i)).url, "http://app/ivr/oops");
}

#[test]
fn recording_status_callback_fires_for_the_listed_events_and_callback_url_always() {
    let (mut i, t0, _) = running(
        r#"<Response><Record recordingStatusCallback="/rec" recordingStatusCallbackEvent="completed" callbackUrl="http://other/cb" action="saved"/></Response>"#,
    );
    let done = RecordOutcome {
        status: "completed".into(),
        sid: "r1".into(),
        url: "http://s/r1".into(),
        duration_secs: 3,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(done));
    let out = drain(&mut i);
    let callbacks: Vec<&FetchRequest> = out
        .iter()
        .filter_map(|o| match o {
            Output::Callback(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(
        callbacks.iter().map(|c| c.url.as_str()).collect::<Vec<_>>(),
        ["http://app/rec", "http://other/cb"]
    );
    assert_eq!(param(callbacks[0], "RecordingSid"), Some("r1"));
    assert_eq!(fetch(&out).url, "http://app/ivr/saved");

    let (mut i, t0, _) = running(
        r#"<Response><Record recordingStatusCallback="/rec" recordingStatusCallbackEvent="completed"/></Response>"#,
    );
    let failed = RecordOutcome {
        status: "failed".into(),
        sid: "".into(),
        url: "".into(),
        duration_secs: 0,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(failed));
    assert!(
        !drain(&mut i)
            .iter()
            .any(|o| matches!(o, Output::Callback(_))),
        "failed is not among the events"
    );
}

#[test]
fn a_failed_recording_goes_to_error_action_and_broken_background_audio_does_not_end_it() {
    let (mut i, t0, _) = running(
        r#"<Response><Record action="saved" errorAction="broken" backgroundAudioUrl="music.mp3"/><Say>after</Say></Response>"#,
    );
    // The background audio cannot be fetched: the recording goes on.
    i.handle_input(t0, Input::MediaFailed("404".into()));
    assert!(drain(&mut i).is_empty(), "still recording");
    let failed = RecordOutcome {
        status: "failed".into(),
        sid: "".into(),
        url: "".into(),
        duration_secs: 0,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(failed));
    let f = fetch(&drain(&mut i)).clone();
    assert_eq!(f.url, "http://app/ivr/broken");
    assert_eq!(param(&f, "RecordingStatus"), Some("failed"));

    // Without errorAction a failed recording still goes to action.
    let (mut i, t0, _) = running(r#"<Response><Record action="saved"/></Response>"#);
    let failed = RecordOutcome {
        status: "failed".into(),
        sid: "".into(),
        url: "".into(),
        duration_secs: 0,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(failed));
    assert_eq!(fetch(&drain(&mut i)).url, "http://app/ivr/saved");
}

#[test]
fn a_session_recording_stored_after_the_call_ends_still_sends_its_callback() {
    let (mut i, t0, out) = running(
        r#"<Response><Record recordSession="true" recordingStatusCallback="/rec"/><Say>bye</Say><Hangup/></Response>"#,
    );
    assert!(matches!(&out[1], Output::Record(r) if r.record_session));
    i.handle_input(t0, Input::MediaDone);
    drain(&mut i);
    assert!(i.is_ended());
    let done = RecordOutcome {
        status: "completed".into(),
        sid: "s1".into(),
        url: "http://s/s1".into(),
        duration_secs: 4,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(done.clone()));
    let out = drain(&mut i);
    assert!(
        matches!(&out[..], [Output::Callback(f)] if f.url == "http://app/rec" && param(f, "RecordingSid") == Some("s1")),
        "{out:?}"
    );
    // Only once.
    i.handle_input(t0, Input::RecordDone(done));
    assert!(drain(&mut i).is_empty());
}

#[test]
fn a_recorded_dial_reports_its_recording_to_the_dial_s_status_callback() {
    let (mut i, t0, out) = running(
        r#"<Response><Dial record="record-from-answer" recordingStatusCallback="/dialrec" action="/after">15551230000</Dial></Response>"#,
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Dial(d) if d.record == "record-from-answer")));
    let done = RecordOutcome {
        status: "completed".into(),
        sid: "d1".into(),
        url: "http://s/d1".into(),
        duration_secs: 9,
        digits: None,
    };
    i.handle_input(t0, Input::RecordDone(done));
    let out = drain(&mut i);
    assert!(
        matches!(&out[..], [Output::Callback(f)] if f.url == "http://app/dialrec" && param(f, "RecordingSid") == Some("d1")),
        "{out:?}"
    );
    // The Dial is still waited for.
    i.handle_input(
        t0,
        Input::DialDone(DialOutcome {
            status: "completed".into(),
            duration_secs: 9,
            call_sid: Some("leg".into()),
            answered: true,
        }),
    );
    assert_eq!(fetch(&drain(&mut i)).url, "http://app/after");
}
