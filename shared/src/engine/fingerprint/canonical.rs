//! The canonical JSON of a value written straight from serde, without the `serde_json::Value` tree.
//!
//! The planner fingerprints every listed record (200,000 at 100,000 pairs), and building a `Value`
//! tree per record — a `String` per key and per string, a map node per object — was most of the
//! planner's CPU (issue 16). This serializer writes the same bytes into one reused buffer: each
//! object's `"key":value` pairs are written as they come and reordered by key afterwards (only when
//! they were not in order already).
//!
//! It covers what canonical values are made of (structs, strings, integers, booleans, options,
//! sequences, maps with string or integer keys, enums). Anything whose `Value` form it does not
//! reproduce byte for byte — `f32` (the tree widens it to `f64` first), 128-bit integers, byte
//! arrays, other map keys, duplicate keys, serde_json's private raw-value/number structs — and any
//! error answer [`Unsupported`]: the caller then takes the `Value` path, so the bytes never differ.
use serde::ser::{self, Serialize};

/// This value is not written here (see the module doc); nothing was decided about it.
#[derive(Debug)]
pub(super) struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not written by the direct canonical serializer")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

/// An object key: a struct's field name or a map's key as text.
enum Key {
    Static(&'static str),
    Owned(String),
}

impl Key {
    fn as_str(&self) -> &str {
        match self {
            Key::Static(s) => s,
            Key::Owned(s) => s,
        }
    }
}

/// One `"key":value` pair of an open object: its raw key and where its bytes lie in the output.
struct Pair {
    key: Key,
    start: usize,
    end: usize,
}

/// The writer; reused across values (its buffers keep their capacity).
#[derive(Default)]
pub(super) struct Canonical {
    out: Vec<u8>,
    /// The pairs of every open object, innermost last.
    pairs: Vec<Pair>,
    scratch: Vec<u8>,
}

impl Canonical {
    /// The canonical bytes of `value`, or `Unsupported`.
    pub(super) fn write<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<&[u8]> {
        self.out.clear();
        self.pairs.clear();
        value.serialize(&mut *self)?;
        Ok(&self.out)
    }

    fn string(&mut self, text: &str) -> Result {
        // serde_json's own escaping, exactly what a `Value::String` prints.
        serde_json::to_writer(&mut self.out, text).map_err(|_| Unsupported)
    }

    fn object(&mut self) -> Object<'_> {
        self.out.push(b'{');
        Object {
            base: self.pairs.len(),
            start: self.out.len(),
            key: None,
            canonical: self,
        }
    }

    /// `{"variant":` of an externally tagged variant with content; closed by [`Variant`].
    fn variant(&mut self, variant: &'static str) -> Result {
        self.out.push(b'{');
        self.string(variant)?;
        self.out.push(b':');
        Ok(())
    }
}

/// An open object.
pub(super) struct Object<'a> {
    canonical: &'a mut Canonical,
    /// Index of its first pair in `pairs`.
    base: usize,
    /// Output position after its `{`.
    start: usize,
    /// A map key waiting for its value.
    key: Option<Key>,
}

impl<'a> Object<'a> {
    fn pair<T: Serialize + ?Sized>(&mut self, key: Key, value: &T) -> Result {
        let c = &mut *self.canonical;
        if c.pairs.len() > self.base {
            c.out.push(b',');
        }
        let start = c.out.len();
        c.string(key.as_str())?;
        c.out.push(b':');
        value.serialize(&mut *c)?;
        let end = c.out.len();
        c.pairs.push(Pair { key, start, end });
        Ok(())
    }

    /// Puts the pairs in the order of their keys' bytes (as the `Value` path sorts) and closes.
    fn close(self) -> Result<&'a mut Canonical> {
        let c = self.canonical;
        let pairs = &mut c.pairs[self.base..];
        let ordered = pairs
            .windows(2)
            .all(|w| w[0].key.as_str().as_bytes() < w[1].key.as_str().as_bytes());
        if !ordered {
            pairs.sort_by(|a, b| a.key.as_str().as_bytes().cmp(b.key.as_str().as_bytes()));
            if pairs
                .windows(2)
                .any(|w| w[0].key.as_str() == w[1].key.as_str())
            {
                // A `Value` map keeps one of them: not reproduced here.
                return Err(Unsupported);
            }
            c.scratch.clear();
            c.scratch.extend_from_slice(&c.out[self.start..]);
            c.out.truncate(self.start);
            for (i, pair) in pairs.iter().enumerate() {
                if i > 0 {
                    c.out.push(b',');
                }
                c.out
                    .extend_from_slice(&c.scratch[pair.start - self.start..pair.end - self.start]);
            }
        }
        c.pairs.truncate(self.base);
        c.out.push(b'}');
        Ok(c)
    }
}

/// An open array.
pub(super) struct Array<'a> {
    canonical: &'a mut Canonical,
    first: bool,
}

impl<'a> Array<'a> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if !self.first {
            self.canonical.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *self.canonical)
    }

    fn close(self) -> Result<&'a mut Canonical> {
        self.canonical.out.push(b']');
        Ok(self.canonical)
    }
}

/// The content of a variant, closed with the extra `}` of its `{"variant":…}`.
pub(super) struct Variant<T>(T);

impl<'a> ser::Serializer for &'a mut Canonical {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Variant<Array<'a>>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Variant<Object<'a>>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result {
        serde_json::to_writer(&mut self.out, &v).map_err(|_| Unsupported)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result {
        serde_json::to_writer(&mut self.out, &v).map_err(|_| Unsupported)
    }

    fn serialize_f32(self, _v: f32) -> Result {
        Err(Unsupported)
    }

    fn serialize_f64(self, v: f64) -> Result {
        // A `Value` holds a finite f64 and prints it as serde_json does; a non-finite one is null.
        if v.is_finite() {
            serde_json::to_writer(&mut self.out, &v).map_err(|_| Unsupported)
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(Unsupported)
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result {
        if name.starts_with("$serde_json") {
            return Err(Unsupported);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant(variant)?;
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>> {
        self.out.push(b'[');
        Ok(Array {
            canonical: self,
            first: true,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Array<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Array<'a>>> {
        self.variant(variant)?;
        Ok(Variant(self.serialize_seq(Some(len))?))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>> {
        Ok(self.object())
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Object<'a>> {
        if name.starts_with("$serde_json") {
            return Err(Unsupported);
        }
        Ok(self.object())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Object<'a>>> {
        self.variant(variant)?;
        Ok(Variant(self.object()))
    }
}

impl ser::SerializeSeq for Array<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }

    fn end(self) -> Result {
        self.close().map(|_| ())
    }
}

impl ser::SerializeTuple for Array<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }

    fn end(self) -> Result {
        self.close().map(|_| ())
    }
}

impl ser::SerializeTupleStruct for Array<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }

    fn end(self) -> Result {
        self.close().map(|_| ())
    }
}

impl ser::SerializeTupleVariant for Variant<Array<'_>> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.0.item(value)
    }

    fn end(self) -> Result {
        self.0.close()?.out.push(b'}');
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.key = Some(Key::Owned(key.serialize(KeyText)?));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        let key = self.key.take().ok_or(Unsupported)?;
        self.pair(key, value)
    }

    fn end(self) -> Result {
        self.close().map(|_| ())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.pair(Key::Static(key), value)
    }

    fn end(self) -> Result {
        self.close().map(|_| ())
    }
}

impl ser::SerializeStructVariant for Variant<Object<'_>> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.0.pair(Key::Static(key), value)
    }

    fn end(self) -> Result {
        self.0.close()?.out.push(b'}');
        Ok(())
    }
}

/// A map key as text, as a `Value` map would hold it: strings, chars, integers and unit variants;
/// anything else is [`Unsupported`].
struct KeyText;

macro_rules! integer_key {
    ($($method:ident: $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<String> {
            Ok(v.to_string())
        })*
    };
}

macro_rules! unsupported_key {
    ($($method:ident: $t:ty),*) => {
        $(fn $method(self, _v: $t) -> Result<String> {
            Err(Unsupported)
        })*
    };
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<String, Unsupported>;
    type SerializeTuple = ser::Impossible<String, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<String, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<String, Unsupported>;
    type SerializeMap = ser::Impossible<String, Unsupported>;
    type SerializeStruct = ser::Impossible<String, Unsupported>;
    type SerializeStructVariant = ser::Impossible<String, Unsupported>;

    integer_key!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    unsupported_key!(serialize_bool: bool, serialize_f32: f32, serialize_f64: f64,
        serialize_bytes: &[u8]);

    fn serialize_char(self, v: char) -> Result<String> {
        Ok(v.to_string())
    }

    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_string())
    }

    fn serialize_none(self) -> Result<String> {
        Err(Unsupported)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String> {
        Err(Unsupported)
    }

    fn serialize_unit(self) -> Result<String> {
        Err(Unsupported)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String> {
        Err(Unsupported)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String> {
        Ok(variant.to_string())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<String> {
        Err(Unsupported)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String> {
        Err(Unsupported)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Unsupported)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Unsupported)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(Unsupported)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}
