//! Reading a secret rotation request, and choosing the key it installs.

use crate::documents::{self, RotateRequest, escape};
use crate::error::{Error, Problem};
use crate::model::SignatureAlgo;
use serde_json::Value;

/// A validated rotation request: the new key if given (checked against the webhook's
/// algorithm by [`rotation_key`]), and the overlap of the old one.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    /// The key given, if any.
    pub secret: Option<String>,
    /// How long the old key keeps signing.
    pub overlap: chrono::Duration,
}

fn rotation_shape(at: &str) -> Problem {
    match at {
        "/secret" => Problem::at(at, "invalid_secret", SECRET_RULE),
        "/overlap_seconds" => overlap_problem(),
        _ => Problem::at("", "not_an_object", "a JSON object, or no body"),
    }
}

const SECRET_RULE: &str =
    "a key of the webhook's signature_algo: whsec_ + base64 of 24-64 bytes (hmac, jwt), whsk_ (ed25519)";

fn overlap_problem() -> Problem {
    Problem::at(
        "/overlap_seconds",
        "invalid_overlap",
        format!("whole seconds from 0 to {}", super::MAX_ROTATION_OVERLAP_SECONDS),
    )
}

/// Reads a rotation body (`{}` when left out): `secret` and `overlap_seconds`, both optional.
pub fn parse_rotation(body: &Value) -> Result<Rotation, Error> {
    let request: RotateRequest = documents::read(body, rotation_shape)?;
    if let Some(unknown) = request.other.keys().next() {
        return Err(Error::invalid(
            format!("/{}", escape(unknown)),
            "unknown_attribute",
            "`secret` and `overlap_seconds` only",
        ));
    }
    let overlap = match request.overlap_seconds.map(i64::from) {
        None => super::ROTATION_OVERLAP,
        Some(seconds) if seconds <= super::MAX_ROTATION_OVERLAP_SECONDS => chrono::Duration::seconds(seconds),
        Some(_) => return Err(Error::Invalid(vec![overlap_problem()])),
    };
    Ok(Rotation { secret: request.secret, overlap })
}

/// The key a rotation of a webhook signing with `algo` installs: the one given if it fits,
/// else a fresh one.
pub fn rotation_key(rotation: &Rotation, algo: SignatureAlgo) -> Result<String, Error> {
    match &rotation.secret {
        None => Ok(crate::signing::generate_key(algo)),
        Some(secret) if crate::signing::is_valid_key(algo, secret) => Ok(secret.clone()),
        Some(_) => Err(Error::Invalid(vec![rotation_shape("/secret")])),
    }
}
