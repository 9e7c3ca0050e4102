//! Serde for state types that must be checked after decoding (a pickled or saved state may be
//! corrupt or hostile): the type derives its impls with `#[serde(remote = "Self")]`, and
//! `validated_serde!(Type)` wraps them, calling `Type::validate` after deserializing.

/// Implements `Serialize` (as derived) and `Deserialize` (as derived, then `validate`) for a type
/// with `#[serde(remote = "Self")]` and a `fn validate(&self) -> Result<()>`.
macro_rules! validated_serde {
    ($ty:ident) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                $ty::serialize(self, s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let value = $ty::deserialize(d)?;
                value.validate().map_err(serde::de::Error::custom)?;
                Ok(value)
            }
        }
    };
}
