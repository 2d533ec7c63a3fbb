//! Delivery signing: the signing keys (`whsec_`, `whsk_`, `whpk_`) and the headers that sign a delivery.
//!
//! Every delivery carries the Standard Webhooks headers `webhook-id` (the message id, the same on every retry),
//! `webhook-timestamp` (Unix seconds of the attempt) and one signature header, chosen by the webhook's
//! [`SignatureAlgo`]. Each signs `{id}.{timestamp}.{body}`, with the body's exact bytes:
//!
//! - `hmac` (Standard Webhooks `v1`): `webhook-signature: v1,<base64 HMAC-SHA256>`, keyed by the bytes of a
//!   `whsec_` secret (standard base64 of 24 to 64 bytes).
//! - `ed25519` (Standard Webhooks `v1a`): `webhook-signature: v1a,<base64 Ed25519 signature>`, by a `whsk_` key
//!   (standard base64 of the 32-byte seed; the 64-byte seed-and-public-key form is accepted too). Receivers verify
//!   with the `whpk_` public key (standard base64 of the 32-byte public key) that [`public_key`] derives.
//! - `jwt`: `webhook-jwt: <compact JWS>`, HS256 keyed by the bytes of a `whsec_` secret, header
//!   `{"alg":"HS256","typ":"JWT"}`, claims `iss` (`hookline`), `jti` (the message id), `iat` (the timestamp),
//!   `exp` (the timestamp + 300 s) and `body_sha256` (base64url, unpadded, of the body's SHA-256). A receiver
//!   verifies the token with any JWT library, then compares `body_sha256` with the digest of the body it got.
//!
//! While a rotated-out key is still in its overlap, a delivery carries one signature (or token) per key, the current
//! key first, space-separated; a receiver holding either key verifies it.

use crate::error::Error;
use crate::model::SignatureAlgo;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer, SigningKey};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::ops::RangeInclusive;

/// The Standard Webhooks headers every delivery carries: the message id, the same on every retry.
pub const ID_HEADER: &str = "webhook-id";
/// The Unix timestamp (seconds) of the attempt.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The space-separated `v1,…` (hmac) or `v1a,…` (ed25519) signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The space-separated HS256 JWTs of `jwt` webhooks (see the module documentation for their claims).
pub const JWT_HEADER: &str = "webhook-jwt";

/// The prefix of an HMAC (and JWT) secret.
const SECRET_PREFIX: &str = "whsec_";
/// The prefix of an Ed25519 secret key.
const SECRET_KEY_PREFIX: &str = "whsk_";
/// The prefix of an Ed25519 public key.
const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// Bytes of a `whsec_` secret, once decoded (the spec asks for at least 24).
const SECRET_BYTES: RangeInclusive<usize> = 24..=64;
/// Bytes of a generated key.
const GENERATED_BYTES: usize = 32;
/// The JWS header of `jwt` webhooks.
const JWT_JOSE_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
/// The `iss` claim of `jwt` webhooks.
const JWT_ISSUER: &str = "hookline";
/// Seconds from `iat` to `exp` of a `jwt` webhook's token.
const JWT_LIFETIME_SECONDS: i64 = 300;

/// A new signing key for `algo`: `whsec_` + base64 of 32 random bytes for hmac and jwt, `whsk_` + base64 of a
/// random 32-byte Ed25519 seed for ed25519.
pub fn generate_key(algo: SignatureAlgo) -> String {
    let mut bytes = [0u8; GENERATED_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let prefix = match algo {
        SignatureAlgo::Hmac | SignatureAlgo::Jwt => SECRET_PREFIX,
        SignatureAlgo::Ed25519 => SECRET_KEY_PREFIX,
    };
    format!("{prefix}{}", STANDARD.encode(bytes))
}

/// Whether `key` is a valid key for `algo`: `whsec_` + standard base64 of 24 to 64 bytes for hmac and jwt; `whsk_` +
/// standard base64 of a 32-byte seed (or of a 64-byte seed and its matching public key) for ed25519.
pub fn is_valid_key(algo: SignatureAlgo, key: &str) -> bool {
    match algo {
        SignatureAlgo::Hmac | SignatureAlgo::Jwt => secret_bytes(key).is_some(),
        SignatureAlgo::Ed25519 => signing_key(key).is_some(),
    }
}

/// The `whpk_` public key (standard base64 of its 32 bytes) of an ed25519 `whsk_` key.
///
/// Fails with [`Error::Internal`] when `key` is not a valid `whsk_` key; the message never quotes the key.
pub fn public_key(key: &str) -> Result<String, Error> {
    let signing = signing_key(key).ok_or_else(|| Error::internal("not a valid whsk_ ed25519 key"))?;
    Ok(format!("{PUBLIC_KEY_PREFIX}{}", STANDARD.encode(signing.verifying_key().to_bytes())))
}

/// The headers that sign `body` for message `msg_id` at Unix `timestamp`, with every key in `keys` (the current key
/// first, then rotated-out keys still in their overlap): `webhook-id`, `webhook-timestamp`, then
///  - hmac: `webhook-signature: v1,<base64(HMAC-SHA256(secret bytes, "{id}.{ts}.{body}"))>`, one per key;
///  - ed25519: `webhook-signature: v1a,<base64(Ed25519 signature of "{id}.{ts}.{body}")>`, one per key;
///  - jwt: `webhook-jwt: <compact JWS HS256>`, one token per key (claims in the module documentation);
///
/// several values separated by one space, in the order of `keys`.
///
/// Fails with [`Error::Internal`] when `keys` is empty or a key is not valid for `algo` (the message names the
/// key's position, never the key).
pub fn signature_headers(
    algo: SignatureAlgo,
    keys: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, Error> {
    if keys.is_empty() {
        return Err(Error::internal("no signing key"));
    }
    let malformed = |position: usize| Error::internal(format!("signing key #{position} is not a valid {algo:?} key"));
    let mut values = Vec::with_capacity(keys.len());
    let (header, value) = match algo {
        SignatureAlgo::Hmac => {
            let signed = signed_content(msg_id, timestamp, body);
            for (position, key) in keys.iter().enumerate() {
                let secret = secret_bytes(key).ok_or_else(|| malformed(position))?;
                values.push(format!("v1,{}", STANDARD.encode(hmac_sha256(&secret, &signed))));
            }
            (SIGNATURE_HEADER, values.join(" "))
        }
        SignatureAlgo::Ed25519 => {
            let signed = signed_content(msg_id, timestamp, body);
            for (position, key) in keys.iter().enumerate() {
                let signing = signing_key(key).ok_or_else(|| malformed(position))?;
                values.push(format!("v1a,{}", STANDARD.encode(signing.sign(&signed).to_bytes())));
            }
            (SIGNATURE_HEADER, values.join(" "))
        }
        SignatureAlgo::Jwt => {
            let unsigned = jwt_signing_input(msg_id, timestamp, body);
            for (position, key) in keys.iter().enumerate() {
                let secret = secret_bytes(key).ok_or_else(|| malformed(position))?;
                let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(&secret, unsigned.as_bytes()));
                values.push(format!("{unsigned}.{signature}"));
            }
            (JWT_HEADER, values.join(" "))
        }
    };
    Ok(vec![(ID_HEADER, msg_id.to_owned()), (TIMESTAMP_HEADER, timestamp.to_string()), (header, value)])
}

/// The bytes Standard Webhooks signs: `{id}.{timestamp}.{body}`.
fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{msg_id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signed
}

/// The JWS signing input (`base64url(header).base64url(claims)`) of a `jwt` webhook's token.
fn jwt_signing_input(msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let claims = serde_json::json!({
        "iss": JWT_ISSUER,
        "jti": msg_id,
        "iat": timestamp,
        "exp": timestamp.saturating_add(JWT_LIFETIME_SECONDS),
        "body_sha256": URL_SAFE_NO_PAD.encode(Sha256::digest(body)),
    });
    format!("{}.{}", URL_SAFE_NO_PAD.encode(JWT_JOSE_HEADER), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// The bytes of a `whsec_` secret, when it is one.
fn secret_bytes(key: &str) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(key.strip_prefix(SECRET_PREFIX)?).ok()?;
    SECRET_BYTES.contains(&bytes.len()).then_some(bytes)
}

/// The Ed25519 key of a `whsk_` key: a 32-byte seed, or 64 bytes of seed then matching public key.
fn signing_key(key: &str) -> Option<SigningKey> {
    let bytes = STANDARD.decode(key.strip_prefix(SECRET_KEY_PREFIX)?).ok()?;
    if let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) {
        return Some(SigningKey::from_bytes(&seed));
    }
    let pair = <[u8; 64]>::try_from(bytes.as_slice()).ok()?;
    SigningKey::from_keypair_bytes(&pair).ok()
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else { return [0; 32] };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, VerifyingKey};
    use http::{HeaderMap, HeaderName, HeaderValue};
    use jsonwebtoken::errors::ErrorKind;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use serde::Deserialize;

    const MSG_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
    const BODY: &[u8] = br#"{"type":"invoice.created","data":{"id":"in_1"}}"#;

    /// The claims of a `jwt` webhook's token, as a receiver reads them.
    #[derive(Debug, Deserialize)]
    struct Claims {
        iss: String,
        jti: String,
        iat: i64,
        exp: i64,
        body_sha256: String,
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn header_map(headers: &[(&'static str, String)]) -> HeaderMap {
        headers
            .iter()
            .map(|(name, value)| {
                (HeaderName::from_static(name), HeaderValue::from_str(value).expect("a valid header value"))
            })
            .collect()
    }

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).expect("the header")
    }

    fn decoded(key: &str, prefix: &str) -> Vec<u8> {
        STANDARD.decode(key.strip_prefix(prefix).expect("the prefix")).expect("base64")
    }

    fn decode_jwt(token: &str, secret: &str) -> jsonwebtoken::errors::Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[JWT_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        let key = DecodingKey::from_secret(&decoded(secret, SECRET_PREFIX));
        jsonwebtoken::decode::<Claims>(token, &key, &validation).map(|data| data.claims)
    }

    #[test]
    fn when_hmac_headers_built_should_verify_with_standardwebhooks() {
        let secret = generate_key(SignatureAlgo::Hmac);
        let timestamp = now();
        let headers = signature_headers(SignatureAlgo::Hmac, &[&secret], MSG_ID, timestamp, BODY).expect("signed");

        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, [ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER]);
        assert_eq!(header(&headers, ID_HEADER), MSG_ID);
        assert_eq!(header(&headers, TIMESTAMP_HEADER), timestamp.to_string());
        assert!(header(&headers, SIGNATURE_HEADER).starts_with("v1,"));
        standardwebhooks::Webhook::new(&secret).expect("secret").verify(BODY, &header_map(&headers)).expect("verified");
    }

    #[test]
    fn when_hmac_keys_rotated_should_verify_with_the_old_key_and_with_the_new_key() {
        let (new, old) = (generate_key(SignatureAlgo::Hmac), generate_key(SignatureAlgo::Hmac));
        let headers = signature_headers(SignatureAlgo::Hmac, &[&new, &old], MSG_ID, now(), BODY).expect("signed");
        let map = header_map(&headers);

        let signatures: Vec<&str> = header(&headers, SIGNATURE_HEADER).split(' ').collect();
        assert_eq!(signatures.len(), 2);
        assert!(signatures.iter().all(|signature| signature.starts_with("v1,")));
        standardwebhooks::Webhook::new(&old).expect("secret").verify(BODY, &map).expect("verified by the old key");
        standardwebhooks::Webhook::new(&new).expect("secret").verify(BODY, &map).expect("verified by the new key");
        let stranger = generate_key(SignatureAlgo::Hmac);
        assert!(standardwebhooks::Webhook::new(&stranger).expect("secret").verify(BODY, &map).is_err());
    }

    #[test]
    fn when_hmac_body_tampered_should_fail_verification() {
        let secret = generate_key(SignatureAlgo::Hmac);
        let headers = signature_headers(SignatureAlgo::Hmac, &[&secret], MSG_ID, now(), BODY).expect("signed");
        let tampered = br#"{"type":"invoice.created","data":{"id":"in_2"}}"#;

        let verified = standardwebhooks::Webhook::new(&secret).expect("secret").verify(tampered, &header_map(&headers));
        assert!(matches!(verified, Err(standardwebhooks::WebhookError::InvalidSignature)));
    }

    #[test]
    fn when_hmac_inputs_are_fixed_should_sign_the_independently_computed_value() {
        // The secret is base64 of the bytes 1..=32. The expected value was computed independently with Python 3:
        //   base64.b64encode(hmac.new(bytes(range(1, 33)),
        //       b'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1674087231.{"type":"invoice.created","data":{"id":"in_1"}}',
        //       hashlib.sha256).digest())
        let secret = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
        let headers = signature_headers(SignatureAlgo::Hmac, &[secret], MSG_ID, 1_674_087_231, BODY).expect("signed");

        assert_eq!(header(&headers, SIGNATURE_HEADER), "v1,XHj8wVk2/g5utgMsBAvr+yqwT+C7x5PabekUAMAnDOw=");
    }

    #[test]
    fn when_hmac_key_is_longer_than_a_block_should_match_rfc_4231() {
        // RFC 4231, test case 6: a 131-byte key is hashed first.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");

        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn when_ed25519_headers_built_should_verify_with_each_public_key() {
        // standardwebhooks 1.0.1 only verifies `v1` (HMAC) signatures: it has no public-key verifier for `v1a`.
        let (new, old) = (generate_key(SignatureAlgo::Ed25519), generate_key(SignatureAlgo::Ed25519));
        let timestamp = now();
        let headers =
            signature_headers(SignatureAlgo::Ed25519, &[&new, &old], MSG_ID, timestamp, BODY).expect("signed");
        let signed = signed_content(MSG_ID, timestamp, BODY);
        let tampered = signed_content(MSG_ID, timestamp + 1, BODY);

        let signatures: Vec<&str> = header(&headers, SIGNATURE_HEADER).split(' ').collect();
        assert_eq!(signatures.len(), 2);
        for (key, signature) in [new, old].iter().zip(signatures) {
            let public = public_key(key).expect("a public key");
            let bytes: [u8; 32] = decoded(&public, PUBLIC_KEY_PREFIX).try_into().expect("32 bytes");
            let verifying = VerifyingKey::from_bytes(&bytes).expect("a verifying key");
            let raw: [u8; 64] =
                decoded(signature, "v1a,").try_into().expect("a 64-byte signature, base64 after `v1a,`");
            let signature = Signature::from_bytes(&raw);
            verifying.verify_strict(&signed, &signature).expect("verified");
            assert!(verifying.verify_strict(&tampered, &signature).is_err());
        }
    }

    #[test]
    fn when_ed25519_key_holds_seed_and_public_key_should_sign_like_its_seed() {
        let seed_key = generate_key(SignatureAlgo::Ed25519);
        let seed: [u8; 32] = decoded(&seed_key, SECRET_KEY_PREFIX).try_into().expect("32 bytes");
        let pair = SigningKey::from_bytes(&seed).to_keypair_bytes();
        let pair_key = format!("{SECRET_KEY_PREFIX}{}", STANDARD.encode(pair));
        let mut mismatched = pair;
        mismatched[32..].copy_from_slice(&SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes());

        assert!(is_valid_key(SignatureAlgo::Ed25519, &pair_key));
        assert_eq!(public_key(&pair_key).expect("public"), public_key(&seed_key).expect("public"));
        let sign = |key: &str| signature_headers(SignatureAlgo::Ed25519, &[key], MSG_ID, 1, BODY).expect("signed");
        assert_eq!(sign(&pair_key), sign(&seed_key));
        assert!(!is_valid_key(SignatureAlgo::Ed25519, &format!("{SECRET_KEY_PREFIX}{}", STANDARD.encode(mismatched))));
    }

    #[test]
    fn when_jwt_headers_built_should_decode_with_jsonwebtoken() {
        let secret = generate_key(SignatureAlgo::Jwt);
        let timestamp = now();
        let headers = signature_headers(SignatureAlgo::Jwt, &[&secret], MSG_ID, timestamp, BODY).expect("signed");

        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, [ID_HEADER, TIMESTAMP_HEADER, JWT_HEADER]);
        let token = header(&headers, JWT_HEADER);
        let jose = jsonwebtoken::decode_header(token).expect("a JOSE header");
        assert_eq!((jose.alg, jose.typ.as_deref()), (Algorithm::HS256, Some("JWT")));
        let claims = decode_jwt(token, &secret).expect("verified");
        assert_eq!((claims.iss.as_str(), claims.jti.as_str()), (JWT_ISSUER, MSG_ID));
        assert_eq!((claims.iat, claims.exp), (timestamp, timestamp + 300));
        assert_eq!(claims.body_sha256, URL_SAFE_NO_PAD.encode(Sha256::digest(BODY)));
        assert_ne!(claims.body_sha256, URL_SAFE_NO_PAD.encode(Sha256::digest(b"{}")));
    }

    #[test]
    fn when_jwt_verified_with_a_wrong_secret_should_fail() {
        let secret = generate_key(SignatureAlgo::Jwt);
        let headers = signature_headers(SignatureAlgo::Jwt, &[&secret], MSG_ID, now(), BODY).expect("signed");

        let wrong = decode_jwt(header(&headers, JWT_HEADER), &generate_key(SignatureAlgo::Jwt));
        assert_eq!(wrong.expect_err("rejected").kind(), &ErrorKind::InvalidSignature);
    }

    #[test]
    fn when_jwt_older_than_its_lifetime_should_be_expired() {
        let secret = generate_key(SignatureAlgo::Jwt);
        let headers = signature_headers(SignatureAlgo::Jwt, &[&secret], MSG_ID, now() - 1_000, BODY).expect("signed");

        let expired = decode_jwt(header(&headers, JWT_HEADER), &secret);
        assert_eq!(expired.expect_err("rejected").kind(), &ErrorKind::ExpiredSignature);
    }

    #[test]
    fn when_jwt_keys_rotated_should_carry_one_token_per_key_in_order() {
        let (new, old) = (generate_key(SignatureAlgo::Jwt), generate_key(SignatureAlgo::Jwt));
        let headers = signature_headers(SignatureAlgo::Jwt, &[&new, &old], MSG_ID, now(), BODY).expect("signed");

        let tokens: Vec<&str> = header(&headers, JWT_HEADER).split(' ').collect();
        assert_eq!(tokens.len(), 2);
        decode_jwt(tokens[0], &new).expect("the first token is the new key's");
        decode_jwt(tokens[1], &old).expect("the second token is the old key's");
        assert!(decode_jwt(tokens[0], &old).is_err());
    }

    #[test]
    fn when_key_generated_should_be_valid_for_its_algo_only() {
        for (algo, prefix) in [
            (SignatureAlgo::Hmac, SECRET_PREFIX),
            (SignatureAlgo::Jwt, SECRET_PREFIX),
            (SignatureAlgo::Ed25519, SECRET_KEY_PREFIX),
        ] {
            let key = generate_key(algo);
            assert_eq!(decoded(&key, prefix).len(), 32, "{algo:?}");
            assert!(is_valid_key(algo, &key), "{algo:?}");
            assert_ne!(key, generate_key(algo), "{algo:?}");
        }
        let ed25519 = generate_key(SignatureAlgo::Ed25519);
        assert!(!is_valid_key(SignatureAlgo::Hmac, &ed25519));
        assert!(!is_valid_key(SignatureAlgo::Jwt, &ed25519));
        assert!(!is_valid_key(SignatureAlgo::Ed25519, &generate_key(SignatureAlgo::Hmac)));
        let public = public_key(&ed25519).expect("public");
        assert_eq!(decoded(&public, PUBLIC_KEY_PREFIX).len(), 32);
        assert!(!is_valid_key(SignatureAlgo::Ed25519, &public));
    }

    #[test]
    fn when_key_is_malformed_should_be_rejected() {
        let unprefixed = STANDARD.encode([1u8; 32]);
        let short = format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 8]));
        let long = format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 65]));
        let bad_base64 = format!("{SECRET_PREFIX}not*base64!");
        let whsk = generate_key(SignatureAlgo::Ed25519);
        for algo in [SignatureAlgo::Hmac, SignatureAlgo::Jwt] {
            for key in [&unprefixed, &short, &long, &bad_base64, &whsk] {
                assert!(!is_valid_key(algo, key), "{algo:?} {key}");
            }
        }
        assert!(is_valid_key(SignatureAlgo::Hmac, &format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 24]))));
        assert!(is_valid_key(SignatureAlgo::Hmac, &format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 64]))));
        for key in [
            unprefixed,
            format!("{SECRET_KEY_PREFIX}not*base64!"),
            format!("{SECRET_KEY_PREFIX}{}", STANDARD.encode([1u8; 8])),
            format!("{SECRET_KEY_PREFIX}{}", STANDARD.encode([1u8; 31])),
            generate_key(SignatureAlgo::Hmac),
        ] {
            assert!(!is_valid_key(SignatureAlgo::Ed25519, &key), "{key}");
        }
    }

    #[test]
    fn when_a_key_is_malformed_should_fail_with_an_internal_error_that_hides_it() {
        let good = generate_key(SignatureAlgo::Hmac);
        let bad = generate_key(SignatureAlgo::Ed25519);

        for algo in [SignatureAlgo::Hmac, SignatureAlgo::Jwt] {
            let error = signature_headers(algo, &[&good, &bad], MSG_ID, 1, BODY).expect_err("malformed");
            assert!(matches!(&error, Error::Internal(what) if what.contains("#1") && !what.contains(&bad)), "{error}");
        }
        let error = signature_headers(SignatureAlgo::Ed25519, &[&good], MSG_ID, 1, BODY).expect_err("malformed");
        assert!(matches!(&error, Error::Internal(what) if !what.contains(&good)), "{error}");
        assert!(matches!(public_key(&good), Err(Error::Internal(_))));
        assert!(matches!(signature_headers(SignatureAlgo::Hmac, &[], MSG_ID, 1, BODY), Err(Error::Internal(_))));
    }
}
