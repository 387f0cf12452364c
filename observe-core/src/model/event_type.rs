//! The built-in event type registry: a closed enum, so no event can be emitted
//! with a type name that is not registered.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::registry::const_str_eq;

/// Declares the built-in [`EventType`] enum from the one table in
/// [`builtin`](crate::model::registry::builtin): a variant, a wire name and
/// a doc line per type.
macro_rules! define_event_types {
    (
        event_types { $( $(#[$meta:meta])* $variant:ident = $name:literal, )* }
        processors { $($processors:tt)* }
    ) => {
        /// Every event type `observe` emits by default.
        ///
        /// The list is closed: a new type needs a change to the built-in
        /// registry's table (and a review), which is the specification's
        /// "future types require PR review". On the wire a type is its
        /// snake_case name, for example `retrieval_started`.
        ///
        /// An application can declare types of its own with
        /// `observe::registry!`; they appear here as
        /// [`EventType::Custom`], which only that macro can construct, so
        /// every type is still checked when the program compiles.
        ///
        /// ```
        /// use observe::EventType;
        ///
        /// assert_eq!(EventType::RetrievalStarted.as_str(), "retrieval_started");
        /// assert_eq!(EventType::parse("llm_complete"), Ok(EventType::LlmComplete));
        /// assert!(EventType::parse("llm_finished").is_err());
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventType {
            $( $(#[$meta])* $variant, )*
            /// A type from an application's own registry, declared with
            /// `observe::registry!`.
            Custom(CustomEventType),
        }

        impl EventType {
            /// Every built-in type, in the table's order.
            pub const ALL: [EventType; [$($name),*].len()] = [$(EventType::$variant),*];

            /// The wire name of this type, in snake_case.
            pub const fn as_str(self) -> &'static str {
                match self {
                    EventType::Custom(custom) => custom.as_str(),
                    $( EventType::$variant => $name, )*
                }
            }
        }
    };
}

crate::model::registry::builtin!(define_event_types);

/// An event type declared in an application's registry with
/// `observe::registry!`; only that macro makes one, after checking
/// its name at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomEventType {
    /// A thin pointer (to a `&'static str`), so that an `EventType` stays
    /// two words and records on the hot path stay small.
    name: &'static &'static str,
}

impl CustomEventType {
    /// Used by `observe::registry!`, which checks `name` first.
    #[doc(hidden)]
    pub const fn __declare(name: &'static &'static str) -> CustomEventType {
        assert_valid_event_name(name);
        CustomEventType { name }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        self.name
    }
}

impl EventType {
    /// Looks a wire name up in the built-in registry.
    ///
    /// An unregistered name is an [`UnknownEventType`] carrying the name, so a
    /// consumer can log it and skip the event; it is never mapped to another
    /// type. Names are matched exactly (case-sensitive).
    pub fn parse(name: &str) -> Result<EventType, UnknownEventType> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnknownEventType {
                name: name.to_owned(),
            })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EventType::parse(name)
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        EventType::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// An event type name that is not in the registry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("unknown event type `{name}`: not in the observe event type registry")]
pub struct UnknownEventType {
    /// The name as it was found.
    pub name: String,
}

/// Checks an application's event type name at compile time (it runs in
/// const evaluation when `observe::registry!` declares a type): the rule
/// of [`event_name_error`].
const fn assert_valid_event_name(name: &str) {
    if let Some(error) = event_name_error(name) {
        panic!("{}", error);
    }
}

/// What is wrong with `name` as an application's event type name, if
/// anything: it must be snake_case ASCII, start with a letter, have at most
/// 64 bytes, and not be a built-in name. One rule for the registry's
/// compile-time check and for readers that take unknown names as custom
/// types.
pub(crate) const fn event_name_error(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return Some("an event type name has 1 to 64 characters");
    }
    if !bytes[0].is_ascii_lowercase() {
        return Some("an event type name starts with a lower-case letter");
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Some("an event type name is snake_case: lower-case letters, digits and `_`");
        }
        i += 1;
    }
    let mut t = 0;
    while t < EventType::ALL.len() {
        if const_str_eq(EventType::ALL[t].as_str(), name) {
            return Some("this event type name is already a built-in type: use observe::EventType");
        }
        t += 1;
    }
    None
}

/// The custom types made from names found while reading, one per name.
static READ_TYPES: std::sync::Mutex<Vec<&'static &'static str>> = std::sync::Mutex::new(Vec::new());

/// At most this many names become custom types while reading, so a store
/// full of made-up names cannot grow a reader's memory without bound.
pub(crate) const READ_TYPES_LIMIT: usize = 4096;

impl CustomEventType {
    /// A custom type named `name`, for a reader that shows the events of
    /// any application: `None` if the name breaks the registry's rule or
    /// [`READ_TYPES_LIMIT`] names were taken already. Each name is kept
    /// once for the life of the process.
    pub(crate) fn read(name: &str) -> Option<CustomEventType> {
        if event_name_error(name).is_some() {
            return None;
        }
        let mut names = READ_TYPES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&known) = names.iter().find(|n| ***n == name) {
            return Some(CustomEventType { name: known });
        }
        if names.len() >= READ_TYPES_LIMIT {
            return None;
        }
        let text: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let name: &'static &'static str = Box::leak(Box::new(text));
        names.push(name);
        Some(CustomEventType { name })
    }
}
