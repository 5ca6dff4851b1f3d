//! What verifying Tencent's callbacks needs: the keys and the time bounds of `t`.

use std::ops::RangeInclusive;

pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 300;
pub const DEFAULT_MAX_VALIDITY_SECS: u64 = 600;
/// The values each number of seconds may take (the template's parameters allow the same).
pub const CLOCK_SKEW_SECS: RangeInclusive<u64> = 0..=86_400;
pub const MAX_VALIDITY_SECS: RangeInclusive<u64> = 1..=86_400;
pub(super) const MAX_KEY_LEN: usize = 32;

pub(super) fn parse_keys(value: &str) -> Result<Vec<String>, String> {
    let keys: Vec<String> = value.split(',').map(|k| k.trim().to_string()).collect();
    let count = keys.len();
    for (i, key) in keys.iter().enumerate() {
        let which = format!("key {} of {count}", i + 1);
        if key.is_empty() {
            return Err(format!("{which} is empty"));
        }
        if key.len() > MAX_KEY_LEN {
            return Err(format!(
                "{which} is longer than Tencent's {MAX_KEY_LEN} characters"
            ));
        }
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "{which} has a character other than letters, digits, '_' and '-'"
            ));
        }
    }
    Ok(keys)
}
