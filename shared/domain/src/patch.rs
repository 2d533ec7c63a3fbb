//! The tri-state field of a partial update: left out, set to null, or given a value.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{OneOfBuilder, Schema, Type};
use utoipa::openapi::{ObjectBuilder, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// A field of a request document that may be absent (leave it as it is), `null` (reset or
/// clear it), or a value. Declare it with `#[serde(default)]` so that absence reads as
/// [`Patch::Absent`]; serde alone folds absent and null together in an `Option`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Left out of the document.
    #[default]
    Absent,
    /// Given as `null`.
    Null,
    /// Given a value.
    Value(T),
}

impl<T> Patch<T> {
    /// Whether the field was given at all (null included).
    pub fn is_given(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    /// The value, if one was given.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(value) => Some(value),
            Self::Absent | Self::Null => None,
        }
    }

    /// The same state with the value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(value) => Patch::Value(f(value)),
        }
    }

    /// What the field becomes: `current` when absent, `None` when null, the value otherwise.
    pub fn apply(&self, current: Option<T>) -> Option<T>
    where
        T: Clone,
    {
        match self {
            Self::Absent => current,
            Self::Null => None,
            Self::Value(value) => Some(value.clone()),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Reached only when the field is present: absence is `#[serde(default)]`'s.
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Self::Null, Self::Value))
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    /// As JSON has it: null when absent or null (skip absent fields with `is_given`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<T: ToSchema> PartialSchema for Patch<T> {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new().item(T::schema()).item(ObjectBuilder::new().schema_type(Type::Null)).into()
    }
}

impl<T: ToSchema> ToSchema for Patch<T> {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Sample {
        #[serde(default)]
        field: Patch<u32>,
    }

    fn read(json: &str) -> Patch<u32> {
        serde_json::from_str::<Sample>(json).expect("valid").field
    }

    #[test]
    fn when_field_absent_null_or_given_should_tell_the_three_apart() {
        assert_eq!(read("{}"), Patch::Absent);
        assert_eq!(read(r#"{"field": null}"#), Patch::Null);
        assert_eq!(read(r#"{"field": 7}"#), Patch::Value(7));
    }

    #[test]
    fn when_applied_should_keep_reset_or_replace() {
        assert_eq!(Patch::Absent.apply(Some(1)), Some(1));
        assert_eq!(Patch::<u32>::Null.apply(Some(1)), None);
        assert_eq!(Patch::Value(2).apply(Some(1)), Some(2));
    }
}
