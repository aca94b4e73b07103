//! Interpreter scenarios on virtual time, driven the way the call driver drives it.

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

fn drain(i: &mut Interpreter) -> Vec<Output> {
    std::iter::from_fn(|| i.poll_output())
        .filter(|o| !matches!(o, Output::Timeline(_)))
        .collect()
}

fn param<'a>(f: &'a FetchRequest, name: &str) -> &'a str {
    f.params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("<missing>")
}

#[test]
fn hello_document_answers_says_and_hangs_up_with_a_status_callback() {
    let t0 = Instant::now();
    let cb = Some(("http://app/status".to_string(), HttpMethod::Post));
    let mut i = Interpreter::new(
        info(),
        "http://app/hello".into(),
        HttpMethod::Post,
        ErrorHandler::Basic,
        cb,
    );
    i.start(t0);
    let out = drain(&mut i);
    let [Output::Fetch(f)] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(f.url, "http://app/hello");
    assert_eq!(param(f, "ApiVersion"), "2.0");
    assert_eq!(param(f, "From"), "15162065338");
    assert_eq!(param(f, "Direction"), "inbound");
    assert_eq!(param(f, "RequestUrl"), "http://app/hello");

    i.handle_input(
        t0,
        Input::Fetched(Ok(
            "<Response><Say>Hello, thank you for calling.</Say></Response>".into(),
        )),
    );
    let out = drain(&mut i);
    assert_eq!(out[0], Output::Answer);
    assert!(matches!(&out[1], Output::Say { text, .. } if text == "Hello, thank you for calling."));

    i.handle_input(t0 + Duration::from_secs(8), Input::MediaDone);
    let out = drain(&mut i);
    assert_eq!(out[0], Output::Hangup);
    let Output::Finished {
        call_status,
        status_callback: Some(cb),
    } = &out[1]
    else {
        panic!("{out:?}")
    };
    assert_eq!(call_status, "completed");
    assert_eq!(param(cb, "CallDuration"), "8");
    assert_eq!(param(cb, "RequestMethod"), "POST");
    assert!(i.is_ended());
}

#[test]
fn redirects_resolve_relative_urls_and_loops_are_cut_off() {
    let t0 = Instant::now();
    let mut i = Interpreter::new(
        info(),
        "http://app/ivr/start".into(),
        HttpMethod::Get,
        ErrorHandler::None,
        None,
    );
    i.start(t0);
    drain(&mut i);
    i.handle_input(
        t0,
        Input::Fetched(Ok(
            "<Response><Redirect method=\"GET\">next</Redirect></Response>".into(),
        )),
    );
    let out = drain(&mut i);
    let [Output::Fetch(f)] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(f.url, "http://app/ivr/next");
    assert_eq!(f.method, HttpMethod::Get);
    let mut fetches = 2; // the initial document and the first redirect
    loop {
        i.handle_input(
            t0,
            Input::Fetched(Ok("<Response><Redirect>next</Redirect></Response>".into())),
        );
        let out = drain(&mut i);
        if !matches!(out.as_slice(), [Output::Fetch(_)]) {
            // error_handler none, not answered: the call is refused.
            assert_eq!(
                out[0],
                Output::Reject {
                    status: 500,
                    reason: "Server Internal Error".into(),
                    call_info: None
                }
            );
            break;
        }
        fetches += 1;
    }
    assert_eq!(fetches, callflow::interpreter::MAX_FETCHES_WITHOUT_MEDIA);
}

#[test]
fn an_unreachable_app_gets_the_basic_error_prompt() {
    let t0 = Instant::now();
    let mut i = Interpreter::new(
        info(),
        "http://app/x".into(),
        HttpMethod::Post,
        ErrorHandler::Basic,
        None,
    );
    i.start(t0);
    drain(&mut i);
    i.handle_input(t0, Input::Fetched(Err("connection refused".into())));
    let out = drain(&mut i);
    assert_eq!(out[0], Output::Answer);
    assert!(matches!(&out[1], Output::Say { text, .. } if text.contains("application error")));
    i.handle_input(t0, Input::MediaDone);
    assert_eq!(drain(&mut i)[0], Output::Hangup);
}

#[test]
fn malformed_documents_are_app_errors_and_reject_maps_reasons() {
    let t0 = Instant::now();
    let mut i = Interpreter::new(
        info(),
        "http://app/x".into(),
        HttpMethod::Post,
        ErrorHandler::None,
        None,
    );
    i.start(t0);
    let timeline: Vec<Output> = std::iter::from_fn(|| i.poll_output()).collect();
    assert_eq!(timeline.len(), 1);
    i.handle_input(
        t0,
        Input::Fetched(Ok("<Response><Say loop=\"x\">hi</Say>".into())),
    );
    let all: Vec<Output> = std::iter::from_fn(|| i.poll_output()).collect();
    assert!(all
        .iter()
        .any(|o| matches!(o, Output::Timeline(t) if t.contains("app error"))));
    assert!(all.contains(&Output::Reject {
        status: 500,
        reason: "Server Internal Error".into(),
        call_info: None
    }));

    let mut i = Interpreter::new(
        info(),
        "http://app/x".into(),
        HttpMethod::Post,
        ErrorHandler::None,
        None,
    );
    i.start(t0);
    drain(&mut i);
    i.handle_input(
        t0,
        Input::Fetched(Ok(
            "<Response><Reject reason=\"busy-here\"/></Response>".into()
        )),
    );
    let out = drain(&mut i);
    assert_eq!(
        out[0],
        Output::Reject {
            status: 486,
            reason: "Busy Here".into(),
            call_info: None
        }
    );
    assert!(matches!(&out[1], Output::Finished { call_status, .. } if call_status == "failed"));
}

#[test]
fn caller_hanging_up_mid_prompt_ends_the_call() {
    let t0 = Instant::now();
    let mut i = Interpreter::new(
        info(),
        "http://app/x".into(),
        HttpMethod::Post,
        ErrorHandler::Basic,
        None,
    );
    i.start(t0);
    drain(&mut i);
    i.handle_input(
        t0,
        Input::Fetched(Ok(
            "<Response><Pause length=\"30\"/><Say>never</Say></Response>".into(),
        )),
    );
    assert_eq!(
        drain(&mut i),
        vec![Output::Answer, Output::Silence { millis: 30_000 }]
    );
    i.handle_input(t0 + Duration::from_secs(2), Input::RemoteHangup);
    let out = drain(&mut i);
    assert!(matches!(&out[0], Output::Finished { call_status, .. } if call_status == "completed"));
    i.handle_input(t0, Input::MediaDone);
    assert!(drain(&mut i).is_empty());
}
