//! A `multipart/form-data` reader (RFC 7578) for file uploads: the whole body is in memory
//! already (uploads are capped), so parts are slices of it. Errors are the sentence the 400
//! shows.

use axum::body::Bytes;

#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
}

/// The boundary of a `multipart/form-data` Content-Type; `None` for any other type.
pub fn boundary(content_type: &str) -> Option<Result<String, String>> {
    let mut params = content_type.split(';');
    let essence = params.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let found = params.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    });
    Some(match found {
        Some(b) if !b.is_empty() && b.len() <= 70 => Ok(b),
        _ => Err("multipart/form-data needs a boundary parameter in its Content-Type".into()),
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The next delimiter line at or after `from`: the boundary followed by `--` or the line's
/// end (after optional padding). Bytes that merely start like one are content.
fn next_delimiter(body: &[u8], delimiter: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let found = find(body, delimiter, at)?;
        let rest = &body[found + delimiter.len()..];
        let rest = &rest[rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count()..];
        if rest.starts_with(b"--") || rest.starts_with(b"\r\n") {
            return Some(found);
        }
        at = found + 1;
    }
}

pub fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, String> {
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let start = find(body, opening.as_bytes(), 0)
        .ok_or_else(|| format!("the multipart body has no part opening with --{boundary}"))?;
    let mut at = start + opening.len();
    let mut parts = Vec::new();
    loop {
        match body.get(at..at + 2) {
            Some(b"--") => return Ok(parts),
            Some(b"\r\n") => at += 2,
            _ => return Err("a multipart boundary line is not followed by CRLF".into()),
        }
        let headers_end = find(body, b"\r\n\r\n", at)
            .ok_or("a multipart part has no blank line after its headers")?;
        let headers = std::str::from_utf8(&body[at..headers_end])
            .map_err(|_| "multipart part headers are not UTF-8")?;
        let content_start = headers_end + 4;
        let content_end = next_delimiter(body, delimiter.as_bytes(), content_start)
            .ok_or("the multipart body ends before its closing boundary")?;
        parts.push(part(headers, body.slice(content_start..content_end))?);
        at = content_end + delimiter.len();
        at += body[at..]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
    }
}

fn part(headers: &str, body: Bytes) -> Result<Part, String> {
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_string());
        } else if key.eq_ignore_ascii_case("content-disposition") {
            for param in value.split(';').skip(1) {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"').to_string();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => filename = Some(v),
                    _ => {}
                }
            }
        }
    }
    let name = name.ok_or("a multipart part has no Content-Disposition name")?;
    Ok(Part {
        name,
        filename,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_curl_style_parts() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file_object\"\r\n\r\n{\"a\":1}\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"data\"; filename=\"t.wav\"\r\n\
              Content-Type: audio/wav\r\n\r\nRIFF\r\n--\x00\r\n--XyZ--\r\n",
        );
        let parts = parse(&body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file_object");
        assert_eq!(&parts[0].body[..], b"{\"a\":1}");
        assert_eq!(parts[1].filename.as_deref(), Some("t.wav"));
        assert_eq!(parts[1].content_type.as_deref(), Some("audio/wav"));
        assert_eq!(&parts[1].body[..], b"RIFF\r\n--\x00");
    }

    #[test]
    fn boundaries_and_broken_bodies() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a b\""),
            Some(Ok("a b".into()))
        );
        assert!(matches!(boundary("multipart/form-data"), Some(Err(_))));
        assert_eq!(boundary("application/json"), None);
        assert!(parse(&Bytes::from_static(b"nothing"), "X").is_err());
        assert!(parse(
            &Bytes::from_static(
                b"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"
            ),
            "X"
        )
        .is_err());
    }
}
