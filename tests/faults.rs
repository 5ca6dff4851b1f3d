//! The relay with its SNS client, configured as in production, against an SNS endpoint that
//! injects faults before handing over to moto: retries are bounded, every request ends
//! inside its 10 s budget, the answer is 200 exactly when SNS kept the message, and a
//! message SNS accepted without the answer reaching the relay is published twice (the
//! delivery is at least once).

mod common;

use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use common::*;
use lambda_http::http::StatusCode;
use live_callback_relay::Relay;
use live_callback_relay::aws::limits::PUBLISH;
use live_callback_relay::aws::query::QueryClient;
use live_callback_relay::aws::setup::TrustRoots;
use live_callback_relay::aws::sns::SnsPublisher;
use local_stack::aws::{self, Topology};
use local_stack::faults::{Fault, FaultInjector};
use local_stack::moto::{self, Moto};
use local_stack::proxy::Proxy;
use serde_json::json;

const BUDGET: Duration = Duration::from_secs(10);

/// A case, the faults its attempts meet in order, whether connecting is refused, and the
/// expected status, attempts and copies of the message SNS keeps.
type Case<'a> = (&'a str, &'a [Fault], bool, u16, usize, usize);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from the project's virtualenv; `make test` runs it"]
async fn faults_downstream_are_retried_within_bounds_and_answered_honestly() {
    let moto = Moto::start(&moto::server_path()).await.expect("moto");
    let topology = Topology::create(&moto.endpoint, None)
        .await
        .expect("topology");
    let injector = FaultInjector::start(&moto.endpoint)
        .await
        .expect("injector");
    let refusable = Proxy::start(injector.url.trim_start_matches("http://"))
        .await
        .expect("proxy");
    let client = QueryClient::new(
        refusable.url(),
        aws::REGION.into(),
        "sns",
        Some(SharedCredentialsProvider::new(Credentials::new(
            aws::ACCESS_KEY_ID,
            aws::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))),
        TrustRoots::System,
        PUBLISH,
    );
    let mut config = config(None);
    config.topic_arn = topology.topic_arn.clone();
    let relay = Relay::new(
        &config,
        SnsPublisher::new(client, topology.topic_arn.clone()),
    );

    let stall = Fault::Stall(Duration::from_secs(3));
    let cases: &[Case] = &[
        (
            "throttled twice, then accepted",
            &[Fault::Throttle, Fault::Throttle],
            false,
            200,
            3,
            1,
        ),
        (
            "500, then accepted",
            &[Fault::ServerError],
            false,
            200,
            2,
            1,
        ),
        (
            "slower than the attempt timeout, then accepted",
            &[stall],
            false,
            200,
            2,
            1,
        ),
        (
            "connection closed, then accepted",
            &[Fault::CloseConnection],
            false,
            200,
            2,
            1,
        ),
        (
            "accepted, but the answer lost, then accepted again",
            &[Fault::AcceptThenClose],
            false,
            200,
            2,
            2,
        ),
        (
            "throttled on every attempt",
            &[Fault::Throttle; 3],
            false,
            503,
            3,
            0,
        ),
        (
            "500 on every attempt",
            &[Fault::ServerError; 3],
            false,
            503,
            3,
            0,
        ),
        (
            "slower than the attempt timeout on every attempt",
            &[stall; 3],
            false,
            503,
            3,
            0,
        ),
        ("connection refused", &[], true, 503, 0, 0),
        (
            "connection refused, then back and accepted",
            &[],
            false,
            200,
            1,
            1,
        ),
    ];
    let mut report = String::from(
        "\ncase | attempts (time: what the request met) | status | copies SNS kept | took\n",
    );
    for (n, (name, faults, refused, expected, attempts, copies)) in cases.iter().enumerate() {
        let published_before = moto.published_to(&topology.topic_arn).await.unwrap().len();
        injector.script(faults);
        if *refused {
            refusable.stop();
        } else {
            refusable.resume().await.expect("proxy listening");
        }
        let body = signed(
            INTERRUPT,
            json!({"errcode": 12, "sequence": format!("fault-case-{n}")}),
        );

        let started = Instant::now();
        let response = relay.handle(post(&body), NOW).await;
        let took = started.elapsed();

        let seen = injector.attempts();
        let published =
            moto.published_to(&topology.topic_arn).await.unwrap().len() - published_before;
        report.push_str(&format!(
            "{name} | {} | {} | {published} | {took:.2?}\n",
            seen.iter()
                .map(|a| format!("{:.2?}: {}", a.at, a.met))
                .collect::<Vec<_>>()
                .join(", "),
            response.status().as_u16(),
        ));
        assert_eq!(response.status().as_u16(), *expected, "{name}");
        assert_eq!(seen.len(), *attempts, "{name}: {seen:?}");
        assert!(took < BUDGET, "{name} took {took:?}");
        assert_eq!(published, *copies, "{name}");
        assert_eq!(published > 0, response.status() == StatusCode::OK, "{name}");
    }
    eprintln!("{report}");
}
