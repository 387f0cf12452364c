//! Where a value written after a key or flag ends, and whether it is a
//! secret at all or only names one (a template or variable reference, a
//! placeholder, a mask, `null`).
//!
//! A value is one of: a quoted string (`"..."`, `'...'`, `` `...` ``, or
//! `\"...\"` inside a JSON string), a bracketed group (`[...]`, `{...}`,
//! `(...)`), a call or wrapper (`Some("x")`, `Secret { .. }`,
//! `String::from("x")`, balanced over nesting, quotes and lines), or a bare
//! token. The whole of it is redacted, or none of it.

use super::super::engine::REDACTED;

/// Longest value scanned for its end; a longer one ends there.
const MAX_VALUE: usize = 8 * 1024;

/// Where a value sits: `span` is what to redact (the content of a quoted
/// string, else the whole value); `end` is where scanning may resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Value {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The value was written in quotes.
    pub(crate) quoted: bool,
}

/// The value that starts at `at` (after the operator and blanks), if any.
pub(crate) fn value_at(text: &str, at: usize) -> Option<Value> {
    let bytes = text.as_bytes();
    let first = *bytes.get(at)?;
    let quoted = |start: usize, end: usize| Value {
        start,
        end,
        quoted: true,
    };
    let plain = |start: usize, end: usize| Value {
        start,
        end,
        quoted: false,
    };
    match first {
        b'\\' if bytes.get(at + 1) == Some(&b'"') => {
            let start = at + 2;
            let end = text[start..]
                .find("\\\"")
                .map_or_else(|| line_end(bytes, start), |i| start + i);
            Some(quoted(start, end))
        }
        b'"' | b'\'' | b'`' => Some(quoted(at + 1, closing_quote(bytes, at + 1, first))),
        // String prefixes: f"...", r'...', b"...", rb"...", $"...", @"...".
        b'f' | b'r' | b'b' | b'u' | b'F' | b'R' | b'B' | b'U' | b'$' | b'@'
            if string_prefix(bytes, at).is_some() =>
        {
            let open = string_prefix(bytes, at)?;
            let q = bytes[open];
            Some(quoted(open + 1, closing_quote(bytes, open + 1, q)))
        }
        b'(' | b'[' | b'{' => match balanced_end(bytes, at) {
            Some(end) => Some(plain(at, end)),
            None => non_empty(at, bare_end(bytes, at)).map(|(s, e)| plain(s, e)),
        },
        _ => {
            if let Some(open) = call_open(bytes, at) {
                let end = balanced_end(bytes, open).unwrap_or_else(|| line_end(bytes, open));
                return Some(plain(at, end));
            }
            non_empty(at, bare_end(bytes, at)).map(|(s, e)| plain(s, e))
        }
    }
}

/// The index of the quote after a string prefix of one or two letters
/// (`f"`, `rb'`, `$"`), if `at` starts one.
fn string_prefix(bytes: &[u8], at: usize) -> Option<usize> {
    let is_prefix = |b: u8| b"frbuFRBU$@".contains(&b);
    let is_quote = |i: usize| matches!(bytes.get(i), Some(b'"' | b'\''));
    if is_quote(at + 1) {
        return Some(at + 1);
    }
    (bytes.get(at + 1).is_some_and(|&b| is_prefix(b)) && is_quote(at + 2)).then_some(at + 2)
}

fn non_empty(start: usize, end: usize) -> Option<(usize, usize)> {
    (end > start).then_some((start, end))
}

/// After a scheme word (`Bearer`, `Api-Token`, `FlyV1`): the span of the
/// credential that follows it on the same line, if one does (`<token>` is
/// returned too, for the caller to see that it is a placeholder).
pub(crate) fn credential_after(bytes: &[u8], word_end: usize) -> Option<(usize, usize)> {
    let mut i = word_end;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if i == word_end {
        return None;
    }
    let start = i;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'\\') {
            break;
        }
        i += 1;
    }
    (i > start).then_some((start, i))
}

/// Whether `word` can be an authentication scheme (`Basic`, `Api-Token`).
pub(crate) fn is_scheme_word(word: &str) -> bool {
    let b = word.as_bytes();
    (2..=24).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Index of the closing `quote` (or of the end of the line when the string
/// is not closed on it), skipping backslash escapes.
fn closing_quote(bytes: &[u8], start: usize, quote: u8) -> usize {
    let limit = bytes.len().min(start.saturating_add(MAX_VALUE));
    let mut i = start;
    while i < limit {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            b'\n' | b'\r' => return i,
            b if b == quote => return i,
            _ => i += 1,
        }
    }
    limit.min(bytes.len())
}

fn line_end(bytes: &[u8], start: usize) -> usize {
    let limit = bytes.len().min(start.saturating_add(MAX_VALUE));
    bytes[start..limit]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(limit, |i| start + i)
}

/// End (exclusive) of the bracketed group opening at `open`, skipping
/// quoted strings; `None` when it does not close within [`MAX_VALUE`].
fn balanced_end(bytes: &[u8], open: usize) -> Option<usize> {
    let limit = bytes.len().min(open.saturating_add(MAX_VALUE));
    let mut depth = 0usize;
    let mut i = open;
    while i < limit {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            q @ b'"' => {
                let close = closing_quote(bytes, i + 1, q);
                if bytes.get(close) != Some(&q) {
                    return None;
                }
                i = close;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// End of a bare token: up to a blank, a quote or a delimiter.
fn bare_end(bytes: &[u8], start: usize) -> usize {
    let limit = bytes.len().min(start.saturating_add(MAX_VALUE));
    bytes[start..limit]
        .iter()
        .position(|&b| {
            b.is_ascii_whitespace()
                || matches!(
                    b,
                    b'"' | b'\'' | b'&' | b';' | b',' | b'<' | b'>' | b')' | b'}' | b']' | b'\\'
                )
        })
        .map_or(limit, |i| start + i)
}

/// End of an identifier path (`a`, `a.b`, `a::b`) starting at `at`.
fn path_end(bytes: &[u8], at: usize) -> Option<usize> {
    let ident = |i: usize| {
        let first = *bytes.get(i)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let len = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        Some(i + len)
    };
    let mut end = ident(at)?;
    loop {
        let sep = if bytes.get(end) == Some(&b'.') {
            1
        } else if bytes[end..].starts_with(b"::") {
            2
        } else {
            return Some(end);
        };
        match ident(end + sep) {
            Some(next) => end = next,
            None => return Some(end),
        }
    }
}

/// If a call or wrapper starts at `at` (`Some(`, `env!(`, `Secret {`), the
/// index of its opening bracket.
fn call_open(bytes: &[u8], at: usize) -> Option<usize> {
    let end = path_end(bytes, at)?;
    match bytes.get(end)? {
        // A call, or a subscript such as `config["password"]`.
        b'(' | b'[' => Some(end),
        b'!' if bytes.get(end + 1) == Some(&b'(') => Some(end + 1),
        // A struct in `Debug` output: `Secret { .. }` (a type name, then
        // `{` and a blank, unlike a template such as `Bearer {{token}}`).
        b' ' if bytes[end + 1..].starts_with(b"{ ") && name_is_type(bytes, at, end) => {
            Some(end + 1)
        }
        _ => None,
    }
}

fn name_is_type(bytes: &[u8], start: usize, end: usize) -> bool {
    let last = bytes[start..end]
        .iter()
        .rposition(|&b| b == b'.' || b == b':')
        .map_or(start, |i| start + i + 1);
    bytes.get(last).is_some_and(u8::is_ascii_uppercase)
}

/// Whether a bare value is code that computes a secret rather than one: a
/// call whose arguments are only names (`getToken()`,
/// `Depends(get_session)`, `encode(payload, SECRET_KEY)`), or a call to a
/// function that makes one (`jwt.encode(...)`, `secrets.token_hex(16)`).
pub(crate) fn is_code(value: &str) -> bool {
    let b = value.as_bytes();
    let Some(end) = path_end(b, 0) else {
        return false;
    };
    if b.get(end) != Some(&b'(') || b.last() != Some(&b')') {
        return false;
    }
    let args = &value[end + 1..value.len() - 1];
    let names_only = args.bytes().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b',' | b' ' | b'\n' | b':' | b'=')
    });
    let last = value[..end]
        .rsplit(['.', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let makes = [
        "encode",
        "sign",
        "generate",
        "create",
        "hash",
        "random",
        "uuid",
        "hex",
        "urlsafe",
        "derive",
        "digest",
        "hmac",
        "compute",
        "issue",
        "mint",
        "gen",
        "token_bytes",
    ]
    .iter()
    .any(|w| last.contains(w));
    (names_only && !args.bytes().any(|c| c.is_ascii_digit()) && !looks_like_wrapper(&last)) || makes
}

/// Wrappers that hold a value in `Debug` output (`Some(...)`,
/// `Secret(...)`): never code.
fn looks_like_wrapper(name: &str) -> bool {
    [
        "some",
        "ok",
        "secret",
        "sensitive",
        "zeroizing",
        "protected",
        "masked",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// Whether a value (without its quotes) is no secret: empty, `null`-like,
/// a mask, a placeholder, already redacted, or a reference to where the
/// secret is kept.
/// Whether a bare (unquoted) value is a word of prose or a type name
/// rather than a secret: `Password: see below`, `token: string;` in a type
/// declaration.
pub(crate) fn is_bare_word(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "see",
        "is",
        "are",
        "was",
        "were",
        "be",
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "to",
        "for",
        "of",
        "not",
        "and",
        "or",
        "with",
        "from",
        "by",
        "as",
        "it",
        "this",
        "that",
        "if",
        "when",
        "required",
        "optional",
        "missing",
        "invalid",
        "incorrect",
        "wrong",
        "expired",
        "changed",
        "reset",
        "updated",
        "set",
        "unset",
        "empty",
        "hidden",
        "masked",
        "provided",
        "ok",
        "yes",
        "no",
        "must",
        "should",
        "will",
        "can",
        "enter",
        "string",
        "str",
        "number",
        "int",
        "integer",
        "boolean",
        "bool",
        "bytes",
        "any",
        "unknown",
        "object",
        "text",
        "varchar",
        "enabled",
        "disabled",
        "active",
        "inactive",
        "accepted",
        "rejected",
        "denied",
        "granted",
        "valid",
        "on",
        "off",
        "pending",
        "failed",
        "success",
        "used",
        "unused",
        "revoked",
        "rotated",
        "supported",
        "unsupported",
        "await",
        "new",
        "yield",
        "async",
        "function",
        "lambda",
        "fn",
        "return",
        "typeof",
        "void",
        "require",
        "import",
    ];
    let v = value.trim_end_matches([';', ',', '.']);
    WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
}

pub(crate) fn is_not_secret(value: &str) -> bool {
    let v = value.trim();
    !v.chars().any(char::is_alphanumeric)
        || v == REDACTED
        || is_null_word(v)
        || is_mask(v)
        || is_placeholder(v)
        || is_reference(v)
}

fn is_null_word(v: &str) -> bool {
    [
        "null",
        "nil",
        "none",
        "undefined",
        "true",
        "false",
        "~",
        "n/a",
    ]
    .iter()
    .any(|w| v.eq_ignore_ascii_case(w))
}

/// `****`, `xxxx-xxxx`, `•••`, `...`: one character repeated (separators
/// aside).
fn is_mask(v: &str) -> bool {
    let mut mask: Option<char> = None;
    if v.chars().count() < 3 {
        return false;
    }
    for c in v.chars() {
        if matches!(c, '-' | '_' | ' ' | '.') && mask.is_some() {
            continue;
        }
        match mask {
            None if matches!(c, '*' | 'x' | 'X' | '•' | '.' | '#') => mask = Some(c),
            Some(m) if m == c => {}
            _ => return false,
        }
    }
    mask.is_some()
}

/// Documentation placeholders: `your-api-key-here`, `<token>`, `changeme`,
/// anything marked `EXAMPLE`, or a long run of one character
/// (`ghp_xxxxxxxx...`, `AKIA0000000000000000`).
pub(crate) fn is_placeholder(v: &str) -> bool {
    let b = v.as_bytes();
    let has = |needle: &str| contains_ignore_case(b, needle.as_bytes());
    let ends = |suffix: &str| {
        b.len() >= suffix.len()
            && b[b.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    (b.len() >= 2 && b[0] == b'<' && b[b.len() - 1] == b'>')
        || has("example")
        || (b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"your"))
        || has("_your_")
        || has("-your-")
        || ends("_here")
        || ends("-here")
        || has("placeholder")
        || has("redacted")
        || has("xxxx")
        || ends("...")
        || v.contains('…')
        || [
            "changeme",
            "change_me",
            "change-me",
            "replace_me",
            "replaceme",
            "todo",
            "tbd",
        ]
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w))
        || longest_run(b) >= 8
}

/// Whether `haystack` contains `needle`, ASCII case aside.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The longest run of one repeated letter or digit.
fn longest_run(b: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &c in b {
        if !c.is_ascii_alphanumeric() {
            prev = None;
            continue;
        }
        run = if prev == Some(c) { run + 1 } else { 1 };
        prev = Some(c);
        best = best.max(run);
    }
    best
}

/// Template and variable references: `${x}`, `{{ .Values.x }}`, `$API_KEY`,
/// `%(password)s`, `<%= ENV['X'] %>`, `process.env.API_KEY`,
/// `os.getenv("X")`, `ENV["X"]`, `var.db_password`, `op://vault/item`.
fn is_reference(v: &str) -> bool {
    const OPENERS: &[&str] = &[
        "${",
        "$(",
        "$env:",
        "{{",
        "{%",
        "%(",
        "%{",
        "#{",
        "<%",
        "!ref ",
        "!sub ",
        "!getatt ",
        "!importvalue ",
        "op://",
        "vault:",
        "ref+",
        "arn:aws:secretsmanager:",
        "arn:aws:ssm:",
        "secretsmanager:",
        "awskms:",
        "gcpkms:",
        "sm://",
    ];
    let lower = v.to_ascii_lowercase();
    if OPENERS.iter().any(|o| lower.starts_with(o)) {
        return true;
    }
    let b = v.as_bytes();
    if b.is_empty() {
        return false;
    }
    // Format specifiers and bind parameters: `{}`, `%s`, `%v`, `?`, `:1`.
    if matches!(v, "{}" | "?" | "%s" | "%v" | "%d" | "%r" | "%q")
        || (b[0] == b':' && b.len() > 1 && b[1..].iter().all(u8::is_ascii_digit))
    {
        return true;
    }
    // YAML tags: `!Ref DbPassword`, `!Sub`, `!GetAtt`
    if b[0] == b'!' && b.len() > 1 && b[1..].iter().all(u8::is_ascii_alphabetic) {
        return true;
    }
    // `$NAME`, `%NAME%`, `{name}`, `@name@`
    if b[0] == b'$'
        && b.get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return is_ident(&v[1..]);
    }
    for (open, close) in [(b'%', b'%'), (b'{', b'}'), (b'@', b'@')] {
        if b.len() > 2 && b[0] == open && b[b.len() - 1] == close && is_ident(&v[1..v.len() - 1]) {
            return true;
        }
    }
    match path_end(b, 0) {
        Some(end) if end == b.len() => is_reference_path(v),
        // `ENV["X"]`, `os.environ['X']`, `config[:password]`
        Some(end) if b[end] == b'[' => b[b.len() - 1] == b']',
        // `os.getenv("X")`, `env::var("X")`, `env!("X")`
        Some(end) if matches!(b[end], b'(' | b'!') => is_accessor(&v[..end]),
        _ => false,
    }
}

fn is_ident(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// A dotted path that points at a secret rather than being one:
/// `process.env.API_KEY`, `settings.SECRET_KEY`, `var.db_password`,
/// `aws_db_instance.default.password`.
fn is_reference_path(v: &str) -> bool {
    const ROOTS: &[&str] = &[
        "process",
        "env",
        "os",
        "system",
        "config",
        "conf",
        "cfg",
        "settings",
        "self",
        "this",
        "var",
        "vars",
        "local",
        "locals",
        "data",
        "module",
        "secrets",
        "secret",
        "values",
        "params",
        "inputs",
        "props",
        "options",
        "opts",
        "args",
        "ctx",
        "context",
        "app",
        "credentials",
        "creds",
        "vault",
        "window",
        "import",
        "request",
        "req",
        "environment",
    ];
    let Some((first, last)) = v.split_once('.').map(|(f, _)| f).zip(v.rsplit('.').next()) else {
        return false;
    };
    let first = first.split("::").next().unwrap_or(first);
    // Terraform's `resource_type.name.attribute`.
    let resource = v.split('.').count() >= 3
        && first.contains('_')
        && !v.bytes().any(|c| c.is_ascii_uppercase());
    resource
        || ROOTS.iter().any(|r| first.eq_ignore_ascii_case(r))
        || (!last.bytes().any(|c| c.is_ascii_digit())
            && super::super::keys::is_builtin_secret_key(last))
}

/// A call that fetches a secret from somewhere (`getenv`, `env::var`,
/// `config.get`, `read_secret`), as opposed to a wrapper that holds one
/// (`Some`, `String::from`, `Secret::new`).
fn is_accessor(name: &str) -> bool {
    let last = name
        .rsplit(['.', ':'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    [
        "env", "get", "fetch", "read", "load", "lookup", "secret", "param", "var", "resolve",
        "decrypt", "prompt", "input", "getpass", "require", "vault", "config",
    ]
    .iter()
    .any(|w| last.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<&str> {
        value_at(text, 0).map(|v| &text[v.start..v.end])
    }

    #[test]
    fn value_extends_over_quotes_calls_and_groups() {
        assert_eq!(value(r#""a b" c"#), Some("a b"));
        assert_eq!(value(r#"'it\'s' x"#), Some(r"it\'s"));
        assert_eq!(value(r#"\"p4ss\"}"#), Some("p4ss"));
        assert_eq!(
            value(r#"Some("Hunter2Secret") }"#),
            Some(r#"Some("Hunter2Secret")"#)
        );
        assert_eq!(
            value(r#"Some(Secret("a)b")), x"#),
            Some(r#"Some(Secret("a)b"))"#)
        );
        assert_eq!(
            value("Some(\n    \"x\",\n),\n}"),
            Some("Some(\n    \"x\",\n)")
        );
        assert_eq!(
            value(r#"Secret { inner: "x" }, y"#),
            Some(r#"Secret { inner: "x" }"#)
        );
        assert_eq!(value("String::from(\"x\");"), Some("String::from(\"x\")"));
        assert_eq!(value("[104, 117], n"), Some("[104, 117]"));
        assert_eq!(value("hunter2&page=2"), Some("hunter2"));
        assert_eq!(value("Some(\"cut"), Some("Some(\"cut"));
        assert_eq!(value(" x"), None);
        assert_eq!(value(""), None);
    }

    #[test]
    fn references_placeholders_and_masks_are_not_secrets() {
        for v in [
            "${aws_db_instance.default.password}",
            "{{ .Values.Password }}",
            "$API_KEY",
            "%(password)s",
            "<%= ENV['X'] %>",
            "process.env.API_KEY",
            "os.getenv(\"DB_PASSWORD\")",
            "env::var(\"TOKEN\")",
            "ENV['SECRET']",
            "var.db_password",
            "aws_db_instance.default.password",
            "%DB_PASS%",
            "{password}",
            "op://vault/item/password",
            "your-api-key-here",
            "YOUR_TOKEN",
            "<token>",
            "changeme",
            "AKIAIOSFODNN7EXAMPLE",
            "xxxxxxxx",
            "****",
            "null",
            "[REDACTED]",
            "",
        ] {
            assert!(is_not_secret(v), "{v}");
        }
        for v in [
            "hunter2",
            "Some(\"x\")",
            "ya29.FakeAccessToken123",
            "String::from(\"x\")",
            "Fake-Passw0rd-123",
            "correct horse battery",
            "4111",
        ] {
            assert!(!is_not_secret(v), "{v}");
        }
    }
}
