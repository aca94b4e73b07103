//! Calls flexvox must refuse or cut short, end to end through SIPp: an unknown number (404), an
//! offer without G.711 (488), and an app that returns a malformed document (the account's
//! error handler: `basic` speaks an error prompt and hangs up; `none` refuses with 500).

mod common;

use common::{expect_demo_refusal, expect_refusal, start_app, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_numbers_get_404_and_offers_without_g711_get_488() {
    let server = Server::start("refusals");
    tokio::task::block_in_place(|| {
        expect_refusal(&server, "15559999999", "404", "0", "0 PCMU/8000");
        expect_refusal(&server, "15550000001", "488", "18", "18 G729/8000");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_document_follows_the_accounts_error_handler() {
    let server = Server::start("apperror");
    let (app, received) = start_app("<Response><Say loop=\"forever\">Hi</Say></Response>").await;
    let (login, password) = server.login();
    let account_sid = server.credentials["flexml_api"]["account_sid"]
        .as_str()
        .unwrap()
        .to_string();
    server.set_did_url(&format!("http://{app}/hello")).await;
    let http = reqwest::Client::new();

    // error_handler basic (the default): the caller hears the error prompt, then a BYE.
    let (rtp_port, recorder) = common::start_rtp_caller();
    common::call_demo_number(&server, rtp_port);
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    let loud = common::frame_levels_ulaw(&packets)
        .iter()
        .filter(|l| **l > 1000.0)
        .count();
    assert!(
        loud > 25,
        "the error prompt was not heard ({loud} loud frames)"
    );
    assert!(
        server
            .log_text()
            .contains("attribute loop=\"forever\": must be a whole number"),
        "{}",
        server.log_text()
    );
    assert_eq!(received.lock().unwrap().len(), 1);

    // error_handler none: the unanswered call is refused with 500.
    let resp = http
        .patch(format!("{}/flexml/v1/accounts/{account_sid}", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({ "error_handler": "none" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    tokio::task::block_in_place(|| expect_demo_refusal(&server, "500"));
}
