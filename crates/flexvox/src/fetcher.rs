//! HTTP to the customer's app: FlexML documents (POST JSON or GET query) and status callbacks.

use crate::url_policy::{AppHttp, UrlDenied};
use callflow::{FetchRequest, HttpMethod};
use std::time::Duration;

pub const DOCUMENT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BODY: usize = callflow::flexml::MAX_DOCUMENT_BYTES;

fn build(http: &AppHttp, req: &FetchRequest) -> Result<reqwest::RequestBuilder, UrlDenied> {
    Ok(match req.method {
        HttpMethod::Post => {
            let body: serde_json::Map<String, serde_json::Value> = req
                .params
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            http.post(&req.url)?.json(&body)
        }
        HttpMethod::Get => http.get(&req.url)?.query(&req.params),
    }
    .timeout(DOCUMENT_TIMEOUT))
}

/// Fetches a document; the error string goes to the call's timeline as the app error.
pub async fn fetch_document(http: &AppHttp, req: &FetchRequest) -> Result<String, String> {
    if req.url.is_empty() {
        return Err("no URL is set on the DID or on the account".into());
    }
    let resp = build(http, req)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("the app answered HTTP {status}"));
    }
    if resp.content_length().is_some_and(|n| n as usize > MAX_BODY) {
        return Err(format!("the document is larger than {MAX_BODY} bytes"));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("reading the body failed: {e}"))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| "the document is not UTF-8".to_string())
}

/// Sends a request whose answer is not used (status and recording callbacks, the SMS
/// webhook), retrying a few times with backoff.
pub async fn send_notification(http: AppHttp, req: FetchRequest) {
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=4 {
        match deliver(&http, &req).await {
            Ok(()) => return,
            Err(e) if e.permanent => {
                return tracing::warn!(url = %req.url, error = %e.message, "notification not sent")
            }
            Err(e) => {
                tracing::warn!(url = %req.url, error = %e.message, attempt, "notification failed")
            }
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

/// Why one delivery attempt of a notification failed; `permanent` when retrying cannot help
/// (the URL policy refuses the address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    pub permanent: bool,
}

/// One attempt at a notification (the outbox retries): any 2xx answer delivers it.
pub async fn deliver(http: &AppHttp, req: &FetchRequest) -> Result<(), DeliveryError> {
    let request = build(http, req).map_err(|denied| DeliveryError {
        message: denied.to_string(),
        permanent: true,
    })?;
    let transient = |message: String| DeliveryError {
        message,
        permanent: false,
    };
    let resp = request
        .send()
        .await
        .map_err(|e| transient(format!("request failed: {e}")))?;
    match resp.status() {
        s if s.is_success() => Ok(()),
        s => Err(transient(format!("the app answered HTTP {s}"))),
    }
}
