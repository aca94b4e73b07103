//! FlexML (XML) into the instruction model. The input is untrusted: no DTD, bounded size and
//! node count, and every invalid value is reported with its verb, attribute and line.

use crate::model::{Document, HttpMethod, Play, Say, Verb};
use roxmltree::{Node, ParsingOptions};

pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const MAX_NODES: u32 = 10_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlexmlError {
    #[error("document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("line {line}: the root element must be <Response>, found <{found}>")]
    Root { line: u32, found: String },
    #[error("line {line}: unknown verb <{name}>")]
    UnknownVerb { line: u32, name: String },
    #[error("line {line}: <{verb}> attribute {attribute}=\"{value}\": {why}")]
    Attribute {
        line: u32,
        verb: String,
        attribute: String,
        value: String,
        why: String,
    },
    #[error("line {line}: <{verb}> {why}")]
    Content {
        line: u32,
        verb: String,
        why: String,
    },
}

const KNOWN_NOT_YET: &[&str] = &[
    "Amd",
    "Dial",
    "Dtmf",
    "Gather",
    "Override",
    "PreAnswer",
    "Record",
    "Sms",
    "Store",
];

pub fn parse(text: &str) -> Result<Document, FlexmlError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(FlexmlError::TooLarge);
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(text.trim_start_matches('\u{feff}'), opts)
        .map_err(|e| FlexmlError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Response" {
        return Err(FlexmlError::Root {
            line: line_of(&doc, root),
            found: root.tag_name().name().into(),
        });
    }
    let mut warnings = Vec::new();
    let mut verbs = Vec::new();
    for node in root.children().filter(|n| n.is_element()) {
        verbs.push(parse_verb(&doc, node, &mut warnings)?);
    }
    Ok(Document { verbs, warnings })
}

fn line_of(doc: &roxmltree::Document, node: Node) -> u32 {
    doc.text_pos_at(node.range().start).row
}

struct VerbCtx<'a, 'input> {
    doc: &'a roxmltree::Document<'input>,
    node: Node<'a, 'input>,
    name: &'a str,
}

impl VerbCtx<'_, '_> {
    fn line(&self) -> u32 {
        line_of(self.doc, self.node)
    }

    fn attr_error(&self, attribute: &str, value: &str, why: &str) -> FlexmlError {
        FlexmlError::Attribute {
            line: self.line(),
            verb: self.name.to_string(),
            attribute: attribute.to_string(),
            value: value.to_string(),
            why: why.to_string(),
        }
    }

    fn int(&self, attribute: &str, default: u32, min: u32, max: u32) -> Result<u32, FlexmlError> {
        let Some(raw) = self.node.attribute(attribute) else {
            return Ok(default);
        };
        let value: u32 = raw
            .trim()
            .parse()
            .map_err(|_| self.attr_error(attribute, raw, "must be a whole number"))?;
        if value < min || value > max {
            return Err(self.attr_error(
                attribute,
                raw,
                &format!("must be between {min} and {max}"),
            ));
        }
        Ok(value)
    }

    fn method(&self, attribute: &str) -> Result<HttpMethod, FlexmlError> {
        match self.node.attribute(attribute) {
            None => Ok(HttpMethod::Post),
            Some(raw) => HttpMethod::parse(raw)
                .ok_or_else(|| self.attr_error(attribute, raw, "must be GET or POST")),
        }
    }

    fn text(&self) -> String {
        self.node
            .children()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<String>()
            .trim()
            .to_string()
    }

    fn warn_unknown_attributes(&self, known: &[&str], warnings: &mut Vec<String>) {
        for a in self.node.attributes() {
            if !known.contains(&a.name()) {
                warnings.push(format!(
                    "line {}: <{}> ignores unknown attribute {}",
                    self.line(),
                    self.name,
                    a.name()
                ));
            }
        }
    }
}

fn parse_verb(
    doc: &roxmltree::Document,
    node: Node,
    warnings: &mut Vec<String>,
) -> Result<Verb, FlexmlError> {
    let name = node.tag_name().name();
    let ctx = VerbCtx { doc, node, name };
    match name {
        "Say" => {
            ctx.warn_unknown_attributes(&["voice", "loop", "loopPause", "language"], warnings);
            Ok(Verb::Say(Say {
                text: ctx.text(),
                voice: node.attribute("voice").unwrap_or("man").trim().to_string(),
                loops: ctx.int("loop", 1, 0, 100)?,
                loop_pause_secs: ctx.int("loopPause", 0, 0, 300)?,
            }))
        }
        "Play" => {
            ctx.warn_unknown_attributes(&["loop", "loopPause"], warnings);
            let url = ctx.text();
            if url.is_empty() {
                return Err(FlexmlError::Content {
                    line: ctx.line(),
                    verb: name.into(),
                    why: "needs a URL to play".into(),
                });
            }
            Ok(Verb::Play(Play {
                url,
                loops: ctx.int("loop", 1, 0, 100)?,
                loop_pause_secs: ctx.int("loopPause", 0, 0, 300)?,
            }))
        }
        "Pause" | "Wait" => {
            ctx.warn_unknown_attributes(
                &["length", "minNoise", "minSilence", "noise", "silence"],
                warnings,
            );
            Ok(Verb::Pause {
                length_secs: ctx.int("length", 1, 1, 86_400)?,
            })
        }
        "Hangup" => Ok(Verb::Hangup),
        "Reject" => {
            ctx.warn_unknown_attributes(&["reason"], warnings);
            Ok(Verb::Reject {
                reason: node
                    .attribute("reason")
                    .unwrap_or("rejected")
                    .trim()
                    .to_string(),
            })
        }
        "Redirect" => {
            ctx.warn_unknown_attributes(&["method"], warnings);
            let url = ctx.text();
            if url.is_empty() {
                return Err(FlexmlError::Content {
                    line: ctx.line(),
                    verb: name.into(),
                    why: "needs a URL".into(),
                });
            }
            Ok(Verb::Redirect {
                url,
                method: ctx.method("method")?,
            })
        }
        other if KNOWN_NOT_YET.contains(&other) => {
            warnings.push(format!(
                "line {}: <{other}> is not supported by this build yet and was skipped",
                ctx.line()
            ));
            Ok(Verb::NotYetSupported {
                name: other.to_string(),
            })
        }
        other => Err(FlexmlError::UnknownVerb {
            line: ctx.line(),
            name: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_hello_document() {
        let doc = parse("<Response><Say>Hello, thank you for calling.</Say></Response>").unwrap();
        assert_eq!(
            doc.verbs,
            vec![Verb::Say(Say {
                text: "Hello, thank you for calling.".into(),
                voice: "man".into(),
                loops: 1,
                loop_pause_secs: 0
            })]
        );
    }

    #[test]
    fn reads_attributes_and_trims_text() {
        let doc = parse(
            r#"<?xml version="1.0"?>
<Response>
  <Say voice="woman" loop="2" loopPause="5">  Thank you  </Say>
  <Play loop="0">
     http://example.com/a.wav
  </Play>
  <Pause length="3"/>
  <Wait/>
  <Redirect method="GET">next</Redirect>
  <Hangup/>
</Response>"#,
        )
        .unwrap();
        assert_eq!(doc.verbs.len(), 6);
        assert_eq!(
            doc.verbs[0],
            Verb::Say(Say {
                text: "Thank you".into(),
                voice: "woman".into(),
                loops: 2,
                loop_pause_secs: 5
            })
        );
        assert_eq!(
            doc.verbs[1],
            Verb::Play(Play {
                url: "http://example.com/a.wav".into(),
                loops: 0,
                loop_pause_secs: 0
            })
        );
        assert_eq!(doc.verbs[3], Verb::Pause { length_secs: 1 });
        assert_eq!(
            doc.verbs[4],
            Verb::Redirect {
                url: "next".into(),
                method: HttpMethod::Get
            }
        );
    }

    #[test]
    fn reports_precise_errors() {
        assert_eq!(
            parse("<Response>\n<Say loop=\"-1\">x</Say></Response>")
                .unwrap_err()
                .to_string(),
            "line 2: <Say> attribute loop=\"-1\": must be a whole number"
        );
        assert_eq!(
            parse("<Response><Say loop=\"101\">x</Say></Response>")
                .unwrap_err()
                .to_string(),
            "line 1: <Say> attribute loop=\"101\": must be between 0 and 100"
        );
        assert!(matches!(
            parse("<Response><Dance/></Response>"),
            Err(FlexmlError::UnknownVerb { .. })
        ));
        assert!(matches!(parse("<Reply/>"), Err(FlexmlError::Root { .. })));
        assert!(matches!(parse("<Response><Say>"), Err(FlexmlError::Xml(_))));
        assert!(matches!(parse("Hello"), Err(FlexmlError::Xml(_))));
    }

    #[test]
    fn refuses_entity_expansion() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Response><Say>&lol2;</Say></Response>"#;
        assert!(matches!(parse(bomb), Err(FlexmlError::Xml(_))));
    }

    #[test]
    fn warns_on_unknown_attributes_and_skips_verbs_not_built_yet() {
        let doc = parse(r#"<Response><Say colour="red">hi</Say><Gather/></Response>"#).unwrap();
        assert_eq!(doc.warnings.len(), 2);
        assert!(doc.warnings[0].contains("unknown attribute colour"));
        assert_eq!(
            doc.verbs[1],
            Verb::NotYetSupported {
                name: "Gather".into()
            }
        );
    }
}
