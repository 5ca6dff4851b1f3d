//! What a callback's text may carry into a notification. Every field is a claim of an
//! unsigned body, so the characters that could rearrange what a person reads, or that SNS
//! and SQS refuse, are replaced before they leave.

/// What replaces a character that may not pass.
pub const REPLACEMENT: char = '\u{fffd}';

/// Unicode's format characters (general category `Cf`, Unicode 16.0): invisible, and
/// some (U+202E right-to-left override, the isolates U+2066-U+2069) reorder the text
/// around them.
const FORMAT: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

pub fn is_format(c: char) -> bool {
    let cp = u32::from(c);
    FORMAT
        .iter()
        .any(|&(first, last)| (first..=last).contains(&cp))
}

/// U+FFFE and U+FFFF: outside the characters an SQS message (and so an SNS message
/// delivered to SQS) may hold, which are #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and
/// #x10000-#x10FFFF.
fn is_refused_noncharacter(c: char) -> bool {
    matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// For every text a person reads (e-mail, SMS, subject, chat): control (`Cc`), format
/// (`Cf`), line-separator (`Zl`) and paragraph-separator (`Zp`) characters, which could
/// forge lines or reverse the text around them, and the noncharacters SQS refuses.
pub fn for_people(text: &str) -> String {
    text.chars()
        .map(|c| {
            let forbidden = c.is_control()
                || is_format(c)
                || matches!(c, '\u{2028}' | '\u{2029}')
                || is_refused_noncharacter(c);
            if forbidden { REPLACEMENT } else { c }
        })
        .collect()
}

/// For a message attribute's value, to which SNS applies the message body's character
/// rules: no control character (tabs and line breaks included: a value is an identifier)
/// and no refused noncharacter.
pub fn for_attribute(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_refused_noncharacter(c) {
                REPLACEMENT
            } else {
                c
            }
        })
        .collect()
}

/// serde_json writes U+FFFE and U+FFFF as they are; in a JSON text they can only stand
/// inside strings, where their `\u` escapes mean the same and pass everywhere.
pub fn escape_noncharacters(json: String) -> String {
    if !json.chars().any(is_refused_noncharacter) {
        return json;
    }
    json.replace('\u{fffe}', "\\ufffe")
        .replace('\u{ffff}', "\\uffff")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_table_holds_unicode_16s_170_format_characters() {
        let count: u32 = FORMAT.iter().map(|(first, last)| last - first + 1).sum();
        assert_eq!(count, 170);
        assert!(
            FORMAT.windows(2).all(|w| w[0].1 < w[1].0),
            "sorted, disjoint"
        );
        for c in [
            '\u{202e}',
            '\u{200b}',
            '\u{feff}',
            '\u{2066}',
            '\u{2069}',
            '\u{e0041}',
        ] {
            assert!(is_format(c), "{c:?}");
        }
        for c in ['a', ' ', '\u{2028}', '直', '\u{fffd}', '\u{1f600}'] {
            assert!(!is_format(c), "{c:?}");
        }
    }

    #[test]
    fn texts_for_people_lose_every_character_that_could_rearrange_them() {
        let hostile = "cam\u{202e}lanigiro\u{2028}Event ID: x\u{2029}\u{200b}\u{feff}\u{2066}a\u{2069}\r\n\t\u{0}\u{85}\u{ffff}";
        let shown = for_people(hostile);
        assert_eq!(
            shown,
            "cam\u{fffd}lanigiro\u{fffd}Event ID: x\u{fffd}\u{fffd}\u{fffd}\u{fffd}a\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}"
        );
        assert_eq!(for_people("直播间 Live-1 (HD)"), "直播间 Live-1 (HD)");
    }

    #[test]
    fn attribute_values_hold_only_what_sqs_accepts() {
        let value = for_attribute("a\u{0}b\u{8}c\u{b}d\u{c}e\u{1f}f\tg\n\u{ffff}\u{202e}");
        let allowed = |c: char| matches!(u32::from(c), 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF);
        assert!(value.chars().all(allowed), "{value:?}");
        assert!(!value.chars().any(|c| c.is_control()), "{value:?}");
        assert!(
            value.contains('\u{202e}'),
            "format characters are data to a machine"
        );
    }

    #[test]
    fn noncharacters_are_escaped_in_json() {
        let json = serde_json::to_string(&"a\u{ffff}b\u{fffe}").unwrap();
        let escaped = escape_noncharacters(json);
        assert_eq!(escaped, "\"a\\uffffb\\ufffe\"");
        assert_eq!(
            serde_json::from_str::<String>(&escaped).unwrap(),
            "a\u{ffff}b\u{fffe}"
        );
    }
}
