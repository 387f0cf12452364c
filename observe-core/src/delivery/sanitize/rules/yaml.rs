//! Kubernetes `Secret` manifests: every value under `data:` or
//! `stringData:` is a secret, whatever its key (`.dockerconfigjson`,
//! `tls.key`, `DATABASE_URL`), including block scalars (`key: |`).

use regex::Regex;

use super::value;

/// A `data:` or `stringData:` line; group 1 is its indentation.
pub(crate) const HEADER: &str = r"(?m)^([ \t]*)(?:data|stringData):[ \t]*\r?$";

/// Calls `hit(start, end)` for each value of the data blocks of a text
/// that declares `kind: Secret`.
pub(crate) fn collect(regex: &Regex, text: &str, hit: &mut dyn FnMut(usize, usize)) {
    if !declares_secret(text) {
        return;
    }
    for caps in regex.captures_iter(text) {
        let (Some(whole), Some(indent)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        block_values(text, whole.end(), indent.len(), hit);
    }
}

/// `kind: Secret` (not `kind: SecretProviderClass`), in YAML or JSON.
fn declares_secret(text: &str) -> bool {
    ["kind: Secret", "kind: \"Secret\"", "\"kind\": \"Secret\""]
        .iter()
        .any(|needle| {
            text.match_indices(needle).any(|(i, m)| {
                !text[i + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
            })
        })
}

/// The lines after a block header at `from`, indented deeper than
/// `indent`: each `key: value` gives its value.
fn block_values(text: &str, from: usize, indent: usize, hit: &mut dyn FnMut(usize, usize)) {
    let mut scalar_indent: Option<usize> = None;
    let mut at = from;
    for line in text[from..].split_inclusive('\n') {
        let start = at;
        at += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let body = content.trim_start_matches([' ', '\t']);
        if body.is_empty() {
            continue;
        }
        let depth = content.len() - body.len();
        if depth <= indent {
            break;
        }
        let body_start = start + depth;
        if let Some(d) = scalar_indent {
            if depth > d {
                hit(body_start, body_start + body.trim_end().len());
                continue;
            }
            scalar_indent = None;
        }
        let Some(colon) = body
            .find(": ")
            .or_else(|| body.ends_with(':').then(|| body.len() - 1))
        else {
            continue;
        };
        let raw = &body[colon + 1..];
        let v = raw.trim();
        if matches!(v, "|" | "|-" | "|+" | ">" | ">-" | ">+") {
            scalar_indent = Some(depth);
            continue;
        }
        let unquoted = v.trim_matches(['"', '\'']);
        if unquoted.is_empty() || value::is_not_secret(unquoted) {
            continue;
        }
        let offset = body_start + colon + 1 + (raw.len() - raw.trim_start().len());
        let inner = offset + (v.len() - v.trim_start_matches(['"', '\'']).len());
        hit(inner, inner + unquoted.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<&str> {
        let regex = Regex::new(HEADER).unwrap_or_else(|e| panic!("{e}"));
        let mut spans = Vec::new();
        collect(&regex, text, &mut |s, e| spans.push((s, e)));
        spans.into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn values_under_data_of_a_secret() {
        let manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  .dockerconfigjson: \"eyJhdXRocyI6e319\"\n  tls.key: |\n    LS0tLS1CRUdJTg==\n    QUJDRA==\nstringData:\n  DATABASE_URL: postgres://u:p@h/db\n";
        assert_eq!(
            values(manifest),
            [
                "YWRtaW4=",
                "eyJhdXRocyI6e319",
                "LS0tLS1CRUdJTg==",
                "QUJDRA==",
                "postgres://u:p@h/db"
            ]
        );
    }

    #[test]
    fn other_kinds_are_left_alone() {
        assert!(values("kind: ConfigMap\ndata:\n  mode: fast\n").is_empty());
        assert!(values("kind: SecretProviderClass\ndata:\n  mode: fast\n").is_empty());
    }
}
