//! Typed access to one element's attributes, with the reference's ranges and precise errors.

use super::FlexmlError;
use crate::model::{Action, HttpMethod};
use roxmltree::Node;

pub const KEYS: &str = "0123456789#*";

pub struct Element<'a, 'input> {
    pub doc: &'a roxmltree::Document<'input>,
    pub node: Node<'a, 'input>,
    pub name: &'a str,
}

impl<'a, 'input> Element<'a, 'input> {
    pub fn new(doc: &'a roxmltree::Document<'input>, node: Node<'a, 'input>) -> Self {
        Element {
            doc,
            node,
            name: node.tag_name().name(),
        }
    }

    pub fn line(&self) -> u32 {
        self.doc.text_pos_at(self.node.range().start).row
    }

    pub fn error(&self, attribute: &str, value: &str, why: &str) -> FlexmlError {
        FlexmlError::Attribute {
            line: self.line(),
            verb: self.name.to_string(),
            attribute: attribute.to_string(),
            value: value.to_string(),
            why: why.to_string(),
        }
    }

    pub fn content_error(&self, why: &str) -> FlexmlError {
        FlexmlError::Content {
            line: self.line(),
            verb: self.name.to_string(),
            why: why.to_string(),
        }
    }

    pub fn string(&self, attribute: &str) -> Option<String> {
        self.node
            .attribute(attribute)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn int(
        &self,
        attribute: &str,
        default: u32,
        min: u32,
        max: u32,
    ) -> Result<u32, FlexmlError> {
        Ok(self.opt_int(attribute, min, max)?.unwrap_or(default))
    }

    pub fn opt_int(&self, attribute: &str, min: u32, max: u32) -> Result<Option<u32>, FlexmlError> {
        let Some(raw) = self.node.attribute(attribute) else {
            return Ok(None);
        };
        let value: u32 = raw
            .trim()
            .parse()
            .map_err(|_| self.error(attribute, raw, "must be a whole number"))?;
        if value < min || value > max {
            return Err(self.error(attribute, raw, &format!("must be between {min} and {max}")));
        }
        Ok(Some(value))
    }

    pub fn opt_i64(&self, attribute: &str) -> Result<Option<i64>, FlexmlError> {
        match self.node.attribute(attribute) {
            None => Ok(None),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.error(attribute, raw, "must be an integer")),
        }
    }

    pub fn bool(&self, attribute: &str, default: bool) -> Result<bool, FlexmlError> {
        match self
            .node
            .attribute(attribute)
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(_) => Err(self.error(
                attribute,
                self.node.attribute(attribute).unwrap_or(""),
                "must be true or false",
            )),
        }
    }

    pub fn method(&self, attribute: &str) -> Result<HttpMethod, FlexmlError> {
        match self.node.attribute(attribute) {
            None => Ok(HttpMethod::Post),
            Some(raw) => HttpMethod::parse(raw)
                .ok_or_else(|| self.error(attribute, raw, "must be GET or POST")),
        }
    }

    pub fn action(
        &self,
        url_attribute: &str,
        method_attribute: &str,
    ) -> Result<Option<Action>, FlexmlError> {
        let method = self.method(method_attribute)?;
        Ok(self.string(url_attribute).map(|url| Action { url, method }))
    }

    /// A set of keypad keys drawn from `allowed`.
    pub fn keys(
        &self,
        attribute: &str,
        default: &str,
        allowed: &str,
    ) -> Result<String, FlexmlError> {
        let Some(raw) = self.node.attribute(attribute) else {
            return Ok(default.to_string());
        };
        let keys = raw.trim();
        if let Some(bad) = keys.chars().find(|c| !allowed.contains(*c)) {
            return Err(self.error(attribute, raw, &format!("{bad:?} is not one of {allowed}")));
        }
        Ok(keys.to_string())
    }

    pub fn choice(
        &self,
        attribute: &str,
        default: &str,
        allowed: &[&str],
    ) -> Result<String, FlexmlError> {
        match self.node.attribute(attribute) {
            None => Ok(default.to_string()),
            Some(raw) if allowed.contains(&raw.trim()) => Ok(raw.trim().to_string()),
            Some(raw) => Err(self.error(
                attribute,
                raw,
                &format!("must be one of {}", allowed.join(", ")),
            )),
        }
    }

    /// The element's own text, trimmed (child elements excluded).
    pub fn text(&self) -> String {
        self.node
            .children()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<String>()
            .trim()
            .to_string()
    }

    pub fn warn_unknown(&self, known: &[&str], warnings: &mut Vec<String>) {
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

    pub fn children(&self) -> impl Iterator<Item = Node<'a, 'input>> {
        self.node.children().filter(|n| n.is_element())
    }

    pub fn nesting_error(&self, child: Node) -> FlexmlError {
        FlexmlError::Nesting {
            line: self.doc.text_pos_at(child.range().start).row,
            parent: self.name.to_string(),
            child: child.tag_name().name().to_string(),
        }
    }
}
