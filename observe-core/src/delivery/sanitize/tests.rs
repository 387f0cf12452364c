//! Unit tests of the sanitizer as a whole; the corpus and property tests are
//! in the workspace's `tests/`.

use serde_json::{Value, json};

use super::*;
use crate::CorrelationContext;

fn scrub(text: &str) -> String {
    Sanitizer::new().scrub_str(text).0.into_owned()
}

fn payload(v: Value) -> Payload {
    match v {
        Value::Object(m) => m,
        _ => Payload::new(),
    }
}

#[test]
fn sanitizer_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Sanitizer>();
    let a = Sanitizer::new();
    let b = a.clone();
    assert!(Arc::ptr_eq(&a.inner, &b.inner));
}

#[test]
fn provider_keys_are_redacted() {
    for (text, rule) in [
        ("key AKIAZ7XQ4M2KP9RTW3NB here", "aws_access_key"),
        ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github_token"),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "slack_token",
        ),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe_key"),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "google_api_key"),
        ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "openai_key"),
        (
            "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
            "anthropic_key",
        ),
    ] {
        let (clean, report) = Sanitizer::new().scrub_str(text);
        assert!(clean.contains(REDACTED), "{text}: {clean}");
        assert_eq!(report.count(rule), 1, "{text}: {report:?}");
        assert_eq!(report.total(), 1, "{text}: {report:?}");
    }
}

#[test]
fn assignments_in_query_strings_and_headers() {
    assert_eq!(
        scrub("https://api.example.com/v1?user=ann&password=hunter2&page=2"),
        "https://api.example.com/v1?user=ann&password=[REDACTED]&page=2"
    );
    assert_eq!(
        scrub("Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\nAccept: */*"),
        "Authorization: [REDACTED]\r\nAccept: */*"
    );
    assert_eq!(
        scrub("Cookie: sid=31d4d96e407aad42; theme=dark"),
        "Cookie: [REDACTED]; theme=dark"
    );
    assert_eq!(
        scrub(r#"config {"api_key": "abc123"} end"#),
        r#"config {"api_key": "[REDACTED]"} end"#
    );
    assert_eq!(
        scrub(r#"{\"password\":\"s3cr3t\"}"#),
        r#"{\"password\":\"[REDACTED]\"}"#
    );
    assert_eq!(
        scrub("token count: 1200, max_tokens=4096"),
        "token count: 1200, max_tokens=4096"
    );
    assert_eq!(scrub("author: Jane"), "author: Jane");
}

#[test]
fn url_credentials_keep_the_host() {
    assert_eq!(
        scrub("postgres://app:s3cr3t@db.internal:5432/main"),
        "postgres://[REDACTED]@db.internal:5432/main"
    );
}

#[test]
fn strings_holding_json_are_scrubbed_as_json() {
    let s = Sanitizer::new();
    let (clean, report) = s.scrub_str(r#"{"user": {"password": [1, 2]}, "note": "mail a@b.io"}"#);
    let v: Value = serde_json::from_str(&clean).unwrap_or_default();
    assert_eq!(v["user"]["password"], REDACTED);
    assert_eq!(v["note"], "mail [REDACTED]");
    assert_eq!(report.total(), 2);
    let clean_json = r#"{ "a": [1, 2, 3] }"#;
    assert!(matches!(s.scrub_str(clean_json).0, Cow::Borrowed(_)));
}

#[test]
fn keys_values_and_nested_values() {
    let mut p = payload(json!({
        "user": {"email": "ann@example.org", "Password": {"deep": ["x"]}, "author": "Ann"},
        "items": [{"note": "call (415) 555-0132"}, "card 4111 1111 1111 1111"],
        "card": 4111111111111111u64,
        "ann@example.org": "key holds an email",
        "session_id": null,
        "prompt_tokens": 12,
    }));
    let report = Sanitizer::new().sanitize_payload(&mut p);
    assert_eq!(p["user"]["email"], REDACTED);
    assert_eq!(p["user"]["Password"], REDACTED);
    assert_eq!(p["user"]["author"], "Ann");
    assert_eq!(p["items"][0]["note"], "call [REDACTED]");
    assert_eq!(p["items"][1], "card [REDACTED]");
    assert_eq!(p["card"], REDACTED);
    assert_eq!(p[REDACTED], "key holds an email");
    assert_eq!(p["session_id"], REDACTED);
    assert_eq!(p["prompt_tokens"], 12);
    assert_eq!(report.count("sensitive_key"), 2);
    assert_eq!(report.count("email"), 2);
    assert_eq!(report.count("credit_card"), 2);
    assert_eq!(report.count("phone"), 1);
}

#[test]
fn sanitizing_twice_changes_nothing_more() {
    let mut p = payload(json!({"password": "x", "t": "a@b.io and 4111111111111111"}));
    let s = Sanitizer::new();
    s.sanitize_payload(&mut p);
    let once = p.clone();
    let report = s.sanitize_payload(&mut p);
    assert_eq!(p, once);
    assert!(report.is_empty(), "{report:?}");
}

#[test]
fn error_events_are_scrubbed_then_cut() {
    let secret = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    let mut error = crate::ErrorPayload::new(
        "AuthError",
        format!("{}{secret} rejected", "x".repeat(490)),
        "llm",
    );
    error.stack_frames = (0..25)
        .map(|i| format!("at frame{i} (app.rs:{i})"))
        .collect();
    error.input_preview = format!("{} my email is ann@example.org", "y".repeat(70));
    let mut event = Event::new(EventType::ErrorOccurred, &CorrelationContext::new_root())
        .with_payload(Value::Object(error.to_payload()));
    let report = Sanitizer::new().sanitize_event(&mut event);
    let back: crate::ErrorPayload =
        serde_json::from_value(Value::Object(event.payload.clone())).unwrap_or_default();
    assert!(report.truncated());
    assert_eq!(back.error_message.chars().count(), 500);
    assert!(
        !back.error_message.contains("ghp_"),
        "scrubbed before the cut"
    );
    assert!(back.error_message.ends_with(TRUNCATION_MARKER));
    assert_eq!(back.stack_frames.len(), 10);
    assert_eq!(back.stack_frames_omitted, 15);
    let preview = back.input_preview;
    assert!(preview.chars().count() <= 100);
    assert!(!preview.contains("ann@"), "{preview}");
    assert!(preview.contains(REDACTED));
}

#[test]
fn other_events_keep_long_fields_within_the_size_limit() {
    let mut event = Event::new(EventType::LlmComplete, &CorrelationContext::new_root())
        .with_payload(json!({"error_message": "z".repeat(800)}));
    let report = Sanitizer::new().sanitize_event(&mut event);
    assert_eq!(
        event.payload["error_message"].as_str().map(str::len),
        Some(800)
    );
    assert!(report.is_empty());
}

#[test]
fn deep_nesting_is_cut_without_recursion_trouble() {
    let mut deep = Value::String("bottom".into());
    for _ in 0..100_000 {
        deep = Value::Array(vec![deep]);
    }
    let mut p = Payload::new();
    p.insert("deep".into(), deep);
    // A small stack shows that nothing recurses per level past the limit.
    let report = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let report = Sanitizer::new().sanitize_payload(&mut p);
            let json = serde_json::to_string(&p).unwrap_or_default();
            (
                report,
                json.replace(DEPTH_MARKER, "").matches('[').count(),
                json.contains(DEPTH_MARKER),
            )
        })
        .map(|h| h.join());
    let Ok(Ok((report, brackets, marked))) = report else {
        panic!("sanitizer thread failed");
    };
    assert_eq!(report.count("max_depth"), 1);
    assert!(report.truncated());
    // The payload object and 63 arrays: 64 levels.
    assert_eq!(brackets, MAX_DEPTH - 1);
    assert!(marked);
}

#[test]
fn builder_configuration() {
    let s = Sanitizer::builder()
        .redact_key("ticket_id")
        .pattern("employee", r"EMP-(?P<secret>[0-9]{6})")
        .disable_rule("email")
        .disable_rule("sensitive_key")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut p = payload(json!({
        "TicketId": 7,
        "password": "kept: key rule off",
        "note": "EMP-123456 wrote to a@b.io, log says ticket_id=99",
    }));
    let report = s.sanitize_payload(&mut p);
    assert_eq!(p["TicketId"], REDACTED);
    assert_eq!(p["password"], "kept: key rule off");
    assert_eq!(
        p["note"],
        "EMP-[REDACTED] wrote to a@b.io, log says ticket_id=[REDACTED]"
    );
    assert_eq!(report.count("employee"), 1);
    assert_eq!(report.count("secret_assignment"), 1);
}

#[test]
fn builder_errors() {
    let err = |b: SanitizerBuilder| b.build().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err(Sanitizer::builder().pattern("bad", "a(")).contains("`bad`"));
    assert!(err(Sanitizer::builder().pattern("empty", "x*")).contains("empty string"));
    assert!(err(Sanitizer::builder().pattern("email", "x")).contains("already used"));
    assert!(err(Sanitizer::builder().pattern("a", "x").pattern("a", "y")).contains("already used"));
    assert!(err(Sanitizer::builder().disable_rule("emails")).contains("no built-in rule"));
    assert!(err(Sanitizer::builder().redact_key("--")).contains("no letter"));
    let all = Sanitizer::builtin_rules().fold(Sanitizer::builder(), |b, r| b.disable_rule(r));
    let s = all.build().unwrap_or_else(|e| panic!("{e}"));
    let text = "password=x a@b.io 4111111111111111 AKIAIOSFODNN7EXAMPLE";
    assert_eq!(s.scrub_str(text).0, text);
}

#[test]
fn preview_scrubs_before_cutting() {
    let s = Sanitizer::new();
    let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let text = format!("{}{secret}", "a".repeat(90));
    let preview = s.preview(&text, 100);
    assert!(!preview.contains("sk_live"));
    assert!(preview.chars().count() <= 100);
    assert_eq!(s.preview("short", 100), "short");
}

#[test]
fn card_numbers_next_to_other_digits() {
    assert_eq!(scrub("4111 1111 1111 1111 2025"), "[REDACTED] 2025");
    assert_eq!(scrub("12 4111111111111111"), "12 [REDACTED]");
    assert_eq!(scrub("4111111111111111 7"), "[REDACTED] 7");
    assert_eq!(scrub("1234 5678 9012 3456"), "1234 5678 9012 3456");
}

#[test]
fn a_phone_number_followed_by_glued_digits_is_still_redacted() {
    // Found by the planted-secret property test: the greedy candidate
    // `+1 415 555 0132 0` fails the boundary check because `-` follows it;
    // the number inside it must not survive.
    let sanitizer = Sanitizer::new();
    for text in [
        " +1 415 555 0132 0-€",
        "call 415-555-0132 7-b",
        "+44 20 7946 0958 1_x",
    ] {
        let (clean, report) = sanitizer.scrub_str(text);
        assert!(
            !clean.contains("555 0132") && !clean.contains("555-0132"),
            "{text:?} -> {clean:?}"
        );
        assert!(!clean.contains("7946 0958"), "{text:?} -> {clean:?}");
        assert_eq!(report.count("phone"), 1, "{text:?} -> {clean:?}");
    }
}

#[test]
fn a_wrapped_value_in_debug_output_is_redacted_whole_and_counted_once() {
    let s = Sanitizer::new();
    for (text, want) in [
        (
            r#"Creds { password: Some("Hunter2Secret") }"#,
            "Creds { password: [REDACTED] }",
        ),
        (r#"{"password": Some("x")}"#, r#"{"password": [REDACTED]}"#),
        (
            "Creds {\n    password: Some(\n        \"Hunter2Secret\",\n    ),\n}",
            "Creds {\n    password: [REDACTED],\n}",
        ),
        (
            r#"Config { api_key: Some(Secret("a)b\"c")), user: "ann" }"#,
            r#"Config { api_key: [REDACTED], user: "ann" }"#,
        ),
        (
            r#"Login { token: SecretString { inner: "tok_1" } }"#,
            "Login { token: [REDACTED] }",
        ),
        (
            "Creds { password: [104, 117, 110] }",
            "Creds { password: [REDACTED] }",
        ),
    ] {
        let (clean, report) = s.scrub_str(text);
        assert_eq!(clean, want, "{text}");
        assert_eq!(report.total(), 1, "{text}: {report:?}");
    }
}

#[test]
fn more_key_names_name_secrets() {
    let mut p = payload(json!({
        "signing_key": "k1", "encryptionKey": "k2", "passcode": "1234", "pin": 4321,
        "PIN_code": "9999", "password_used": "hunter2", "BUNDLE_GEMS__EXAMPLE__COM": "u:p",
        "pinned": true, "spinner": "dots", "pin_count": 3, "gpio_pin": 13, "tokens_used": 812,
    }));
    let report = Sanitizer::new().sanitize_payload(&mut p);
    for key in [
        "signing_key",
        "encryptionKey",
        "passcode",
        "pin",
        "PIN_code",
        "password_used",
        "BUNDLE_GEMS__EXAMPLE__COM",
    ] {
        assert_eq!(p[key], REDACTED, "{key}");
    }
    assert_eq!(p["pinned"], true);
    assert_eq!(p["spinner"], "dots");
    assert_eq!(p["pin_count"], 3);
    assert_eq!(p["gpio_pin"], 13);
    assert_eq!(p["tokens_used"], 812);
    assert_eq!(report.count("sensitive_key"), 7);
}

#[test]
fn unicode_url_encoded_and_glued_emails_are_redacted() {
    assert_eq!(scrub("mail jöhn@exämple.de now"), "mail [REDACTED] now");
    assert_eq!(
        scrub("GET /users/jane.doe%40example.com/profile"),
        "GET /users/[REDACTED]/profile"
    );
    assert_eq!(
        scrub("report_jane.doe@example.com_final.pdf"),
        "[REDACTED]_final.pdf"
    );
}

#[test]
fn phone_numbers_stored_as_numbers_under_phone_keys_are_redacted() {
    let mut p = payload(json!({
        "phone": 4155550132u64, "mobile": 447700900461u64, "tel": "4155550199",
        "phone_number": 4155550123.0, "contact": {"phoneNumber": 4155550111u64},
        "mobile_users": 1234567, "phone_count": 12345678, "order_id": 4155550132u64,
    }));
    let report = Sanitizer::new().sanitize_payload(&mut p);
    assert_eq!(p["phone"], REDACTED);
    assert_eq!(p["mobile"], REDACTED);
    assert_eq!(p["tel"], REDACTED);
    assert_eq!(p["phone_number"], REDACTED);
    assert_eq!(p["contact"]["phoneNumber"], REDACTED);
    assert_eq!(p["mobile_users"], 1234567);
    assert_eq!(p["phone_count"], 12345678);
    assert_eq!(p["order_id"], 4155550132u64);
    assert_eq!(report.count("phone"), 5);
}

#[test]
fn card_numbers_with_dots_no_break_spaces_or_as_floats_are_redacted() {
    for text in [
        "card 4111.1111.1111.1111 ok",
        "card 4111\u{a0}1111\u{a0}1111\u{a0}1111 ok",
        "card 4111\u{202f}1111\u{202f}1111\u{202f}1111 ok",
        "card 4111111111111111.0 ok",
    ] {
        let (clean, report) = Sanitizer::new().scrub_str(text);
        assert!(
            clean.starts_with("card [REDACTED]"),
            "{text:?} -> {clean:?}"
        );
        assert_eq!(report.count("credit_card"), 1, "{text:?}");
    }
    let mut p = payload(json!({"amount": 4111111111111111.0, "ratio": 4.532015112830366}));
    Sanitizer::new().sanitize_payload(&mut p);
    assert_eq!(p["amount"], REDACTED);
    assert_eq!(p["ratio"], 4.532015112830366);
    assert_eq!(scrub("pi is 3.14159265358979"), "pi is 3.14159265358979");
}

#[test]
fn passwords_on_a_command_line_are_redacted() {
    for (text, want) in [
        (
            "app --password Hunter2Secret --verbose",
            "app --password [REDACTED] --verbose",
        ),
        (
            "deploy --token X9f3kQ2 now",
            "deploy --token [REDACTED] now",
        ),
        ("deploy --api-key=abc123", "deploy --api-key=[REDACTED]"),
        (
            "mysql -u root -pHunter2Secret shop",
            "mysql -u root -p[REDACTED] shop",
        ),
        (
            "sshpass -p 'Hunter2 x' ssh host",
            "sshpass -p [REDACTED] ssh host",
        ),
        (
            "curl -u admin:Hunter2Secret https://x.io",
            "curl -u [REDACTED] https://x.io",
        ),
        ("use the --token flag", "use the --token flag"),
        (
            "curl -u $USER:$PASS https://x.io",
            "curl -u $USER:$PASS https://x.io",
        ),
    ] {
        assert_eq!(scrub(text), want, "{text}");
    }
}

#[test]
fn bare_provider_tokens_are_redacted() {
    for token in [
        "ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUl4TWpNME5UWTNPRGt3SW4w",
        "sgp_0123456789abcdef0123456789abcdef01234567",
        "ntn_12345678901AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "EAACEdEose0cBAAb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9",
        "A3-ABC123-DEF456-GHI78-JKL90-MNO12-PQR34",
        "hvs.CAESIAb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "hvb.AAAAAQAb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0",
        "glc_eyJvIjoiMTIzNDU2IiwibiI6InN0YWNrLTEyMzQ1Ni1ocG0td3JpdGUiLCJrIjoiYWJjIn0=",
        "sq0csp-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        "glpat-Ab3dEf6hIj9kLm2nOp5q",
        "npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d",
        "dapi0123456789abcdef0123456789abcdef",
        "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",
        "SK0123456789abcdef0123456789abcdef",
        "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "shpat_0123456789abcdef0123456789abcdef",
        "lin_api_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6h",
        "dp.pt.Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9",
        "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",
    ] {
        let text = format!("found {token} in the logs");
        let (clean, report) = Sanitizer::new().scrub_str(&text);
        assert_eq!(clean, "found [REDACTED] in the logs", "{token}");
        assert_eq!(report.total(), 1, "{token}: {report:?}");
    }
}

#[test]
fn assignment_styles_beyond_equals_and_colon_are_redacted() {
    for (text, want) in [
        ("API_KEY := \"s3cr3t\"", "API_KEY := \"[REDACTED]\""),
        ("API_KEY ::= s3cr3t", "API_KEY ::= [REDACTED]"),
        ("API_KEY ?= s3cr3t", "API_KEY ?= [REDACTED]"),
        ("$password .= 's3cr3t';", "$password .= '[REDACTED]';"),
        (
            "var apiToken string = \"s3cr3t\"",
            "var apiToken string = \"[REDACTED]\"",
        ),
        (
            "const API_KEY: &str = \"s3cr3t\";",
            "const API_KEY: &str = \"[REDACTED]\";",
        ),
        (
            "<password>s3cr3t</password>",
            "<password>[REDACTED]</password>",
        ),
        (
            "<add key=\"Password\" value=\"s3cr3t\"/>",
            "<add key=\"Password\" value=\"[REDACTED]\"/>",
        ),
        (
            "System.setProperty(\"X_TOKEN\", \"s3cr3t\");",
            "System.setProperty(\"X_TOKEN\", \"[REDACTED]\");",
        ),
        (
            "os.environ[\"API_KEY\"] = \"s3cr3t\"",
            "os.environ[\"API_KEY\"] = \"[REDACTED]\"",
        ),
        ("export X_TOKEN=s3cr3t", "export X_TOKEN=[REDACTED]"),
        (
            "BUNDLE_GEMS__EXAMPLE__COM: \"deploy:s3cr3t\"",
            "BUNDLE_GEMS__EXAMPLE__COM: \"[REDACTED]\"",
        ),
        (
            "kind: Secret\ndata:\n  db_url: cG9zdGdyZXM6Ly8=\n",
            "kind: Secret\ndata:\n  db_url: [REDACTED]\n",
        ),
    ] {
        assert_eq!(scrub(text), want, "{text}");
    }
}

#[test]
fn authorization_headers_lose_the_credential_whatever_the_scheme() {
    for scheme in ["Api-Token", "FlyV1", "Token", "Basic", "Bearer", "SSWS"] {
        let text =
            format!("Authorization: {scheme} fm2_lJPEC9xAb3dEf6hIj9,fm2_kLm2nOp5q\r\nAccept: */*");
        assert_eq!(
            scrub(&text),
            "Authorization: [REDACTED]\r\nAccept: */*",
            "{scheme}"
        );
    }
}

#[test]
fn references_placeholders_and_look_alikes_are_left_whole() {
    for text in [
        "https://cdn.example.com/2019/05/hugs-and-xoxo-indieweb-1.jpg",
        "password = \"${aws_db_instance.default.password}\"",
        "DB_PASSWORD=${aws_db_instance.default.password}",
        "password: {{ .Values.Password }}",
        "api_key: $API_KEY",
        "password=%(password)s",
        "password: <%= ENV['DB_PASSWORD'] %>",
        "apiKey: process.env.API_KEY",
        "token = os.getenv(\"GITHUB_TOKEN\")",
        "AKIAIOSFODNN7EXAMPLE",
        "SLACK_TOKEN=xoxb-xxxx",
        "api_key: your-api-key-here",
        "token: <token>",
        "password: ****",
        "Authorization: Bearer $TOKEN",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkAIzaSyAIza0123456789abcdefghijABCDEFGHIJKLmnopqrstuvwxyz0123456789AB==",
    ] {
        let (clean, report) = Sanitizer::new().scrub_str(text);
        assert_eq!(clean, text);
        assert!(report.is_empty(), "{text}: {report:?}");
    }
}

#[test]
fn a_keyword_that_starts_a_longer_keyword_still_triggers_its_rule() {
    // `key-` (Mailgun keys) starts where `key` (assignments) does: every
    // rule whose keyword occurs must run.
    assert_eq!(
        scrub("x-api-key-v2: Hunter2Value"),
        "x-api-key-v2: [REDACTED]"
    );
}
