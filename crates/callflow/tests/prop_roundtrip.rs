//! Issue 4: `parse(print(doc)) == doc` for every document the FlexML parser can produce.
//!
//! The generators produce every `Verb` with values inside the parser's ranges and lists. Some
//! model values have no FlexML spelling at all; the generators leave them out, each for the
//! reason given where it happens:
//!
//! * Text (verb content, noun content, attribute values) never has leading or trailing white
//!   space in Rust's sense (`str::trim`): the parser trims it.
//! * Text holds only characters of XML 1.0's `Char` production: the other C0 controls,
//!   U+FFFE and U+FFFF cannot appear in a document, not even as character references.
//! * Attributes read as `Option<String>` (URLs, `callerId`, `sipUsername`, …) and the string
//!   attributes with a default (`voice`, `recordingStatusCallbackEvent`, `lifecycleAction`) are
//!   never empty: the parser reads an empty attribute as absent.
//! * A `Dial` always has at least one number: `<Dial/>` is refused ("needs a number to dial").
//! * A `DialNumber` target is digits without a leading `+` (the parser strips it) or a
//!   `sip:`/`sips:` URI without `?` (the first `?` starts the X- headers). Header names are
//!   `X-`/`x-` plus at least one token character, values are tokens (maybe empty); neither
//!   holds `&` (it separates headers) and names hold no `=` (it ends the name).
//! * `PlaySource::Digits` and `PlaySource::File` are never empty: `digits=""` reads as no
//!   digits and an empty `<File>` plays nothing; both are refused. `Url` is non-empty text.
//! * Play's `waitInitial`/`waitRepeat` seconds are 1..=3600 and come with a non-empty URL (the
//!   parser keeps the pair only when both attributes are there).
//! * Gather's `finish_on_key` never holds `_` (the parser turns any `_` into the empty set).
//! * `Redirect` URLs and `Sms` bodies are non-empty; `Reject` messages are `Some` only when
//!   non-empty (empty content reads as `None`).
//! * `Record::keys.lifecycle_ttl_secs` is at least 1; `max_length_secs` is 1..=86 400.
//! * Warnings are not printed: the expected document is the generated one without them.
//!
//! A second property goes the other way round: verbs written as raw XML in odd but valid
//! spellings (padding, case, leading zeros, CDATA, comments, character references, unknown
//! attributes) and now and then invalid ones; whatever the parser accepts must print back to
//! the same verbs. It found that `<Dial>+</Dial>` was accepted with an empty target.

use callflow::flexml;
use callflow::model::*;
use proptest::prelude::*;
use proptest::string::string_regex;

const KEYS: &str = "0123456789#*";
/// Dtmf content, Play `digits` and Number `sendDigits`: keys and `,` (a 0.5 s pause).
const DTMF: &str = "0123456789#*,";
const VALID_DIGITS: &str = "1234567890#*abcdABCD";
/// The parser's list (`verbs.rs`), which is private to it.
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

// ---------------------------------------------------------------------------------------------
// Text.

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Characters for text: plenty of XML-special ones, white space that XML normalises or that
/// `trim` removes, non-ASCII, and any character XML allows.
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::char::range(' ', '~'),
        3 => prop::sample::select(&['&', '<', '>', '"', '\'', ';', '#', ']', '=', '?', '/'][..]),
        2 => prop::sample::select(
            &[' ', '\t', '\n', '\r', '\u{a0}', '\u{85}', '\u{2028}', '\u{3000}', '\u{feff}'][..]
        ),
        2 => prop::sample::select(
            &['é', 'ß', 'Ω', '日', '本', '😀', '\u{7f}', '\u{80}', '\u{e000}', '\u{fffd}', '\u{10ffff}'][..]
        ),
        2 => any::<char>().prop_filter("XML 1.0 Char", |c| is_xml_char(*c)),
    ]
}

/// Trimmed text, possibly empty.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(text_char(), 0..=max)
        .prop_map(|cs| cs.into_iter().collect::<String>().trim().to_string())
}

/// Trimmed, non-empty text.
fn some_text(max: usize) -> impl Strategy<Value = String> {
    text(max).prop_filter("non-empty after trimming", |t| !t.is_empty())
}

/// A non-empty string attribute: an identifier-like value or any text.
fn attr_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.+-]{1,16}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        some_text(24),
    ]
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        "https?://[a-z]{1,10}\\.example\\.com(/[A-Za-z0-9_.~%-]{0,12}){0,3}(\\?[a-z]{1,5}=[A-Za-z0-9<>\"']{0,5}(&[a-z]{1,5}=[a-z0-9]{0,5}){0,2})?",
        "/?[a-z0-9._-]{1,12}(/[a-z0-9._-]{1,12}){0,2}",
        some_text(32),
    ]
}

/// A set of keys drawn from `alphabet` (repeats and the empty set included).
fn keys(alphabet: &'static str, max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    prop::collection::vec(prop::sample::select(chars), 0..=max)
        .prop_map(|cs| cs.into_iter().collect())
}

fn choice(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(str::to_string)
}

fn method() -> impl Strategy<Value = HttpMethod> {
    prop_oneof![Just(HttpMethod::Get), Just(HttpMethod::Post)]
}

fn action() -> impl Strategy<Value = Option<Action>> {
    prop::option::of((url(), method()).prop_map(|(url, method)| Action { url, method }))
}

/// `completed,failed` and its relatives, or any non-empty text (the parser does not check it).
fn status_events() -> impl Strategy<Value = String> {
    prop_oneof![
        choice(&[
            "completed",
            "failed",
            "absent",
            "completed,failed",
            "completed,failed,absent"
        ]),
        attr_text(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Verbs.

fn say() -> impl Strategy<Value = Say> {
    (
        text(48),
        prop_oneof![
            choice(&["man", "woman", "Polly.Joanna", "Polly.Kimberly"]),
            attr_text()
        ],
        0..=100u32,
        0..=300u32,
    )
        .prop_map(|(text, voice, loops, loop_pause_secs)| Say {
            text,
            voice,
            loops,
            loop_pause_secs,
        })
}

fn play_keys() -> impl Strategy<Value = PlayKeys> {
    let k = || keys(KEYS, 3);
    (k(), k(), k(), k(), k(), k(), k(), k()).prop_map(
        |(stop, forward, rewind, minor_forward, minor_rewind, pause, restart, information)| {
            PlayKeys {
                stop,
                forward,
                rewind,
                minor_forward,
                minor_rewind,
                pause,
                restart,
                information,
            }
        },
    )
}

fn play() -> impl Strategy<Value = Play> {
    let source = prop_oneof![
        url().prop_map(PlaySource::Url),
        attr_text().prop_map(PlaySource::File),
        keys(DTMF, 12)
            .prop_filter("digits=\"\" plays nothing", |d| !d.is_empty())
            .prop_map(PlaySource::Digits),
    ];
    let wait = || prop::option::of((1..=3600u32, url()));
    (
        (
            source,
            0..=100u32,
            0..=300u32,
            action(),
            action(),
            any::<bool>(),
            0..=86_400u32,
            0..=86_400u32,
            any::<bool>(),
            1..=86_400u32,
            1..=86_400u32,
            any::<bool>(),
        ),
        (
            play_keys(),
            prop::option::of(url()),
            prop::option::of(url()),
            0..=3600u32,
            wait(),
            wait(),
        ),
    )
        .prop_map(
            |(
                (
                    source,
                    loops,
                    loop_pause_secs,
                    action,
                    error_action,
                    background,
                    skip_secs,
                    time_limit_secs,
                    streaming,
                    control_skip_secs,
                    minor_control_skip_secs,
                    strict_forward_control,
                ),
                (
                    keys,
                    information_audio_url,
                    pause_audio_url,
                    pre_buffer_secs,
                    wait_initial,
                    wait_repeat,
                ),
            )| Play {
                source,
                loops,
                loop_pause_secs,
                action,
                error_action,
                background,
                skip_secs,
                time_limit_secs,
                streaming,
                control_skip_secs,
                minor_control_skip_secs,
                strict_forward_control,
                keys,
                information_audio_url,
                pause_audio_url,
                pre_buffer_secs,
                wait_initial,
                wait_repeat,
            },
        )
}

fn pause() -> impl Strategy<Value = Pause> {
    (
        1..=86_400u32,
        any::<bool>(),
        1..=3_600_000u32,
        any::<bool>(),
        1..=3_600_000u32,
    )
        .prop_map(
            |(length_secs, silence, min_silence_ms, noise, min_noise_ms)| Pause {
                length_secs,
                silence,
                min_silence_ms,
                noise,
                min_noise_ms,
            },
        )
}

fn prompts() -> impl Strategy<Value = Vec<Prompt>> {
    prop::collection::vec(
        prop_oneof![
            say().prop_map(Prompt::Say),
            play().prop_map(|p| Prompt::Play(Box::new(p))),
            pause().prop_map(Prompt::Pause),
        ],
        0..4,
    )
}

fn gather() -> impl Strategy<Value = Gather> {
    (
        action(),
        // Empty: finish keys disabled (`_`).
        keys(KEYS, 3),
        prop::option::of(1..=128u32),
        1..=3600u32,
        keys(KEYS, 3),
        keys(VALID_DIGITS, 20),
        prompts(),
    )
        .prop_map(
            |(
                action,
                finish_on_key,
                num_digits,
                timeout_secs,
                start_digits,
                valid_digits,
                prompts,
            )| {
                Gather {
                    action,
                    finish_on_key,
                    num_digits,
                    timeout_secs,
                    start_digits,
                    valid_digits,
                    prompts,
                }
            },
        )
}

/// HTTP token characters but `&`, which separates headers.
const TOKEN: &str = "[A-Za-z0-9!#$%'*+.^_`|~-]";

fn dial_number() -> impl Strategy<Value = DialNumber> {
    (
        prop_oneof![
            "[0-9]{1,15}",
            "sips?:[a-z0-9._'&-]{1,10}@[a-z0-9.-]{1,12}(:[0-9]{1,5})?(;transport=(udp|tcp|tls))?",
        ],
        keys(DTMF, 8),
        prop::collection::vec(
            (
                string_regex(&format!("[Xx]-{TOKEN}{{1,10}}")).unwrap(),
                string_regex(&format!("{TOKEN}{{0,10}}")).unwrap(),
            ),
            0..3,
        ),
    )
        .prop_map(|(target, send_digits, headers)| DialNumber {
            target,
            send_digits,
            headers,
        })
}

fn dial() -> impl Strategy<Value = Dial> {
    (
        (
            prop::collection::vec(dial_number(), 1..4),
            action(),
            prop::option::of(prop_oneof!["[0-9]{11}", attr_text()]),
            prop::option::of(attr_text()),
            prop::option::of(prop::sample::select(KEYS.chars().collect::<Vec<_>>())),
            prop::option::of(url()),
            prop::option::of(attr_text()),
            any::<bool>(),
        ),
        (
            choice(&["do-not-record", "record-from-answer", "record-from-ringing"]),
            choice(&["any", "in", "out"]),
            action(),
            status_events(),
            choice(&["true", "false", "music"]),
            0..=86_400u32,
            1..=600u32,
            choice(&["trim-silence", "do-not-trim"]),
        ),
    )
        .prop_map(
            |(
                (
                    numbers,
                    action,
                    caller_id,
                    caller_name,
                    confirm_key,
                    confirm_sound,
                    container_sid,
                    hangup_on_star,
                ),
                (
                    record,
                    record_direction,
                    recording_status_callback,
                    recording_status_callback_event,
                    ringing,
                    time_limit_secs,
                    timeout_secs,
                    trim,
                ),
            )| Dial {
                numbers,
                action,
                caller_id,
                caller_name,
                confirm_key,
                confirm_sound,
                container_sid,
                hangup_on_star,
                record,
                record_direction,
                recording_status_callback,
                recording_status_callback_event,
                ringing,
                time_limit_secs,
                timeout_secs,
                trim,
            },
        )
}

fn record_keys() -> impl Strategy<Value = RecordKeys> {
    (
        prop::option::of(any::<i64>()),
        prop::option::of(any::<i64>()),
        prop::option::of(attr_text()),
        prop::option::of(attr_text()),
        prop_oneof![choice(&["delete", "archive"]), attr_text()],
        prop::option::of(1..=u32::MAX),
    )
        .prop_map(
            |(
                integer_key_1,
                integer_key_2,
                string_key_1,
                string_key_2,
                lifecycle_action,
                lifecycle_ttl_secs,
            )| {
                RecordKeys {
                    integer_key_1,
                    integer_key_2,
                    string_key_1,
                    string_key_2,
                    lifecycle_action,
                    lifecycle_ttl_secs,
                }
            },
        )
}

fn record() -> impl Strategy<Value = Record> {
    (
        (
            action(),
            action(),
            prop::option::of(url()),
            0..=100u32,
            prop::option::of(url()),
            prop::option::of(attr_text()),
            choice(&["any", "in", "out"]),
            choice(&["wav", "mp3", "ul"]),
            choice(&["append", "overwrite"]),
            prop::option::of(attr_text()),
        ),
        (
            // None: any key; Some(""): `none`; otherwise these keys.
            prop::option::of(keys(KEYS, 3)),
            prop::option::of(1..=86_400u32),
            any::<bool>(),
            any::<bool>(),
            action(),
            status_events(),
            1..=3600u32,
            choice(&["trim-silence", "do-not-trim"]),
            any::<bool>(),
            record_keys(),
        ),
    )
        .prop_map(
            |(
                (
                    action,
                    error_action,
                    background_audio_url,
                    background_audio_loop,
                    callback_url,
                    container_sid,
                    direction,
                    file_format,
                    file_mode,
                    file_sid,
                ),
                (
                    finish_on_key,
                    max_length_secs,
                    play_beep,
                    record_session,
                    recording_status_callback,
                    recording_status_callback_event,
                    timeout_secs,
                    trim,
                    transcribe,
                    keys,
                ),
            )| Record {
                action,
                error_action,
                background_audio_url,
                background_audio_loop,
                callback_url,
                container_sid,
                direction,
                file_format,
                file_mode,
                file_sid,
                finish_on_key,
                max_length_secs,
                play_beep,
                record_session,
                recording_status_callback,
                recording_status_callback_event,
                timeout_secs,
                trim,
                transcribe,
                keys,
            },
        )
}

fn amd() -> impl Strategy<Value = Amd> {
    let ms = || 0..=600_000u32;
    (
        action(),
        ms(),
        ms(),
        ms(),
        ms(),
        ms(),
        ms(),
        1..=1000u32,
        ms(),
        0..=32_767u32,
    )
        .prop_map(
            |(
                action,
                initial_silence_ms,
                greeting_ms,
                after_greeting_silence_ms,
                total_analysis_time_ms,
                minimum_word_length_ms,
                between_word_silence_ms,
                maximum_number_of_words,
                maximum_word_length_ms,
                silence_threshold,
            )| Amd {
                action,
                initial_silence_ms,
                greeting_ms,
                after_greeting_silence_ms,
                total_analysis_time_ms,
                minimum_word_length_ms,
                between_word_silence_ms,
                maximum_number_of_words,
                maximum_word_length_ms,
                silence_threshold,
            },
        )
}

fn sms() -> impl Strategy<Value = Sms> {
    let party = || prop::option::of(prop_oneof!["\\+?[0-9]{11}", attr_text()]);
    (party(), party(), some_text(80), action()).prop_map(|(to, from, body, action)| Sms {
        to,
        from,
        body,
        action,
    })
}

fn verb() -> impl Strategy<Value = Verb> {
    prop_oneof![
        say().prop_map(Verb::Say),
        play().prop_map(Verb::Play),
        pause().prop_map(Verb::Pause),
        gather().prop_map(Verb::Gather),
        dial().prop_map(Verb::Dial),
        keys(DTMF, 12).prop_map(|digits| Verb::Dtmf { digits }),
        record().prop_map(Verb::Record),
        amd().prop_map(Verb::Amd),
        prompts().prop_map(|prompts| Verb::PreAnswer { prompts }),
        Just(Verb::Hangup),
        (choice(REJECT_REASONS), prop::option::of(some_text(40)))
            .prop_map(|(reason, message)| Verb::Reject { reason, message }),
        (url(), method()).prop_map(|(url, method)| Verb::Redirect { url, method }),
        ("[A-Za-z0-9_-]{1,16}", text(40)).prop_map(|(name, value)| Verb::Store { name, value }),
        (
            action(),
            prop::option::of(attr_text()),
            prop::option::of(attr_text())
        )
            .prop_map(
                |(status_callback, sip_username, sip_password)| Verb::Override {
                    status_callback,
                    sip_username,
                    sip_password,
                }
            ),
        sms().prop_map(Verb::Sms),
    ]
}

fn document() -> impl Strategy<Value = Document> {
    (
        prop::collection::vec(verb(), 0..=12),
        // Warnings of an earlier parse, which printing drops.
        prop::collection::vec(".{0,30}", 0..3),
    )
        .prop_map(|(verbs, warnings)| Document { verbs, warnings })
}

// ---------------------------------------------------------------------------------------------
// Documents the parser accepts, whatever they look like: printing them must give them back.

/// Attribute names the parser knows, per verb, plus a few it does not.
fn attribute_name(verb: &'static str) -> impl Strategy<Value = &'static str> {
    let known: &'static [&'static str] = match verb {
        "Say" => &["voice", "loop", "loopPause", "language"],
        "Play" => &[
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
        "Pause" | "Wait" => &["length", "minNoise", "minSilence", "noise", "silence"],
        "Gather" => &[
            "action",
            "method",
            "finishOnKey",
            "numDigits",
            "timeout",
            "startDigits",
            "validDigits",
        ],
        "Dial" => &[
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
        "Record" => &[
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
            "trim",
            "awsBucketName",
        ],
        "Amd" => &[
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
        "Reject" => &["reason"],
        "Redirect" => &["method"],
        "Store" => &["name"],
        "Override" => &[
            "statusCallbackUrl",
            "statusCallbackMethod",
            "sipUsername",
            "sipPassword",
        ],
        "Sms" => &["to", "from", "action", "method"],
        "Number" => &["sendDigits"],
        _ => &[],
    };
    prop_oneof![
        20 => prop::sample::select(if known.is_empty() { &["colour"][..] } else { known }),
        1 => Just("colour"),
    ]
}

/// Raw attribute values (already escaped) in odd but valid spellings for the attribute's kind,
/// and now and then anything at all.
fn raw_value(attribute: &'static str) -> impl Strategy<Value = String> {
    let ints: &[&str] = &["1", "2", " 3 ", "010", "+4", "60", "100", "\t5\n"];
    let likely: &'static [&'static str] = match attribute {
        "background"
        | "streaming"
        | "strictForwardControl"
        | "noise"
        | "silence"
        | "hangupOnStar"
        | "playBeep"
        | "recordSession"
        | "transcribe" => &["true", "false", "TRUE", " False "],
        "method" | "errorMethod" | "statusCallbackMethod" | "recordingStatusCallbackMethod" => {
            &["GET", "POST", "get", " Post "]
        }
        "finishOnKey" => &["", "#", "*#", " 12 ", "_", "#_", "none", " none "],
        "confirmKey" => &["", "#", " 5 "],
        "digits" | "sendDigits" => &["", " ", ",,12#", " 1 ", "*"],
        "validDigits" => &["", "0123456789", "abcdABCD#*"],
        "stopOnKey" | "forwardOnKey" | "rewindOnKey" | "minorForwardOnKey" | "minorRewindOnKey"
        | "pauseOnKey" | "restartOnKey" | "informationOnKey" | "startDigits" => {
            &["", "#", "*3", " 0 "]
        }
        "record" => &[
            "do-not-record",
            "record-from-answer",
            " record-from-ringing ",
        ],
        "recordDirection" | "direction" => &["any", "in", " out "],
        "ringing" => &["true", "false", "music"],
        "trim" => &["trim-silence", "do-not-trim"],
        "fileFormat" => &["wav", "mp3", "ul"],
        "fileMode" => &["append", "overwrite"],
        "reason" => &["busy", " rejected ", "intermediary-rejected"],
        "integerKey1" | "integerKey2" => &["-5", "0", "+7", " 9223372036854775807 "],
        "name" => &["key1", " key_2 ", "K-3"],
        "loop"
        | "loopPause"
        | "length"
        | "minNoise"
        | "minSilence"
        | "numDigits"
        | "timeout"
        | "timeLimit"
        | "skip"
        | "controlSkip"
        | "minorControlSkip"
        | "preBuffer"
        | "waitInitial"
        | "waitRepeat"
        | "backgroundAudioLoop"
        | "maxLength"
        | "lifecycleTtl"
        | "initialSilence"
        | "greeting"
        | "afterGreetingSilence"
        | "totalAnalysisTime"
        | "minimumWordLength"
        | "betweenWordSilence"
        | "maximumNumberOfWords"
        | "maximumWordLength"
        | "silenceThreshold" => ints,
        _ => &[
            "",
            " ",
            "man",
            "Polly.Joanna",
            "http://x/y?a=1&amp;b=2",
            " /next ",
            "&lt;&amp;&gt;&quot;&apos;",
            "&#9;tab&#10;nl&#13;",
            "\t x \n y\r\n",
            "\u{a0}x\u{a0}",
            "+15162065340",
            "completed,failed",
        ],
    };
    prop_oneof![
        12 => prop::sample::select(likely).prop_map(str::to_string),
        1 => choice(&[
            "", " ", "0", "-1", "101", "86401", "4294967296", "x", "_", "none", "GET ",
        ]),
        1 => "[ -~]{0,8}".prop_map(|v| v.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")),
    ]
}

fn raw_attributes(verb: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(
        attribute_name(verb).prop_flat_map(|n| (Just(n), raw_value(n))),
        0..6,
    )
    .prop_map(|attrs| {
        let mut seen = Vec::new();
        attrs
            .into_iter()
            .filter(|(n, _)| {
                let fresh = !seen.contains(n);
                seen.push(*n);
                fresh
            })
            .map(|(n, v)| format!(" {n}=\"{v}\""))
            .collect()
    })
}

/// Raw content (already escaped) for the element `name`: mostly what it expects, in odd
/// spellings (padding, CDATA, comments, character references), now and then anything.
fn raw_text(name: &'static str) -> impl Strategy<Value = String> {
    let likely: &'static [&'static str] = match name {
        "Dtmf" => &["", " ,,12# ", "*", "<!-- c -->1"],
        "Number" | "Dial" => &[
            " 15162065340 ",
            "+15162065340",
            "+",
            "++1",
            "sip:",
            "sip:bob@x",
            "sips:a&amp;b@c",
            "1?X-A=1&amp;X-B",
            "1?X-A=b=c&amp;&amp;x-d= e ",
            "sips:a@b?x-c=",
            "1 ?X-A =1",
            "+?X-A=1",
            "<![CDATA[2?x-q=<&>]]>",
        ],
        "File" => &["d620ec24", " a b ", "", " "],
        _ => &[
            "",
            " ",
            "hello",
            "http://example.com/a.wav?a=1&amp;b=2",
            " a.wav ",
            "&#13;\r\n&#9;x&#10;",
            "<![CDATA[ <raw> & ]]>",
            "a<!-- c -->b",
            "&lt;&amp;&gt;",
            "\u{85}x\u{85}",
            "\u{feff}x",
            "caf\u{e9} \u{1F4DE}",
        ],
    };
    prop_oneof![
        8 => prop::sample::select(likely).prop_map(str::to_string),
        1 => "[ -~]{0,12}".prop_map(|v| v.replace('&', "&amp;").replace('<', "&lt;")),
    ]
}

fn raw_element(name: &'static str) -> impl Strategy<Value = String> {
    (raw_attributes(name), raw_text(name))
        .prop_map(move |(a, t)| format!("<{name}{a}>{t}</{name}>"))
}

/// Play with `<File>` nouns, and maybe text beside them.
fn raw_play_file() -> impl Strategy<Value = String> {
    let file =
        (raw_text("Play"), raw_text("File")).prop_map(|(t, f)| format!("{t}<File>{f}</File>"));
    (raw_attributes("Play"), prop::collection::vec(file, 1..3))
        .prop_map(|(a, files)| format!("<Play{a}>{}</Play>", files.concat()))
}

fn raw_verb() -> BoxedStrategy<String> {
    let simple = prop::sample::select(
        &[
            "Say", "Play", "Pause", "Wait", "Dtmf", "Record", "Amd", "Hangup", "Reject",
            "Redirect", "Store", "Override", "Sms",
        ][..],
    )
    .prop_flat_map(raw_element);
    let prompt = prop_oneof![
        raw_element("Say"),
        raw_element("Play"),
        raw_element("Pause"),
        raw_element("Wait"),
    ];
    let with_prompts = (
        prop::sample::select(&["Gather", "PreAnswer"][..]),
        prop::collection::vec(prop_oneof![prompt, raw_play_file()], 0..4),
        raw_text("Gather"),
    )
        .prop_flat_map(|(name, prompts, text)| {
            raw_attributes(name)
                .prop_map(move |a| format!("<{name}{a}>{text}{}</{name}>", prompts.concat()))
        });
    let dial = (
        raw_attributes("Dial"),
        prop::collection::vec(raw_element("Number"), 0..3),
        raw_text("Dial"),
    )
        .prop_map(|(a, numbers, text)| {
            if numbers.is_empty() {
                format!("<Dial{a}>{text}</Dial>")
            } else {
                format!("<Dial{a}>{}</Dial>", numbers.join("\n"))
            }
        });
    prop_oneof![4 => simple, 1 => raw_play_file(), 1 => with_prompts, 2 => dial].boxed()
}

fn wrap(verbs: &[String]) -> String {
    format!("<Response>\n{}\n</Response>", verbs.join("\n"))
}

/// Raw verbs that the parser accepts one by one (one refused verb would refuse a whole
/// document, and most documents would test nothing), as one document.
fn accepted_only(verbs: Vec<String>) -> (String, usize) {
    let accepted: Vec<String> = verbs
        .into_iter()
        .filter(|v| flexml::parse(&wrap(std::slice::from_ref(v))).is_ok())
        .collect();
    let n = accepted.len();
    (wrap(&accepted), n)
}

fn without_warnings(doc: &Document) -> Document {
    Document {
        verbs: doc.verbs.clone(),
        warnings: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_documents_parse_back(doc in document()) {
        let printed = flexml::print(&doc);
        let parsed = flexml::parse(&printed);
        if let Ok(parsed) = &parsed {
            prop_assert!(parsed.warnings.is_empty(), "{:?}\n{}", parsed.warnings, printed);
        }
        prop_assert_eq!(parsed, Ok(without_warnings(&doc)), "{}", printed);
    }

    #[test]
    fn accepted_documents_print_back(verbs in prop::collection::vec(raw_verb(), 0..8)) {
        let (xml, n) = accepted_only(verbs);
        let doc = flexml::parse(&xml).map_err(|e| TestCaseError::fail(format!("{xml}\n{e}")))?;
        prop_assert_eq!(doc.verbs.len(), n);
        let printed = flexml::print(&doc);
        prop_assert_eq!(flexml::parse(&printed), Ok(without_warnings(&doc)), "{}\n{}", xml, printed);
    }
}

/// The raw-verb generator mostly produces verbs the parser accepts (otherwise the property
/// above would test little), and some it refuses.
#[test]
fn raw_verbs_are_mostly_accepted() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = raw_verb();
    let verbs: Vec<String> = (0..1000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let (_, accepted) = accepted_only(verbs);
    assert!(
        (400..950).contains(&accepted),
        "{accepted} of 1000 accepted"
    );
}
