//! Unix seconds and millisecond durations as people and RFC 3339 read them.

/// `2023-12-28T02:44:38Z`.
pub fn rfc3339(unix_secs: u64) -> String {
    let (date, time) = civil(unix_secs);
    format!("{date}T{time}Z")
}

/// `2023-12-28 02:44:38 UTC`.
pub fn human_utc(unix_secs: u64) -> String {
    let (date, time) = civil(unix_secs);
    format!("{date} {time} UTC")
}

/// `20231228T024438Z` (ISO 8601's basic format, SigV4's `x-amz-date`).
pub fn basic_utc(unix_secs: u64) -> String {
    let (year, month, day) = civil_from_days((unix_secs / 86_400) as i64);
    let secs = unix_secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `02:44 UTC`.
pub fn clock_utc(unix_secs: u64) -> String {
    let (_, time) = civil(unix_secs);
    format!("{} UTC", &time[..5])
}

/// `1 h 02 min 08 s`, `2 min 08 s`, `45 s`.
pub fn human_duration(millis: u64) -> String {
    let secs = millis / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s:02} s"),
        _ => format!("{h} h {m:02} min {s:02} s"),
    }
}

/// [`human_duration`] of whole seconds.
pub fn human_secs(secs: u64) -> String {
    human_duration(secs.saturating_mul(1000))
}

fn civil(unix_secs: u64) -> (String, String) {
    let days = (unix_secs / 86_400) as i64;
    let secs_of_day = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60
        ),
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_703_731_478), "2023-12-28T02:44:38Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(human_utc(1_703_731_606), "2023-12-28 02:46:46 UTC");
        assert_eq!(clock_utc(1_703_731_606), "02:46 UTC");
        assert_eq!(basic_utc(1_703_731_478), "20231228T024438Z");
        assert_eq!(basic_utc(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn absurd_times_do_not_panic() {
        assert!(rfc3339(u64::MAX).ends_with('Z'));
        assert!(basic_utc(u64::MAX).ends_with('Z'));
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(999), "0 s");
        assert_eq!(human_duration(45_000), "45 s");
        assert_eq!(human_duration(128_581), "2 min 08 s");
        assert_eq!(human_duration(3_723_000), "1 h 02 min 03 s");
        assert!(human_duration(u64::MAX).ends_with(" s"));
    }
}
