//! Deciding whether an object key (or the key of a `key=value` assignment in
//! text) names a secret.
//!
//! A key is split into words on separators, case changes and letter/digit
//! boundaries (`X-Api-Key`, `apiKey`, `APIKey`, `api_key2` all give `api`,
//! `key`). It names a secret when one of its words, or two adjacent words
//! together, is in the secret vocabulary, unless a word after it says that
//! the value only describes the secret (`token_count`, `session_ttl`,
//! `auth_type`). Words are compared whole, so `author`, `authors`,
//! `max_tokens` and `keyboard` are not secrets.
//!
//! `pin` is a secret only at the start of a key or after a word that says
//! whose PIN it is (`pin`, `PIN_code`, `user_pin`, `card_pin`), so that
//! hardware pins (`gpio_pin`, `led_pin`) and `pinned`, `spinner` or
//! `pin_count` are not. Bundler's per-host credentials
//! (`BUNDLE_GEMS__EXAMPLE__COM`) are secrets too.

/// Longest word that is looked up; longer words are never secret words.
const MAX_WORD: usize = 24;

/// Substrings (lower case) of which every key that names a secret contains
/// at least one: keys without any of them skip the word-by-word check.
pub(crate) const STEMS: &[&str] = &[
    "pass", "pwd", "secret", "token", "auth", "cred", "key", "sess", "cookie", "csrf", "xsrf",
    "jwt", "ssn", "card", "cvv", "cvc", "otp", "bearer", "social", "pin", "bundle_",
];

/// Single words that name a secret. Each contains one of [`STEMS`].
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "passcode",
    "passkey",
    "pincode",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "privkey",
    "apitoken",
    "pwd",
    "mysqlpwd",
    "secret",
    "secrets",
    "token",
    "auth",
    "authorization",
    "authentication",
    "credential",
    "credentials",
    "creds",
    "apikey",
    "apikeys",
    "privatekey",
    "accesskey",
    "secretkey",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "authtoken",
    "session",
    "sessionid",
    "sessionkey",
    "sessid",
    "jsessionid",
    "phpsessid",
    "cookie",
    "cookies",
    "setcookie",
    "csrf",
    "xsrf",
    "csrftoken",
    "xsrftoken",
    "jwt",
    "ssn",
    "creditcard",
    "cardnumber",
    "cvv",
    "cvc",
    "otp",
    "totp",
    "bearer",
];

/// Endings that make a run-together word a secret word (`DBPASSWORD`,
/// `webhooksecret`, `githubtoken`).
const SECRET_ENDINGS: &[&str] = &["password", "passwd", "secret", "token", "apikey"];

fn is_secret_word(w: &[u8]) -> bool {
    SECRET_WORDS.iter().any(|s| s.as_bytes() == w)
        || SECRET_ENDINGS
            .iter()
            .any(|e| w.len() > e.len() && w.ends_with(e.as_bytes()))
}

/// Two adjacent words that together name a secret.
fn is_secret_pair(first: &[u8], second: &[u8]) -> bool {
    matches!(
        (first, second),
        (b"api", b"key" | b"keys")
            | (b"private", b"key")
            | (b"access", b"key")
            | (b"credit", b"card")
            | (b"card", b"number")
            | (b"set", b"cookie")
            | (b"social", b"security")
            | (
                b"signing" | b"encryption" | b"decryption" | b"master" | b"hmac",
                b"key"
            )
            | (b"client" | b"account" | b"shared" | b"storage", b"key")
    )
}

/// Whether `pin` after `prev` (`None` at the start of the key) names a PIN.
fn is_secret_pin(prev: Option<&[u8]>) -> bool {
    matches!(
        prev,
        None | Some(
            b"x" | b"user"
                | b"card"
                | b"sim"
                | b"atm"
                | b"account"
                | b"login"
                | b"security"
                | b"secret"
                | b"new"
                | b"old"
                | b"current"
                | b"confirm"
                | b"bank"
                | b"debit"
                | b"credit"
                | b"mobile"
                | b"phone"
        )
    )
}

/// Bundler's credentials for a gem host: `BUNDLE_<HOST>` with the host's
/// dots written `__` (`BUNDLE_GEMS__EXAMPLE__COM`).
fn is_bundler_credential(key: &str) -> bool {
    key.len() > 7 && key.as_bytes()[..7].eq_ignore_ascii_case(b"bundle_") && key[7..].contains("__")
}

/// Words that, after a secret word, say the value is about the secret rather
/// than the secret itself (`token_count`, `session_expires_at`).
fn is_neutral_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"count"
            | b"counts"
            | b"num"
            | b"length"
            | b"len"
            | b"size"
            | b"limit"
            | b"limits"
            | b"max"
            | b"min"
            | b"type"
            | b"types"
            | b"kind"
            | b"usage"
            | b"remaining"
            | b"budget"
            | b"ttl"
            | b"expiry"
            | b"expires"
            | b"expired"
            | b"expiration"
            | b"timeout"
            | b"at"
            | b"ms"
            | b"secs"
            | b"seconds"
            | b"enabled"
            | b"disabled"
            | b"required"
            | b"present"
            | b"valid"
            | b"method"
            | b"methods"
            | b"provider"
            | b"policy"
            | b"version"
            | b"name"
            | b"names"
            | b"url"
            | b"uri"
            | b"endpoint"
            | b"path"
            | b"scheme"
            | b"mode"
            | b"strategy"
            | b"level"
            | b"status"
            | b"error"
            | b"errors"
            | b"rate"
            | b"ratio"
            | b"cost"
            | b"file"
            | b"files"
            | b"dir"
            | b"env"
            | b"prompt"
            | b"hint"
            | b"field"
            | b"label"
            | b"placeholder"
    )
}

/// Calls `f` with each word of `key`, lower-cased, as byte ranges of the
/// key. Stops early when `f` returns `false`.
fn for_each_word(key: &str, mut f: impl FnMut(&str) -> bool) {
    let bytes = key.as_bytes();
    let mut start: Option<usize> = None;
    for i in 0..=bytes.len() {
        let boundary = match bytes.get(i) {
            None => true,
            Some(b) if !b.is_ascii_alphanumeric() => true,
            Some(&b) => {
                if let Some(s) = start {
                    let prev = bytes[i - 1];
                    let next = bytes.get(i + 1).copied();
                    let case_step = prev.is_ascii_lowercase() && b.is_ascii_uppercase();
                    let acronym_end = prev.is_ascii_uppercase()
                        && b.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase());
                    let digit_step = prev.is_ascii_digit() != b.is_ascii_digit();
                    if case_step || acronym_end || digit_step {
                        if !f(&key[s..i]) {
                            return;
                        }
                        start = Some(i);
                    }
                } else {
                    start = Some(i);
                }
                false
            }
        };
        if boundary
            && let Some(s) = start.take()
            && !f(&key[s..i])
        {
            return;
        }
    }
}

/// A word lower-cased into a stack buffer; `None` when too long.
fn lower(word: &str, buf: &mut [u8; MAX_WORD]) -> Option<usize> {
    let bytes = word.as_bytes();
    if bytes.len() > MAX_WORD {
        return None;
    }
    for (slot, b) in buf.iter_mut().zip(bytes) {
        *slot = b.to_ascii_lowercase();
    }
    Some(bytes.len())
}

/// Whether `key` names a secret according to the built-in vocabulary.
pub(crate) fn is_builtin_secret_key(key: &str) -> bool {
    let mut prev = [0u8; MAX_WORD];
    let mut prev_len: Option<usize> = None;
    let mut joined = [0u8; MAX_WORD];
    let mut joined_len: Option<usize> = Some(0);
    let mut pending = false;
    let mut first = true;
    for_each_word(key, |word| {
        let mut cur = [0u8; MAX_WORD];
        let cur_len = lower(word, &mut cur);
        if let Some(n) = cur_len {
            let w = &cur[..n];
            let pair = prev_len.is_some_and(|p| is_secret_pair(&prev[..p], w));
            let pin = w == b"pin" && is_secret_pin(prev_len.map(|p| &prev[..p]).filter(|_| !first));
            if is_secret_word(w) || pair || pin {
                pending = true;
            } else if is_neutral_word(w) {
                pending = false;
            }
            prev[..n].copy_from_slice(w);
        }
        prev_len = cur_len;
        first = false;
        joined_len = match (joined_len, cur_len) {
            (Some(j), Some(n)) if j + n <= MAX_WORD => {
                joined[j..j + n].copy_from_slice(&cur[..n]);
                Some(j + n)
            }
            _ => None,
        };
        true
    });
    // `APIKEY`, `SESSIONID`: one word that is a secret only when joined.
    pending
        || joined_len.is_some_and(|j| is_secret_word(&joined[..j]))
        || is_bundler_credential(key)
}

/// Words that name a phone number by themselves.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "phones",
    "mobile",
    "tel",
    "telephone",
    "cellphone",
    "fax",
    "msisdn",
    "whatsapp",
    "phonenumber",
    "mobilenumber",
    "telefon",
    "telefono",
];

/// Whether `key` names a phone number (`phone`, `mobile`, `tel`,
/// `phone_number`, `contactPhone`, `mobile_no`), so that a number stored
/// under it is one even without separators. The phone word must end the
/// key or be followed only by `number`, `no`, `num` or `nr`
/// (`mobile_users` is a count).
pub(crate) fn is_phone_key(key: &str) -> bool {
    let mut phone = false;
    for_each_word(key, |word| {
        let mut buf = [0u8; MAX_WORD];
        let Some(n) = lower(word, &mut buf) else {
            phone = false;
            return true;
        };
        let w = &buf[..n];
        if PHONE_WORDS.iter().any(|p| p.as_bytes() == w) {
            phone = true;
        } else if !(phone && matches!(w, b"number" | b"no" | b"num" | b"nr")) {
            phone = false;
        }
        true
    });
    phone
}

/// A key name added by configuration, as lower-case words.
#[derive(Clone, Debug)]
pub(crate) struct ExtraKey {
    words: Vec<String>,
    joined: String,
}

impl ExtraKey {
    /// `None` when the name has no letters or digits.
    pub(crate) fn new(name: &str) -> Option<ExtraKey> {
        let words = words_of(name);
        if words.is_empty() {
            return None;
        }
        let joined = words.concat();
        Some(ExtraKey { words, joined })
    }

    /// The name, lower-cased and without separators (for the prefilter).
    pub(crate) fn joined(&self) -> &str {
        &self.joined
    }

    /// The longest word of the name (for the prefilter of assignments).
    pub(crate) fn longest_word(&self) -> &str {
        self.words
            .iter()
            .max_by_key(|w| w.len())
            .map_or("", String::as_str)
    }
}

fn words_of(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    for_each_word(key, |w| {
        words.push(w.to_ascii_lowercase());
        true
    });
    words
}

/// Decides which keys name secrets: the built-in vocabulary (unless the
/// `sensitive_key` rule is off) and the names added by configuration.
#[derive(Clone, Debug)]
pub(crate) struct KeyMatcher {
    builtin: bool,
    extra: Vec<ExtraKey>,
    phones: bool,
}

impl KeyMatcher {
    /// `builtin`: the built-in vocabulary applies to object keys;
    /// `extra`: names added by configuration; `phones`: numbers under
    /// phone-like keys are phone numbers (the `phone` rule is on).
    pub(crate) fn new(builtin: bool, extra: Vec<ExtraKey>, phones: bool) -> KeyMatcher {
        KeyMatcher {
            builtin,
            extra,
            phones,
        }
    }

    /// Whether a bare number under `key` is a phone number.
    pub(crate) fn is_phone_key(&self, key: &str) -> bool {
        self.phones && is_phone_key(key)
    }

    /// The extra names (for building the prefilter).
    pub(crate) fn extra(&self) -> &[ExtraKey] {
        &self.extra
    }

    /// Whether an object key names a secret.
    pub(crate) fn is_sensitive(&self, key: &str) -> bool {
        (self.builtin && is_builtin_secret_key(key)) || self.matches_extra(key)
    }

    /// Whether the key of a `key=value` assignment names a secret: the
    /// built-in vocabulary always applies here (the assignment rule has its
    /// own switch), and so do the extra names.
    pub(crate) fn is_sensitive_assignment(&self, key: &str) -> bool {
        is_builtin_secret_key(key) || self.matches_extra(key)
    }

    fn matches_extra(&self, key: &str) -> bool {
        if self.extra.is_empty() {
            return false;
        }
        let words = words_of(key);
        let joined = words.concat();
        self.extra.iter().any(|extra| {
            joined == extra.joined
                || words
                    .windows(extra.words.len())
                    .any(|window| window == extra.words.as_slice())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(key: &str) -> Vec<String> {
        words_of(key)
    }

    #[test]
    fn splitting_handles_separators_case_and_digits() {
        assert_eq!(words("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("CSRFToken"), ["csrf", "token"]);
        assert_eq!(words("password2"), ["password", "2"]);
        assert_eq!(words("user.session_id"), ["user", "session", "id"]);
        assert_eq!(words("__"), Vec::<String>::new());
        assert_eq!(words("ключ_token"), ["token"]);
    }

    #[test]
    fn every_secret_key_contains_a_stem() {
        let has_stem = |key: &str| {
            let key = key.to_ascii_lowercase();
            STEMS.iter().any(|s| key.contains(s))
        };
        for word in SECRET_WORDS {
            assert!(has_stem(word), "{word}");
        }
        for (first, second) in [
            ("api", "key"),
            ("private", "key"),
            ("access", "key"),
            ("credit", "card"),
            ("card", "number"),
            ("set", "cookie"),
            ("social", "security"),
        ] {
            assert!(is_secret_pair(first.as_bytes(), second.as_bytes()));
            assert!(has_stem(first) || has_stem(second), "{first} {second}");
        }
        for key in SECRET_KEYS {
            assert!(has_stem(key), "{key}");
        }
    }

    #[test]
    fn secret_keys() {
        for key in SECRET_KEYS {
            assert!(is_builtin_secret_key(key), "{key} should be secret");
        }
    }

    const SECRET_KEYS: &[&str] = &[
        "password",
        "Password",
        "PASSWD",
        "pwd",
        "db_password",
        "user-password",
        "passwordHash",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "accessToken",
        "refresh-token",
        "api_key",
        "apikey",
        "APIKEY",
        "x-api-key",
        "X-API-KEY",
        "apiKey",
        "auth",
        "Authorization",
        "proxy-authorization",
        "credentials",
        "credential",
        "private_key",
        "privateKey",
        "session",
        "session_id",
        "sessionId",
        "JSESSIONID",
        "cookie",
        "Set-Cookie",
        "set_cookie",
        "csrf",
        "x-csrf-token",
        "xsrf-token",
        "jwt",
        "ssn",
        "social_security_number",
        "credit_card",
        "creditCardNumber",
        "card_number",
        "cvv",
        "aws_secret_access_key",
        "AWS_ACCESS_KEY_ID",
        "oauth2_token",
        "github.token",
    ];

    #[test]
    fn ordinary_keys() {
        for key in [
            "author",
            "authors",
            "Author",
            "authored_by",
            "token_count",
            "prompt_tokens",
            "completion_tokens",
            "max_tokens",
            "total_tokens",
            "tokens",
            "tokenizer",
            "token_type",
            "auth_type",
            "auth_method",
            "session_count",
            "session_ttl",
            "token_expires_at",
            "password_policy",
            "cookie_name",
            "key",
            "keys",
            "keyboard",
            "monkey",
            "primary_key",
            "id",
            "user_id",
            "message",
            "model",
            "pass_rate",
            "secretary",
            "passage",
            "csrf_enabled",
            "",
        ] {
            assert!(!is_builtin_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn extra_keys_match_whole_words_or_the_joined_name() {
        let extra = vec![
            ExtraKey::new("ticket_id").unwrap_or_else(|| unreachable!()),
            ExtraKey::new("pin").unwrap_or_else(|| unreachable!()),
        ];
        let m = KeyMatcher::new(false, extra, true);
        assert!(m.is_sensitive("ticket_id"));
        assert!(m.is_sensitive("TicketId"));
        assert!(m.is_sensitive("ticketid"));
        assert!(m.is_sensitive("support.ticket-id"));
        assert!(m.is_sensitive("PIN"));
        assert!(!m.is_sensitive("pinned"));
        assert!(!m.is_sensitive("ticket"));
        assert!(
            !m.is_sensitive("password"),
            "built-in vocabulary switched off"
        );
        assert!(m.is_sensitive_assignment("password"), "assignments keep it");
        assert!(ExtraKey::new("--").is_none());
    }
}
