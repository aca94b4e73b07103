//! The virtual caller's script: one step per line, consumed in order when the call asks.
//!
//! ```text
//! press 12#      keys, 200 ms apart, when the call next listens for keys (Gather, Record)
//! wait 2         seconds before the next step
//! speak 3        seconds of speech: what a Record hears
//! dial busy      outcome of the next Dial: answer [talk seconds] | busy | noanswer | failed
//! amd machine    result of the next Amd: human | machine | notsure
//! hangup         the caller hangs up
//! ```
//! A word starting with `#` begins a comment (except the keys after `press`).

#[derive(Debug, Clone, PartialEq)]
pub enum ScriptStep {
    Press(String),
    Wait(f64),
    Speak(f64),
    Dial(DialAnswer),
    Amd(String),
    Hangup,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DialAnswer {
    Answer { talk_secs: f64 },
    Busy,
    NoAnswer,
    Failed,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("script line {line}: {why}")]
pub struct ScriptError {
    pub line: usize,
    pub why: String,
}

const KEYS: &str = "0123456789#*ABCDabcd";

pub fn parse_script(text: &str) -> Result<Vec<ScriptStep>, ScriptError> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        // A word starting with `#` begins a comment, except the keys of `press` (`press #`).
        let mut tokens: Vec<&str> = Vec::new();
        for word in raw.split_whitespace() {
            let is_keys = tokens.len() == 1 && tokens[0].eq_ignore_ascii_case("press");
            if word.starts_with('#') && !is_keys {
                break;
            }
            tokens.push(word);
        }
        let mut words = tokens.into_iter();
        let Some(verb) = words.next() else { continue };
        let arg = words.next();
        let err = |why: &str| ScriptError {
            line: i + 1,
            why: why.to_string(),
        };
        let secs = |a: Option<&str>| -> Result<f64, ScriptError> {
            a.and_then(|s| s.trim_end_matches('s').parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| err("expected a number of seconds"))
        };
        steps.push(match verb.to_ascii_lowercase().as_str() {
            "press" => {
                let keys = arg.ok_or_else(|| err("press needs keys, e.g. press 1#"))?;
                if let Some(bad) = keys.chars().find(|c| !KEYS.contains(*c)) {
                    return Err(err(&format!("{bad:?} is not a phone key")));
                }
                ScriptStep::Press(keys.to_string())
            }
            "wait" => ScriptStep::Wait(secs(arg)?),
            "speak" => ScriptStep::Speak(secs(arg)?),
            "dial" => ScriptStep::Dial(match arg.map(str::to_ascii_lowercase).as_deref() {
                Some("answer") => {
                    ScriptStep::dial_answer(words.next().map(|s| secs(Some(s))).transpose()?)
                }
                Some("busy") => DialAnswer::Busy,
                Some("noanswer") => DialAnswer::NoAnswer,
                Some("failed") => DialAnswer::Failed,
                _ => return Err(err("dial needs answer [seconds], busy, noanswer or failed")),
            }),
            "amd" => match arg.map(str::to_ascii_uppercase).as_deref() {
                Some(s @ ("HUMAN" | "MACHINE" | "NOTSURE")) => ScriptStep::Amd(s.to_string()),
                _ => return Err(err("amd needs human, machine or notsure")),
            },
            "hangup" => ScriptStep::Hangup,
            other => {
                return Err(err(&format!(
                    "unknown step {other:?} (press, wait, speak, dial, amd, hangup)"
                )))
            }
        });
    }
    Ok(steps)
}

impl ScriptStep {
    fn dial_answer(talk: Option<f64>) -> DialAnswer {
        DialAnswer::Answer {
            talk_secs: talk.unwrap_or(10.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_step_and_keeps_hash_keys() {
        let steps = parse_script("# menu\npress 1#  # the menu\nwait 2\nspeak 3.5s\ndial answer 20\ndial busy\namd machine\nhangup\npress #\n").unwrap();
        assert_eq!(
            steps,
            vec![
                ScriptStep::Press("1#".into()),
                ScriptStep::Wait(2.0),
                ScriptStep::Speak(3.5),
                ScriptStep::Dial(DialAnswer::Answer { talk_secs: 20.0 }),
                ScriptStep::Dial(DialAnswer::Busy),
                ScriptStep::Amd("MACHINE".into()),
                ScriptStep::Hangup,
                ScriptStep::Press("#".into()),
            ]
        );
    }

    #[test]
    fn reports_bad_lines() {
        assert_eq!(parse_script("press 1x").unwrap_err().line, 1);
        assert!(parse_script("\nwait soon")
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        assert!(parse_script("jump").is_err());
    }
}
