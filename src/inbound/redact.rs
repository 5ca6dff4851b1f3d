//! Hiding credentials in `stream_param`, the push URL's query string, before anyone sees it.
//!
//! RTMP pushes separate pairs with `&`; other protocols and players use `;` or `,`, and an
//! SRT push carries `streamid=#!::h=<domain>,r=<app>/<stream>,txSecret=...,txTime=...`.
//! Which of these Tencent forwards is not documented, so every form is handled, and where
//! in doubt the text is masked. The rule, applied to the text as it came and again after
//! each round of percent-decoding (the text is shown decoded):
//!
//! - the userinfo of every URL, everything between `://` and the last `@` before the next
//!   `/`, whatever its characters, is masked;
//! - the text is cut into pieces at `&`, `;`, `,`, `?`, `#`, `+` and white space; in a
//!   piece, each `=` or `:` ends a name (the text since the piece's start or the previous
//!   `=` or `:`), and after the first name that names a credential the rest of the piece is
//!   masked, so a pair nested in a value (`cb=token=abc`) is masked like any other; a
//!   masked value runs on to the next `&` in a query that has one, else to the next piece
//!   with an `=`;
//! - text still percent-encoded after four rounds is masked whole.

/// Any parameter whose name contains one of these (ignoring case and everything but
/// letters and digits) is a credential: `txSecret`, `usersig`, `access_token`, `apiKey`,
/// `x-auth`, `password`, `pwd`, ...
const SENSITIVE_NAME_PARTS: [&str; 8] = [
    "secret",
    "token",
    "sig",
    "key",
    "auth",
    "pass",
    "pwd",
    "credential",
];
/// Characters that end a `name=value` pair in the forms above, `?`/`#`, which start a
/// query or an SRT stream id, and `+`, form-encoding's space.
const SEPARATORS: [char; 6] = ['&', ';', ',', '?', '#', '+'];
/// What ends a name within a piece: `name=value`, and `name:value` (headers, JSON).
const NAME_ENDS: [char; 2] = ['=', ':'];
/// How many rounds of percent-encoding are undone; text encoded deeper is masked whole.
const MAX_DECODE_ROUNDS: usize = 4;
pub const MASK: &str = "***";

/// `stream_param` with every credential masked (shown percent-decoded when it was encoded).
pub fn redact_stream_param(raw: &str) -> String {
    let mut text = mask(raw);
    for _ in 0..MAX_DECODE_ROUNDS {
        match percent_decode(&text) {
            Some(decoded) => text = mask(&decoded),
            None => return text,
        }
    }
    match percent_decode(&text) {
        Some(_) => MASK.to_string(),
        None => text,
    }
}

/// One round's masking: URLs' userinfo, then credential-named values.
fn mask(text: &str) -> String {
    mask_pairs(&mask_userinfo(text))
}

/// One round of percent-decoding, or `None` if the text has no valid escape.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                changed = true;
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    changed.then(|| String::from_utf8_lossy(&out).into_owned())
}

fn is_separator(c: char) -> bool {
    SEPARATORS.contains(&c) || c.is_whitespace()
}

fn is_sensitive(name: &str) -> bool {
    let name: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SENSITIVE_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// Where the value of the first credential-named name of `piece` starts: just past the
/// `=` or `:` that ends that name.
fn credential_value_at(piece: &str) -> Option<usize> {
    let mut name_start = 0;
    for (at, c) in piece.char_indices() {
        if NAME_ENDS.contains(&c) {
            if is_sensitive(&piece[name_start..at]) {
                return Some(at + 1);
            }
            name_start = at + 1;
        }
    }
    None
}

/// Masks the value of every credential-named name (see the module's rule). A sensitive
/// name followed by spaces before its `=` (`txSecret = a`, `cb=txSecret = a`) is a pair
/// too.
fn mask_pairs(text: &str) -> String {
    let ampersand_query = text.contains('&');
    let mut out = String::with_capacity(text.len());
    let mut masking = false;
    let mut bare_sensitive_name = false;
    for piece in text.split_inclusive(is_separator) {
        let (body, separator) = match piece.char_indices().last() {
            Some((at, c)) if is_separator(c) => piece.split_at(at),
            _ => (piece, ""),
        };
        let has_pair = body.contains('=');
        if masking && (ampersand_query || !has_pair) {
            if !body.is_empty() {
                out.push_str(MASK);
            }
        } else if let Some(at) = credential_value_at(body)
            .or_else(|| (bare_sensitive_name && body.starts_with('=')).then_some(1))
        {
            out.push_str(&body[..at]);
            out.push_str(MASK);
            masking = true;
        } else {
            out.push_str(body);
            masking = false;
        }
        if !body.is_empty() {
            // a piece that ends in a credential's name, then spaces: `cb=txSecret = x`
            let last_name = body.rsplit(NAME_ENDS).next().unwrap_or(body);
            bare_sensitive_name =
                is_sensitive(last_name) && separator.chars().all(char::is_whitespace);
        }
        if separator == "&" {
            masking = false;
            bare_sensitive_name = false;
        }
        out.push_str(separator);
    }
    out
}

/// Masks the userinfo of every URL: from `://` to the last `@` before the next `/`, whatever
/// lies between (a password may hold any character; erring on the side of masking).
fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after.find('/').unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str(MASK);
                rest = &after[userinfo_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tencent_push_auth_is_hidden_and_the_rest_kept() {
        assert_eq!(
            redact_stream_param("txSecret=d41d8cd98f00b204e9800998ecf8427e&txTime=65A0B1C2"),
            "txSecret=***&txTime=65A0B1C2"
        );
    }

    #[test]
    fn any_credential_like_name_is_hidden_case_insensitively() {
        assert_eq!(
            redact_stream_param(
                "a=1&access_token=t1&SIGN=s1&apiKey=k1&Authorization=x&x-Secret-Id=y&password=p&usersig=u&b=2"
            ),
            "a=1&access_token=***&SIGN=***&apiKey=***&Authorization=***&x-Secret-Id=***&password=***&usersig=***&b=2"
        );
    }

    #[test]
    fn every_separator_is_a_pair_boundary() {
        assert_eq!(
            redact_stream_param("a=1;txSecret=abc;txTime=1"),
            "a=1;txSecret=***;txTime=1"
        );
        assert_eq!(
            redact_stream_param("h=d,r=live/s,txSecret=abc,txTime=1"),
            "h=d,r=live/s,txSecret=***,txTime=1"
        );
        assert_eq!(
            redact_stream_param(
                "streamid=#!::h=live.example.com,r=live/cam1,txSecret=abc,txTime=65A0B1C2"
            ),
            "streamid=#!::h=live.example.com,r=live/cam1,txSecret=***,txTime=65A0B1C2"
        );
        assert_eq!(
            redact_stream_param("#!::r=live/cam1,usersig=eJyrVkrOzCtJLUpL"),
            "#!::r=live/cam1,usersig=***"
        );
    }

    #[test]
    fn percent_encoding_hides_neither_a_name_nor_a_separator() {
        assert_eq!(
            redact_stream_param("tx%53ecret=abc&tok%65n=def&my+key=ghi"),
            "txSecret=***&token=***&my+key=***"
        );
        assert_eq!(
            redact_stream_param("streamid%3D%23%21%3A%3Ah%3Dd%2Cr%3Dlive%2Fs%2CtxSecret%3Dabc"),
            "streamid=#!::h=d,r=live/s,txSecret=***"
        );
        assert_eq!(
            redact_stream_param("a=1%2526txSecret%253Dabc"),
            "a=1&txSecret=***"
        );
        assert_eq!(redact_stream_param("x=%25252525252541"), MASK);
    }

    #[test]
    fn a_value_holding_separators_or_equals_signs_is_hidden_whole() {
        assert_eq!(redact_stream_param("sign=a=b=c&x=1"), "sign=***&x=1");
        assert_eq!(
            redact_stream_param("txSecret=abc,def;ghi jkl&x=1"),
            "txSecret=***,***;*** ***&x=1"
        );
        assert_eq!(
            redact_stream_param("token=ab%2Ccd%3Def&x=1"),
            "token=***&x=1",
            "masked before the decoding splits it"
        );
        assert_eq!(
            redact_stream_param("txSecret=ab%26cd&x=1"),
            "txSecret=***&x=1"
        );
        assert_eq!(
            redact_stream_param("h=d,txSecret=ab,cd,txTime=1"),
            "h=d,txSecret=***,***,txTime=1"
        );
    }

    #[test]
    fn spaces_and_plus_signs_do_not_split_a_credential_from_its_value() {
        assert_eq!(redact_stream_param("txSecret =abc"), "txSecret =***");
        assert_eq!(redact_stream_param("txSecret = abc"), "txSecret =*** ***");
        assert_eq!(
            redact_stream_param("txSecret= abc&b=1"),
            "txSecret=*** ***&b=1"
        );
        assert_eq!(redact_stream_param("h= txSecret=abc"), "h= txSecret=***");
        assert_eq!(redact_stream_param("txSecret  =abc"), "txSecret  =***");
        assert_eq!(redact_stream_param("txSecret a=1 =x"), "txSecret a=1 =x");
        assert_eq!(
            redact_stream_param("cb=txSecret = abc"),
            "cb=txSecret =*** ***"
        );
        assert_eq!(redact_stream_param("a=1+txSecret=abc"), "a=1+txSecret=***");
        assert_eq!(
            redact_stream_param("a=1%20txSecret%3Dabc"),
            "a=1 txSecret=***"
        );
    }

    #[test]
    fn userinfo_in_a_url_is_hidden() {
        assert_eq!(
            redact_stream_param("relay=rtmp://pusher:hunter2@live.example.com/live/s&x=1"),
            "relay=rtmp://***@live.example.com/live/s&x=1"
        );
        assert_eq!(
            redact_stream_param("cb=https%3A%2F%2Fu%3Ap%40hooks.example.com%2Fx"),
            "cb=https://***@hooks.example.com/x"
        );
        assert_eq!(
            redact_stream_param("next=https://hooks.example.com/a@b"),
            "next=https://hooks.example.com/a@b"
        );
        for encoded in ["%2F", "%26", "%3F", "%23", "%2C", "%20", "%40", "%252F"] {
            let raw = format!("relay=rtmp://pusher:s3cr{encoded}t-pw@live.example.com/live/s&x=1");
            assert_eq!(
                redact_stream_param(&raw),
                "relay=rtmp://***@live.example.com/live/s&x=1",
                "{raw}"
            );
        }
    }

    #[test]
    fn a_credential_nested_in_a_value_is_hidden_at_any_depth_and_encoding() {
        assert_eq!(redact_stream_param("cb=token=abc&x=1"), "cb=token=***&x=1");
        assert_eq!(
            redact_stream_param("a=b=c=apikey=abc,d=1"),
            "a=b=c=apikey=***,d=1"
        );
        assert_eq!(
            redact_stream_param("origin=txSecret%3Dd41d8cd9%26txTime%3D65A0B1C2&x=1"),
            "origin=txSecret=***&txTime=65A0B1C2&x=1"
        );
        assert_eq!(
            redact_stream_param("cb=https%3A%2F%2Fhooks.example.com%2Fx%3Fsig%3Dabc%26y%3D1"),
            "cb=https://hooks.example.com/x?sig=***&y=1"
        );
        assert_eq!(
            redact_stream_param("cb=%2574oken%253Dabc"),
            "cb=token=***",
            "twice encoded"
        );
        assert_eq!(
            redact_stream_param("h=Authorization:Bearer,x=1"),
            "h=Authorization:***,x=1"
        );
        assert_eq!(
            redact_stream_param("d={\"token\":\"abc\"}"),
            "d={\"token\":***"
        );
    }

    #[test]
    fn userinfo_of_any_characters_is_hidden() {
        for userinfo in [
            "pusher:a,b",
            "pusher:a;b",
            "pusher:a+b",
            "pusher:a b",
            "pusher:a&b",
            "pusher:a=b",
            "pusher:a@b",
            "pusher:a?b",
            "pusher:a#b",
            "pusher:a:b",
            "p:a&token=b",
        ] {
            let raw = format!("relay=rtmp://{userinfo}@live.example.com/live/s&x=1");
            assert_eq!(
                redact_stream_param(&raw),
                "relay=rtmp://***@live.example.com/live/s&x=1",
                "{raw}"
            );
        }
        assert_eq!(
            redact_stream_param("relay=rtmp://u:p&q@host&x=1"),
            "relay=rtmp://***@host&x=1"
        );
        assert_eq!(
            redact_stream_param("a=rtmp://host1&b=rtmp://u:p@host2/x"),
            "a=rtmp://host1&b=rtmp://***@host2/x"
        );
    }

    #[test]
    fn harmless_or_odd_input_is_kept() {
        for q in [
            "",
            "stream_param=test",
            "?quality=hd",
            "flag&other",
            "a=%zz&b=%4",
            "名前=値",
            ",,;;&&",
            "=",
        ] {
            assert_eq!(redact_stream_param(q), q);
        }
        assert_eq!(redact_stream_param("?txSecret=abc"), "?txSecret=***");
    }
}
