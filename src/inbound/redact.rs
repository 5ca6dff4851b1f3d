//! Hiding credentials in `stream_param`, the push URL's query string, before anyone sees it.
//!
//! RTMP pushes separate pairs with `&`; other protocols and players use `;` or `,`, and an
//! SRT push carries `streamid=#!::h=<domain>,r=<app>/<stream>,txSecret=...,txTime=...`.
//! Which of these Tencent forwards is not documented, so every form is handled, and where
//! in doubt the text is masked. The rule (README, "How `stream_param` is masked"), applied
//! to the text as it came and again after each round of percent-decoding (the text is
//! shown decoded):
//!
//! - URLs: after an authority's start (`//`, or its escaped forms `\/\/` and `\\`), the
//!   userinfo, to the last `@` before the next `/` or `\` (or, when the first word there
//!   holds a `:` and no `@` follows before a `/`, to the last `@` of the text: a password
//!   may hold a `/`), whatever its characters; and a bare `user:password@host`: from the
//!   start of the value the `@` stands in to its last `@`, when a `:` comes before it;
//! - pairs: the text is cut into pieces at `&`, `;`, `,`, `?`, `#`, `+` and white space; in a
//!   piece, each `=` or `:` ends a name (the text since the piece's start or the previous
//!   `=` or `:`), and after the first name that names a credential the rest of the piece is
//!   masked, so a pair nested in a value (`cb=token=abc`) is masked like any other; a name
//!   followed by spaces before its `=` or `:` is one too;
//! - runs: a masked value runs on to the next `&` in a query that has one, else up to a
//!   piece that follows `;`, `,`, `?` or `#` and is a pair with a name and a value (so
//!   neither a `+`, a space nor base64's padding `=` ends it);
//! - text still percent-encoded after four rounds is masked whole.

/// Any parameter whose name contains one of these (ignoring case and everything but
/// letters and digits) is a credential: `txSecret`, `usersig`, `access_token`, `apiKey`,
/// `x-auth`, `password`, `pwd`, `jwt`, `bearer`, `session_id`, `cookie`...
const SENSITIVE_NAME_PARTS: [&str; 12] = [
    "secret",
    "token",
    "sig",
    "key",
    "auth",
    "pass",
    "pwd",
    "credential",
    "jwt",
    "bearer",
    "session",
    "cookie",
];
/// Characters that end a `name=value` pair in the forms above, `?`/`#`, which start a
/// query or an SRT stream id, and `+`, form-encoding's space.
const SEPARATORS: [char; 6] = ['&', ';', ',', '?', '#', '+'];
/// The separators that start another pair (not `+` or a space, which a value may hold).
const PAIR_SEPARATORS: [char; 5] = ['&', ';', ',', '?', '#'];
/// Where a URL's authority starts: `//`, and the escaped forms `\/\/` (JSON) and `\\`.
const AUTHORITY_STARTS: [&str; 3] = ["//", "\\/\\/", "\\\\"];
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

/// Whether `piece` is a pair with a name and a value (`txTime=1`; not `=`, `abc=`).
fn is_pair(piece: &str) -> bool {
    piece.split_once('=').is_some_and(|(name, value)| {
        !name.trim().is_empty() && !value.trim_end_matches('=').is_empty()
    })
}

/// Masks the value of every credential-named name (see the module's rule). A sensitive
/// name followed by spaces before its `=` or `:` (`txSecret = a`, `cb=txSecret = a`,
/// `token : a`) is a pair too.
fn mask_pairs(text: &str) -> String {
    let ampersand_query = text.contains('&');
    let mut out = String::with_capacity(text.len());
    let mut masking = false;
    let mut bare_sensitive_name = false;
    let mut after_pair_separator = true;
    for piece in text.split_inclusive(is_separator) {
        let (body, separator) = match piece.char_indices().last() {
            Some((at, c)) if is_separator(c) => piece.split_at(at),
            _ => (piece, ""),
        };
        let starts_a_pair = after_pair_separator && is_pair(body);
        if masking && (ampersand_query || !starts_a_pair) {
            if !body.is_empty() {
                out.push_str(MASK);
            }
        } else if let Some(at) = credential_value_at(body)
            .or_else(|| (bare_sensitive_name && body.starts_with(NAME_ENDS)).then_some(1))
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
        if !separator.is_empty() {
            after_pair_separator = separator.starts_with(PAIR_SEPARATORS);
        }
        out.push_str(separator);
    }
    out
}

/// Masks the userinfo of every URL (see the module's rule; a password may hold any
/// character: erring on the side of masking).
fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, len)) = AUTHORITY_STARTS
        .iter()
        .filter_map(|start| rest.find(start).map(|at| (at, start.len())))
        .min()
    {
        let (before, after) = rest.split_at(at + len);
        out.push_str(before);
        let authority = &after[..after.find(['/', '\\']).unwrap_or(after.len())];
        // `user:password@host`, or a password holding a `/` (so the authority seems to end
        // early): then the userinfo runs to the last `@` there is
        let user = &authority[..authority.find(is_separator).unwrap_or(authority.len())];
        let userinfo_end = authority
            .rfind('@')
            .or_else(|| user.contains(':').then(|| after.rfind('@')).flatten());
        match userinfo_end {
            Some(end) => {
                out.push_str(MASK);
                rest = &after[end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    mask_bare_userinfo(&out)
}

/// Masks a `user:password@` without `//`: from the start of a parameter's value (after the
/// `=` of a name that starts at a separator or at the text's start, the nearest first, else
/// the text's start) to the `@`, for the first such start after which a `:` comes, before
/// any URL (`//`, masked before). Erring on the side of masking: a password may hold `&`
/// or `=` as well.
fn mask_bare_userinfo(text: &str) -> String {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (at, _) in text.match_indices('@') {
        let before = &text[..at];
        let start = value_starts(before)
            .map(|start| &before[start..])
            .take_while(|value| !AUTHORITY_STARTS.iter().any(|a| value.contains(a)))
            .find(|value| value.contains(':'))
            .map(|value| at - value.len());
        let Some(start) = start else { continue };
        match spans.last_mut() {
            Some((first, end)) if *first <= start && start <= *end => *end = at,
            _ => spans.push((start, at)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end) in spans {
        out.push_str(&text[done..start.max(done)]);
        out.push_str(MASK);
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// Where the values of the parameters of `before` start, the last first: after each `=`
/// whose name (back to a separator or the text's start) holds no `=` or `:`, then the
/// text's start.
fn value_starts(before: &str) -> impl Iterator<Item = usize> + '_ {
    before
        .match_indices('=')
        .rev()
        .filter(|(at, _)| {
            let name_start = before[..*at]
                .char_indices()
                .rev()
                .find(|(_, c)| PAIR_SEPARATORS.contains(c) || c.is_whitespace())
                .map_or(0, |(found, c)| found + c.len_utf8());
            !before[name_start..*at].contains(NAME_ENDS)
        })
        .map(|(at, _)| at + 1)
        .chain(std::iter::once(0))
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
    fn a_masked_value_runs_through_what_a_value_may_hold() {
        for (raw, shown) in [
            ("sig=abc+def=", "sig=***+***"),
            ("signature=AbC+dEf/GhI=", "signature=***+***"),
            ("txSecret=abcd#efgh=", "txSecret=***#***"),
            ("txSecret=ab\u{a0}cd=ef", "txSecret=***\u{a0}***"),
            (
                "h=d,txSecret=abc+def=,txTime=1",
                "h=d,txSecret=***+***,txTime=1",
            ),
            ("token : abc", "token :*** ***"),
            ("Authorization : Bearer abc", "Authorization :*** *** ***"),
            ("d={\"token\" : \"s3cr3t\"}", "d={\"token\" :*** ***"),
            (
                "jwt=abc&session_id=def&cookie=ghi&bearer=jkl",
                "jwt=***&session_id=***&cookie=***&bearer=***",
            ),
        ] {
            assert_eq!(redact_stream_param(raw), shown, "{raw}");
        }
    }

    #[test]
    fn userinfo_without_a_scheme_or_with_escaped_slashes_is_hidden() {
        for (raw, shown) in [
            ("cb=//user:s3cr3tpw@host/live", "cb=//***@host/live"),
            ("p=user:s3cr3t@host", "p=***@host"),
            ("p=user:a,b@host", "p=***@host"),
            ("p=u:p@ss@host", "p=***@host"),
            (
                "cb={\"u\":\"rtmp:\\/\\/user:pw@h\\/x\"}",
                "cb={\"u\":\"rtmp:\\/\\/***@h\\/x\"}",
            ),
            ("http:\\\\user:pw@host", "http:\\\\***@host"),
            ("cb=ops@example.com", "cb=ops@example.com"),
            ("relay=pusher:a=b&c@host/live", "relay=***@host/live"),
            (
                "relay=rtmp://pusher:a/b@host/live",
                "relay=rtmp://***@host/live",
            ),
            (
                "relay=rtmp://host:1935/live/s",
                "relay=rtmp://host:1935/live/s",
            ),
            ("a=1&pusher:s3cr3t@host", "a=***@host"),
            (
                "relay=pusher:a/b@live.example.com/s",
                "relay=***@live.example.com/s",
            ),
        ] {
            assert_eq!(redact_stream_param(raw), shown, "{raw}");
        }
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
