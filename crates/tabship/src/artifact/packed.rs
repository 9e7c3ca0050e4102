//! Packed numeric arrays: stored in the body as one MessagePack `bin` of little-endian values,
//! which is both smaller and much faster to load than an array of separately encoded numbers.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! packed {
    ($name:ident, $t:ty, $size:expr, $what:expr) => {
        #[doc = concat!("A vector of `", stringify!($t), "` stored as little-endian bytes (", $what, ").")]
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name(pub Vec<$t>);

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut bytes = Vec::with_capacity(self.0.len() * $size);
                for v in &self.0 {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
                serializer.serialize_bytes(&bytes)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "bytes holding little-endian {}", stringify!($t))
                    }
                    // `$size` is 1 for bytes, where the remainder is always 0.
                    #[allow(clippy::modulo_one)]
                    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<$name, E> {
                        if bytes.len() % $size != 0 {
                            return Err(E::custom(format!(
                                "{} bytes is not a whole number of {}-byte values",
                                bytes.len(),
                                $size
                            )));
                        }
                        Ok($name(
                            bytes
                                .chunks_exact($size)
                                .map(|c| {
                                    let mut a = [0u8; $size];
                                    a.copy_from_slice(c);
                                    <$t>::from_le_bytes(a)
                                })
                                .collect(),
                        ))
                    }
                    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<$name, E> {
                        self.visit_bytes(&bytes)
                    }
                }
                deserializer.deserialize_bytes(V)
            }
        }

        impl $name {
            /// Number of values.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// True when empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }
    };
}

packed!(PackedU8, u8, 1, "1 byte each");
packed!(PackedU32, u32, 4, "4 bytes each");
packed!(PackedF64, f64, 8, "8 bytes each, IEEE-754");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_messagepack_bin() {
        let v = PackedF64(vec![1.5, -0.0, f64::MIN_POSITIVE]);
        let mut buf = Vec::new();
        v.serialize(&mut rmp_serde::Serializer::new(&mut buf))
            .unwrap();
        assert_eq!(buf[0], 0xc4, "a bin 8 header");
        assert_eq!(buf.len(), 2 + 24);
        let back: PackedF64 = rmp_serde::from_slice(&buf).unwrap();
        assert_eq!(
            back.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        let bad: Result<PackedU32, _> = rmp_serde::from_slice(&[0xc4, 3, 1, 2, 3]);
        assert!(bad.is_err());
    }
}
