//! Tencent's callback signature: `sign = hex(MD5(key + t))`, `t` being the expiry time;
//! and the relay's own seal on what it stores of a verified callback (a held drop), so
//! that it can be trusted again when it comes back without keeping the `sign`.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::Sha256;

/// Why a callback's `t` / `sign` pair was refused. Never carries the `sign` or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("t is missing")]
    MissingTime,
    #[error("t is not an unsigned decimal integer")]
    MalformedTime,
    #[error("sign is missing")]
    MissingSign,
    #[error("sign is not 32 hexadecimal digits")]
    MalformedSign,
    #[error("t expired {seconds_ago} s ago (allowed clock skew {skew} s)")]
    Expired { seconds_ago: u64, skew: u64 },
    #[error("t lies {seconds_ahead} s in the future, beyond the allowed validity")]
    TooFarInFuture { seconds_ahead: u64 },
    #[error("sign does not match any configured callback key")]
    Mismatch,
}

/// A value that passed signature verification; only [`Verifier::verify`] creates one.
#[derive(Debug, Clone, PartialEq)]
pub struct Authentic<T> {
    value: T,
    accepted_until: u64,
}

impl<T> Authentic<T> {
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The last Unix second at which the same callback (the same `t` and `sign`) would
    /// still be accepted: its `t` plus the clock-skew allowance.
    pub fn accepted_until(&self) -> u64 {
        self.accepted_until
    }

    /// Transforms the verified value, keeping the proof of verification.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Authentic<U> {
        Authentic {
            value: f(self.value),
            accepted_until: self.accepted_until,
        }
    }

    /// Transforms the verified value, keeping the proof of verification.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Authentic<U>, E> {
        let accepted_until = self.accepted_until;
        f(self.value).map(|value| Authentic {
            value,
            accepted_until,
        })
    }
}

/// Why stored content was not vouched for by its seal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the seal is not one of this relay's callback keys over this content")]
pub struct SealError;

/// What a seal key is derived for: a seal is never a `sign`, nor any other MAC of the key.
const SEAL_CONTEXT: &[u8] = b"live-callback-relay seal v1";

/// Checks `t` and `sign` against the configured keys and the clock passed in, and seals
/// and unseals what the relay stores with keys derived from them.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<String>,
    /// HMAC-SHA256 of [`SEAL_CONTEXT`] under each key, in the keys' order.
    seal_keys: Vec<[u8; 32]>,
    clock_skew_secs: u64,
    max_validity_secs: u64,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("max_validity_secs", &self.max_validity_secs)
            .finish()
    }
}

impl Verifier {
    pub fn new(keys: Vec<String>, clock_skew_secs: u64, max_validity_secs: u64) -> Self {
        let seal_keys = keys
            .iter()
            .map(|key| hmac_sha256(key.as_bytes(), SEAL_CONTEXT))
            .collect();
        Self {
            keys,
            seal_keys,
            clock_skew_secs,
            max_validity_secs,
        }
    }

    /// The seal of `content` (64 hex digits), under the newest key (the last configured):
    /// it outlives the older keys of a rotation.
    pub fn seal(&self, content: &[u8]) -> String {
        let key = self.seal_keys.last().map_or(&[0u8; 32][..], |k| &k[..]);
        hex::encode(hmac_sha256(key, content))
    }

    /// Vouches for `value`, read from `content`, if `seal` is the seal of `content` under
    /// any configured key (compared in constant time): a value the relay verified once and
    /// sealed, acceptable as a callback until `accepted_until`.
    pub fn unseal<T>(
        &self,
        value: T,
        content: &[u8],
        seal: &str,
        accepted_until: u64,
    ) -> Result<Authentic<T>, SealError> {
        let mut tag = [0u8; 32];
        hex::decode_to_slice(seal, &mut tag).map_err(|_| SealError)?;
        let matches = self.seal_keys.iter().fold(false, |found, key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
            mac.update(content);
            found | mac.verify_slice(&tag).is_ok()
        });
        if matches {
            Ok(Authentic {
                value,
                accepted_until,
            })
        } else {
            Err(SealError)
        }
    }

    /// Verifies the `t` and `sign` of a callback, as the raw JSON text of each value, at
    /// Unix time `now`, and vouches for `claims`, the callback they came with.
    pub fn verify<T>(
        &self,
        claims: T,
        t: Option<&RawValue>,
        sign: Option<&RawValue>,
        now: u64,
    ) -> Result<Authentic<T>, SignatureError> {
        let t = parse_time(&json_value(t.ok_or(SignatureError::MissingTime)?))?;
        let sign = parse_sign(&json_value(sign.ok_or(SignatureError::MissingSign)?))?;
        self.check_window(t, now)?;
        let t_digits = t.to_string();
        let matches = self.keys.iter().fold(false, |found, key| {
            found | constant_time_eq(&digest(key, &t_digits), &sign)
        });
        if matches {
            Ok(Authentic {
                value: claims,
                accepted_until: t.saturating_add(self.clock_skew_secs),
            })
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    fn check_window(&self, t: u64, now: u64) -> Result<(), SignatureError> {
        if now > t.saturating_add(self.clock_skew_secs) {
            return Err(SignatureError::Expired {
                seconds_ago: now - t,
                skew: self.clock_skew_secs,
            });
        }
        let latest = now
            .saturating_add(self.max_validity_secs)
            .saturating_add(self.clock_skew_secs);
        if t > latest {
            return Err(SignatureError::TooFarInFuture {
                seconds_ahead: t - now,
            });
        }
        Ok(())
    }
}

/// The `sign` Tencent sends for `key` and expiry `t`: 32 lowercase hex digits.
pub fn sign(key: &str, t: u64) -> String {
    hex::encode(digest(key, &t.to_string()))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn digest(key: &str, t_digits: &str) -> [u8; 16] {
    let mut hasher = Md5::new();
    hasher.update(key.as_bytes());
    hasher.update(t_digits.as_bytes());
    hasher.finalize().into()
}

/// A raw value as JSON, or `null` when serde_json cannot hold it (a number such as `1e400`):
/// either way it is then refused as malformed, never as an undecodable body.
fn json_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// `t` as a JSON number or a string of digits; hashed later in canonical decimal form.
fn parse_time(value: &Value) -> Result<u64, SignatureError> {
    match value {
        Value::Number(n) => n.as_u64().ok_or(SignatureError::MalformedTime),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| SignatureError::MalformedTime)
        }
        _ => Err(SignatureError::MalformedTime),
    }
}

fn parse_sign(value: &Value) -> Result<[u8; 16], SignatureError> {
    let text = value.as_str().ok_or(SignatureError::MalformedSign)?;
    let mut bytes = [0u8; 16];
    hex::decode_to_slice(text, &mut bytes).map_err(|_| SignatureError::MalformedSign)?;
    Ok(bytes)
}

fn constant_time_eq(a: &[u8; 16], b: &[u8; 16]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "5d41402abc4b2a76b9719d911017c592";
    const T: u64 = 1_626_839_220;
    const KNOWN_SIGN: &str = "5ee8ca6c28cbe415b40352969cdf8249";

    fn verifier(keys: &[&str]) -> Verifier {
        Verifier::new(keys.iter().map(|k| k.to_string()).collect(), 300, 600)
    }

    fn raw(value: &Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(value).unwrap()
    }

    fn check(v: &Verifier, t: Value, sign: Value, now: u64) -> Result<(), SignatureError> {
        v.verify((), Some(&raw(&t)), Some(&raw(&sign)), now)
            .map(|_| ())
    }

    #[test]
    fn known_answer_from_tencent_docs() {
        assert_eq!(sign(KEY, T), KNOWN_SIGN);
        assert_eq!(
            check(&verifier(&[KEY]), json!(T), json!(KNOWN_SIGN), T),
            Ok(())
        );
    }

    #[test]
    fn t_as_string_of_digits_is_accepted() {
        assert_eq!(
            check(&verifier(&[KEY]), json!("1626839220"), json!(KNOWN_SIGN), T),
            Ok(())
        );
    }

    #[test]
    fn leading_zeros_are_hashed_in_canonical_form() {
        assert_eq!(
            check(
                &verifier(&[KEY]),
                json!("001626839220"),
                json!(KNOWN_SIGN),
                T
            ),
            Ok(())
        );
    }

    #[test]
    fn uppercase_hex_sign_is_accepted() {
        let upper = KNOWN_SIGN.to_ascii_uppercase();
        assert_eq!(check(&verifier(&[KEY]), json!(T), json!(upper), T), Ok(()));
    }

    #[test]
    fn every_key_of_a_rotation_is_accepted() {
        let v = verifier(&["old-key", KEY, "new_key"]);
        for key in ["old-key", KEY, "new_key"] {
            assert_eq!(check(&v, json!(T), json!(sign(key, T)), T), Ok(()), "{key}");
        }
    }

    #[test]
    fn wrong_key_is_rejected() {
        let v = verifier(&["another-key"]);
        assert_eq!(
            check(&v, json!(T), json!(KNOWN_SIGN), T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn tampered_sign_is_rejected() {
        let mut tampered = KNOWN_SIGN.to_string();
        tampered.replace_range(0..1, "6");
        assert_eq!(
            check(&verifier(&[KEY]), json!(T), json!(tampered), T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn sign_bound_to_other_t_is_rejected() {
        assert_eq!(
            check(&verifier(&[KEY]), json!(T + 1), json!(KNOWN_SIGN), T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_verified_callback_knows_until_when_it_stays_acceptable() {
        let v = verifier(&[KEY]);
        let verified = v
            .verify((), Some(&raw(&json!(T))), Some(&raw(&json!(KNOWN_SIGN))), T)
            .unwrap();
        assert_eq!(verified.accepted_until(), T + 300);
        assert_eq!(check(&v, json!(T), json!(KNOWN_SIGN), T + 300), Ok(()));
        assert!(check(&v, json!(T), json!(KNOWN_SIGN), T + 301).is_err());
    }

    #[test]
    fn expiry_edges_with_clock_skew() {
        let v = verifier(&[KEY]);
        assert_eq!(check(&v, json!(T), json!(KNOWN_SIGN), T + 300), Ok(()));
        assert_eq!(
            check(&v, json!(T), json!(KNOWN_SIGN), T + 301),
            Err(SignatureError::Expired {
                seconds_ago: 301,
                skew: 300
            })
        );
    }

    #[test]
    fn future_edges_with_validity_and_skew() {
        let v = verifier(&[KEY]);
        let now = T - 900;
        assert_eq!(check(&v, json!(T), json!(KNOWN_SIGN), now), Ok(()));
        assert_eq!(
            check(&v, json!(T), json!(KNOWN_SIGN), now - 1),
            Err(SignatureError::TooFarInFuture { seconds_ahead: 901 })
        );
    }

    #[test]
    fn far_future_t_does_not_overflow() {
        let t = u64::MAX;
        assert_eq!(
            check(&verifier(&[KEY]), json!(t), json!(sign(KEY, t)), T),
            Err(SignatureError::TooFarInFuture {
                seconds_ahead: u64::MAX - T
            })
        );
    }

    #[test]
    fn malformed_t_is_rejected() {
        let v = verifier(&[KEY]);
        for t in [
            json!(-1),
            json!(1626839220.0),
            json!(1.6e9),
            json!("+1626839220"),
            json!("-1626839220"),
            json!(" 1626839220"),
            json!("1626839220 "),
            json!("1626839220.5"),
            json!("0x60f7b0b4"),
            json!(""),
            json!("99999999999999999999999"),
            json!(99999999999999999999999.0),
            json!(null),
            json!(true),
            json!([T]),
        ] {
            assert_eq!(
                check(&v, t.clone(), json!(KNOWN_SIGN), T),
                Err(SignatureError::MalformedTime),
                "{t}"
            );
        }
        for text in ["1e400", "-0", "1626839220e0"] {
            let t = RawValue::from_string(text.to_string()).unwrap();
            assert_eq!(
                v.verify((), Some(&t), Some(&raw(&json!(KNOWN_SIGN))), T)
                    .map(|_| ()),
                Err(SignatureError::MalformedTime),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_sign_is_rejected() {
        let v = verifier(&[KEY]);
        let too_long = format!("{KNOWN_SIGN}0");
        for s in [
            json!(&KNOWN_SIGN[..31]),
            json!(too_long),
            json!("5ee8ca6c28cbe415b40352969cdf824g"),
            json!(""),
            json!(1234),
            json!(null),
        ] {
            assert_eq!(
                check(&v, json!(T), s.clone(), T),
                Err(SignatureError::MalformedSign),
                "{s}"
            );
        }
    }

    #[test]
    fn missing_fields_are_named() {
        let v = verifier(&[KEY]);
        assert_eq!(
            v.verify((), None, Some(&raw(&json!(KNOWN_SIGN))), T)
                .map(|_| ()),
            Err(SignatureError::MissingTime)
        );
        assert_eq!(
            v.verify((), Some(&raw(&json!(T))), None, T).map(|_| ()),
            Err(SignatureError::MissingSign)
        );
    }

    #[test]
    fn a_seal_vouches_for_its_content_under_any_configured_key_and_nothing_else() {
        let old = verifier(&["old-key"]);
        let rotating = verifier(&["old-key", KEY]);
        let content = br#"{"deadline":1}"#;
        let sealed_old = old.seal(content);
        let sealed_new = rotating.seal(content);
        assert_ne!(sealed_old, sealed_new, "sealed under the newest key");
        assert_eq!(sealed_new, verifier(&[KEY]).seal(content));
        assert_eq!(sealed_new.len(), 64);
        for seal in [&sealed_old, &sealed_new] {
            let opened = rotating.unseal("v", content, seal, 42).unwrap();
            assert_eq!((*opened.get(), opened.accepted_until()), ("v", 42));
        }
        assert_eq!(
            verifier(&[KEY]).unseal((), content, &sealed_old, 0),
            Err(SealError)
        );
        assert_eq!(
            rotating.unseal((), br#"{"deadline":2}"#, &sealed_new, 0),
            Err(SealError)
        );
        let mut flipped = sealed_new.clone();
        flipped.replace_range(0..1, if &sealed_new[..1] == "0" { "1" } else { "0" });
        for bad in [&flipped[..], &sealed_new[..63], "", "zz", &sign(KEY, T)] {
            assert_eq!(
                rotating.unseal((), content, bad, 0),
                Err(SealError),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_seal_is_not_a_sign_nor_a_plain_mac_of_the_key() {
        let v = verifier(&[KEY]);
        let t = T.to_string();
        assert_ne!(&v.seal(t.as_bytes())[..32], sign(KEY, T));
        assert_ne!(
            v.seal(t.as_bytes()),
            hex::encode(hmac_sha256(KEY.as_bytes(), t.as_bytes()))
        );
    }

    #[test]
    fn debug_output_hides_the_keys() {
        let v = verifier(&[KEY]);
        let shown = format!("{v:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains(&hex::encode(v.seal_keys[0])), "{shown}");
        assert!(shown.contains("1 redacted"), "{shown}");
    }
}
