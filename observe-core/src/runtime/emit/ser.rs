//! The bounded `serde::Serializer`: builds `serde_json::Value`s as
//! `serde_json::to_value` would, within the [`Budget`], never deeper than
//! [`MAX_DEPTH`] (deeper containers are refused before their contents are
//! visited).

use serde::ser::{self, Impossible, Serialize};
use serde_json::Value;

use super::state::{Budget, Container, Kind, MAX_STRING_BYTES, Stop};
use super::text;
use crate::delivery::sanitize::MAX_DEPTH;

/// Serializes one value at `level` (the payload itself is level 1).
pub(crate) struct ValueSerializer<'a> {
    pub(crate) budget: &'a mut Budget,
    pub(crate) level: usize,
}

/// `value` at `level`: a container refused for its depth becomes the
/// marker; any failure once the budget is spent means "stop, keep nothing
/// more".
#[inline]
pub(crate) fn child<T: Serialize + ?Sized>(
    budget: &mut Budget,
    level: usize,
    value: &T,
) -> Result<Value, Stop> {
    let result = value.serialize(ValueSerializer {
        budget: &mut *budget,
        level,
    });
    // The common case returns the result untouched (no re-wrapping).
    if result.is_ok() {
        return result;
    }
    failed_child(budget, result)
}

#[cold]
#[inline(never)]
fn failed_child(budget: &mut Budget, result: Result<Value, Stop>) -> Result<Value, Stop> {
    match result {
        Err(Stop::TooDeep) => Ok(budget.too_deep()),
        Err(Stop::Failed(_)) if budget.stopped() => Err(Stop::Budget(Box::default())),
        other => other,
    }
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// An estimate of a finite float's serialized size.
const FLOAT_BYTES: usize = 12;

fn out_of_range() -> Stop {
    Stop::Failed("number out of range".into())
}

impl<'a> ValueSerializer<'a> {
    #[inline]
    fn scalar(self, value: Value, bytes: usize) -> Result<Value, Stop> {
        self.budget.charge(bytes)?;
        Ok(value)
    }

    /// Opens a container at this level (two levels for an enum variant,
    /// wrapped in `{"Variant": ...}`), or refuses it past [`MAX_DEPTH`].
    #[inline]
    fn open(
        self,
        kind: Kind,
        variant: Option<&'static str>,
        len: Option<usize>,
    ) -> Result<Compound<'a>, Stop> {
        let levels = 1 + usize::from(variant.is_some());
        if self.level + levels - 1 > MAX_DEPTH {
            return Err(Stop::TooDeep);
        }
        self.budget.charge(2 * levels)?;
        if let Some(variant) = variant {
            self.budget.charge(variant.len() + 3)?;
        }
        Ok(Compound {
            budget: self.budget,
            level: self.level + levels,
            container: Container::new(kind, variant, len),
        })
    }
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = Value;
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value, Stop> {
        self.scalar(Value::Bool(v), 5)
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Stop> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Stop> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Stop> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Stop> {
        let bytes = digits(v.unsigned_abs()) + usize::from(v < 0);
        self.scalar(Value::from(v), bytes)
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Stop> {
        if let Ok(v) = u64::try_from(v) {
            self.serialize_u64(v)
        } else {
            self.serialize_i64(i64::try_from(v).map_err(|_| out_of_range())?)
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Stop> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Stop> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Stop> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Stop> {
        self.scalar(Value::from(v), digits(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Stop> {
        self.serialize_u64(u64::try_from(v).map_err(|_| out_of_range())?)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Stop> {
        // NaN and infinities become null, as with serde_json.
        self.scalar(Value::from(v), FLOAT_BYTES)
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Stop> {
        self.scalar(Value::from(v), FLOAT_BYTES)
    }
    fn serialize_char(self, v: char) -> Result<Value, Stop> {
        self.budget.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Stop> {
        self.budget.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Stop> {
        let mut seq = self.open(Kind::Array, None, Some(v.len()))?;
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut seq, byte)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<Value, Stop> {
        self.scalar(Value::Null, 4)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Stop> {
        self.scalar(Value::Null, 4)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Stop> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Stop> {
        self.budget.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Stop> {
        // `{"Variant": value}`: an object of one entry.
        let mut object = self.open(Kind::Object, None, None)?;
        object.entry(variant, value)?;
        object.finish()
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, None, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, None, Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, None, Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, Some(variant), Some(len))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Object, None, None)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Object, None, None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Object, Some(variant), None)
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<Value, Stop> {
        let (text, was_cut) = text::display(value, self.budget.string_room());
        self.budget.owned_string(text, was_cut)
    }
}

/// An open array or object; its elements are at `level`.
pub(crate) struct Compound<'a> {
    budget: &'a mut Budget,
    level: usize,
    container: Container,
}

impl Compound<'_> {
    /// Adds `value` (after its key, if any): stops once the budget is
    /// spent, carrying up what was built.
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        match child(self.budget, self.level, value) {
            Ok(value) => {
                self.container.add(value);
                Ok(())
            }
            Err(Stop::Budget(partial)) => Err(self.container.stop(*partial)),
            Err(other) => Err(other),
        }
    }

    /// Starts an element or entry, unless the budget is spent.
    #[inline]
    fn next(&mut self) -> Result<(), Stop> {
        match self.budget.next_item() {
            Ok(()) => Ok(()),
            Err(_) => Err(self.container.stop(Value::Null)),
        }
    }

    /// Adds `key: value` to an object (a struct's field).
    #[inline]
    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Stop> {
        let (key, was_cut) = text::bounded(key, MAX_STRING_BYTES);
        // The separator, the key and its quotes and colon, in one charge.
        if self.budget.next_item().is_err() || self.budget.key(key.as_str(), was_cut).is_err() {
            return Err(self.container.stop(Value::Null));
        }
        match child(self.budget, self.level, value) {
            Ok(value) => {
                self.container.insert(key, value);
                Ok(())
            }
            Err(Stop::Budget(partial)) => {
                self.container.set_key(key);
                Err(self.container.stop(*partial))
            }
            Err(other) => Err(other),
        }
    }

    #[inline]
    fn finish(self) -> Result<Value, Stop> {
        Ok(self.container.into_value())
    }
}

/// The sequence-like compounds: each element is one more item of the
/// container being built.
macro_rules! sequence_like {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = Value;
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                self.next()?;
                self.element(value)
            }
            fn end(self) -> Result<Value, Stop> {
                self.finish()
            }
        }
    )*};
}

sequence_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = Value;
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.next()?;
        match key.serialize(KeySerializer) {
            Ok((key, was_cut)) => {
                if self.budget.key(&key, was_cut).is_err() {
                    return Err(self.container.stop(Value::Null));
                }
                self.container.set_key(key);
            }
            Err(_) => self.container.bad_key(),
        }
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if self.container.take_skip() {
            return Ok(());
        }
        self.element(value)
    }
    fn end(self) -> Result<Value, Stop> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = Value;
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.entry(key, value)
    }
    fn end(self) -> Result<Value, Stop> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = Value;
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.entry(key, value)
    }
    fn end(self) -> Result<Value, Stop> {
        self.finish()
    }
}

/// Map keys as `serde_json` writes them: strings, and numbers, booleans,
/// chars and unit variants as strings. Anything else (sequences, maps,
/// bytes, options, non-finite floats) fails, and the entry is skipped.
struct KeySerializer;

fn not_a_key() -> Stop {
    Stop::Failed("key must be a string".into())
}

/// A map key's text, and whether it was cut.
type Key = (String, bool);

fn key_text(text: impl ToString) -> Result<Key, Stop> {
    Ok((text.to_string(), false))
}

/// A finite float as serde_json writes it (so keys match its output).
fn float_key<F: Serialize>(v: F, finite: bool) -> Result<Key, Stop> {
    if !finite {
        return Err(not_a_key());
    }
    serde_json::to_string(&v)
        .map(|text| (text, false))
        .map_err(|_| not_a_key())
}

/// Integer keys are written in decimal, as serde_json writes them.
macro_rules! integer_keys {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method(self, v: $ty) -> Result<Key, Stop> {
            key_text(v)
        }
    )*};
}

impl ser::Serializer for KeySerializer {
    type Ok = Key;
    type Error = Stop;
    type SerializeSeq = Impossible<Key, Stop>;
    type SerializeTuple = Impossible<Key, Stop>;
    type SerializeTupleStruct = Impossible<Key, Stop>;
    type SerializeTupleVariant = Impossible<Key, Stop>;
    type SerializeMap = Impossible<Key, Stop>;
    type SerializeStruct = Impossible<Key, Stop>;
    type SerializeStructVariant = Impossible<Key, Stop>;

    fn serialize_bool(self, v: bool) -> Result<Key, Stop> {
        key_text(if v { "true" } else { "false" })
    }
    integer_keys!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
    );
    fn serialize_f32(self, v: f32) -> Result<Key, Stop> {
        float_key(v, v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> Result<Key, Stop> {
        float_key(v, v.is_finite())
    }
    fn serialize_char(self, v: char) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_str(self, v: &str) -> Result<Key, Stop> {
        Ok(text::bounded(v, MAX_STRING_BYTES))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Key, Stop> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<Key, Stop> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Key, Stop> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<Key, Stop> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Key, Stop> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Key, Stop> {
        key_text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Key, Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Key, Stop> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Stop> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(not_a_key())
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<Key, Stop> {
        Ok(text::display(value, MAX_STRING_BYTES))
    }
}
