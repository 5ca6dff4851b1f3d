//! The endpoint overrides, and which certificate authorities the HTTPS client trusts
//! from the endpoints in use.

use super::ConfigError;
use crate::aws::setup::TrustRoots;

/// The SDK's endpoint overrides the relay's clients honour.
pub(super) const ENDPOINT_OVERRIDES: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
];

/// `TRUST_ROOTS` when set; otherwise Amazon's roots, or the system's when an endpoint
/// override may lead to a server with another certificate authority, or in the China
/// regions, whose endpoints (`*.amazonaws.com.cn`) AWS does not say chain to Amazon Trust
/// Services.
pub(super) fn trust_roots(
    lookup: &impl Fn(&str) -> Option<String>,
    topic_arn: &str,
) -> Result<TrustRoots, ConfigError> {
    let in_china = topic_arn.starts_with("arn:aws-cn:")
        || lookup("AWS_REGION").is_some_and(|region| region.trim().starts_with("cn-"));
    match lookup("TRUST_ROOTS").as_deref().map(str::trim) {
        Some("amazon") => Ok(TrustRoots::AmazonTrustServices),
        Some("system") => Ok(TrustRoots::System),
        Some(other) => Err(ConfigError {
            variable: "TRUST_ROOTS",
            problem: format!("{other:?} is neither \"amazon\" nor \"system\""),
        }),
        None if in_china || ENDPOINT_OVERRIDES.iter().any(|v| lookup(v).is_some()) => {
            Ok(TrustRoots::System)
        }
        None => Ok(TrustRoots::AmazonTrustServices),
    }
}

/// The overrides the SNS client reads, the service's own first (as the SDK reads them).
const SNS_OVERRIDES: [&str; 2] = ["AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL"];

/// The SNS client's endpoint override: `AWS_ENDPOINT_URL_SNS`, else `AWS_ENDPOINT_URL`,
/// neither with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`. Each that is set must be
/// `http://` or `https://` and a host, with an optional port and nothing after it: the
/// client signs its requests for the path `/`.
pub(super) fn sns_endpoint(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let mut endpoint = None;
    for variable in SNS_OVERRIDES {
        let Some(value) = lookup(variable) else {
            continue;
        };
        let value = value.trim();
        let authority = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .map(|rest| rest.strip_suffix('/').unwrap_or(rest));
        let valid = authority.is_some_and(|a| {
            !a.is_empty() && !a.contains(['/', '?', '#', '@']) && !a.contains(char::is_whitespace)
        });
        if !valid {
            return Err(ConfigError {
                variable,
                problem: format!(
                    "{value:?} is not an endpoint: http:// or https://, a host and an optional port, without a path"
                ),
            });
        }
        endpoint = endpoint.or_else(|| Some(value.to_string()));
    }
    let ignored = lookup("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    Ok(endpoint.filter(|_| !ignored))
}
