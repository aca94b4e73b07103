//! `--url-deny-private`: an app URL on a private address is not fetched, so a hosted app
//! cannot make the server probe the operator's network; the call gets the account's error
//! handling instead.

mod common;

use common::{expect_demo_refusal, start_app, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_urls_on_private_addresses_are_refused_when_the_policy_says_so() {
    let server = Server::start_with(
        "urlpolicy",
        &["--url-deny-private", "--url-allow", "10.0.0.0/8"],
    );
    let (app, received) = start_app("<Response><Say>Hi</Say></Response>").await;
    server.set_did_url(&format!("http://{app}/hello")).await;
    let (login, password) = server.login();
    let account_sid = server.credentials["flexml_api"]["account_sid"]
        .as_str()
        .unwrap();
    let resp = reqwest::Client::new()
        .patch(format!("{}/flexml/v1/accounts/{account_sid}", server.http))
        .basic_auth(&login, Some(&password))
        .json(&serde_json::json!({ "error_handler": "none" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    tokio::task::block_in_place(|| expect_demo_refusal(&server, "500"));
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
