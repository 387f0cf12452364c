//! Identifiers: 64-bit span ids and UUIDv7 correlation and event ids, made
//! from a per-thread generator so that no id costs a system call.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU64;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::Timestamp;

/// The id of one operation (span) within a request: 64 bits, never zero,
/// written as 16 lower-case hex digits.
///
/// ```
/// use observe::SpanId;
///
/// let id = SpanId::parse("00f067aa0ba902b7").unwrap();
/// assert_eq!(id.to_string(), "00f067aa0ba902b7");
/// assert!(SpanId::parse("0000000000000000").is_none());
/// assert_ne!(SpanId::random(), SpanId::random());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(NonZeroU64);

impl SpanId {
    /// A fresh span id from this thread's generator.
    pub fn random() -> SpanId {
        loop {
            if let Some(id) = NonZeroU64::new(next_random()) {
                return SpanId(id);
            }
        }
    }

    /// The span id with this value, or `None` for zero.
    pub const fn new(value: u64) -> Option<SpanId> {
        match NonZeroU64::new(value) {
            Some(id) => Some(SpanId(id)),
            None => None,
        }
    }

    /// The id as a number.
    pub const fn get(self) -> u64 {
        self.0.get()
    }

    /// Parses exactly 16 lower-case hex digits; `None` for anything else,
    /// including the all-zero id.
    pub fn parse(text: &str) -> Option<SpanId> {
        SpanId::new(parse_lower_hex(text.as_bytes(), 16)? as u64)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl Serialize for SpanId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SpanId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        SpanId::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "span id `{text}` is not 16 lower-case hex digits, or is zero"
            ))
        })
    }
}

/// Reads `len` lower-case hex digits as a number; `None` if the length or any
/// digit is wrong. `len` is at most 32.
pub(crate) fn parse_lower_hex(bytes: &[u8], len: usize) -> Option<u128> {
    if bytes.len() != len {
        return None;
    }
    bytes.iter().try_fold(0u128, |n, &b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(n << 4 | u128::from(digit))
    })
}

/// A UUIDv7 for this instant: 48 bits of Unix milliseconds, then 74 random
/// bits from this thread's generator (laid out by the `uuid` crate's v7
/// builder).
pub fn uuid_v7(at: Timestamp) -> Uuid {
    let millis = u64::try_from(at.unix_millis()).unwrap_or(0);
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&next_random().to_le_bytes());
    random[8..].copy_from_slice(&next_random().to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A per-thread seed: std's `RandomState` keys come from the operating
/// system's randomness once per thread, mixed with the thread id and the time.
fn seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(Timestamp::now().unix_micros() as u64);
    std::thread::current().id().hash(&mut hasher);
    hasher.finish()
}

/// SplitMix64: a bijective step, so one thread never repeats a value within
/// 2^64 draws.
fn next_random() -> u64 {
    STATE.with(|state| {
        let s = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_ids_are_distinct_and_round_trip() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| SpanId::random()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(SpanId::parse(&id.to_string()), Some(*id));
        }
    }

    #[test]
    fn span_id_parse_rejects_bad_text() {
        for bad in [
            "",
            "0",
            "00f067aa0ba902b",
            "00f067aa0ba902b7a",
            "00F067AA0BA902B7",
            "00f067aa0ba902bg",
            "0000000000000000",
            "+0f067aa0ba902b7",
        ] {
            assert_eq!(SpanId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uuid_v7_carries_version_and_time() {
        let now = Timestamp::now();
        let id = uuid_v7(now);
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(
            (secs * 1000 + u64::from(nanos) / 1_000_000) as i64,
            now.unix_millis()
        );
        assert_ne!(uuid_v7(now), id);
    }

    #[test]
    fn threads_draw_different_streams() {
        let here = SpanId::random();
        let there = std::thread::spawn(SpanId::random).join().unwrap();
        assert_ne!(here, there);
    }
}
