//! The SAM template holds to what the code does: the values it allows are the ones the
//! function accepts, and the HTTP contract the README gives is the deployed stack's.

use live_callback_relay::config;
use live_callback_relay::relay::metrics::METRICS;
use local_stack::template::{Template, strings};

fn range_of(template: &Template, parameter: &str) -> (u64, u64) {
    let p = template.parameter(parameter);
    let bound = |key: &str| {
        p[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{parameter} has no {key}"))
    };
    (bound("MinValue"), bound("MaxValue"))
}

#[test]
fn every_number_the_template_allows_is_one_the_function_accepts() {
    let template = Template::load().expect("template.yaml");
    for (parameter, accepted) in [
        ("ClockSkewSecs", config::CLOCK_SKEW_SECS),
        ("MaxValiditySecs", config::MAX_VALIDITY_SECS),
        ("ReconnectWindowSecs", config::RECONNECT_WINDOW_SECS),
    ] {
        assert_eq!(
            range_of(&template, parameter),
            (*accepted.start(), *accepted.end()),
            "{parameter}"
        );
    }
}

#[test]
fn the_stack_routes_only_post_and_the_readme_says_what_other_methods_get() {
    let template = Template::load().expect("template.yaml");
    let routes: Vec<&str> = template
        .resources_of_type("AWS::ApiGatewayV2::Route")
        .flat_map(|(_, route)| strings(&route["Properties"]["RouteKey"]))
        .collect();
    assert!(!routes.is_empty());
    for route in &routes {
        assert!(route.starts_with("POST /callback"), "{route}");
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.lines().any(|l| l.starts_with('|')
            && l.contains("404")
            && l.contains("API Gateway")
            && l.contains("other than POST")),
        "README's HTTP contract must give the deployed stack's answer to other methods"
    );
}

#[test]
fn every_alarm_on_the_relays_metrics_watches_one_it_writes() {
    let template = Template::load().expect("template.yaml");

    let mut watched = 0;
    for (id, alarm) in template.resources_of_type("AWS::CloudWatch::Alarm") {
        let properties = &alarm["Properties"];
        let namespace = strings(&properties["Namespace"]);
        if namespace != ["LiveCallbackRelay/${AWS::StackName}"] {
            continue;
        }
        watched += 1;
        let name = properties["MetricName"].as_str().unwrap();
        let (.., dimension) = METRICS
            .iter()
            .find(|(metric, ..)| *metric == name)
            .unwrap_or_else(|| panic!("{id} watches {name}, which the relay does not write"));
        let dimensions: Vec<&str> = properties["Dimensions"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|d| d["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            dimensions,
            dimension.iter().copied().collect::<Vec<_>>(),
            "{id}"
        );
    }
    assert!(watched >= 4, "{watched}");
    assert!(
        template
            .resources_of_type("AWS::Logs::MetricFilter")
            .next()
            .is_none(),
        "the alarms read the relay's metrics, not log filters"
    );
}

#[test]
fn the_template_configures_chat_and_metrics_as_the_function_reads_them() {
    let template = Template::load().expect("template.yaml");
    assert_eq!(
        template.parameter("ChatEvents")["AllowedPattern"],
        template.parameter("NotifyEvents")["AllowedPattern"],
        "a typo in ChatEvents is refused at deploy, not at every cold start"
    );
    let default = template.parameter("ChatEvents")["Default"]
        .as_str()
        .unwrap();
    let config = config::Config::from_lookup(|name| match name {
        "SNS_TOPIC_ARN" => Some("arn:aws:sns:eu-west-1:123456789012:t".into()),
        "CALLBACK_KEYS" => Some("k".into()),
        "CHAT_TOPIC_ARN" => Some("arn:aws:sns:eu-west-1:123456789012:chat".into()),
        "CHAT_EVENTS" => Some(default.into()),
        "METRICS_NAMESPACE" => Some("LiveCallbackRelay/live-callback-relay".into()),
        _ => None,
    })
    .expect("the template's defaults are valid");
    assert_eq!(
        config.chat.unwrap().events,
        config::DEFAULT_CHAT_EVENTS.into_iter().collect()
    );
    let variables = &template.resource("RelayFunction")["Properties"]["Environment"]["Variables"];
    for variable in [
        "CHAT_TOPIC_ARN",
        "CHAT_EVENTS",
        "METRICS_NAMESPACE",
        "HOLD_MAX_RECEIVES",
    ] {
        assert!(!variables[variable].is_null(), "{variable}");
    }
    let receives =
        &template.resource("HoldQueue")["Properties"]["RedrivePolicy"]["maxReceiveCount"];
    assert_eq!(
        receives, &variables["HOLD_MAX_RECEIVES"],
        "one number for both"
    );
}

#[test]
fn with_the_window_the_template_refuses_a_reserved_concurrency_that_throttles_the_holds() {
    let template = Template::load().expect("template.yaml");
    let holds = template
        .mapping("HoldQueue", "Concurrency", "Max")
        .as_u64()
        .unwrap();
    assert_eq!(
        strings(
            &template.resource("HoldEventSource")["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        ),
        ["HoldQueue", "Concurrency", "Max"],
        "the event source mapping's concurrency is the mapping's"
    );
    for window in ["0", "1", "60", "1800"] {
        for reserved in 0..=120u64 {
            let parameters = [
                ("ReconnectWindowSecs", window),
                ("ReservedConcurrency", &reserved.to_string()),
            ];
            let accepted = template.rule_holds("ReservedConcurrencyCoversTheHolds", &parameters);
            // the holds' concurrency and as much again for callbacks, or unreserved
            let enough = reserved == 0 || reserved >= 2 * holds;
            assert_eq!(
                accepted,
                window == "0" || enough,
                "window {window}, reserved {reserved}"
            );
        }
    }
}

#[test]
fn an_announcement_claim_outlasts_the_function_and_the_hold_queues_redelivery() {
    let template = Template::load().expect("template.yaml");
    let visibility = template.resource("HoldQueue")["Properties"]["VisibilityTimeout"]
        .as_u64()
        .unwrap();
    let timeout = template.resource("RelayFunction")["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    assert!(
        live_callback_relay::relay::announce::ANNOUNCEMENT_LEASE_SECS > visibility + timeout,
        "a redelivery must never find the lease of an attempt still running lapsed"
    );
}
