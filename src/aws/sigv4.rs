//! AWS Signature Version 4 for the relay's one kind of request: a POST of a form to `/`,
//! with no query string, signing `content-type`, `host`, `x-amz-date` and, with temporary
//! credentials, `x-amz-security-token`.
//!
//! `aws-sigv4`, the SDK's signer, is general: it parses the URI, builds, sorts and
//! normalizes every header and derives the signing key on every call, which measured a
//! fifth of a warm callback's CPU. This signer keeps the derived key for its day and
//! writes the canonical request directly; a test checks it against `aws-sigv4` and
//! another against moto's check of signatures (botocore's signer).

use std::fmt::Write as _;
use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The credentials a request is signed with.
pub struct Signing<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// Signs requests for one service in one region.
pub struct Signer {
    region: String,
    service: &'static str,
    /// The signing key of the last (secret, date) it was derived for.
    key: Mutex<Option<(String, String, [u8; 32])>>,
}

/// The headers to add to a request: `x-amz-date`, `authorization` and, with temporary
/// credentials, `x-amz-security-token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub amz_date: String,
    pub authorization: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl Signer {
    pub fn new(region: String, service: &'static str) -> Signer {
        Signer {
            region,
            service,
            key: Mutex::new(None),
        }
    }

    fn signing_key(&self, secret: &str, date: &str) -> [u8; 32] {
        let mut cached = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, d, key)) = cached.as_ref()
            && s == secret
            && d == date
        {
            return *key;
        }
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k_region = hmac(&k_date, self.region.as_bytes());
        let k_service = hmac(&k_region, self.service.as_bytes());
        let key = hmac(&k_service, b"aws4_request");
        *cached = Some((secret.to_owned(), date.to_owned(), key));
        key
    }

    /// Signs a POST of `body` (of type `content_type`) to `/` on `host`, at `amz_date`
    /// (`YYYYMMDDTHHMMSSZ`).
    pub fn sign(
        &self,
        credentials: &Signing<'_>,
        host: &str,
        content_type: &str,
        body: &[u8],
        amz_date: &str,
    ) -> Signed {
        let date = &amz_date[..8];
        let signed_headers = if credentials.session_token.is_some() {
            "content-type;host;x-amz-date;x-amz-security-token"
        } else {
            "content-type;host;x-amz-date"
        };
        let mut canonical = String::with_capacity(512);
        let _ = write!(
            canonical,
            "POST\n/\n\ncontent-type:{content_type}\nhost:{host}\nx-amz-date:{amz_date}\n"
        );
        if let Some(token) = credentials.session_token {
            let _ = writeln!(canonical, "x-amz-security-token:{token}");
        }
        let _ = write!(
            canonical,
            "\n{signed_headers}\n{}",
            hex::encode(Sha256::digest(body))
        );
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = self.signing_key(credentials.secret_access_key, date);
        let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        Signed {
            amz_date: amz_date.to_owned(),
            authorization: format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                credentials.access_key_id
            ),
        }
    }
}
