//! The standard OpenTelemetry environment variables, read through a lookup
//! function so the parsing is tested without touching the process's
//! environment.

use std::time::Duration;

use crate::ExportError;

/// A way to look a variable up (`std::env::var` in production).
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment; empty values count as unset.
pub(crate) fn process(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The signal-specific variable (`OTEL_EXPORTER_OTLP_TRACES_*`) if set,
/// else the general one (`OTEL_EXPORTER_OTLP_*`).
pub(crate) fn traces_or_general(lookup: Lookup<'_>, suffix: &str) -> Option<String> {
    lookup(&format!("OTEL_EXPORTER_OTLP_TRACES_{suffix}"))
        .or_else(|| lookup(&format!("OTEL_EXPORTER_OTLP_{suffix}")))
}

/// The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, or
/// `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` appended, or the
/// specification's default, `http://localhost:4318/v1/traces`.
pub(crate) fn otlp_traces_url(lookup: Lookup<'_>) -> String {
    if let Some(url) = lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return url.trim().to_owned();
    }
    let base =
        lookup("OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or_else(|| "http://localhost:4318".to_owned());
    append_traces_path(base.trim())
}

/// `base` + `/v1/traces`, with exactly one slash between them.
pub(crate) fn append_traces_path(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// A W3C-baggage-like list, `key=value,key2=value2`, values
/// percent-decoded (as `OTEL_EXPORTER_OTLP_HEADERS` and
/// `OTEL_RESOURCE_ATTRIBUTES` are written).
pub(crate) fn key_values(name: &str, text: &str) -> Result<Vec<(String, String)>, ExportError> {
    let mut pairs = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(ExportError::Environment {
                name: name.to_owned(),
                reason: format!("`{item}` is not key=value"),
            });
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ExportError::Environment {
                name: name.to_owned(),
                reason: format!("`{item}` has an empty key"),
            });
        }
        pairs.push((percent_decode(key), percent_decode(value.trim())));
    }
    Ok(pairs)
}

/// Decodes `%XX` escapes; a malformed escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A timeout in milliseconds (`OTEL_EXPORTER_OTLP_TIMEOUT`).
pub(crate) fn millis(name: &str, text: &str) -> Result<Duration, ExportError> {
    text.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| ExportError::Environment {
            name: name.to_owned(),
            reason: format!("`{text}` is not a number of milliseconds"),
        })
}

/// The resource attributes: `OTEL_RESOURCE_ATTRIBUTES`, with `service.name`
/// from `OTEL_SERVICE_NAME` when set (it wins), else from the attributes,
/// else `default_service`.
pub(crate) fn resource(
    lookup: Lookup<'_>,
    default_service: &str,
) -> Result<Vec<(String, String)>, ExportError> {
    let mut attributes = match lookup("OTEL_RESOURCE_ATTRIBUTES") {
        Some(text) => key_values("OTEL_RESOURCE_ATTRIBUTES", &text)?,
        None => Vec::new(),
    };
    let service = lookup("OTEL_SERVICE_NAME")
        .map(|s| s.trim().to_owned())
        .or_else(|| {
            attributes
                .iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| default_service.to_owned());
    attributes.retain(|(k, _)| k != "service.name");
    attributes.insert(0, ("service.name".to_owned(), service));
    Ok(attributes)
}

/// The executable's name, as the pipeline's default service name.
pub(crate) fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_traces_endpoint_wins_and_the_general_one_gets_the_path() {
        let general = vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]);
        assert_eq!(otlp_traces_url(&general), "http://collector:4318/v1/traces");
        let both = vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://x.example/custom",
            ),
        ]);
        assert_eq!(otlp_traces_url(&both), "https://x.example/custom");
        assert_eq!(
            otlp_traces_url(&vars(&[])),
            "http://localhost:4318/v1/traces"
        );
    }

    #[test]
    fn headers_and_attributes_are_decoded_and_checked() {
        let pairs = key_values("H", "api-key=a%20b, x = y ,").unwrap();
        assert_eq!(
            pairs,
            [("api-key".into(), "a b".into()), ("x".into(), "y".into())]
        );
        assert!(key_values("H", "novalue").is_err());
        assert!(key_values("H", "=v").is_err());
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn the_service_name_variable_wins_over_the_attributes() {
        let env = vars(&[
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=attr,deployment.environment=prod",
            ),
            ("OTEL_SERVICE_NAME", "chat"),
        ]);
        let resource = resource(&env, "exe").unwrap();
        assert_eq!(resource[0], ("service.name".into(), "chat".into()));
        assert_eq!(resource.len(), 2);
        let only_attrs = vars(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr")]);
        assert_eq!(resource_name(&only_attrs), "attr");
        assert_eq!(resource_name(&vars(&[])), "exe");
    }

    fn resource_name(env: &dyn Fn(&str) -> Option<String>) -> String {
        resource(env, "exe").unwrap()[0].1.clone()
    }

    #[test]
    fn timeouts_are_milliseconds() {
        assert_eq!(millis("T", "1500").unwrap(), Duration::from_millis(1500));
        assert!(millis("T", "soon").is_err());
    }
}
