//! The bounded `serde::Serializer`: builds `serde_json::Value`s as
//! `serde_json::to_value` would, into a [`State`] that enforces the depth
//! limit, the string cap and the byte budget.

use serde::ser::{self, Impossible, Serialize};
use serde_json::Value;

use super::state::{Kind, MAX_STRING_BYTES, Stop, State};
use super::text;

/// Serializes one value into the state.
pub(crate) struct ValueSerializer<'a> {
    pub(crate) state: &'a mut State,
}

/// Serializes `value` as an element or entry value: a refused (too deep)
/// container is already replaced by the marker, so that is no failure; any
/// error once the budget is spent means "stop".
pub(crate) fn child<T: Serialize + ?Sized>(state: &mut State, value: &T) -> Result<(), Stop> {
    match value.serialize(ValueSerializer { state: &mut *state }) {
        Ok(()) | Err(Stop::TooDeep) => Ok(()),
        Err(_) if state.stopped() => Err(Stop::Budget),
        Err(other) => Err(other),
    }
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// An estimate of a finite float's serialized size.
const FLOAT_BYTES: usize = 12;

fn out_of_range() -> Stop {
    Stop::Failed("number out of range".to_owned())
}

impl<'a> ValueSerializer<'a> {
    fn open(self, kind: Kind, variant: Option<&'static str>) -> Result<Compound<'a>, Stop> {
        let outer = self.state.depth();
        self.state.open(kind, variant)?;
        Ok(Compound {
            top: self.state.depth(),
            outer,
            state: self.state,
        })
    }
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Stop> {
        self.state.scalar(Value::Bool(v), 5)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Stop> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Stop> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Stop> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Stop> {
        let bytes = digits(v.unsigned_abs()) + usize::from(v < 0);
        self.state.scalar(Value::from(v), bytes)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Stop> {
        if let Ok(v) = u64::try_from(v) {
            self.serialize_u64(v)
        } else {
            self.serialize_i64(i64::try_from(v).map_err(|_| out_of_range())?)
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), Stop> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Stop> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Stop> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Stop> {
        self.state.scalar(Value::from(v), digits(v))
    }
    fn serialize_u128(self, v: u128) -> Result<(), Stop> {
        self.serialize_u64(u64::try_from(v).map_err(|_| out_of_range())?)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        // NaN and infinities become null, as with serde_json.
        self.state.scalar(Value::from(v), FLOAT_BYTES)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.state.scalar(Value::from(v), FLOAT_BYTES)
    }
    fn serialize_char(self, v: char) -> Result<(), Stop> {
        self.state.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Stop> {
        self.state.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Stop> {
        let mut seq = self.open(Kind::Array, None)?;
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut seq, byte)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), Stop> {
        self.state.scalar(Value::Null, 4)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        self.state.scalar(Value::Null, 4)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Stop> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        self.state.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        // `{"Variant": value}`: an object holding the variant's key.
        let outer = self.state.depth();
        self.state.open(Kind::Object, None)?;
        self.state.set_key_str(variant)?;
        child(self.state, value)?;
        self.state.close_to(outer);
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, None)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, None)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, None)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Array, Some(variant))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Object, None)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Object, None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.open(Kind::Object, Some(variant))
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<(), Stop> {
        let (text, was_cut) = text::display(value, self.state.string_room());
        self.state.push_string(text, was_cut)
    }
}

/// An open array or object (with its variant wrapper, if any). `top` is
/// the depth at which its own container is the innermost one; `outer` the
/// depth before it was opened.
pub(crate) struct Compound<'a> {
    state: &'a mut State,
    top: usize,
    outer: usize,
}

impl Compound<'_> {
    /// Starts the next element or entry: stops once the budget is spent,
    /// and closes whatever a failed element left open.
    fn next(&mut self) -> Result<(), Stop> {
        self.state.next_item()?;
        self.state.close_to(self.top);
        Ok(())
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.next()?;
        child(self.state, value)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Stop> {
        self.next()?;
        self.state.set_key_str(key)?;
        child(self.state, value)
    }

    fn finish(self) -> Result<(), Stop> {
        self.state.close_to(self.outer);
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.next()?;
        match key.serialize(KeySerializer) {
            Ok((key, was_cut)) => self.state.set_key(key, was_cut),
            Err(Stop::Failed(_)) => {
                self.state.bad_key();
                Ok(())
            }
            Err(other) => Err(other),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.state.close_to(self.top);
        if self.state.take_skip() {
            return Ok(());
        }
        child(self.state, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

/// Map keys as `serde_json` writes them: strings, and numbers, booleans,
/// chars and unit variants as strings. Anything else (sequences, maps,
/// bytes, options, non-finite floats) fails, and the entry is skipped.
struct KeySerializer;

fn not_a_key() -> Stop {
    Stop::Failed("key must be a string".to_owned())
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
    fn serialize_i8(self, v: i8) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Key, Stop> {
        key_text(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Key, Stop> {
        key_text(v)
    }
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
