//! The simulation timeline, as aligned text for people or JSON lines for tools.

use serde_json::{json, Value};
use std::io::Write;

/// Writes a line; a closed pipe (`simulate … | head`) is not an error worth a panic.
fn out(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

pub struct Timeline {
    json: bool,
    pub app_errors: usize,
    pub requests: usize,
}

/// Request parameters that are the same on every request: shown once, not on every line.
const ROUTINE: &[&str] = &[
    "AccountSid",
    "ApiVersion",
    "CallerName",
    "CallSid",
    "CallStatus",
    "Direction",
    "OriginalFrom",
    "OriginalTo",
    "RequestUrl",
    "From",
    "To",
];

impl Timeline {
    pub fn new(json: bool) -> Self {
        Timeline {
            json,
            app_errors: 0,
            requests: 0,
        }
    }

    pub fn event(&mut self, t: f64, kind: &str, text: &str, detail: Value) {
        if kind == "error" {
            self.app_errors += 1;
        }
        if self.json {
            let mut obj = json!({ "t": (t * 1000.0).round() / 1000.0, "kind": kind, "text": text });
            if let (Value::Object(o), Value::Object(d)) = (&mut obj, detail) {
                o.extend(d);
            }
            out(format_args!("{obj}"));
        } else {
            out(format_args!("{t:>8.2}s  {kind:<9} {text}"));
        }
    }

    pub fn request(
        &mut self,
        t: f64,
        kind: &str,
        method: &str,
        url: &str,
        params: &[(String, String)],
    ) {
        self.requests += 1;
        let first = self.requests == 1;
        let shown: Vec<String> = params
            .iter()
            .filter(|(k, _)| {
                first && matches!(k.as_str(), "From" | "To") || !ROUTINE.contains(&k.as_str())
            })
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let text = if shown.is_empty() {
            format!("{method} {url}")
        } else {
            format!("{method} {url}  {}", shown.join(" "))
        };
        let all: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        self.event(
            t,
            kind,
            &text,
            json!({ "method": method, "url": url, "params": all }),
        );
    }
}
