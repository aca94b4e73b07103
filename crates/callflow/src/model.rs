//! The instruction model shared by every dialect (FlexML today, Kazoo Pivot JSON next).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn parse(s: &str) -> Option<HttpMethod> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    pub text: String,
    /// As written: `man`, `woman`, or a provider voice such as `Polly.Joanna`.
    pub voice: String,
    /// 0 = until the call ends.
    pub loops: u32,
    pub loop_pause_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Play {
    pub url: String,
    pub loops: u32,
    pub loop_pause_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Say(Say),
    Play(Play),
    Pause {
        length_secs: u32,
    },
    Hangup,
    Reject {
        reason: String,
    },
    Redirect {
        url: String,
        method: HttpMethod,
    },
    /// A verb of the language that this build does not perform yet; skipped with a warning.
    NotYetSupported {
        name: String,
    },
}

impl Verb {
    /// Whether performing the verb plays something to the caller (used by the redirect-loop guard).
    pub fn has_media(&self) -> bool {
        matches!(self, Verb::Say(_) | Verb::Play(_) | Verb::Pause { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub verbs: Vec<Verb>,
    /// Non-fatal findings, such as unknown attributes, with their line.
    pub warnings: Vec<String>,
}
