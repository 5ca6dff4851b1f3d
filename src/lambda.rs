//! The function's two event sources, in one binary: HTTP requests (API Gateway REST and
//! HTTP APIs, Function URLs), answered through the HTTP contract, and batches from the
//! hold queue's SQS event source mapping, answered with the records that failed
//! (`ReportBatchItemFailures`), which SQS delivers again.

use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use lambda_http::http::header::SET_COOKIE;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response};
use lambda_runtime::{Error, LambdaEvent};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::handler::log_line;
use crate::ports::publish::Publisher;
use crate::relay::holds::HoldError;
use crate::relay::metrics::{Source, emf_line};
use crate::relay::report::Report;
use crate::relay::{Deadline, Mode, Relay};

/// A batch from an SQS event source mapping, with the fields the relay reads.
#[derive(Debug, Deserialize)]
pub struct SqsBatch {
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

#[derive(Debug, Deserialize)]
pub struct SqsRecord {
    #[serde(rename = "messageId")]
    pub message_id: String,
    #[serde(default)]
    pub body: String,
    #[serde(rename = "eventSource")]
    pub event_source: String,
    #[serde(default)]
    pub attributes: SqsAttributes,
}

#[derive(Debug, Default, Deserialize)]
pub struct SqsAttributes {
    /// How many times SQS has delivered the message, this time included.
    #[serde(rename = "ApproximateReceiveCount", default)]
    pub receive_count: String,
}

/// The answer to a batch: the records to deliver again.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// The top-level fields that tell the event sources apart, read in one pass: an SQS
/// batch has `Records`, the EventBridge schedule's event `source` and `detail-type`, and
/// an HTTP request neither.
#[derive(Debug, Default, Deserialize)]
struct Probe<'a> {
    #[serde(rename = "Records", default)]
    records: Option<IgnoredAny>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<Cow<'a, str>>,
}

impl Probe<'_> {
    fn is_scheduled(&self) -> bool {
        self.source.as_deref() == Some("aws.events")
            && self.detail_type.as_deref() == Some("Scheduled Event")
    }
}

/// What a sweep answers: the holds it parked.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct SweepResponse {
    pub swept: u32,
}

/// What the function answers: one of these, as JSON.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Batch(BatchResponse),
    Sweep(SweepResponse),
    RestV1(ApiGatewayProxyResponse),
    HttpV2(ApiGatewayV2httpResponse),
}

/// An SQS batch, if the event is one: `Records` whose every source is `aws:sqs` (other
/// services' `Records` events would parse too, every field of theirs being optional).
fn as_sqs_batch(raw: &str) -> Option<SqsBatch> {
    let batch: SqsBatch = serde_json::from_str(raw).ok()?;
    let from_sqs =
        !batch.records.is_empty() && batch.records.iter().all(|r| r.event_source == "aws:sqs");
    from_sqs.then_some(batch)
}

/// The time since the Unix epoch, by the system's clock.
fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

pub fn unix_now() -> u64 {
    since_epoch().as_secs()
}

/// Writes the metrics of one callback or hold, as one EMF line on standard output (where
/// CloudWatch Logs reads it; not through `tracing`, whose JSON would wrap it).
fn count<P: Publisher, M: Mode>(
    relay: &Relay<P, M>,
    source: Source,
    status: StatusCode,
    report: &Report,
) {
    let now_ms = since_epoch().as_millis() as u64;
    let line = emf_line(&relay.metrics().namespace, now_ms, source, status, report);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Answers one invocation at Unix time `now`.
pub async fn answer<P: Publisher, M: Mode>(
    relay: &Relay<P, M>,
    event: LambdaEvent<Box<RawValue>>,
    now: u64,
) -> Result<Answer, Error> {
    let LambdaEvent { payload, context } = event;
    let probe: Probe = serde_json::from_str(payload.get()).unwrap_or_default();
    if probe.is_scheduled() {
        return Ok(Answer::Sweep(sweep(relay, now).await));
    }
    if let Some(batch) = probe.records.and_then(|_| as_sqs_batch(payload.get())) {
        let deadline = Deadline::at_epoch_ms(context.deadline);
        return Ok(Answer::Batch(holds(relay, batch, now, deadline).await));
    }
    let mut request = lambda_http::request::from_str(payload.get())?;
    if let Some(trace) = context
        .xray_trace_id
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
    {
        request.headers_mut().insert("x-amzn-trace-id", trace);
    }
    let request = request.with_lambda_context(context);
    let http_v2 = matches!(
        request.request_context_ref(),
        Some(RequestContext::ApiGatewayV2(_))
    );
    let (response, report) = relay.respond(request, now).await;
    count(relay, Source::Callback, response.status(), &report);
    Ok(if http_v2 {
        Answer::HttpV2(as_http_v2(response))
    } else {
        Answer::RestV1(as_rest_v1(response))
    })
}

/// Handles a batch's holds concurrently: one slow publish must not leave the rest of the
/// batch to the function's timeout.
async fn holds<P: Publisher, M: Mode>(
    relay: &Relay<P, M>,
    batch: SqsBatch,
    now: u64,
    deadline: Deadline,
) -> BatchResponse {
    let handled = join_all(batch.records.into_iter().map(|record| async move {
        let started = Instant::now();
        let mut report = Report::default();
        let handled = relay
            .on_hold(&record.body, now, deadline, &mut report)
            .await;
        let last_receive = record
            .attributes
            .receive_count
            .parse::<u32>()
            .is_ok_and(|n| n >= relay.metrics().hold_max_receives);
        let status = handled
            .as_ref()
            .map_or_else(HoldError::status, |()| StatusCode::OK);
        log_line(
            "hold",
            status,
            &report,
            handled.as_ref().err().map(|e| e as &dyn std::fmt::Display),
            started,
        );
        count(relay, Source::Hold { last_receive }, status, &report);
        handled.err().map(|_| ItemFailure {
            item_identifier: record.message_id,
        })
    }))
    .await;
    BatchResponse {
        batch_item_failures: handled.into_iter().flatten().collect(),
    }
}

/// Runs the sweep, and logs and counts it.
async fn sweep<P: Publisher, M: Mode>(relay: &Relay<P, M>, now: u64) -> SweepResponse {
    let started = Instant::now();
    let mut report = Report::default();
    let swept = relay.on_sweep(now, &mut report).await;
    let status = match &swept {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    let detail = swept.as_ref().err().map(|e| e as &dyn std::fmt::Display);
    log_line("sweep", status, &report, detail, started);
    count(relay, Source::Sweep, status, &report);
    SweepResponse {
        swept: report.swept,
    }
}

/// What lambda_http answers a REST API (payload 1.0) with.
fn as_rest_v1(response: Response<Body>) -> ApiGatewayProxyResponse {
    let (parts, body) = response.into_parts();
    let mut out = ApiGatewayProxyResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.is_base64_encoded = matches!(body, Body::Binary(_));
    out.body = (!matches!(body, Body::Empty)).then_some(body);
    out.multi_value_headers = parts.headers;
    out
}

/// What lambda_http answers an HTTP API or a Function URL (payload 2.0) with.
fn as_http_v2(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    let mut out = ApiGatewayV2httpResponse::default();
    out.cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect();
    headers.remove(SET_COOKIE);
    out.status_code = i64::from(parts.status.as_u16());
    out.is_base64_encoded = matches!(body, Body::Binary(_));
    out.body = (!matches!(body, Body::Empty)).then_some(body);
    out.headers = headers;
    out
}
