//! The settings an operator changes without a rebuild: read from the
//! environment by [`Config::from_env`] and [`Config::with_env`].

use super::config::Config;

/// Names the event store that `observe::init` opens as the primary sink
/// (`sqlite://<path>`, `postgres://user@host:port/db` or a path ending in
/// `.jsonl`); the same variable the `observe` command reads.
pub const STORE_ENV: &str = "OBSERVE_STORE";
/// The service stamped on every event (OpenTelemetry's own variable, so
/// events and exporters agree).
pub const SERVICE_NAME_ENV: &str = "OTEL_SERVICE_NAME";
/// How many events may wait for the worker (a positive integer).
pub const QUEUE_CAPACITY_ENV: &str = "OBSERVE_QUEUE_CAPACITY";
/// `1` or `true` turns emission off: `init` installs nothing (and the
/// not-installed notice stays quiet); `0`, `false` or empty leave it on.
pub const DISABLED_ENV: &str = "OBSERVE_DISABLED";

/// A variable of the environment held a value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("observe: {name}={value:?} {reason}; fix or unset it")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Config {
    /// [`Config::default`] with the settings of the environment applied
    /// (see [`Config::with_env`]).
    ///
    /// ```
    /// let config = observe::Config::from_env()?;
    /// assert!(config.is_enabled() || std::env::var_os("OBSERVE_DISABLED").is_some());
    /// # Ok::<(), observe::EnvError>(())
    /// ```
    pub fn from_env() -> Result<Config, EnvError> {
        Config::default().with_env()
    }

    /// Applies the settings of the environment over this configuration,
    /// so that an operator's value wins over the code's:
    ///
    /// | variable | setting |
    /// |---|---|
    /// | `OBSERVE_STORE` | [`store`](Config::store): the primary sink, opened by `observe::init` |
    /// | `OTEL_SERVICE_NAME` | [`service_name`](Config::service_name) |
    /// | `OBSERVE_QUEUE_CAPACITY` | [`queue_capacity`](Config::queue_capacity) |
    /// | `OBSERVE_DISABLED` | [`enabled`](Config::enabled)`(false)` when `1` or `true` |
    /// | `OBSERVE_QUIET` | (read by the not-installed notice itself) |
    ///
    /// Unset or empty variables change nothing. A value that cannot be
    /// used is an [`EnvError`] naming the variable, never a silent default.
    pub fn with_env(self) -> Result<Config, EnvError> {
        self.with_lookup(|name| std::env::var(name).ok())
    }

    /// [`Config::with_env`] reading from `lookup` instead of the process
    /// environment.
    pub(crate) fn with_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, EnvError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = get(STORE_ENV) {
            self = self.store(url.trim());
        }
        if let Some(service) = get(SERVICE_NAME_ENV) {
            self = self.service_name(service.trim());
        }
        if let Some(text) = get(QUEUE_CAPACITY_ENV) {
            let capacity =
                text.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(EnvError {
                        name: QUEUE_CAPACITY_ENV,
                        value: text.clone(),
                        reason: "is not a positive whole number of events",
                    })?;
            self = self.queue_capacity(capacity);
        }
        if let Some(text) = get(DISABLED_ENV) {
            let disabled = match text.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(EnvError {
                        name: DISABLED_ENV,
                        value: text,
                        reason: "is not 1/true or 0/false",
                    });
                }
            };
            self = self.enabled(!disabled);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, EnvError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::default()
            .with_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn each_variable_sets_its_setting() {
        let config = with(&[
            ("OBSERVE_STORE", " sqlite://events.db "),
            ("OTEL_SERVICE_NAME", "chat"),
            ("OBSERVE_QUEUE_CAPACITY", "4096"),
            ("OBSERVE_DISABLED", "true"),
        ])
        .unwrap();
        assert_eq!(config.get_store(), Some("sqlite://events.db"));
        assert_eq!(config.service_name, "chat");
        assert_eq!(config.get_queue_capacity(), 4096);
        assert!(!config.is_enabled());
    }

    #[test]
    fn unset_and_empty_variables_change_nothing() {
        let config = with(&[("OBSERVE_QUEUE_CAPACITY", ""), ("OBSERVE_DISABLED", " ")]).unwrap();
        let default = Config::default();
        assert_eq!(config.get_queue_capacity(), default.get_queue_capacity());
        assert_eq!(config.get_store(), None);
        assert!(config.is_enabled());
        assert!(with(&[("OBSERVE_DISABLED", "0")]).unwrap().is_enabled());
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_variable() {
        for (name, value) in [
            ("OBSERVE_QUEUE_CAPACITY", "lots"),
            ("OBSERVE_QUEUE_CAPACITY", "0"),
            ("OBSERVE_DISABLED", "maybe"),
        ] {
            let error = with(&[(name, value)]).expect_err("refused");
            assert_eq!(error.name, name);
            let text = error.to_string();
            assert!(text.contains(&format!("{name}=\"{value}\"")), "{text}");
            assert!(text.ends_with("fix or unset it"), "{text}");
        }
    }
}
