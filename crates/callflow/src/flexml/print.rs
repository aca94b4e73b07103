//! The instruction model back into FlexML: the inverse of [`super::parse`].
//!
//! Every verb is written with all of its attributes, defaults included, so the output means the
//! same thing whatever the reader's defaults are. Optional values that are absent (`None`) are
//! left out, which is how the parser reads "not set". Text and attribute values are escaped,
//! including the white space that XML would otherwise normalise away (`\r` in text; tab,
//! newline and carriage return in attribute values).
//!
//! `parse(&print(doc))` gives back `doc` (without its warnings, which are not printed) for
//! every document the parser can produce. Values the parser can never produce have no
//! FlexML spelling and are not preserved: text with surrounding white space (the parser trims
//! it), characters that XML 1.0 forbids (C0 controls other than tab, newline and carriage
//! return; U+FFFE, U+FFFF), a `Dial` without numbers, empty strings where the parser turns an
//! empty attribute into `None` or the default, and numbers outside the parser's ranges.

use crate::model::*;
use std::fmt::Write;

/// The document as FlexML, one verb a line.
pub fn print(doc: &Document) -> String {
    let mut out = String::from("<Response>\n");
    for verb in &doc.verbs {
        verb_xml(&mut out, verb, 1);
    }
    out.push_str("</Response>\n");
    out
}

/// Escapes text content or an attribute value (always written between double quotes).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // End-of-line handling turns a raw CR (or CR LF) into LF everywhere.
            '\r' => out.push_str("&#13;"),
            // Attribute-value normalisation turns raw tab and newline into spaces.
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// One element being written: name and attributes, then content or `/>`.
struct Tag<'a> {
    out: &'a mut String,
    depth: usize,
    name: &'static str,
}

impl<'a> Tag<'a> {
    fn open(out: &'a mut String, depth: usize, name: &'static str) -> Self {
        indent(out, depth);
        out.push('<');
        out.push_str(name);
        Tag { out, depth, name }
    }

    fn attr(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        let value = value.to_string();
        let _ = write!(self.out, " {name}=\"{}\"", escape(&value, true));
        self
    }

    fn opt(&mut self, name: &str, value: Option<impl std::fmt::Display>) -> &mut Self {
        if let Some(v) = value {
            self.attr(name, v);
        }
        self
    }

    fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.attr(name, if value { "true" } else { "false" })
    }

    fn action(&mut self, url: &str, method: &str, action: &Option<Action>) -> &mut Self {
        if let Some(a) = action {
            self.attr(url, &a.url).attr(method, a.method.as_str());
        }
        self
    }

    /// Ends the element with text content (or nothing).
    fn text(self, text: &str) {
        let _ = writeln!(self.out, ">{}</{}>", escape(text, false), self.name);
    }

    fn empty(self) {
        self.out.push_str("/>\n");
    }

    /// Ends the element with child elements written by `children`.
    fn children(self, children: impl FnOnce(&mut String, usize)) {
        self.out.push_str(">\n");
        children(self.out, self.depth + 1);
        indent(self.out, self.depth);
        let _ = writeln!(self.out, "</{}>", self.name);
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn verb_xml(out: &mut String, verb: &Verb, depth: usize) {
    match verb {
        Verb::Say(s) => say(out, s, depth),
        Verb::Play(p) => play(out, p, depth),
        Verb::Pause(p) => pause(out, p, depth),
        Verb::Gather(g) => {
            let mut t = Tag::open(out, depth, "Gather");
            t.action("action", "method", &g.action)
                // `_` disables the finish keys; an empty value would too, but `_` is the
                // reference's spelling.
                .attr(
                    "finishOnKey",
                    if g.finish_on_key.is_empty() {
                        "_"
                    } else {
                        &g.finish_on_key
                    },
                )
                .opt("numDigits", g.num_digits)
                .attr("timeout", g.timeout_secs)
                .attr("startDigits", &g.start_digits)
                .attr("validDigits", &g.valid_digits);
            prompts(t, &g.prompts);
        }
        Verb::Dial(d) => dial(out, d, depth),
        Verb::Dtmf { digits } => Tag::open(out, depth, "Dtmf").text(digits),
        Verb::Record(r) => record(out, r, depth),
        Verb::Amd(a) => {
            let mut t = Tag::open(out, depth, "Amd");
            t.action("action", "method", &a.action)
                .attr("initialSilence", a.initial_silence_ms)
                .attr("greeting", a.greeting_ms)
                .attr("afterGreetingSilence", a.after_greeting_silence_ms)
                .attr("totalAnalysisTime", a.total_analysis_time_ms)
                .attr("minimumWordLength", a.minimum_word_length_ms)
                .attr("betweenWordSilence", a.between_word_silence_ms)
                .attr("maximumNumberOfWords", a.maximum_number_of_words)
                .attr("maximumWordLength", a.maximum_word_length_ms)
                .attr("silenceThreshold", a.silence_threshold);
            t.empty();
        }
        Verb::PreAnswer { prompts: p } => prompts(Tag::open(out, depth, "PreAnswer"), p),
        Verb::Hangup => Tag::open(out, depth, "Hangup").empty(),
        Verb::Reject { reason, message } => {
            let mut t = Tag::open(out, depth, "Reject");
            t.attr("reason", reason);
            t.text(message.as_deref().unwrap_or(""));
        }
        Verb::Redirect { url, method } => {
            let mut t = Tag::open(out, depth, "Redirect");
            t.attr("method", method.as_str());
            t.text(url);
        }
        Verb::Store { name, value } => {
            let mut t = Tag::open(out, depth, "Store");
            t.attr("name", name);
            t.text(value);
        }
        Verb::Override {
            status_callback,
            sip_username,
            sip_password,
        } => {
            let mut t = Tag::open(out, depth, "Override");
            t.action("statusCallbackUrl", "statusCallbackMethod", status_callback)
                .opt("sipUsername", sip_username.as_ref())
                .opt("sipPassword", sip_password.as_ref());
            t.empty();
        }
        Verb::Sms(s) => {
            let mut t = Tag::open(out, depth, "Sms");
            t.opt("to", s.to.as_ref())
                .opt("from", s.from.as_ref())
                .action("action", "method", &s.action);
            t.text(&s.body);
        }
    }
}

/// Say, Play and Pause inside Gather or PreAnswer.
fn prompts(t: Tag, prompts: &[Prompt]) {
    if prompts.is_empty() {
        return t.empty();
    }
    t.children(|out, depth| {
        for p in prompts {
            match p {
                Prompt::Say(s) => say(out, s, depth),
                Prompt::Play(p) => play(out, p, depth),
                Prompt::Pause(p) => pause(out, p, depth),
            }
        }
    });
}

fn say(out: &mut String, s: &Say, depth: usize) {
    let mut t = Tag::open(out, depth, "Say");
    t.attr("voice", &s.voice)
        .attr("loop", s.loops)
        .attr("loopPause", s.loop_pause_secs);
    t.text(&s.text);
}

fn play(out: &mut String, p: &Play, depth: usize) {
    let mut t = Tag::open(out, depth, "Play");
    if let PlaySource::Digits(digits) = &p.source {
        t.attr("digits", digits);
    }
    t.attr("loop", p.loops)
        .attr("loopPause", p.loop_pause_secs)
        .action("action", "method", &p.action)
        .action("errorAction", "errorMethod", &p.error_action)
        .bool("background", p.background)
        .attr("skip", p.skip_secs)
        .attr("timeLimit", p.time_limit_secs)
        .bool("streaming", p.streaming)
        .attr("controlSkip", p.control_skip_secs)
        .attr("minorControlSkip", p.minor_control_skip_secs)
        .bool("strictForwardControl", p.strict_forward_control)
        .attr("stopOnKey", &p.keys.stop)
        .attr("forwardOnKey", &p.keys.forward)
        .attr("rewindOnKey", &p.keys.rewind)
        .attr("minorForwardOnKey", &p.keys.minor_forward)
        .attr("minorRewindOnKey", &p.keys.minor_rewind)
        .attr("pauseOnKey", &p.keys.pause)
        .attr("restartOnKey", &p.keys.restart)
        .attr("informationOnKey", &p.keys.information)
        .opt("informationAudioUrl", p.information_audio_url.as_ref())
        .opt("pauseAudioUrl", p.pause_audio_url.as_ref())
        .attr("preBuffer", p.pre_buffer_secs);
    for (secs, url, wait) in [
        ("waitInitial", "waitInitialUrl", &p.wait_initial),
        ("waitRepeat", "waitRepeatUrl", &p.wait_repeat),
    ] {
        if let Some((s, u)) = wait {
            t.attr(secs, s).attr(url, u);
        }
    }
    match &p.source {
        PlaySource::Url(url) => t.text(url),
        PlaySource::File(sid) => t.children(|out, depth| {
            Tag::open(out, depth, "File").text(sid);
        }),
        PlaySource::Digits(_) => t.empty(),
    }
}

fn pause(out: &mut String, p: &Pause, depth: usize) {
    let mut t = Tag::open(out, depth, "Pause");
    t.attr("length", p.length_secs)
        .bool("silence", p.silence)
        .attr("minSilence", p.min_silence_ms)
        .bool("noise", p.noise)
        .attr("minNoise", p.min_noise_ms);
    t.empty();
}

fn dial(out: &mut String, d: &Dial, depth: usize) {
    let mut t = Tag::open(out, depth, "Dial");
    t.action("action", "method", &d.action)
        .opt("callerId", d.caller_id.as_ref())
        .opt("callerName", d.caller_name.as_ref())
        .opt("confirmKey", d.confirm_key)
        .opt("confirmSound", d.confirm_sound.as_ref())
        .opt("containerSid", d.container_sid.as_ref())
        .bool("hangupOnStar", d.hangup_on_star)
        .attr("record", &d.record)
        .attr("recordDirection", &d.record_direction)
        .action(
            "recordingStatusCallback",
            "recordingStatusCallbackMethod",
            &d.recording_status_callback,
        )
        .attr(
            "recordingStatusCallbackEvent",
            &d.recording_status_callback_event,
        )
        .attr("ringing", &d.ringing)
        .attr("timeLimit", d.time_limit_secs)
        .attr("timeout", d.timeout_secs)
        .attr("trim", &d.trim);
    // Always the Number noun: it can carry sendDigits and headers, and several of them ring
    // at once. (A Dial without numbers has no spelling; the parser refuses `<Dial/>`.)
    t.children(|out, depth| {
        for n in &d.numbers {
            let mut target = n.target.clone();
            for (i, (name, value)) in n.headers.iter().enumerate() {
                target.push(if i == 0 { '?' } else { '&' });
                target.push_str(name);
                target.push('=');
                target.push_str(value);
            }
            let mut t = Tag::open(out, depth, "Number");
            t.attr("sendDigits", &n.send_digits);
            t.text(&target);
        }
    });
}

fn record(out: &mut String, r: &Record, depth: usize) {
    let mut t = Tag::open(out, depth, "Record");
    t.action("action", "method", &r.action)
        .action("errorAction", "errorMethod", &r.error_action)
        .opt("backgroundAudioUrl", r.background_audio_url.as_ref())
        .attr("backgroundAudioLoop", r.background_audio_loop)
        .opt("callbackUrl", r.callback_url.as_ref())
        .opt("containerSid", r.container_sid.as_ref())
        .attr("direction", &r.direction)
        .attr("fileFormat", &r.file_format)
        .attr("fileMode", &r.file_mode)
        .opt("fileSid", r.file_sid.as_ref())
        // `None` (any key ends the recording) is the absence of the attribute; no key at all
        // is spelled `none`.
        .opt(
            "finishOnKey",
            r.finish_on_key
                .as_deref()
                .map(|k| if k.is_empty() { "none" } else { k }),
        )
        .opt("maxLength", r.max_length_secs)
        .bool("playBeep", r.play_beep)
        .bool("recordSession", r.record_session)
        .action(
            "recordingStatusCallback",
            "recordingStatusCallbackMethod",
            &r.recording_status_callback,
        )
        .attr(
            "recordingStatusCallbackEvent",
            &r.recording_status_callback_event,
        )
        .attr("timeout", r.timeout_secs)
        .attr("trim", &r.trim)
        .bool("transcribe", r.transcribe)
        .opt("integerKey1", r.keys.integer_key_1)
        .opt("integerKey2", r.keys.integer_key_2)
        .opt("stringKey1", r.keys.string_key_1.as_ref())
        .opt("stringKey2", r.keys.string_key_2.as_ref())
        .attr("lifecycleAction", &r.keys.lifecycle_action)
        .opt("lifecycleTtl", r.keys.lifecycle_ttl_secs);
    t.empty();
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    /// Every example document of the FlexML reference (verbs section), verbatim. One is left
    /// out: the Gather example with `<Play>http://<file>.wav</Play>`, whose `<file>` is a
    /// placeholder that makes it ill-formed XML.
    const REFERENCE_EXAMPLES: &[&str] = &[
        r#"<Response>
  <Gather action="http://www.example.com/path/to/handler" timeout="5">
    <Say>Please enter the extension of the party you would like to reach. </Say>
  </Gather>
  <Say>You did not enter an extension. </Say>
  <Hangup />
</Response>"#,
        r#"<Response>
  <Amd action="http://www.example.com/path/to/handler"
  method="POST"
  initialSilence="5000"
  greeting="2000"
  afterGreetingSilence="500"
  totalAnalysisTime="10000" />
</Response>"#,
        r#"<Response>
  <Dial timeLimit="15" hangupOnStar="true">15162065340</Dial>
</Response>"#,
        r#"<Response>
  <Dial>
    <Number sendDigits=",,,,1928">15162065340</Number>
  </Dial>
</Response>"#,
        r#"<Response>
  <Dial>
    <Number>15162065340?X-CustomHeader1=ABC&amp;X-CustomHeader2=DEF</Number>
  </Dial>
</Response>"#,
        r#"<Response>
  <Dial>
    <Number>12345645585</Number>
    <Number>96846465465</Number>
    <Number>98133217461</Number>
  </Dial>
</Response>"#,
        r#"<Response>
  <Dial timeLimit="15" hangupOnStar="true">
    <Number>15162065340</Number>
  </Dial>
  <Dtmf>,,,,12</Dtmf>
</Response>"#,
        r#"<Response>
  <Gather numDigits="2">
    <Say>Please enter the extension of the party you'd like to be connected to. </Say>
  </Gather>
</Response>"#,
        r#"<Response>
  <Gather timeout="10" numDigits="2" method="get" action="http://www.example.com/path/to/handler">
    <Say>Please enter two digits</Say>
  </Gather>
</Response>"#,
        r##"<Response>
  <Gather startDigits="*" validDigits="0123456789" numDigits="5" finishOnKey="#" timeout="10" action="/pin">
    <Play>intro.mp3</Play>
  </Gather>
  <Redirect>/start</Redirect>
</Response>"##,
        r#"<Response>
  <Hangup/>
</Response>"#,
        r#"<Response>
  <Override statusCallbackUrl="http://www.example.com/path/to/handler" statusCallbackMethod="GET" />
  <Play streaming="true" timeLimit="30">
    http://www.example.com/path/to/media.mp3
  </Play>
</Response>"#,
        r#"<Response>
  <Override statusCallbackUrl="http://www.example.com/path/to/handler" statusCallbackMethod="GET"  sipUsername="_USERNAME_" sipPassword="_PASSWORD_" />
  <Play streaming="true" timeLimit="30">
    http://www.example.com/path/to/media.mp3
  </Play>
</Response>"#,
        r#"<Response>
  <Say>Welcome</Say>
  <Pause length="15"/>
  <Say>Thank you for your time.</Say>
</Response>"#,
        r#"<Response>
  <Say>Welcome</Say>
  <Say>Please announce yourself</Say>
  <Pause noise="true" minNoise="2000" silence="true" minSilence="2500" length="15" />
</Response>"#,
        r#"<Response>
  <Play timeLimit="30">
    http://www.example.com/path/to/media.mp3
  </Play>
</Response>"#,
        r#"<Response>
  <Play timeLimit="30">
    <File>d620ec24-acd8-4193-9249-b89f46ee3654</File>
  </Play>
</Response>"#,
        r#"<Response>
  <Play>
    <File>d620ec24-acd8-4193-9249-b89f46ee3654</File>
  </Play>
</Response>"#,
        r#"<Response>
  <PreAnswer>
    <Say>Sorry, we cannot answer your call right now. Please try again later.</Say>
    <Pause length="4"></Pause>
    <Play loop="3">https://storage.carrierx.com/f/5fac56c8-c9fa-4d0e-bf88-f114e0d0cfab.mp3</Play>
  </PreAnswer>
  <Reject reason="busy"></Reject>
</Response>"#,
        r#"<Response>
  <Record containerSid="ea55039a-3ee4-48cd-a1ff-dfb7751f1cec" recordSession="true"></Record>
  <Say>Thank you for calling. </Say>
</Response>"#,
        r#"<Response>
  <Record recordSession="true" awsAccessKey="_AWS_ACCESS_KEY_" awsBucketName="_AWS_BUCKET_NAME_" awsSecretKey="_AWS_SECRET_ACCESS_KEY_"></Record>
  <Say>Thank you for calling. </Say>
</Response>"#,
        r#"<Response>
  <Record recordSession="true" gcpAccessToken="_GCP_ACCESS_TOKEN_" gcpBucketName="_GCP_BUCKET_NAME_" gcpProject="_GCP_PROJECT_"></Record>
  <Say>Thank you for calling. </Say>
</Response>"#,
        r#"<Response>
  <Record recordSession="true" azureAccountKey="_AZURE_ACCOUNT_KEY_" azureAccountName="_AZURE_ACCOUNT_NAME_" azureContainerName="_AZURE_CONTAINER_NAME_"></Record>
  <Say>Thank you for calling. </Say>
</Response>"#,
        r#"<Response>
  <Redirect method="GET">http://www.example.com/path/to/handler</Redirect>
  <Say>Thank you</Say>
</Response>"#,
        r#"<Response>
  <Reject reason="busy"></Reject>
</Response>"#,
        r#"<Response>
  <Reject reason="intermediary-rejected">My reason for rejecting the call</Reject>
</Response>"#,
        r#"<Response>
  <Say voice="woman" loop="2" loopPause="5">Thank you for calling customer service</Say>
</Response>"#,
        r#"<Response>
  <Sms to="15162065317">Have a great day!</Sms>
</Response>"#,
        r#"<Response>
  <Store name="key1">some_data</Store>
  <Store name="key2">some more data</Store>
  <Redirect>http://www.example.com/path/to/handler</Redirect>
</Response>"#,
    ];

    #[test]
    fn reference_examples_survive_print_and_parse() {
        for example in REFERENCE_EXAMPLES {
            let first = parse(example).unwrap_or_else(|e| panic!("{example}\n{e}"));
            assert!(!first.verbs.is_empty(), "{example}");
            let printed = print(&first);
            let second = parse(&printed).unwrap_or_else(|e| panic!("{printed}\n{e}"));
            assert_eq!(second.verbs, first.verbs, "{example}\n{printed}");
            // The storage examples warn (external storage is not supported); a printed
            // document never does.
            assert_eq!(second.warnings, Vec::<String>::new(), "{printed}");
            assert_eq!(print(&second), printed);
        }
    }

    #[test]
    fn prints_every_attribute_and_escapes() {
        let doc = parse(
            r#"<Response><Gather finishOnKey="_"><Say>a &lt;b&gt; &amp; "c" 'd'</Say></Gather>
<Record finishOnKey="none"/><Play digits="1,#"/>
<Dial><Number sendDigits="1">sip:bob@example.com?X-A=1&amp;X-B=</Number></Dial></Response>"#,
        )
        .unwrap();
        let printed = print(&doc);
        assert_eq!(
            printed,
            r##"<Response>
  <Gather finishOnKey="_" timeout="5" startDigits="" validDigits="1234567890#*abcdABCD">
    <Say voice="man" loop="1" loopPause="0">a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</Say>
  </Gather>
  <Record backgroundAudioLoop="1" direction="any" fileFormat="wav" fileMode="append" finishOnKey="none" playBeep="false" recordSession="false" recordingStatusCallbackEvent="completed,failed" timeout="5" trim="trim-silence" transcribe="false" lifecycleAction="delete"/>
  <Play digits="1,#" loop="1" loopPause="0" background="false" skip="0" timeLimit="0" streaming="false" controlSkip="60" minorControlSkip="60" strictForwardControl="false" stopOnKey="" forwardOnKey="" rewindOnKey="" minorForwardOnKey="" minorRewindOnKey="" pauseOnKey="" restartOnKey="" informationOnKey="" preBuffer="0"/>
  <Dial hangupOnStar="false" record="do-not-record" recordDirection="any" recordingStatusCallbackEvent="completed,failed" ringing="true" timeLimit="0" timeout="30" trim="do-not-trim">
    <Number sendDigits="1">sip:bob@example.com?X-A=1&amp;X-B=</Number>
  </Dial>
</Response>
"##
        );
        assert_eq!(parse(&printed).unwrap(), doc);
    }

    #[test]
    fn keeps_white_space_that_xml_would_normalise() {
        let doc = Document {
            verbs: vec![Verb::Sms(Sms {
                to: Some("a\tb\nc\r\nd\re".into()),
                from: None,
                body: "x\r\ny\rz\tw\n".trim().into(),
                action: None,
            })],
            warnings: vec!["not printed".into()],
        };
        let printed = print(&doc);
        assert!(!printed.contains("not printed"));
        assert_eq!(
            parse(&printed).unwrap(),
            Document {
                warnings: vec![],
                ..doc
            }
        );
        assert_eq!(
            print(&Document {
                verbs: vec![],
                warnings: vec![]
            }),
            "<Response>\n</Response>\n"
        );
    }
}
