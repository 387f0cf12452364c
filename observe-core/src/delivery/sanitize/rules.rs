//! The built-in value rules: one regular expression per kind of secret or
//! personal data, with the literal keywords that must occur for the rule to
//! be worth running, and an extra check where a pattern alone would be too
//! eager (Luhn for cards, digit counts for phone numbers, the key vocabulary
//! for `key=value` assignments).
//!
//! The patterns follow the published formats of each provider's credentials
//! (prefixes, alphabets and lengths) and were written for this crate. A
//! token must stand alone (not glued to a longer run of token characters,
//! as inside a base64 blob or a URL slug) and must not be a documentation
//! placeholder (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxxxxxx...`).

pub(crate) mod assign;
mod tokens;
pub(crate) mod value;
pub(crate) mod yaml;

/// When a rule runs: only if one of its keywords occurs in the text (ASCII
/// case-insensitive), or only if the text holds a run of at least that many
/// digits (separators allowed between them).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Trigger {
    Keywords(&'static [&'static str]),
    Digits(usize),
    Always,
}

/// The extra check a candidate match must pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    /// A payment card: issuer prefix, length and Luhn checksum.
    Card,
    /// A phone number: 7 to 15 digits, not glued to other digits or words.
    Phone,
    /// A token rather than a word: has a digit or a symbol, or is long;
    /// and no placeholder.
    TokenLike,
    /// A provider token: stands alone and is no placeholder.
    Token,
    /// A provider token ([`Check::Token`]) with both a letter and a digit.
    Mixed,
    /// An address that is not the `user@host` or `user:password@host` part
    /// of a URL (passwords there are `url_credentials`' job, which keeps the
    /// host), and not glued to a following letter or digit.
    Email,
    /// A value that is a secret, not a reference or a placeholder.
    Value,
    /// Key-value assignments: the pattern is [`assign::HEAD`] and
    /// [`assign::collect`] finds the values.
    Assignment,
    /// Data blocks of Kubernetes secrets: [`yaml::collect`].
    SecretBlock,
}

/// One built-in rule.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RuleDef {
    pub(crate) name: &'static str,
    pub(crate) pattern: &'static str,
    /// Capture groups to redact: the first one that took part in the match.
    /// Empty: the whole match.
    pub(crate) groups: &'static [usize],
    pub(crate) trigger: Trigger,
    pub(crate) check: Check,
}

/// Name of the rule that redacts values under secret-naming keys.
pub(crate) const SENSITIVE_KEY: &str = "sensitive_key";
/// Name under which cuts of too-deep nesting are counted.
pub(crate) const MAX_DEPTH_RULE: &str = "max_depth";

/// The value rules, most specific first (on equal matches, the first wins).
/// `\b` is made an ASCII word boundary when compiled.
pub(crate) const BUILTIN: &[RuleDef] = &[
    RuleDef {
        name: "pem_private_key",
        pattern: r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:(?s:.*?)-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,.-]*)",
        groups: &[],
        trigger: Trigger::Keywords(&["-----begin"]),
        check: Check::None,
    },
    RuleDef {
        name: "jwt",
        pattern: r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        groups: &[],
        trigger: Trigger::Keywords(&["eyj"]),
        check: Check::None,
    },
    RuleDef {
        name: "aws_access_key",
        pattern: r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        groups: &[],
        trigger: Trigger::Keywords(&["akia", "asia", "abia", "acca", "a3t"]),
        check: Check::Token,
    },
    RuleDef {
        name: "github_token",
        pattern: r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}",
        groups: &[],
        trigger: Trigger::Keywords(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
        check: Check::Token,
    },
    RuleDef {
        name: "slack_token",
        // Slack tokens start with a numeric team or version part:
        // `xoxb-123...-...`, `xapp-1-...`; a word such as `xoxo-indieweb`
        // is not one.
        pattern: r"(?:xoxe\.)?xox[abposre]-[0-9]+-[A-Za-z0-9-]{8,250}|xapp-[0-9]-[A-Za-z0-9-]{10,250}",
        groups: &[],
        trigger: Trigger::Keywords(&["xox", "xapp-"]),
        check: Check::Token,
    },
    RuleDef {
        name: "slack_webhook",
        pattern: r"(?i:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]+",
        groups: &[],
        trigger: Trigger::Keywords(&["hooks.slack.com"]),
        check: Check::None,
    },
    RuleDef {
        name: "stripe_key",
        pattern: r"[sr]k_(?:live|test)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{20,99}",
        groups: &[],
        trigger: Trigger::Keywords(&["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"]),
        check: Check::Token,
    },
    RuleDef {
        name: "google_api_key",
        pattern: r"AIza[0-9A-Za-z_-]{35}",
        groups: &[],
        trigger: Trigger::Keywords(&["aiza"]),
        check: Check::Token,
    },
    RuleDef {
        name: "anthropic_key",
        pattern: r"sk-ant-[A-Za-z0-9_-]{20,}",
        groups: &[],
        trigger: Trigger::Keywords(&["sk-"]),
        check: Check::Token,
    },
    RuleDef {
        name: "openai_key",
        pattern: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        groups: &[],
        trigger: Trigger::Keywords(&["sk-"]),
        check: Check::Mixed,
    },
    RuleDef {
        name: "provider_token",
        pattern: tokens::PATTERN,
        groups: &[],
        trigger: Trigger::Keywords(tokens::KEYWORDS),
        check: Check::Token,
    },
    RuleDef {
        name: "twilio_api_key",
        pattern: tokens::TWILIO,
        groups: &[],
        trigger: Trigger::Keywords(&["sk"]),
        check: Check::Token,
    },
    RuleDef {
        name: "bearer_token",
        pattern: r"(?i:\bbearer)[ \t]+([A-Za-z0-9._~+/-]{8,}=*)",
        groups: &[1],
        trigger: Trigger::Keywords(&["bearer"]),
        check: Check::TokenLike,
    },
    RuleDef {
        name: "url_credentials",
        pattern: r"[A-Za-z][A-Za-z0-9+.-]{0,20}://([^\s:@/?#\[\]]*:[^\s@/?#]*)@",
        groups: &[1],
        trigger: Trigger::Keywords(&["://"]),
        check: Check::Value,
    },
    RuleDef {
        name: "cli_credentials",
        pattern: concat!(
            // mysql -u root -pHunter2 (the password glued to -p)
            r#"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\n|;&]{0,200}?[ \t]-p([^\s'"-][^\s'"]*|'[^'\n]*'|"[^"\n]*")"#,
            r#"|\bsshpass[ \t]+-p[ \t]*([^\s'"]+|'[^'\n]*'|"[^"\n]*")"#,
            r#"|\bredis-cli\b[^\n|;&]{0,200}?[ \t]-a[ \t]+([^\s'"-][^\s'"]*|'[^'\n]*'|"[^"\n]*")"#,
            // curl -u user:password
            r#"|\b(?:curl|wget)\b[^\n|;&]{0,300}?[ \t](?:-u|--user)[ \t]*=?[ \t]*([^\s'":]*:[^\s'"]+|'[^'\n:]*:[^'\n]*'|"[^"\n:]*:[^"\n]*")"#,
            // docker login -u bob -p secret (and podman, helm, oras)
            r#"|\b(?:docker|podman|helm|oras|buildah|skopeo)\b[^\n|;&]{0,100}?\blogin\b[^\n|;&]{0,200}?[ \t]-p[ \t]+([^\s'"-][^\s'"]*|'[^'\n]*'|"[^"\n]*")"#,
            // sqlcmd -U sa -P secret
            r#"|\b(?:sqlcmd|bcp|osql)\b[^\n|;&]{0,200}?[ \t]-P[ \t]*([^\s'"-][^\s'"]*|'[^'\n]*'|"[^"\n]*")"#,
            // openssl -passin pass:secret; keytool -storepass secret
            r#"|[ \t]-pass(?:in|out|word)?[ \t]+pass:([^\s'"]+|'[^'\n]*'|"[^"\n]*")"#,
            r#"|[ \t]-(?:src|dest)?(?:store|key)pass[ \t]+([^\s'"-][^\s'"]*|'[^'\n]*'|"[^"\n]*")"#,
            // .netrc: machine host login user password secret
            r#"|\blogin[ \t]+\S+[ \t]+password[ \t]+([^\s'"]+)"#,
            // aws configure set aws_secret_access_key secret
            r#"|\bconfigure[ \t]+set[ \t]+[A-Za-z_.]*(?:secret|token|password)[A-Za-z_.]*[ \t]+([^\s'"-][^\s'"]*|'[^'\n]*'|"[^"\n]*")"#,
        ),
        groups: &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        trigger: Trigger::Keywords(&[
            "mysql",
            "mariadb",
            "sshpass",
            "redis-cli",
            "curl",
            "wget",
            "login",
            "sqlcmd",
            "bcp",
            "osql",
            "pass:",
            "storepass",
            "keypass",
            "configure",
        ]),
        check: Check::Value,
    },
    RuleDef {
        name: "secret_assignment",
        pattern: assign::HEAD,
        groups: &[],
        trigger: Trigger::Keywords(super::keys::STEMS),
        check: Check::Assignment,
    },
    RuleDef {
        name: "k8s_secret_data",
        pattern: yaml::HEADER,
        groups: &[],
        trigger: Trigger::Keywords(&["data:"]),
        check: Check::SecretBlock,
    },
    RuleDef {
        name: "email",
        // Non-ASCII letters allowed (`jöhn@exämple.de`; as code point
        // ranges that leave out punctuation blocks, which keeps the
        // automaton small and fast), `@` also URL-encoded
        // (`jane.doe%40example.com`).
        pattern: concat!(
            r"[A-Za-z0-9._%+\-\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}]+(?:@|%40)",
            r"[A-Za-z0-9\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}]",
            r"(?:[A-Za-z0-9\-\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}]{0,61}",
            r"[A-Za-z0-9\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}])?",
            r"(?:\.[A-Za-z0-9\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}]",
            r"(?:[A-Za-z0-9\-\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}]{0,61}",
            r"[A-Za-z0-9\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}])?)*",
            r"\.[A-Za-z\x{C0}-\x{1FFF}\x{2070}-\x{2FFF}\x{3040}-\x{FEFF}\x{10000}-\x{10FFFF}]{2,24}",
        ),
        groups: &[],
        trigger: Trigger::Keywords(&["@", "%40"]),
        check: Check::Email,
    },
    RuleDef {
        name: "phone",
        pattern: concat!(
            // E.164 and international forms: +CC then 6 to 14 more digits.
            r"\+[1-9](?:[ .()-]{0,2}[0-9]){6,14}\b",
            // (415) 555-0132, (020) 7946 0958
            r"|\([0-9]{2,4}\)[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}\b",
            // 415-555-0132, 415.555.0132, 415 555 0132
            r"|\b[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}\b",
            // trunk prefix 0: 020 7946 0958, 07700 900123, 030-1234-5678
            r"|\b0[0-9]{1,4}[ -][0-9]{3,4}[ -]?[0-9]{3,4}\b",
            // 01 23 45 67 89, 06.12.34.56.78
            r"|\b0[1-9](?:[ .-][0-9]{2}){4}\b",
        ),
        groups: &[],
        trigger: Trigger::Digits(7),
        check: Check::Phone,
    },
    RuleDef {
        name: "credit_card",
        // Separators: space, dot, dash, no-break spaces (U+00A0, U+2007,
        // U+2009, U+202F).
        pattern: r"\b[0-9](?:[ .\-\x{A0}\x{2007}\x{2009}\x{202F}]?[0-9]){12,18}\b",
        groups: &[],
        trigger: Trigger::Digits(13),
        check: Check::Card,
    },
];

/// Whether the candidate `text[start..end]` passes `check`.
pub(crate) fn passes(check: Check, text: &str, start: usize, end: usize) -> bool {
    let found = &text[start..end];
    match check {
        Check::None | Check::Assignment | Check::SecretBlock => true,
        Check::Card => super::luhn::is_card_number(found),
        Check::Phone => is_phone(text, start, end),
        Check::Email => {
            !in_url_authority(text, start)
                && !text[end..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        }
        Check::TokenLike => {
            (found.len() >= 20
                || found
                    .bytes()
                    .any(|b| b.is_ascii_digit() || b"._~+/-=".contains(&b)))
                && !value::is_placeholder(found)
        }
        Check::Token => standalone(text, start, end) && !value::is_placeholder(found),
        Check::Mixed => {
            found.bytes().any(|b| b.is_ascii_digit())
                && found.bytes().filter(u8::is_ascii_alphabetic).count() > 3
                && passes(Check::Token, text, start, end)
        }
        Check::Value => {
            // `user:password` (URLs, `curl -u`): the password decides.
            let found = found.trim_matches(['"', '\'']);
            let secret = found.split_once(':').map_or(found, |(_, p)| p);
            !value::is_not_secret(secret)
        }
    }
}

/// Whether `text[start..end]` is not part of a longer run of token
/// characters: `AIza...` inside a base64 blob, `xoxo-` inside a URL slug. A
/// `/` before counts as glue only between token characters (a path or a
/// blob), not after `//`.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let glue = |c: char| c.is_alphanumeric() || matches!(c, '+' | '_' | '-');
    let mut before = text[..start].chars().rev();
    let glued_before = match before.next() {
        Some('/') => before
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '+'),
        Some(c) => glue(c),
        None => false,
    };
    let glued_after = text[end..]
        .chars()
        .next()
        .is_some_and(|c| glue(c) || c == '/');
    !glued_before && !glued_after
}

/// The longest card number inside a candidate digit run that failed the
/// card check as a whole (`4111 1111 1111 1111 2025`): tries every run of
/// whole digit groups, longest first, then leftmost.
pub(crate) fn card_within(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let groups = digit_groups(text, start, end);
    let n = groups.len();
    for width in (1..n).rev() {
        for first in 0..=n - width {
            let (s, _) = groups[first];
            let (_, e) = groups[first + width - 1];
            if super::luhn::is_card_number(&text[s..e]) {
                return Some((s, e));
            }
        }
    }
    None
}

/// The longest phone number at the start of a candidate that failed the
/// phone check as a whole because of what follows it
/// (`+1 415 555 0132 0-x`): drops whole digit groups from the right, keeping
/// the start (and so a leading `+` or `(`).
pub(crate) fn phone_within(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let groups = digit_groups(text, start, end);
    groups
        .iter()
        .rev()
        .skip(1)
        .map(|&(_, e)| (start, e))
        .find(|&(s, e)| is_phone(text, s, e))
}

/// The runs of ASCII digits in `text[start..end]`, as absolute ranges.
fn digit_groups(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let bytes = &text.as_bytes()[start..end];
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let s = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push((start + s, start + i));
        } else {
            i += 1;
        }
    }
    groups
}

/// Whether the word that contains `text[start..]` began as `scheme://`.
fn in_url_authority(text: &str, start: usize) -> bool {
    let before = &text.as_bytes()[..start];
    let word_start = before
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'(' | b'/'))
        .map_or(0, |i| i + 1);
    // `scheme://user@host` or `scheme://user:pass@host`.
    word_start >= 2 && before[word_start - 1] == b'/' && before[word_start - 2] == b'/'
}

fn is_phone(text: &str, start: usize, end: usize) -> bool {
    let digits = text[start..end].bytes().filter(u8::is_ascii_digit).count();
    if !(7..=15).contains(&digits) {
        return false;
    }
    let bytes = text.as_bytes();
    // Not the middle of something longer: a version, an id, a path, a date.
    let glued = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'+');
    if start > 0 && glued(bytes[start - 1]) {
        return false;
    }
    match bytes.get(end) {
        Some(&b) if glued(b) && b != b'.' => false,
        // A full stop ends a sentence; a dot before a digit continues a number.
        Some(b'.') => !bytes.get(end + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

/// Length of the longest run of digits in `text` that a phone or card
/// pattern could use: digits separated by up to two of ` .-()+/` (or one
/// no-break space), not counting a first or last group glued to a letter or
/// `_` (no pattern can match across such a word boundary, as in UUIDs and
/// timestamps).
pub(crate) fn longest_digit_run(text: &[u8]) -> usize {
    let glue = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut best = 0;
    // Digits in the current run, in its first group, and in its last group.
    let (mut run, mut first, mut group) = (0usize, 0usize, 0usize);
    let mut in_first = true;
    let mut glued_start = false;
    let mut gap = 0;
    let mut prev = b' ';
    let mut end_run =
        |run: usize, first: usize, group: usize, glued_start: bool, glued_end: bool| {
            let mut n = run;
            if glued_start {
                n -= first;
            }
            if glued_end && !(glued_start && first == run) {
                n -= group;
            }
            best = best.max(n);
        };
    let mut i = 0;
    while i < text.len() {
        if run == 0 && !text[i].is_ascii_digit() {
            // Between runs only the byte before the next digit matters.
            match text[i..].iter().position(u8::is_ascii_digit) {
                Some(skip) => {
                    i += skip;
                    prev = if i > 0 { text[i - 1] } else { b' ' };
                }
                None => break,
            }
        }
        let b = text[i];
        let wide_space = if b >= 0xC2 {
            wide_space_len(&text[i..])
        } else {
            0
        };
        if b.is_ascii_digit() {
            if run == 0 {
                glued_start = glue(prev);
                in_first = true;
                first = 0;
            } else if gap > 0 {
                in_first = false;
                group = 0;
            }
            run += 1;
            group += 1;
            if in_first {
                first += 1;
            }
            gap = 0;
        } else if run > 0
            && gap < 2
            && (wide_space > 0 || matches!(b, b' ' | b'.' | b'-' | b'(' | b')' | b'+' | b'/'))
        {
            gap += 1;
            i += wide_space.saturating_sub(1);
        } else if run > 0 {
            end_run(run, first, group, glued_start, gap == 0 && glue(b));
            run = 0;
            group = 0;
            gap = 0;
        }
        prev = b;
        i += 1;
    }
    if run > 0 {
        end_run(run, first, group, glued_start, false);
    }
    best
}

/// Byte length of the no-break space (U+00A0, U+2007, U+2009, U+202F) that
/// `bytes` starts with, or 0.
fn wide_space_len(bytes: &[u8]) -> usize {
    match bytes {
        [0xC2, 0xA0, ..] => 2,
        [0xE2, 0x80, 0x87 | 0x89 | 0xAF, ..] => 3,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_are_unique() {
        let mut names: Vec<_> = BUILTIN.iter().map(|r| r.name).collect();
        names.push(SENSITIVE_KEY);
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(!names.contains(&MAX_DEPTH_RULE));
    }

    #[test]
    fn digit_runs() {
        assert_eq!(longest_digit_run(b"call +1 (415) 555-0132 now"), 11);
        assert_eq!(longest_digit_run(b"v1.2.3"), 2);
        assert_eq!(longest_digit_run(b"a1b2c3d4"), 0);
        assert_eq!(longest_digit_run(b""), 0);
        assert_eq!(longest_digit_run(b"12 -- 34"), 2);
        // Groups glued to letters cannot be part of a phone or card number.
        assert_eq!(
            longest_digit_run(b"0190a6f2-7c3b-7d4e-8f10-123456789abc"),
            0
        );
        assert_eq!(longest_digit_run(b"2024-05-01T10:00:00.123456Z"), 6);
        assert_eq!(longest_digit_run(b"a12 415-555-0132"), 10);
        assert_eq!(longest_digit_run(b"415-555-0132 12ab"), 10);
        assert_eq!(longest_digit_run(b"x4111111111111111y"), 0);
        assert_eq!(longest_digit_run(b"+1 (415) 555-0132"), 11);
        assert_eq!(
            longest_digit_run("4111\u{a0}1111\u{202f}1111 1111".as_bytes()),
            16
        );
    }

    #[test]
    fn phone_check_rejects_glued_numbers() {
        let t = "id 415-555-0132";
        assert!(is_phone(t, 3, t.len()));
        let t = "x-415-555-0132";
        assert!(!is_phone(t, 2, t.len()));
        let t = "415-555-0132.5";
        assert!(!is_phone(t, 0, 12));
        let t = "415-555-0132.";
        assert!(is_phone(t, 0, 12));
        let t = "123456";
        assert!(!is_phone(t, 0, t.len()));
    }
}
