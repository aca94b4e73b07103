//! Reading body values of the Core API objects, and the reference's PATCH rules for nested
//! objects. Each reader returns the field error message the 422 body shows.

use crate::ApiError;
use axum::http::Method;
use serde_json::{Map, Value};

/// How an update treats a nested object (`attributes`, `properties`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nested {
    /// PATCH: a key with a value is added or replaced, a key with `null` is removed, other
    /// keys stay.
    Merge,
    /// PUT, and PATCH with `?nested_objects=replace`: the object becomes what was sent.
    Replace,
}

/// The query of PATCH and PUT.
#[derive(Debug, Default, serde::Deserialize)]
pub struct UpdateQuery {
    pub nested_objects: Option<String>,
}

impl UpdateQuery {
    /// PUT always replaces; PATCH merges unless asked to replace.
    pub fn mode(&self, method: &Method) -> Result<Nested, ApiError> {
        let asked = match self.nested_objects.as_deref() {
            None | Some("") | Some("merge") => Nested::Merge,
            Some("replace") => Nested::Replace,
            Some(_) => {
                return Err(ApiError::Invalid(vec![(
                    "nested_objects".into(),
                    "must be replace (or merge, the default)".into(),
                )]))
            }
        };
        Ok(if method == Method::PUT {
            Nested::Replace
        } else {
            asked
        })
    }
}

/// `current` updated with the nested object `value`. Keys whose new value is `null` are
/// removed (merge) or left out (replace); `null` for the whole object empties it in both modes.
pub fn nested(
    current: &Map<String, Value>,
    value: Value,
    mode: Nested,
) -> Result<Map<String, Value>, String> {
    let incoming = match value {
        Value::Object(map) => map,
        Value::Null => return Ok(Map::new()),
        _ => return Err("must be an object".into()),
    };
    let mut out = match mode {
        Nested::Merge => current.clone(),
        Nested::Replace => Map::new(),
    };
    for (key, value) in incoming {
        if value.is_null() {
            out.remove(&key);
        } else {
            out.insert(key, value);
        }
    }
    Ok(out)
}

pub fn text(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err("must be a string".into()),
    }
}

pub fn optional_text(value: Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err("must be a string or null".into()),
    }
}

/// A SID referring to another object; `null` or `""` for none.
pub fn optional_sid(value: Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err("must be a secure ID (a string) or null".into()),
    }
}

/// An integer in `0..=max`.
pub fn integer(value: Value, max: i64) -> Result<i64, String> {
    match value.as_i64() {
        Some(n) if (0..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be an integer between 0 and {max}")),
    }
}

pub fn boolean(value: Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".to_string())
}

/// An array of objects (`addresses`, `transformations`); `null` stands for `[]`. Arrays are
/// replaced whole by PATCH too: the reference's merge rules are for records keyed by name.
pub fn objects(value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) if items.iter().all(Value::is_object) => Ok(items),
        _ => Err("must be an array of objects".into()),
    }
}

/// One of `allowed`.
pub fn one_of(value: Value, allowed: &[&str]) -> Result<String, String> {
    match value.as_str() {
        Some(s) if allowed.contains(&s) => Ok(s.to_string()),
        _ => Err(format!("must be one of {}", allowed.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn patch_rules_of_the_reference() {
        let current = map(json!({"name": "New Partner Name"}));
        // Rule 2: a new record is added, the others stay.
        let added = nested(
            &current,
            json!({"name2": "New Partner Name 2"}),
            Nested::Merge,
        );
        assert_eq!(
            Value::Object(added.unwrap()),
            json!({"name": "New Partner Name", "name2": "New Partner Name 2"})
        );
        // Rule 1: the same key is replaced.
        let replaced = nested(&current, json!({"name": "x"}), Nested::Merge).unwrap();
        assert_eq!(Value::Object(replaced), json!({"name": "x"}));
        // Rule 3: null removes the record.
        let two = map(json!({"a": 1, "b": 2}));
        let removed = nested(&two, json!({"a": null, "c": null}), Nested::Merge).unwrap();
        assert_eq!(Value::Object(removed), json!({"b": 2}));
        // Rule 4: nested_objects=replace.
        let whole = nested(&two, json!({"name3": "N3", "x": null}), Nested::Replace).unwrap();
        assert_eq!(Value::Object(whole), json!({"name3": "N3"}));
        // null for the whole object: none left.
        assert!(nested(&two, Value::Null, Nested::Merge).unwrap().is_empty());
        assert!(nested(&two, json!([1]), Nested::Merge).is_err());
    }

    #[test]
    fn modes_from_method_and_query() {
        let q = |v: Option<&str>| UpdateQuery {
            nested_objects: v.map(str::to_string),
        };
        assert_eq!(q(None).mode(&Method::PATCH).unwrap(), Nested::Merge);
        assert_eq!(
            q(Some("replace")).mode(&Method::PATCH).unwrap(),
            Nested::Replace
        );
        assert_eq!(q(None).mode(&Method::PUT).unwrap(), Nested::Replace);
        assert!(q(Some("deep")).mode(&Method::PATCH).is_err());
    }

    #[test]
    fn readers() {
        assert_eq!(integer(json!(5), 10), Ok(5));
        assert!(integer(json!(-1), 10).is_err());
        assert!(integer(json!(1.5), 10).is_err());
        assert!(integer(json!("5"), 10).is_err());
        assert_eq!(optional_sid(json!("")), Ok(None));
        assert!(objects(json!([1])).is_err());
        assert_eq!(objects(Value::Null), Ok(vec![]));
        assert_eq!(one_of(json!("a"), &["a", "b"]), Ok("a".into()));
        assert!(one_of(json!("c"), &["a", "b"])
            .unwrap_err()
            .contains("a, b"));
        assert!(text(json!(null)).is_err());
        assert!(boolean(json!("true")).is_err());
    }
}
