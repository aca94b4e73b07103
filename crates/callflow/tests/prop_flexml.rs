//! Property tests for the FlexML parser, which reads documents from customer web servers.

use callflow::flexml::{self, FlexmlError};
use callflow::model::{HttpMethod, Pause, Play, PlaySource, Say, Verb};
use proptest::prelude::*;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Documents assembled from fragments, well-formed or not.

/// An attribute value: numbers in and out of range, signs, spaces, entities, quotes, junk.
fn attr_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..200).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ 0-9+-]{0,12}",
        prop::sample::select(
            &[
                "",
                " 3 ",
                "4294967296",
                "99999999999999999999",
                "GET",
                "post",
                "&amp;",
                "&#x31;",
                "&#0;",
                "&bogus;",
                "<",
                "\"",
                "'",
                "\u{feff}",
            ][..]
        )
        .prop_map(str::to_string),
        "\\PC{0,12}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "Response", "Say", "Play", "Pause", "Wait", "Hangup", "Reject", "Redirect",
                "Gather", "Dial", "Dance", "say",
            ][..]
        )
        .prop_map(str::to_string),
        "[A-Za-z_][A-Za-z0-9_.-]{0,8}",
    ]
}

fn attrs() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(
                    &[
                        "loop",
                        "loopPause",
                        "length",
                        "voice",
                        "method",
                        "reason",
                        "language",
                        "xmlns",
                        "xmlns:x",
                    ][..]
                )
                .prop_map(str::to_string),
                "[a-z]{1,6}",
            ],
            attr_value(),
            prop::bool::weighted(0.97),
        ),
        0..4,
    )
    .prop_map(|attrs| {
        let mut seen = Vec::new();
        attrs
            .into_iter()
            // A repeated attribute makes the whole document ill-formed: keep that rare.
            .filter(|(n, _, escape)| {
                let fresh = !seen.contains(n) || !*escape;
                seen.push(n.clone());
                fresh
            })
            .map(|(n, v, escape)| {
                let v = if escape { xml_escape(&v) } else { v };
                format!(" {n}=\"{v}\"")
            })
            .collect()
    })
}

fn fragment() -> impl Strategy<Value = String> {
    let well_formed = prop_oneof![
        4 => "\\PC{0,20}".prop_map(|t| xml_escape(&t)),
        1 => (0u32..150, "\\PC{0,20}")
            .prop_map(|(n, t)| format!("<Say loop=\"{n}\">{}</Say>", xml_escape(&t))),
        1 => "[a-z:/.]{0,20}".prop_map(|u| format!("<Play>{u}</Play>")),
        1 => any::<i32>().prop_map(|n| format!("<Pause length=\"{n}\"/>")),
        1 => (name(), attrs()).prop_map(|(n, a)| format!("<{n}{a}/>")),
        1 => Just("<Hangup/>".to_string()),
        1 => Just("<!-- comment -->".to_string()),
        1 => Just("<![CDATA[ <raw> & ]]>".to_string()),
        1 => Just("<?pi data?>".to_string()),
        1 => Just("&amp;&lt;&#65;&#x1F4DE;".to_string()),
    ];
    // Rarely, something that breaks well-formedness on its own.
    let broken = prop_oneof![
        prop::sample::select(&["<", "</Say>", "&", "&#0;", "]]>", "<!--", "<x:Say/>"][..])
            .prop_map(str::to_string),
        "\\PC{0,20}",
    ];
    let leaf = prop_oneof![100 => well_formed, 1 => broken];
    leaf.prop_recursive(4, 48, 6, |inner| {
        (
            name(),
            attrs(),
            prop::collection::vec(inner, 0..6),
            prop_oneof![
                1 => Just(None),
                30 => Just(Some(None)),
                1 => name().prop_map(|n| Some(Some(n))),
            ],
        )
            .prop_map(|(n, a, children, close)| {
                let body = children.concat();
                match close {
                    // Unclosed.
                    None => format!("<{n}{a}>{body}"),
                    // Closed properly.
                    Some(None) => format!("<{n}{a}>{body}</{n}>"),
                    // Closed by some other name.
                    Some(Some(other)) => format!("<{n}{a}>{body}</{other}>"),
                }
            })
    })
}

fn assembled_document() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            30 => Just(""),
            4 => Just("\u{feff}"),
            4 => Just("<?xml version=\"1.0\"?>\n"),
            4 => Just("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            // Refused: no DTDs.
            1 => Just("<!DOCTYPE Response>"),
            1 => Just("<!DOCTYPE r [<!ENTITY e \"x\">]>"),
        ],
        prop_oneof![4 => Just("Response".to_string()), 1 => name()],
        attrs(),
        prop::collection::vec(fragment(), 0..8),
        prop_oneof![
            8 => Just(""),
            4 => Just("\n"),
            2 => Just("<!-- tail -->"),
            // A second root, or text after the root: refused.
            1 => Just("<Response/>"),
            1 => Just("trailing"),
        ],
        prop::bool::weighted(0.95),
    )
        .prop_map(|(prolog, root, a, body, tail, closed)| {
            let close = if closed {
                format!("</{root}>")
            } else {
                String::new()
            };
            format!("{prolog}<{root}{a}>{}{close}{tail}", body.concat())
        })
}

/// Whatever is accepted respects the documented ranges of the model.
fn check_invariants(doc: &callflow::Document) -> Result<(), TestCaseError> {
    for verb in &doc.verbs {
        match verb {
            Verb::Say(s) => {
                prop_assert!(s.loops <= 100);
                prop_assert!(s.loop_pause_secs <= 300);
                prop_assert_eq!(s.text.trim(), s.text.as_str());
            }
            Verb::Play(p) => {
                prop_assert!(p.loops <= 100);
                prop_assert!(p.loop_pause_secs <= 300);
                if let PlaySource::Url(url) = &p.source {
                    prop_assert!(!url.is_empty());
                }
            }
            Verb::Pause(p) => prop_assert!((1..=86_400).contains(&p.length_secs)),
            Verb::Redirect { url, .. } => prop_assert!(!url.is_empty()),
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Valid documents with a known meaning.

/// Non-empty text without surrounding white space (any Unicode that XML allows).
fn content_text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{1,40}", "\\PC{1,40}"]
        .prop_map(|t| t.trim().to_string())
        .prop_filter("non-empty after trimming", |t| !t.is_empty())
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        "https?://[a-z]{1,12}(\\.[a-z]{2,3})?(/[A-Za-z0-9_.?=&%-]{0,24})?",
        "[a-z0-9/._-]{1,16}",
        content_text(),
    ]
}

/// How an element's text is written; all of them must read back as the same text.
#[derive(Debug, Clone)]
enum TextForm {
    Escaped,
    CData,
    /// Split by a comment: the text nodes on both sides are joined.
    SplitByComment(prop::sample::Index),
}

fn text_form() -> impl Strategy<Value = TextForm> {
    prop_oneof![
        3 => Just(TextForm::Escaped),
        1 => Just(TextForm::CData),
        1 => any::<prop::sample::Index>().prop_map(TextForm::SplitByComment),
    ]
}

/// Surrounding white space, which the parser trims.
fn pad() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["", " ", "\n  ", "\t", " \r\n "][..])
}

fn render_text(text: &str, form: &TextForm, before: &str, after: &str) -> String {
    let body = match form {
        TextForm::CData if !text.contains("]]>") => format!("<![CDATA[{text}]]>"),
        TextForm::SplitByComment(at) => {
            let cuts: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let cut = cuts[at.index(cuts.len())];
            format!(
                "{}<!-- split -->{}",
                xml_escape(&text[..cut]),
                xml_escape(&text[cut..])
            )
        }
        _ => xml_escape(text),
    };
    format!("{before}{body}{after}")
}

/// An integer attribute written with optional padding or leading zeros.
fn render_int(n: u32, style: u8) -> String {
    match style % 3 {
        0 => n.to_string(),
        1 => format!(" {n} "),
        _ => format!("00{n}"),
    }
}

#[derive(Debug, Clone)]
struct Rendered {
    xml: String,
    verb: Verb,
}

fn int_attr(
    name: &'static str,
    range: std::ops::RangeInclusive<u32>,
) -> impl Strategy<Value = Option<(&'static str, u32, u8)>> {
    prop::option::of((Just(name), range, any::<u8>()))
}

fn attrs_xml(attrs: &[(&str, String)]) -> String {
    attrs
        .iter()
        .map(|(n, v)| format!(" {n}=\"{}\"", xml_escape(v)))
        .collect()
}

fn say() -> impl Strategy<Value = Rendered> {
    (
        content_text(),
        text_form(),
        pad(),
        pad(),
        prop::option::of((
            prop_oneof![
                prop::sample::select(&["man", "woman", "alice", "Polly.Joanna"][..])
                    .prop_map(str::to_string),
                "[A-Za-z][A-Za-z0-9._-]{0,15}",
            ],
            pad(),
        )),
        int_attr("loop", 0..=100),
        int_attr("loopPause", 0..=300),
        any::<bool>(),
    )
        .prop_map(
            |(text, form, before, after, voice, loops, pause, self_closing_order)| {
                let mut attrs: Vec<(&str, String)> = Vec::new();
                if let Some((v, p)) = &voice {
                    attrs.push(("voice", format!("{p}{v}{p}")));
                }
                for (n, v, style) in [loops, pause].into_iter().flatten() {
                    attrs.push((n, render_int(v, style)));
                }
                if self_closing_order {
                    attrs.reverse();
                }
                Rendered {
                    xml: format!(
                        "<Say{}>{}</Say>",
                        attrs_xml(&attrs),
                        render_text(&text, &form, before, after)
                    ),
                    verb: Verb::Say(Say {
                        text,
                        voice: voice.map(|(v, _)| v).unwrap_or_else(|| "man".into()),
                        loops: loops.map_or(1, |l| l.1),
                        loop_pause_secs: pause.map_or(0, |p| p.1),
                    }),
                }
            },
        )
}

fn play() -> impl Strategy<Value = Rendered> {
    (
        url(),
        text_form(),
        pad(),
        pad(),
        int_attr("loop", 0..=100),
        int_attr("loopPause", 0..=300),
    )
        .prop_map(|(url, form, before, after, loops, pause)| {
            let attrs: Vec<(&str, String)> = [loops, pause]
                .into_iter()
                .flatten()
                .map(|(n, v, style)| (n, render_int(v, style)))
                .collect();
            Rendered {
                xml: format!(
                    "<Play{}>{}</Play>",
                    attrs_xml(&attrs),
                    render_text(&url, &form, before, after)
                ),
                verb: Verb::Play(Play {
                    loops: loops.map_or(1, |l| l.1),
                    loop_pause_secs: pause.map_or(0, |p| p.1),
                    ..Play::url(url)
                }),
            }
        })
}

fn pause() -> impl Strategy<Value = Rendered> {
    (
        prop::sample::select(&["Pause", "Wait"][..]),
        int_attr("length", 1..=86_400),
        any::<bool>(),
    )
        .prop_map(|(tag, length, self_closing)| {
            let attrs: Vec<(&str, String)> = length
                .iter()
                .map(|(n, v, style)| (*n, render_int(*v, *style)))
                .collect();
            let a = attrs_xml(&attrs);
            Rendered {
                xml: if self_closing {
                    format!("<{tag}{a}/>")
                } else {
                    format!("<{tag}{a}></{tag}>")
                },
                verb: Verb::Pause(Pause {
                    length_secs: length.map_or(1, |l| l.1),
                    silence: false,
                    min_silence_ms: 2000,
                    noise: false,
                    min_noise_ms: 500,
                }),
            }
        })
}

fn hangup() -> impl Strategy<Value = Rendered> {
    prop_oneof![
        Just("<Hangup/>"),
        Just("<Hangup></Hangup>"),
        Just("<Hangup />")
    ]
    .prop_map(|x| Rendered {
        xml: x.to_string(),
        verb: Verb::Hangup,
    })
}

fn redirect() -> impl Strategy<Value = Rendered> {
    (
        url(),
        text_form(),
        pad(),
        pad(),
        prop::option::of(prop::sample::select(
            &["GET", "POST", "get", "Post", " GET "][..],
        )),
    )
        .prop_map(|(url, form, before, after, method)| {
            let attrs: Vec<(&str, String)> =
                method.iter().map(|m| ("method", m.to_string())).collect();
            Rendered {
                xml: format!(
                    "<Redirect{}>{}</Redirect>",
                    attrs_xml(&attrs),
                    render_text(&url, &form, before, after)
                ),
                verb: Verb::Redirect {
                    url,
                    method: match method.map(|m| m.trim().to_ascii_uppercase()) {
                        Some(m) if m == "GET" => HttpMethod::Get,
                        _ => HttpMethod::Post,
                    },
                },
            }
        })
}

fn valid_document() -> impl Strategy<Value = (String, Vec<Verb>)> {
    (
        prop_oneof![
            Just(""),
            Just("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            Just("\u{feff}"),
        ],
        prop::collection::vec(
            (
                prop_oneof![say(), play(), pause(), hangup(), redirect()],
                prop::sample::select(&["", "\n  ", " ", "<!-- between -->", "\n\t"][..]),
            ),
            0..12,
        ),
    )
        .prop_map(|(prolog, verbs)| {
            let mut xml = format!("{prolog}<Response>");
            let mut expected = Vec::new();
            for (r, sep) in verbs {
                xml.push_str(sep);
                xml.push_str(&r.xml);
                expected.push(r.verb);
            }
            xml.push_str("\n</Response>\n");
            (xml, expected)
        })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_strings(text in "\\PC{0,512}", any_text in ".{0,256}") {
        if let Ok(doc) = flexml::parse(&text) {
            check_invariants(&doc)?;
        }
        if let Ok(doc) = flexml::parse(&any_text) {
            check_invariants(&doc)?;
        }
    }

    #[test]
    fn parse_never_panics_on_lossy_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&data);
        if let Ok(doc) = flexml::parse(&text) {
            check_invariants(&doc)?;
        }
    }

    #[test]
    fn parse_never_panics_on_assembled_documents(doc in assembled_document()) {
        match flexml::parse(&doc) {
            Ok(parsed) => check_invariants(&parsed)?,
            // Every error names a line that exists.
            Err(
                FlexmlError::Root { line, .. }
                | FlexmlError::UnknownVerb { line, .. }
                | FlexmlError::Attribute { line, .. }
                | FlexmlError::Content { line, .. }
                | FlexmlError::Nesting { line, .. },
            ) => {
                prop_assert!(line >= 1 && line as usize <= doc.lines().count().max(1));
            }
            Err(FlexmlError::Xml(_) | FlexmlError::TooLarge) => {}
        }
    }

    #[test]
    fn valid_documents_parse_to_their_verbs((xml, expected) in valid_document()) {
        let doc = flexml::parse(&xml)
            .map_err(|e| TestCaseError::fail(format!("{xml}\n{e}")))?;
        prop_assert_eq!(doc.verbs, expected, "{}", xml);
        prop_assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }
}
