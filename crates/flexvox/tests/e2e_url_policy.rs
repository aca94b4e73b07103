//! `--url-deny-private`: an app URL on a private address is not fetched, so a hosted app
//! cannot make the server probe the operator's network; the call gets the account's error
//! handling instead.

mod common;

use common::{instantiate_scenario, run_sipp_uac, start_app, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_urls_on_private_addresses_are_refused_when_the_policy_says_so() {
    let server = Server::start_with(
        "urlpolicy",
        &["--url-deny-private", "--url-allow", "10.0.0.0/8"],
    );
    let (app, received) = start_app("<Response><Say>Hi</Say></Response>").await;
    let (login, password) = server.login();
    let did_sid = server.credentials["demo_did"]["did_sid"]
        .as_str()
        .unwrap()
        .to_string();
    let account_sid = server.credentials["flexml_api"]["account_sid"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    for (path, body) in [
        (
            format!("dids/{did_sid}"),
            serde_json::json!({ "url": format!("http://{app}/hello") }),
        ),
        (
            format!("accounts/{account_sid}"),
            serde_json::json!({ "error_handler": "none" }),
        ),
    ] {
        let resp = http
            .patch(format!("{}/flexml/v1/{path}", server.http))
            .basic_auth(&login, Some(&password))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }

    let scenario = instantiate_scenario(
        &server,
        "uac_expect_reject.xml",
        &[("EXPECTED_STATUS", "500")],
    );
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            &scenario,
            "15550000001",
            1,
            1,
            &["-key", "codecs", "0", "-key", "rtpmap", "0 PCMU/8000"],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    assert!(
        received.lock().unwrap().is_empty(),
        "the app on {app} was fetched despite the policy"
    );
    assert!(
        server.log_text().contains("private range"),
        "{}",
        server.log_text()
    );
}
