//! The AWS configuration the relay's SDK clients share, built once at cold start.
//!
//! The HTTPS client is rustls with the ring provider, trusting the roots AWS endpoints
//! chain to (Amazon Trust Services), embedded in the binary. Loading the system's store
//! instead scans hundreds of files at every cold start; it is used only when an endpoint
//! override may point somewhere else.

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Amazon Root CA 1-4 and the Starfield roots that cross-sign them.
pub const AMAZON_TRUST_SERVICES_PEM: &[u8] =
    include_bytes!("../../certs/amazon-trust-services.pem");

/// Which certificate authorities the client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    AmazonTrustServices,
    System,
}

/// The TLS settings of every HTTPS connection: rustls trusting `roots`.
pub fn tls_context(roots: TrustRoots) -> TlsContext {
    let trust_store = match roots {
        TrustRoots::AmazonTrustServices => TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AMAZON_TRUST_SERVICES_PEM),
        TrustRoots::System => TrustStore::empty().with_native_roots(true),
    };
    TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .expect("a trust store without server-name options always builds")
}

/// The SDK clients' HTTPS client.
pub fn https_client(roots: TrustRoots) -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context(roots))
        .build_https()
}

/// Credentials and region from the environment, where Lambda puts the role's credentials
/// and the region: reading them there skips building the default provider chains
/// (profile files, IMDS, ECS, STS). Endpoint overrides (`AWS_ENDPOINT_URL_*`) still apply.
pub async fn load_aws_config(roots: TrustRoots) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client(roots))
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .region(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .load()
        .await
}
