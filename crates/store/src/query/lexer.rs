//! Tokens shared by `filter` and `order`. A bare word runs until whitespace, a parenthesis or a
//! comma; a quote opens a quoted value only at the start of a token, so `O'Brien` stays one word.
//! Inside quotes the only escape is the doubled quote (`'it''s'`, `"say ""hi"""`): a backslash
//! is an ordinary character here, which leaves it free to escape wildcards in `like` patterns.

use super::error::ParseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Word(String),
    Quoted(String),
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Byte offset of the token's first character.
    pub start: usize,
}

/// True for the characters that end a bare word.
pub(crate) fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | ',')
}

/// The 1-based character position of a byte offset, as errors report it.
pub(crate) fn position(input: &str, byte: usize) -> usize {
    input.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

/// How a token reads in an error message.
pub(crate) fn describe(token: Option<&Token>, clause: &str) -> String {
    match token.map(|t| &t.kind) {
        None => format!("the end of the {clause}"),
        Some(TokenKind::Word(w)) => format!("'{w}'"),
        Some(TokenKind::Quoted(q)) => format!("the quoted value \"{q}\""),
        Some(TokenKind::LParen) => "'('".into(),
        Some(TokenKind::RParen) => "')'".into(),
        Some(TokenKind::Comma) => "','".into(),
    }
}

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        let kind = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' | ')' | ',' => {
                chars.next();
                match c {
                    '(' => TokenKind::LParen,
                    ')' => TokenKind::RParen,
                    _ => TokenKind::Comma,
                }
            }
            '\'' | '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(ParseError::UnterminatedQuote {
                                position: position(input, start),
                                quote: c,
                            })
                        }
                        Some((_, q)) if q == c => {
                            // A doubled quote is a literal quote; a single one closes the value.
                            if chars.peek().map(|&(_, n)| n) == Some(c) {
                                chars.next();
                                text.push(c);
                            } else {
                                break;
                            }
                        }
                        Some((_, other)) => text.push(other),
                    }
                }
                TokenKind::Quoted(text)
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, w)) = chars.peek() {
                    if is_delimiter(w) {
                        break;
                    }
                    word.push(w);
                    chars.next();
                }
                TokenKind::Word(word)
            }
        };
        tokens.push(Token { kind, start });
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn words_quotes_and_punctuation() {
        use TokenKind::*;
        assert_eq!(
            kinds(r#"a in ("x y",b)  O'Brien 'it''s' "say ""hi""" '\%'"#),
            [
                Word("a".into()),
                Word("in".into()),
                LParen,
                Quoted("x y".into()),
                Comma,
                Word("b".into()),
                RParen,
                Word("O'Brien".into()),
                Quoted("it's".into()),
                Quoted("say \"hi\"".into()),
                Quoted("\\%".into()),
            ]
        );
        assert_eq!(kinds("'a\"b'"), [Quoted("a\"b".into())]);
        assert_eq!(kinds("''"), [Quoted(String::new())]);
    }

    #[test]
    fn unterminated_quote_reports_where_it_opened() {
        assert_eq!(
            tokenize("né eq 'abc"),
            Err(ParseError::UnterminatedQuote {
                position: 7,
                quote: '\''
            })
        );
        assert_eq!(
            tokenize("x eq \"a\"\"").unwrap_err(),
            ParseError::UnterminatedQuote {
                position: 6,
                quote: '"'
            }
        );
    }
}
