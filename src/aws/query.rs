//! The AWS Query protocol, which SNS speaks: a form-encoded POST, signed with SigV4
//! (`crate::aws::sigv4`), sent over the SDK's HTTPS connector, with the relay's retry and
//! timeout budget; and the XML answer's fields.
//!
//! The SDK's generated client did the same with an orchestrator, interceptors, endpoint
//! rules and a second copy of the message in its serializer on every call: most of a warm
//! callback's CPU (BENCHMARKS.md, "Where a warm callback's CPU went, and what was cut").

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::http::Request;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

use crate::aws::limits::{CONNECT_TIMEOUT, CallLimits};
use crate::aws::setup::{TrustRoots, tls_context};
use crate::aws::sigv4::{Signer, Signing};
use crate::outbound::timefmt::basic_utc;

/// Error codes that mean "slow down" or "try again": retried, as the SDK's standard retry
/// strategy does (SNS's own `Throttled` and `KMSThrottling` too).
const THROTTLING: [&str; 10] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "Throttled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "KMSThrottling",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// A request's parameters, form-encoded as the Query protocol wants them.
#[derive(Debug, Clone)]
pub struct Form(String);

impl Form {
    pub fn new(action: &str, version: &str) -> Form {
        let mut form = Form(String::with_capacity(512));
        form.param("Action", action).param("Version", version);
        form
    }

    pub fn param(&mut self, name: &str, value: &str) -> &mut Form {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_into(&mut self.0, name);
        self.0.push('=');
        encode_into(&mut self.0, value);
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => {
                out.push('%');
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 0xF)] as char);
            }
        }
    }
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer: the connection, a timeout, the credentials or the signing failed.
    #[error("{0}")]
    Unanswered(String),
    /// The service answered with an error.
    #[error("{code}: {message} (HTTP {status})")]
    Service {
        status: u16,
        code: String,
        message: String,
    },
}

impl CallError {
    /// Whether another attempt may succeed: no answer, a server fault or throttling.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Unanswered(_) => true,
            CallError::Service { status, code, .. } => {
                *status >= 500 || *status == 429 || THROTTLING.contains(&code.as_str())
            }
        }
    }
}

/// One service's endpoint, signed for its region with the shared credentials.
#[derive(Debug, Clone)]
pub struct QueryClient {
    connector: Arc<Connector>,
    /// `scheme://host[:port]/`, and its `host[:port]`.
    url: String,
    host: String,
    signer: Arc<Signer>,
    credentials: Option<SharedCredentialsProvider>,
    limits: CallLimits,
}

impl QueryClient {
    pub fn new(
        endpoint: String,
        region: String,
        service: &'static str,
        credentials: Option<SharedCredentialsProvider>,
        roots: TrustRoots,
        limits: CallLimits,
    ) -> QueryClient {
        let connector = Connector::builder()
            .connector_settings(
                HttpConnectorSettings::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build(),
            )
            .sleep_impl(TokioSleep::new())
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls_context(roots))
            .build();
        QueryClient {
            connector: Arc::new(connector),
            url: format!("{}/", endpoint.trim_end_matches('/')),
            host: host_of(&endpoint),
            signer: Arc::new(Signer::new(region, service)),
            credentials,
            limits,
        }
    }

    /// Sends `form` until it is answered with success, a failure that no retry fixes, or
    /// the limits are spent; returns the answer's body.
    pub async fn call(&self, form: &Form) -> Result<String, CallError> {
        let attempts = async {
            let mut attempt = 1;
            loop {
                let answered =
                    match tokio::time::timeout(self.limits.attempt_timeout, self.attempt(form))
                        .await
                    {
                        Ok(answered) => answered,
                        Err(_) => Err(CallError::Unanswered(format!(
                            "no answer within {:?}",
                            self.limits.attempt_timeout
                        ))),
                    };
                match answered {
                    Err(e) if e.is_retryable() && attempt < self.limits.max_attempts => {
                        tokio::time::sleep(backoff(attempt)).await;
                        attempt += 1;
                    }
                    answered => return answered,
                }
            }
        };
        tokio::time::timeout(self.limits.operation_timeout, attempts)
            .await
            .unwrap_or_else(|_| {
                Err(CallError::Unanswered(format!(
                    "not done within {:?}",
                    self.limits.operation_timeout
                )))
            })
    }

    async fn attempt(&self, form: &Form) -> Result<String, CallError> {
        let request = self.signed(form.as_str()).await?;
        let response = self
            .connector
            .call(request)
            .await
            .map_err(|e| CallError::Unanswered(format!("{e:?}")))?;
        let status = response.status().as_u16();
        let body = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|e| CallError::Unanswered(e.to_string()))?
            .into_bytes();
        let body = String::from_utf8_lossy(&body).into_owned();
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let message = match element(&body, "Message") {
            Some(message) => message.into_owned(),
            None => body.chars().take(200).collect(),
        };
        Err(CallError::Service {
            status,
            code: element(&body, "Code").unwrap_or_default().into_owned(),
            message,
        })
    }

    async fn signed(&self, body: &str) -> Result<Request, CallError> {
        let unsigned =
            |e: &dyn std::fmt::Display| CallError::Unanswered(format!("not signed: {e}"));
        let credentials = self
            .credentials
            .as_ref()
            .ok_or_else(|| unsigned(&"no credentials"))?
            .provide_credentials()
            .await
            .map_err(|e| unsigned(&e))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let signing = Signing {
            access_key_id: credentials.access_key_id(),
            secret_access_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
        };
        let signed = self.signer.sign(
            &signing,
            &self.host,
            CONTENT_TYPE,
            body.as_bytes(),
            &basic_utc(now),
        );
        let mut request = Request::new(SdkBody::from(body.to_owned()));
        request.set_method("POST").map_err(|e| unsigned(&e))?;
        request
            .set_uri(self.url.as_str())
            .map_err(|e| unsigned(&e))?;
        let headers = request.headers_mut();
        let mut set = |name: &'static str, value: String| {
            headers
                .try_insert(name, value)
                .map(|_| ())
                .map_err(|_| unsigned(&format!("{name} is not a header value")))
        };
        set("content-type", CONTENT_TYPE.to_owned())?;
        set("x-amz-date", signed.amz_date)?;
        set("authorization", signed.authorization)?;
        if let Some(token) = signing.session_token {
            set("x-amz-security-token", token.to_owned())?;
        }
        Ok(request)
    }
}

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// The `Host` header a request to `endpoint` (`scheme://host[:port]`) carries, as hyper
/// sends it: without the scheme's default port.
fn host_of(endpoint: &str) -> String {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let authority = rest.split('/').next().unwrap_or_default();
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        ":80"
    } else {
        ":443"
    };
    authority
        .strip_suffix(default_port)
        .unwrap_or(authority)
        .to_owned()
}

/// The wait before attempt `attempt + 1`: 50 ms doubled per attempt, with jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(50) * 2u32.pow(attempt - 1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    base / 2 + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// The text of the first `<name>` element of `xml`, its entities resolved.
pub fn element<'a>(xml: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(unescape(&xml[start..end]))
}

fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_escape_everything_but_the_unreserved_characters() {
        let mut form = Form::new("Publish", "2010-03-31");
        form.param("a b", "ü&=+/~-_.*");
        assert_eq!(
            form.as_str(),
            "Action=Publish&Version=2010-03-31&a%20b=%C3%BC%26%3D%2B%2F~-_.%2A"
        );
    }

    #[test]
    fn no_answer_server_faults_and_throttling_are_retried_and_nothing_else() {
        let service = |status: u16, code: &str| CallError::Service {
            status,
            code: code.into(),
            message: String::new(),
        };
        assert!(CallError::Unanswered("timeout".into()).is_retryable());
        for retried in [
            service(500, "InternalError"),
            service(503, ""),
            service(429, ""),
            service(400, "Throttling"),
            service(400, "Throttled"),
            service(400, "KMSThrottling"),
            service(400, "RequestTimeout"),
        ] {
            assert!(retried.is_retryable(), "{retried:?}");
        }
        for final_answer in [
            service(400, "InvalidParameter"),
            service(403, "AuthorizationError"),
            service(403, "SignatureDoesNotMatch"),
            service(404, "NotFound"),
        ] {
            assert!(!final_answer.is_retryable(), "{final_answer:?}");
        }
    }

    #[test]
    fn the_host_is_sent_and_signed_without_the_default_port() {
        for (endpoint, host) in [
            (
                "https://sns.us-east-1.amazonaws.com",
                "sns.us-east-1.amazonaws.com",
            ),
            (
                "https://sns.us-east-1.amazonaws.com:443/",
                "sns.us-east-1.amazonaws.com",
            ),
            ("https://127.0.0.1:8443", "127.0.0.1:8443"),
            ("http://localhost:80", "localhost"),
            ("http://127.0.0.1:5000/", "127.0.0.1:5000"),
            ("http://localhost:443", "localhost:443"),
        ] {
            assert_eq!(host_of(endpoint), host, "{endpoint}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_in_its_upper_half() {
        for attempt in 1..=3 {
            let base = Duration::from_millis(50) * 2u32.pow(attempt - 1);
            let wait = backoff(attempt);
            assert!(wait >= base / 2 && wait <= base, "{attempt}: {wait:?}");
        }
    }
}
