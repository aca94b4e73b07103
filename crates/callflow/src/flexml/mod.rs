//! FlexML (XML) into the instruction model, and back. The input is untrusted: no DTD, bounded
//! size and node count, and every invalid value is reported with its verb, attribute and line.
//! [`print`] writes a model back as FlexML that parses to the same verbs.

mod attrs;
mod print;
mod verbs;

pub use print::print;

use crate::model::Document;
use roxmltree::ParsingOptions;

pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const MAX_NODES: u32 = 10_000;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
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
    #[error("line {line}: <{parent}> cannot contain <{child}>")]
    Nesting {
        line: u32,
        parent: String,
        child: String,
    },
}

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
            line: doc.text_pos_at(root.range().start).row,
            found: root.tag_name().name().into(),
        });
    }
    let mut warnings = Vec::new();
    let mut verbs = Vec::new();
    for node in root.children().filter(|n| n.is_element()) {
        verbs.push(verbs::parse_verb(&doc, node, &mut warnings)?);
    }
    Ok(Document { verbs, warnings })
}

#[cfg(test)]
mod tests;
