//! One parser per verb, with the attribute lists, defaults and ranges of the reference.

use super::attrs::{Element, KEYS};
use super::FlexmlError;
use crate::model::*;
use roxmltree::Node;

const REJECT_REASONS: &[&str] = &[
    "redirect",
    "forbidden",
    "rejected",
    "not-found",
    "busy-here",
    "bad-gateway",
    "unavailable",
    "busy",
    "decline",
    "does-not-exist",
    "unwanted",
    "intermediary-rejected",
];

type Result<T> = std::result::Result<T, FlexmlError>;

pub fn parse_verb(
    doc: &roxmltree::Document,
    node: Node,
    warnings: &mut Vec<String>,
) -> Result<Verb> {
    let e = Element::new(doc, node);
    match e.name {
        "Say" => Ok(Verb::Say(say(&e, warnings)?)),
        "Play" => Ok(Verb::Play(play(&e, warnings)?)),
        "Pause" | "Wait" => Ok(Verb::Pause(pause(&e, warnings)?)),
        "Gather" => gather(&e, warnings),
        "Dial" => dial(&e, warnings),
        "Dtmf" => {
            e.warn_unknown(&[], warnings);
            let digits = e.text();
            check_digit_string(&e, &digits)?;
            Ok(Verb::Dtmf { digits })
        }
        "Record" => record(&e, warnings),
        "Amd" => amd(&e, warnings),
        "PreAnswer" => {
            e.warn_unknown(&[], warnings);
            Ok(Verb::PreAnswer {
                prompts: prompts(&e, warnings)?,
            })
        }
        "Hangup" => {
            e.warn_unknown(&[], warnings);
            Ok(Verb::Hangup)
        }
        "Reject" => {
            e.warn_unknown(&["reason"], warnings);
            let reason = e.choice("reason", "rejected", REJECT_REASONS)?;
            let message = Some(e.text()).filter(|t| !t.is_empty());
            Ok(Verb::Reject { reason, message })
        }
        "Redirect" => {
            e.warn_unknown(&["method"], warnings);
            let url = e.text();
            if url.is_empty() {
                return Err(e.content_error("needs a URL"));
            }
            Ok(Verb::Redirect {
                url,
                method: e.method("method")?,
            })
        }
        "Store" => {
            e.warn_unknown(&["name"], warnings);
            let name = e
                .string("name")
                .ok_or_else(|| e.content_error("needs a name attribute"))?;
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(e.error("name", &name, "may hold only letters, digits, _ and -"));
            }
            Ok(Verb::Store {
                name,
                value: e.text(),
            })
        }
        "Override" => {
            e.warn_unknown(
                &[
                    "statusCallbackUrl",
                    "statusCallbackMethod",
                    "sipUsername",
                    "sipPassword",
                ],
                warnings,
            );
            Ok(Verb::Override {
                status_callback: e.action("statusCallbackUrl", "statusCallbackMethod")?,
                sip_username: e.string("sipUsername"),
                sip_password: e.string("sipPassword"),
            })
        }
        "Sms" => {
            e.warn_unknown(&["to", "from", "action", "method"], warnings);
            let body = e.text();
            if body.is_empty() {
                return Err(e.content_error("needs a message body"));
            }
            Ok(Verb::Sms(Sms {
                to: e.string("to"),
                from: e.string("from"),
                body,
                action: e.action("action", "method")?,
            }))
        }
        other => Err(FlexmlError::UnknownVerb {
            line: e.line(),
            name: other.to_string(),
        }),
    }
}

fn check_digit_string(e: &Element, digits: &str) -> Result<()> {
    if let Some(bad) = digits.chars().find(|c| !KEYS.contains(*c) && *c != ',') {
        return Err(e.content_error(&format!(
            "{bad:?} is not a DTMF key (0-9, #, *, or , for a 0.5 s pause)"
        )));
    }
    Ok(())
}

fn no_children(e: &Element) -> Result<()> {
    match e.children().next() {
        Some(child) => Err(e.nesting_error(child)),
        None => Ok(()),
    }
}

fn say(e: &Element, warnings: &mut Vec<String>) -> Result<Say> {
    e.warn_unknown(&["voice", "loop", "loopPause", "language"], warnings);
    no_children(e)?;
    Ok(Say {
        text: e.text(),
        voice: e.string("voice").unwrap_or_else(|| "man".into()),
        loops: e.int("loop", 1, 0, 100)?,
        loop_pause_secs: e.int("loopPause", 0, 0, 300)?,
    })
}

fn play(e: &Element, warnings: &mut Vec<String>) -> Result<Play> {
    e.warn_unknown(
        &[
            "action",
            "background",
            "controlSkip",
            "digits",
            "errorAction",
            "errorMethod",
            "forwardOnKey",
            "informationAudioUrl",
            "informationOnKey",
            "loop",
            "loopPause",
            "method",
            "minorControlSkip",
            "minorForwardOnKey",
            "minorRewindOnKey",
            "pauseAudioUrl",
            "pauseOnKey",
            "preBuffer",
            "restartOnKey",
            "rewindOnKey",
            "skip",
            "stopOnKey",
            "streaming",
            "strictForwardControl",
            "timeLimit",
            "waitInitial",
            "waitInitialUrl",
            "waitRepeat",
            "waitRepeatUrl",
        ],
        warnings,
    );
    let mut files = Vec::new();
    for child in e.children() {
        match child.tag_name().name() {
            "File" => files.push(Element::new(e.doc, child).text()),
            _ => return Err(e.nesting_error(child)),
        }
    }
    let text = e.text();
    let source = match (e.string("digits"), files.pop(), text.is_empty()) {
        (Some(digits), None, true) => {
            check_digit_string(e, &digits)?;
            PlaySource::Digits(digits)
        }
        (Some(_), _, _) => {
            return Err(e.content_error("with digits=\"…\" must not also name a file or URL"))
        }
        (None, Some(file), true) if !file.is_empty() => PlaySource::File(file),
        (None, None, false) => PlaySource::Url(text),
        (None, Some(_), false) => return Err(e.content_error("holds both a URL and a <File>")),
        (None, _, true) => return Err(e.content_error("needs a URL, a <File> or digits to play")),
    };
    let key = |a: &str| e.keys(a, "", KEYS);
    let wait = |secs: &str, url: &str| -> Result<Option<(u32, String)>> {
        Ok(match (e.opt_int(secs, 1, 3600)?, e.string(url)) {
            (Some(s), Some(u)) => Some((s, u)),
            _ => None,
        })
    };
    Ok(Play {
        source,
        loops: e.int("loop", 1, 0, 100)?,
        loop_pause_secs: e.int("loopPause", 0, 0, 300)?,
        action: e.action("action", "method")?,
        error_action: e.action("errorAction", "errorMethod")?,
        background: e.bool("background", false)?,
        skip_secs: e.int("skip", 0, 0, 86_400)?,
        time_limit_secs: e.int("timeLimit", 0, 0, 86_400)?,
        streaming: e.bool("streaming", false)?,
        control_skip_secs: e.int("controlSkip", 60, 1, 86_400)?,
        minor_control_skip_secs: e.int("minorControlSkip", 60, 1, 86_400)?,
        strict_forward_control: e.bool("strictForwardControl", false)?,
        keys: PlayKeys {
            stop: key("stopOnKey")?,
            forward: key("forwardOnKey")?,
            rewind: key("rewindOnKey")?,
            minor_forward: key("minorForwardOnKey")?,
            minor_rewind: key("minorRewindOnKey")?,
            pause: key("pauseOnKey")?,
            restart: key("restartOnKey")?,
            information: key("informationOnKey")?,
        },
        information_audio_url: e.string("informationAudioUrl"),
        pause_audio_url: e.string("pauseAudioUrl"),
        pre_buffer_secs: e.int("preBuffer", 0, 0, 3600)?,
        wait_initial: wait("waitInitial", "waitInitialUrl")?,
        wait_repeat: wait("waitRepeat", "waitRepeatUrl")?,
    })
}

fn pause(e: &Element, warnings: &mut Vec<String>) -> Result<Pause> {
    e.warn_unknown(
        &["length", "minNoise", "minSilence", "noise", "silence"],
        warnings,
    );
    no_children(e)?;
    Ok(Pause {
        length_secs: e.int("length", 1, 1, 86_400)?,
        silence: e.bool("silence", false)?,
        min_silence_ms: e.int("minSilence", 2000, 1, 3_600_000)?,
        noise: e.bool("noise", false)?,
        min_noise_ms: e.int("minNoise", 500, 1, 3_600_000)?,
    })
}

/// Say, Play and Pause nested in Gather or PreAnswer.
fn prompts(e: &Element, warnings: &mut Vec<String>) -> Result<Vec<Prompt>> {
    let mut out = Vec::new();
    for child in e.children() {
        let c = Element::new(e.doc, child);
        out.push(match c.name {
            "Say" => Prompt::Say(say(&c, warnings)?),
            "Play" => Prompt::Play(Box::new(play(&c, warnings)?)),
            "Pause" | "Wait" => Prompt::Pause(pause(&c, warnings)?),
            _ => return Err(e.nesting_error(child)),
        });
    }
    Ok(out)
}

fn gather(e: &Element, warnings: &mut Vec<String>) -> Result<Verb> {
    e.warn_unknown(
        &[
            "action",
            "method",
            "finishOnKey",
            "numDigits",
            "timeout",
            "startDigits",
            "validDigits",
        ],
        warnings,
    );
    let finish = e.keys("finishOnKey", "#", "0123456789#*_")?;
    let finish_on_key = if finish.contains('_') {
        String::new()
    } else {
        finish
    };
    Ok(Verb::Gather(Gather {
        action: e.action("action", "method")?,
        finish_on_key,
        num_digits: e.opt_int("numDigits", 1, 128)?,
        timeout_secs: e.int("timeout", 5, 1, 3600)?,
        start_digits: e.keys("startDigits", "", KEYS)?,
        valid_digits: e.keys(
            "validDigits",
            "1234567890#*abcdABCD",
            "1234567890#*abcdABCD",
        )?,
        prompts: prompts(e, warnings)?,
    }))
}

fn dial_number(e: &Element, raw: &str, send_digits: String) -> Result<DialNumber> {
    let (target, query) = raw.split_once('?').unwrap_or((raw, ""));
    let target = target.trim().to_string();
    // Digits after the `+`: a lone `+` is no number (it used to give an empty target).
    let digits = target.trim_start_matches('+');
    let is_number = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let is_uri = target.starts_with("sip:") || target.starts_with("sips:");
    if !is_number && !is_uri {
        return Err(e.content_error(&format!(
            "{target:?} is neither a phone number nor a sip: URI"
        )));
    }
    let mut headers = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !name.to_ascii_lowercase().starts_with("x-") || name.len() < 3 {
            return Err(e.content_error(&format!("query argument {name:?} is not an X- header")));
        }
        headers.push((name.to_string(), value.to_string()));
    }
    Ok(DialNumber {
        target: target.trim_start_matches('+').to_string(),
        send_digits,
        headers,
    })
}

fn dial(e: &Element, warnings: &mut Vec<String>) -> Result<Verb> {
    e.warn_unknown(
        &[
            "action",
            "callerId",
            "callerName",
            "confirmKey",
            "confirmSound",
            "containerSid",
            "hangupOnStar",
            "method",
            "record",
            "recordDirection",
            "recordingStatusCallback",
            "recordingStatusCallbackEvent",
            "recordingStatusCallbackMethod",
            "ringing",
            "timeLimit",
            "timeout",
            "trim",
        ],
        warnings,
    );
    let mut numbers = Vec::new();
    for child in e.children() {
        let c = Element::new(e.doc, child);
        if c.name != "Number" {
            return Err(e.nesting_error(child));
        }
        c.warn_unknown(&["sendDigits"], warnings);
        let send_digits = c.string("sendDigits").unwrap_or_default();
        check_digit_string(&c, &send_digits)?;
        numbers.push(dial_number(&c, &c.text(), send_digits)?);
    }
    let text = e.text();
    match (numbers.is_empty(), text.is_empty()) {
        (true, true) => return Err(e.content_error("needs a number to dial")),
        (true, false) => numbers.push(dial_number(e, &text, String::new())?),
        (false, false) => {
            return Err(e.content_error("holds both a bare number and <Number> nouns"))
        }
        (false, true) => {}
    }
    let confirm_key = e.keys("confirmKey", "", KEYS)?;
    if confirm_key.len() > 1 {
        return Err(e.error("confirmKey", &confirm_key, "must be a single key"));
    }
    Ok(Verb::Dial(Dial {
        numbers,
        action: e.action("action", "method")?,
        caller_id: e.string("callerId"),
        caller_name: e.string("callerName"),
        confirm_key: confirm_key.chars().next(),
        confirm_sound: e.string("confirmSound"),
        container_sid: e.string("containerSid"),
        hangup_on_star: e.bool("hangupOnStar", false)?,
        record: e.choice(
            "record",
            "do-not-record",
            &["do-not-record", "record-from-answer", "record-from-ringing"],
        )?,
        record_direction: e.choice("recordDirection", "any", &["any", "in", "out"])?,
        recording_status_callback: e
            .action("recordingStatusCallback", "recordingStatusCallbackMethod")?,
        recording_status_callback_event: e
            .string("recordingStatusCallbackEvent")
            .unwrap_or_else(|| "completed,failed".into()),
        ringing: e.choice("ringing", "true", &["true", "false", "music"])?,
        time_limit_secs: e.int("timeLimit", 0, 0, 86_400)?,
        timeout_secs: e.int("timeout", 30, 1, 600)?,
        trim: e.choice("trim", "do-not-trim", &["trim-silence", "do-not-trim"])?,
    }))
}

fn record(e: &Element, warnings: &mut Vec<String>) -> Result<Verb> {
    let storage = [
        "awsAccessKey",
        "awsBucketName",
        "awsSecretKey",
        "gcpAccessToken",
        "gcpBucketName",
        "gcpClientId",
        "gcpClientSecret",
        "gcpProject",
        "gcpRefreshToken",
        "azureAccountKey",
        "azureAccountName",
        "azureContainerName",
        "azureSasToken",
    ];
    let mut known = vec![
        "action",
        "backgroundAudioLoop",
        "backgroundAudioUrl",
        "callbackUrl",
        "containerSid",
        "direction",
        "errorAction",
        "errorMethod",
        "fileFormat",
        "fileMode",
        "fileSid",
        "finishOnKey",
        "integerKey1",
        "integerKey2",
        "lifecycleAction",
        "lifecycleTtl",
        "maxLength",
        "method",
        "playBeep",
        "recordingStatusCallback",
        "recordingStatusCallbackEvent",
        "recordingStatusCallbackMethod",
        "recordSession",
        "stringKey1",
        "stringKey2",
        "timeout",
        "transcribe",
        "transcribeCallback",
        "transcribeLowConfidenceWordReplacement",
        "transcribeLowConfidenceWordThreshold",
        "transcribeTimeout",
        "trim",
    ];
    known.extend(storage);
    e.warn_unknown(&known, warnings);
    no_children(e)?;
    if let Some(attr) = storage.iter().find(|a| e.node.attribute(**a).is_some()) {
        warnings.push(format!(
            "line {}: <Record> {attr}: external storage is not supported; the recording goes to the account's storage",
            e.line()
        ));
    }
    let finish_on_key = match e.node.attribute("finishOnKey").map(str::trim) {
        None => None,
        Some("none") => Some(String::new()),
        Some(_) => Some(e.keys("finishOnKey", "", KEYS)?),
    };
    Ok(Verb::Record(Record {
        action: e.action("action", "method")?,
        error_action: e.action("errorAction", "errorMethod")?,
        background_audio_url: e.string("backgroundAudioUrl"),
        background_audio_loop: e.int("backgroundAudioLoop", 1, 0, 100)?,
        callback_url: e.string("callbackUrl"),
        container_sid: e.string("containerSid"),
        direction: e.choice("direction", "any", &["any", "in", "out"])?,
        file_format: e.choice("fileFormat", "wav", &["wav", "mp3", "ul"])?,
        file_mode: e.choice("fileMode", "append", &["append", "overwrite"])?,
        file_sid: e.string("fileSid"),
        finish_on_key,
        max_length_secs: e.opt_int("maxLength", 1, 86_400)?,
        play_beep: e.bool("playBeep", false)?,
        record_session: e.bool("recordSession", false)?,
        recording_status_callback: e
            .action("recordingStatusCallback", "recordingStatusCallbackMethod")?,
        recording_status_callback_event: e
            .string("recordingStatusCallbackEvent")
            .unwrap_or_else(|| "completed,failed".into()),
        timeout_secs: e.int("timeout", 5, 1, 3600)?,
        trim: e.choice("trim", "trim-silence", &["trim-silence", "do-not-trim"])?,
        transcribe: e.bool("transcribe", false)?,
        keys: RecordKeys {
            integer_key_1: e.opt_i64("integerKey1")?,
            integer_key_2: e.opt_i64("integerKey2")?,
            string_key_1: e.string("stringKey1"),
            string_key_2: e.string("stringKey2"),
            lifecycle_action: e
                .string("lifecycleAction")
                .unwrap_or_else(|| "delete".into()),
            lifecycle_ttl_secs: e.opt_int("lifecycleTtl", 1, u32::MAX)?,
        },
    }))
}

fn amd(e: &Element, warnings: &mut Vec<String>) -> Result<Verb> {
    e.warn_unknown(
        &[
            "action",
            "method",
            "initialSilence",
            "greeting",
            "afterGreetingSilence",
            "totalAnalysisTime",
            "minimumWordLength",
            "betweenWordSilence",
            "maximumNumberOfWords",
            "maximumWordLength",
            "silenceThreshold",
        ],
        warnings,
    );
    no_children(e)?;
    // The reference gives no defaults; these are the classic answering-machine-detection ones.
    let ms = |a: &str, d: u32| e.int(a, d, 0, 600_000);
    Ok(Verb::Amd(Amd {
        action: e.action("action", "method")?,
        initial_silence_ms: ms("initialSilence", 2500)?,
        greeting_ms: ms("greeting", 1500)?,
        after_greeting_silence_ms: ms("afterGreetingSilence", 800)?,
        total_analysis_time_ms: ms("totalAnalysisTime", 5000)?,
        minimum_word_length_ms: ms("minimumWordLength", 100)?,
        between_word_silence_ms: ms("betweenWordSilence", 50)?,
        maximum_number_of_words: e.int("maximumNumberOfWords", 3, 1, 1000)?,
        maximum_word_length_ms: ms("maximumWordLength", 5000)?,
        silence_threshold: e.int("silenceThreshold", 256, 0, 32767)?,
    }))
}
