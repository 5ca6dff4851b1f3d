//! Hiding credentials in `stream_param`, the push URL's query string, before anyone sees it.

const SENSITIVE_NAME_PARTS: [&str; 7] = ["secret", "token", "sign", "key", "auth", "pass", "pwd"];

/// Replaces the value of every credential-bearing query parameter (`txSecret`, or any
/// name containing secret, token, sign, key, auth, pass or pwd, in any case and however
/// percent-encoded) with `***`, keeping everything else as it was.
pub fn redact_stream_param(query: &str) -> String {
    let (prefix, pairs) = match query.strip_prefix('?') {
        Some(rest) => ("?", rest),
        None => ("", query),
    };
    let redacted: Vec<String> = pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive(name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{prefix}{}", redacted.join("&"))
}

fn is_sensitive(raw_name: &str) -> bool {
    let name = percent_decode(raw_name).to_ascii_lowercase();
    SENSITIVE_NAME_PARTS.iter().any(|part| name.contains(part))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
                "a=1&access_token=t1&SIGN=s1&apiKey=k1&Authorization=x&x-Secret-Id=y&password=p&b=2"
            ),
            "a=1&access_token=***&SIGN=***&apiKey=***&Authorization=***&x-Secret-Id=***&password=***&b=2"
        );
    }

    #[test]
    fn percent_encoded_names_do_not_escape_redaction() {
        assert_eq!(
            redact_stream_param("tx%53ecret=abc&tok%65n=def&my+key=ghi"),
            "tx%53ecret=***&tok%65n=***&my+key=***"
        );
    }

    #[test]
    fn values_containing_equals_signs_are_hidden_whole() {
        assert_eq!(redact_stream_param("sign=a=b=c&x=1"), "sign=***&x=1");
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
        ] {
            assert_eq!(redact_stream_param(q), q);
        }
        assert_eq!(redact_stream_param("?txSecret=abc"), "?txSecret=***");
    }
}
