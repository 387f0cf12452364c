//! Secret assignments in text, in the styles code, configuration, logs and
//! command lines write them: `key=value`, `key: value`, `"key": "value"`,
//! `key := value` (also `::=`, `?=`, `.=`, `+=`, `||=`, `=>`, `==`),
//! typed declarations (`var token string = "..."`,
//! `const API_KEY: &str = "..."`), subscripts (`os.environ["API_KEY"] =
//! "..."`), XML elements (`<password>...</password>`) and attributes
//! (`<add key="Password" value="..."/>`), call arguments
//! (`System.setProperty("X_TOKEN", "...")`) and command-line flags
//! (`--password Hunter2Secret`).
//!
//! The pattern finds the key and the operator; the key vocabulary decides
//! whether the key names a secret; [`value`](super::value) finds where the
//! value ends and whether it is a secret at all (a template reference or a
//! placeholder is left alone).

use regex::{CaptureLocations, Regex};

use super::value;

/// The head of an assignment, up to its value. Exactly one of the groups
/// 1 to 5 takes part; its number says the style (see [`Style`]).
pub(crate) const HEAD: &str = concat!(
    // 1: <password>value</password>
    r"<([A-Za-z_][A-Za-z0-9_.:-]{0,63})(?:[ \t][^<>\n]{0,200})?>",
    // 2: <add key="Password" value="...">, <property name="password" value=...
    r#"|\b(?:key|name)[ \t]*=[ \t]*["']([^"'\n<>]{1,64})["'][ \t]+value[ \t]*=[ \t]*"#,
    // 3: System.setProperty("X_TOKEN", "..."), os.Setenv("API_KEY", ...),
    // { "password", "..." } (a C# or C++ initializer)
    r#"|[({][ \t]*["']([A-Za-z0-9_.-]{1,64})["'][ \t]*,[ \t]*"#,
    // 4: --password value
    r"|(?m:^|[ \t])--([A-Za-z][A-Za-z0-9_-]{0,63})[ \t]+",
    // 5: key = value, in its many forms: the key, a closing quote or
    // subscript, then a type annotation or an operator.
    r#"|([A-Za-z0-9_][A-Za-z0-9_.-]*)(?:\\?["'])?\]?(?:\[[0-9]*\])?"#,
    r"(?:",
    r"[ \t]*:[ \t]*(?:&'static[ \t]+str|&str|String|string|str|Str|SecretString|Secret<[^>\n]{1,40}>|Option<[^>\n]{1,40}>|Vec<u8>|bytes|Buffer|CharArray)[ \t]*=",
    r"|[ \t]+(?:string|\[\]byte|\*string)[ \t]*=",
    r"|[ \t]*:[ \t]*[A-Z][A-Za-z0-9_]*(?:\[[^\]\n]{0,40}\]|<[^>\n]{0,40}>)?[ \t]+=",
    r"|[ \t]*(?:::=|:=|\?=|\.=|\+=|\|\|=|=>|===|!==|!=|==|=|:)",
    r")[ \t]*",
);

/// How the assignment is written, which decides what its value may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// An XML element: the value runs to `</key>`.
    Element,
    /// An attribute pair, or call arguments: the value must be quoted.
    QuotedOnly,
    /// A command-line flag: a bare value must look like a token.
    Flag,
    /// Everything else.
    Plain,
}

const STYLES: [Style; 5] = [
    Style::Element,
    Style::QuotedOnly,
    Style::QuotedOnly,
    Style::Flag,
    Style::Plain,
];

/// Schemes that make `key: Scheme credential` one value for any key (an
/// `Authorization`-like key accepts any scheme).
const SCHEMES: &[&str] = &["bearer", "basic", "token", "digest", "bot", "apikey"];

/// Calls `hit(start, end)` for the value of every assignment in `text`
/// whose key `is_secret_key` accepts and whose value is a secret.
pub(crate) fn collect(
    regex: &Regex,
    text: &str,
    is_secret_key: &dyn Fn(&str) -> bool,
    hit: &mut dyn FnMut(usize, usize),
) {
    let mut locs: CaptureLocations = regex.capture_locations();
    let mut pos = 0;
    while pos < text.len() {
        let Some(m) = regex.captures_read_at(&mut locs, text, pos) else {
            break;
        };
        let Some((style, ks, ke)) =
            (1..=STYLES.len()).find_map(|g| locs.get(g).map(|(s, e)| (STYLES[g - 1], s, e)))
        else {
            break;
        };
        let key = &text[ks..ke];
        let mut next = ke;
        // `${NAME:-default}`: a shell reference, not an assignment.
        let in_reference = text[..ks].ends_with("${");
        if !in_reference
            && is_secret_key(key)
            && let Some((start, end, resume)) = secret_value(regex, text, m.end(), style, key)
        {
            hit(start, end);
            next = resume;
        }
        pos = next
            .max(super::super::engine::next_char(text, m.start()))
            .min(text.len());
    }
}

/// The span of the secret value at `at` (and where to resume), or `None`
/// when there is no value or it is no secret.
fn secret_value(
    regex: &Regex,
    text: &str,
    at: usize,
    style: Style,
    key: &str,
) -> Option<(usize, usize, usize)> {
    if style == Style::Element {
        return element_value(text, at, key);
    }
    if let Some((start, end)) = block_scalar(text, at) {
        let found = &text[start..end];
        return (!value::is_not_secret(found)).then_some((start, end, end));
    }
    let v = value::value_at(text, at)?;
    let resume = if v.quoted { v.end + 1 } else { v.end };
    let found = &text[v.start..v.end];
    match style {
        Style::QuotedOnly if !v.quoted => return None,
        // `{ "key", "value" }` is a pair only when it closes there.
        Style::QuotedOnly
            if text[..at].trim_end().ends_with(',')
                && opener_is_brace(text, at)
                && !text[resume.min(text.len())..].trim_start().starts_with('}') =>
        {
            return None;
        }
        Style::Flag if !v.quoted && (found.starts_with('-') || !looks_like_token(found)) => {
            return None;
        }
        _ => {}
    }
    if v.quoted {
        // `"Bearer {token}"`: the credential decides.
        let secret = match found.split_once([' ', '\t']) {
            Some((scheme, rest)) if is_scheme_for(key, scheme) => !value::is_not_secret(rest),
            _ => !value::is_not_secret(found),
        };
        return secret.then_some((v.start, v.end, resume));
    }
    if value::is_scheme_word(found) && is_scheme_for(key, found) {
        match value::credential_after(text.as_bytes(), v.end) {
            Some((start, end)) => {
                let secret = !value::is_not_secret(&text[start..end]);
                return secret.then_some((v.start, end, end));
            }
            // `Bearer` alone, or before `<token>`: no credential here.
            None if is_known_scheme(found) => return None,
            None => {}
        }
    }
    let not_secret = value::is_bare_word(found)
        || is_prose(text, at, v.end, found)
        || value::is_not_secret(found)
        || value::is_code(found)
        || names_a_secret(found)
        || (is_cookie_key(key) && is_plain_cookie(found))
        || (found.starts_with('{') && only_references(regex, &found[1..]));
    (!not_secret).then_some((v.start, v.end, resume))
}

/// A YAML block scalar (`key: |` or `key: >-` then deeper-indented lines):
/// the span of those lines.
fn block_scalar(text: &str, at: usize) -> Option<(usize, usize)> {
    let rest = &text[at..];
    let line_end = rest.find('\n')?;
    if !matches!(
        rest[..line_end].trim_end(),
        "|" | "|-" | "|+" | ">" | ">-" | ">+"
    ) {
        return None;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let key_indent = indent(&text[line_start..]);
    let body = at + line_end + 1;
    let mut end = body;
    for line in text[body..].split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if !content.trim().is_empty() && indent(content) <= key_indent {
            break;
        }
        end += line.len();
    }
    let block = text[body..end].trim_end();
    let start = body + indent(block);
    (start < body + block.len()).then_some((start, body + block.len()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Whether the call-argument head that ends at `at` opened with `{`.
fn opener_is_brace(text: &str, at: usize) -> bool {
    text[..at]
        .rfind(['(', '{'])
        .is_some_and(|i| text.as_bytes()[i] == b'{')
}

/// `the secret: sauce is love`: after a colon, a lower-case word followed
/// by more words is prose, not a credential.
fn is_prose(text: &str, at: usize, end: usize, found: &str) -> bool {
    let after_colon = text[..at].trim_end().ends_with(':');
    let word = found.bytes().all(|b| b.is_ascii_lowercase());
    let mut rest = text[end..].bytes();
    let more = rest.next() == Some(b' ') && rest.next().is_some_and(|b| b.is_ascii_lowercase());
    after_colon && word && more
}

fn is_known_scheme(word: &str) -> bool {
    SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
}

/// Whether `word` is an authentication scheme in a value under `key`.
fn is_scheme_for(key: &str, word: &str) -> bool {
    is_known_scheme(word) || (is_auth_key(key) && value::is_scheme_word(word))
}

/// A bare identifier that names a secret is a variable holding it
/// (`password=password`, `this.token = token`), not the secret.
fn names_a_secret(found: &str) -> bool {
    found
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.'))
        && super::super::keys::is_builtin_secret_key(found.rsplit('.').next().unwrap_or(found))
}

fn is_cookie_key(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("cookie")
}

/// A cookie pair whose value is a plain word (`theme=dark`): no session.
fn is_plain_cookie(found: &str) -> bool {
    found.split_once('=').is_some_and(|(name, v)| {
        !super::super::keys::is_builtin_secret_key(name)
            && !v.is_empty()
            && v.len() <= 12
            && v.bytes().all(|b| b.is_ascii_lowercase())
    })
}

/// Whether the body of a `{ ... }` group holds assignments whose values are
/// all references (`{ user: process.env.SMTP_USER, pass: process.env.SMTP_PASS }`):
/// a structure to scan, not a secret to redact whole.
fn only_references(regex: &Regex, body: &str) -> bool {
    let mut found = 0usize;
    let mut secret = false;
    collect_values(regex, body, &mut |_, v| {
        found += 1;
        secret |= !v.is_some_and(|v| value::is_not_secret(v) || value::is_code(v));
    });
    found > 0 && !secret
}

/// Calls `f(key, value)` for every assignment in `text` (`None` when it
/// has no value), whatever its key.
fn collect_values(regex: &Regex, text: &str, f: &mut dyn FnMut(&str, Option<&str>)) {
    let mut locs: CaptureLocations = regex.capture_locations();
    let mut pos = 0;
    while pos < text.len() {
        let Some(m) = regex.captures_read_at(&mut locs, text, pos) else {
            break;
        };
        let Some((ks, ke)) = (1..=STYLES.len()).find_map(|g| locs.get(g)) else {
            break;
        };
        let v = value::value_at(text, m.end());
        f(&text[ks..ke], v.map(|v| &text[v.start..v.end]));
        pos = v
            .map_or(ke, |v| v.end)
            .max(super::super::engine::next_char(text, m.start()))
            .min(text.len());
    }
}

/// `<key ...>value</key>`: the value, trimmed, when the element closes.
fn element_value(text: &str, at: usize, key: &str) -> Option<(usize, usize, usize)> {
    let rest = &text[at..];
    let len = rest.find('<')?;
    let close = &rest[len..];
    let closes = close.len() > key.len() + 2
        && close.starts_with("</")
        && close[2..].starts_with(key)
        && close[2 + key.len()..].starts_with('>');
    if !closes {
        return None;
    }
    let inner = &rest[..len];
    let trimmed = inner.trim();
    if value::is_not_secret(trimmed) {
        return None;
    }
    let start = at + (inner.len() - inner.trim_start().len());
    Some((start, start + trimmed.len(), at + len))
}

/// A key that holds an `Authorization`-style header value.
fn is_auth_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.contains("authorization") || lower.ends_with("auth")
}

/// Whether a bare value after a flag looks like a credential rather than a
/// word of prose (`--token when ...`): it has a digit, a capital or a
/// symbol.
fn looks_like_token(v: &str) -> bool {
    v.bytes().any(|b| !b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(text: &str) -> String {
        let regex = Regex::new(&HEAD.replace(r"\b", r"(?-u:\b)")).unwrap_or_else(|e| panic!("{e}"));
        let mut spans = Vec::new();
        collect(
            &regex,
            text,
            &super::super::super::keys::is_builtin_secret_key,
            &mut |s, e| spans.push((s, e)),
        );
        let mut out = text.to_owned();
        for (s, e) in spans.into_iter().rev() {
            out.replace_range(s..e, "[R]");
        }
        out
    }

    #[test]
    fn styles_of_assignment() {
        for (text, want) in [
            ("password=x1", "password=[R]"),
            ("API_KEY := \"abc\"", "API_KEY := \"[R]\""),
            ("API_KEY ::= abc", "API_KEY ::= [R]"),
            ("API_KEY ?= abc", "API_KEY ?= [R]"),
            ("$password .= 'abc';", "$password .= '[R]';"),
            (
                "var apiToken string = \"abc\"",
                "var apiToken string = \"[R]\"",
            ),
            (
                "const API_KEY: &str = \"abc\";",
                "const API_KEY: &str = \"[R]\";",
            ),
            ("let token: String = x1;", "let token: String = [R];"),
            ("<password>abc</password>", "<password>[R]</password>"),
            ("<Password> a b </Password>", "<Password> [R] </Password>"),
            (
                "<add key=\"Password\" value=\"abc\"/>",
                "<add key=\"Password\" value=\"[R]\"/>",
            ),
            (
                "System.setProperty(\"X_TOKEN\", \"abc\")",
                "System.setProperty(\"X_TOKEN\", \"[R]\")",
            ),
            (
                "os.environ[\"API_KEY\"] = \"abc\"",
                "os.environ[\"API_KEY\"] = \"[R]\"",
            ),
            ("export X_TOKEN=abc", "export X_TOKEN=[R]"),
            ("run --password Hunter2Secret now", "run --password [R] now"),
            ("Authorization: Api-Token abc123", "Authorization: [R]"),
            ("Authorization: FlyV1 fm2_a,fm2_b", "Authorization: [R]"),
            ("token: Bearer abc123 ok", "token: [R] ok"),
            (
                "Creds { password: Some(\"Hunter2Secret\") }",
                "Creds { password: [R] }",
            ),
            ("{\"password\": Some(\"x\")}", "{\"password\": [R]}"),
            (
                "password: >-\n  Hunter2\n  Secret\nuser: ann",
                "password: >-\n  [R]\nuser: ann",
            ),
        ] {
            assert_eq!(scrub(text), want, "{text}");
        }
    }

    #[test]
    fn not_secrets_are_left_whole() {
        for text in [
            "password = \"${aws_db_instance.default.password}\"",
            "DB_PASSWORD=${aws_db_instance.default.password}",
            "password: {{ .Values.Password }}",
            "api_key: $API_KEY",
            "password=%(password)s",
            "password: <%= ENV['X'] %>",
            "apiKey: process.env.API_KEY",
            "password = os.getenv(\"DB_PASSWORD\")",
            "replace <token> with yours",
            "use the --token flag",
            "setProperty(\"password\", pwd)",
            "password: [REDACTED]",
            "Enter your password:",
            "Authorization: Bearer $TOKEN",
            "the secret: sauce is love",
            "auth: enabled",
            "const token = await getToken();",
            "this.password = password;",
            "client_secret: ${CLIENT_SECRET:-}",
        ] {
            assert_eq!(scrub(text), text);
        }
    }
}
