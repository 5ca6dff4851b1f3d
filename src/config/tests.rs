use super::endpoints::ENDPOINT_OVERRIDES;
use super::*;
use std::collections::HashMap;

const ARN: &str = "arn:aws:sns:eu-west-1:123456789012:live-events";

fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn chat_is_on_with_its_topic_and_posts_what_pages_on_call_unless_told() {
    let base = [("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
    assert_eq!(load(&base).unwrap().chat, None);
    let chat_arn = "arn:aws:sns:eu-west-1:123456789012:live-chat";
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut vars = base.to_vec();
        vars.extend_from_slice(extra);
        load(&vars)
    };
    assert_eq!(
        with(&[("CHAT_TOPIC_ARN", chat_arn)]).unwrap().chat,
        Some(Chat {
            topic_arn: chat_arn.into(),
            events: HashSet::from(DEFAULT_CHAT_EVENTS)
        })
    );
    let started_only = with(&[
        ("CHAT_TOPIC_ARN", chat_arn),
        ("CHAT_EVENTS", "stream.started"),
    ]);
    assert_eq!(
        started_only.unwrap().chat.unwrap().events,
        HashSet::from([Event::Started])
    );
    for (vars, variable) in [
        (&[("CHAT_EVENTS", "stream.started")][..], "CHAT_EVENTS"),
        (&[("CHAT_TOPIC_ARN", "live-chat")][..], "CHAT_TOPIC_ARN"),
        (
            &[(
                "CHAT_TOPIC_ARN",
                "arn:aws:sns:eu-west-1:123456789012:c.fifo",
            )][..],
            "CHAT_TOPIC_ARN",
        ),
        (
            &[
                ("CHAT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:c"),
                ("AWS_REGION", "eu-west-1"),
            ][..],
            "CHAT_TOPIC_ARN",
        ),
        (
            &[
                ("CHAT_TOPIC_ARN", chat_arn),
                ("CHAT_EVENTS", "stream.paused"),
            ][..],
            "CHAT_EVENTS",
        ),
    ] {
        assert_eq!(with(vars).unwrap_err().variable, variable, "{vars:?}");
    }
}

#[test]
fn the_metrics_namespace_is_one_cloudwatch_accepts() {
    let with = |namespace: &str| {
        load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            ("METRICS_NAMESPACE", namespace),
        ])
    };
    assert_eq!(
        load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")])
            .unwrap()
            .metrics_namespace,
        DEFAULT_METRICS_NAMESPACE
    );
    assert_eq!(
        with("LiveCallbackRelay/prod").unwrap().metrics_namespace,
        "LiveCallbackRelay/prod"
    );
    for bad in ["", "AWS/Lambda", "名前", "a\tb", &"x".repeat(256)] {
        assert_eq!(
            with(bad).unwrap_err().variable,
            "METRICS_NAMESPACE",
            "{bad:?}"
        );
    }
}

#[test]
fn defaults() {
    let config = load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")]).unwrap();
    assert_eq!(config.topic_arn, ARN);
    assert_eq!(config.callback_keys, ["k1"]);
    assert_eq!(
        config.notify_events,
        HashSet::from([
            Event::Started,
            Event::StoppedAbnormally,
            Event::Resumed,
            Event::Recovered
        ])
    );
    assert_eq!(config.clock_skew_secs, 300);
    assert_eq!(config.max_validity_secs, 600);
    assert_eq!(config.state, State::Stateless);
    assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
}

#[test]
fn an_endpoint_override_is_a_scheme_and_a_host_and_nothing_after() {
    for good in [
        "https://sns.internal.example.com",
        "http://127.0.0.1:5000/",
        "https://[::1]:4566",
    ] {
        for variable in ENDPOINT_OVERRIDES {
            let loaded = load(&[
                ("SNS_TOPIC_ARN", ARN),
                ("CALLBACK_KEYS", "k1"),
                (variable, good),
            ]);
            assert!(loaded.is_ok(), "{variable}={good}: {loaded:?}");
        }
    }
    for bad in [
        "sns.example.com",
        "https://",
        "https://proxy.example.com/sns",
        "https://proxy.example.com/?x=1",
        "https://user@proxy.example.com",
        "ftp://proxy.example.com",
        "https://a b",
    ] {
        let error = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            ("AWS_ENDPOINT_URL_SNS", bad),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "AWS_ENDPOINT_URL_SNS", "{bad}");
        assert!(error.problem.contains("without a path"), "{bad}: {error}");
    }
}

#[test]
fn the_sns_endpoint_is_its_own_override_then_the_global_one_unless_ignored() {
    let sns_endpoint = |vars: &[(&str, &str)]| {
        let mut all = vec![("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
        all.extend_from_slice(vars);
        load(&all).unwrap().sns_endpoint
    };
    let (own, global) = ("https://sns.internal:8443", "http://127.0.0.1:4566/");
    assert_eq!(sns_endpoint(&[]), None);
    assert_eq!(
        sns_endpoint(&[("AWS_ENDPOINT_URL", global)]).as_deref(),
        Some(global)
    );
    assert_eq!(
        sns_endpoint(&[("AWS_ENDPOINT_URL", global), ("AWS_ENDPOINT_URL_SNS", own)]).as_deref(),
        Some(own)
    );
    assert_eq!(sns_endpoint(&[("AWS_ENDPOINT_URL_DYNAMODB", global)]), None);
    for ignored in ["true", " TRUE "] {
        assert_eq!(
            sns_endpoint(&[
                ("AWS_ENDPOINT_URL_SNS", own),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", ignored),
            ]),
            None
        );
    }
    assert_eq!(
        sns_endpoint(&[
            ("AWS_ENDPOINT_URL_SNS", own),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"),
        ])
        .as_deref(),
        Some(own)
    );
}

#[test]
fn an_endpoint_override_trusts_the_system_roots() {
    for variable in ENDPOINT_OVERRIDES {
        let config = load(&[
            ("SNS_TOPIC_ARN", ARN),
            ("CALLBACK_KEYS", "k1"),
            (variable, "https://sns.internal.example.com"),
        ])
        .unwrap();
        assert_eq!(config.trust_roots, TrustRoots::System, "{variable}");
    }
    let config = load(&[
        ("SNS_TOPIC_ARN", ARN),
        ("CALLBACK_KEYS", "k1"),
        (
            "AWS_ENDPOINT_URL_SNS",
            "https://vpce-1.sns.eu-west-1.vpce.amazonaws.com",
        ),
        ("TRUST_ROOTS", "amazon"),
    ])
    .unwrap();
    assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
}

#[test]
fn the_china_regions_trust_the_system_roots() {
    for vars in [
        [
            ("SNS_TOPIC_ARN", "arn:aws-cn:sns:cn-north-1:123456789012:t"),
            ("AWS_REGION", "cn-north-1"),
        ],
        [
            (
                "SNS_TOPIC_ARN",
                "arn:aws-cn:sns:cn-northwest-1:123456789012:t",
            ),
            ("CALLBACK_KEYS", "k1"),
        ],
        [
            ("SNS_TOPIC_ARN", "arn:aws:sns:cn-northwest-1:123456789012:t"),
            ("AWS_REGION", "cn-northwest-1"),
        ],
    ] {
        let mut all = vec![("CALLBACK_KEYS", "k1")];
        all.extend_from_slice(&vars);
        assert_eq!(
            load(&all).unwrap().trust_roots,
            TrustRoots::System,
            "{vars:?}"
        );
    }
    let config = load(&[
        ("SNS_TOPIC_ARN", "arn:aws-cn:sns:cn-north-1:123456789012:t"),
        ("CALLBACK_KEYS", "k1"),
        ("TRUST_ROOTS", "amazon"),
    ])
    .unwrap();
    assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
    let config = load(&[
        ("SNS_TOPIC_ARN", ARN),
        ("CALLBACK_KEYS", "k1"),
        ("AWS_REGION", "eu-west-1"),
    ])
    .unwrap();
    assert_eq!(config.trust_roots, TrustRoots::AmazonTrustServices);
}

#[test]
fn a_table_alone_deduplicates_and_a_window_needs_the_table_and_the_queue() {
    let base = [("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut vars = base.to_vec();
        vars.extend_from_slice(extra);
        load(&vars)
    };
    assert_eq!(
        with(&[("STATE_TABLE", " relay-state ")]).unwrap().state,
        State::Deduplicated {
            table: "relay-state".into()
        }
    );
    assert_eq!(
        with(&[
            ("RECONNECT_WINDOW_SECS", "60"),
            ("STATE_TABLE", "relay-state"),
            (
                "HOLD_QUEUE_URL",
                "https://sqs.eu-west-1.amazonaws.com/123456789012/holds"
            ),
        ])
        .unwrap()
        .state,
        State::ReconnectWindow {
            table: "relay-state".into(),
            hold_queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/holds".into(),
            window_secs: 60,
            sweep_after_secs: DEFAULT_SWEEP_AFTER_SECS,
        }
    );
    assert_eq!(
        with(&[("RECONNECT_WINDOW_SECS", "0")]).unwrap().state,
        State::Stateless
    );
    for (extra, variable) in [
        (
            &[("RECONNECT_WINDOW_SECS", "60"), ("HOLD_QUEUE_URL", "q")][..],
            "STATE_TABLE",
        ),
        (
            &[("RECONNECT_WINDOW_SECS", "60"), ("STATE_TABLE", "t")][..],
            "HOLD_QUEUE_URL",
        ),
        (
            &[("STATE_TABLE", "t"), ("HOLD_QUEUE_URL", "q")][..],
            "HOLD_QUEUE_URL",
        ),
        (
            &[
                ("RECONNECT_WINDOW_SECS", "1801"),
                ("STATE_TABLE", "t"),
                ("HOLD_QUEUE_URL", "q"),
            ][..],
            "RECONNECT_WINDOW_SECS",
        ),
        (
            &[("RECONNECT_WINDOW_SECS", "-1")][..],
            "RECONNECT_WINDOW_SECS",
        ),
        (
            &[("IDEMPOTENCY_TABLE", "old-table")][..],
            "IDEMPOTENCY_TABLE",
        ),
        (
            &[("IDEMPOTENCY_TTL_SECS", "3600")][..],
            "IDEMPOTENCY_TTL_SECS",
        ),
    ] {
        let err = with(extra).unwrap_err();
        assert_eq!(err.variable, variable, "{extra:?}: {err}");
    }
}

#[test]
fn the_sweep_waits_for_tencents_retries_unless_told() {
    let window = [
        ("SNS_TOPIC_ARN", ARN),
        ("CALLBACK_KEYS", "k1"),
        ("RECONNECT_WINDOW_SECS", "60"),
        ("STATE_TABLE", "relay-state"),
        (
            "HOLD_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/holds",
        ),
    ];
    let sweep_after = |value: Option<&'static str>| {
        let mut vars = window.to_vec();
        vars.extend(value.map(|v| ("SWEEP_AFTER_SECS", v)));
        load(&vars).map(|c| match c.state {
            State::ReconnectWindow {
                sweep_after_secs, ..
            } => sweep_after_secs,
            other => panic!("{other:?}"),
        })
    };
    assert_eq!(sweep_after(None), Ok(crate::inbound::TENCENT_RETRY_SECS));
    assert_eq!(sweep_after(Some("0")), Ok(0));
    assert_eq!(sweep_after(Some("86400")), Ok(86_400));
    for bad in ["86401", "-1", "soon"] {
        assert_eq!(
            sweep_after(Some(bad)).map_err(|e| e.variable),
            Err("SWEEP_AFTER_SECS")
        );
    }
}

#[test]
fn every_variable_set() {
    let config = load(&[
        ("SNS_TOPIC_ARN", ARN),
        ("CALLBACK_KEYS", " old_key , new-key\n"),
        (
            "NOTIFY_EVENTS",
            "stream.started, stream.stopped,stream.stopped_abnormally,stream.resumed,stream.recovered",
        ),
        ("CLOCK_SKEW_SECS", "0"),
        ("MAX_VALIDITY_SECS", "900"),
    ])
    .unwrap();
    assert_eq!(config.callback_keys, ["old_key", "new-key"]);
    assert_eq!(config.notify_events, HashSet::from(Event::ALL));
    assert_eq!(config.clock_skew_secs, 0);
    assert_eq!(config.max_validity_secs, 900);
}

#[test]
fn missing_required_variables_are_named() {
    assert_eq!(
        load(&[("CALLBACK_KEYS", "k")]).unwrap_err().variable,
        "SNS_TOPIC_ARN"
    );
    assert_eq!(
        load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "  ")])
            .unwrap_err()
            .variable,
        "CALLBACK_KEYS"
    );
}

#[test]
fn invalid_values_are_named_without_showing_keys() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("SNS_TOPIC_ARN", "live-events")], "SNS_TOPIC_ARN"),
        (
            &[("SNS_TOPIC_ARN", "arn:aws:sqs:eu-west-1:1:q")],
            "SNS_TOPIC_ARN",
        ),
        (&[("CALLBACK_KEYS", "good,,also-good")], "CALLBACK_KEYS"),
        (&[("CALLBACK_KEYS", "has space secret")], "CALLBACK_KEYS"),
        (&[("CALLBACK_KEYS", &"k".repeat(33))], "CALLBACK_KEYS"),
        (
            &[("NOTIFY_EVENTS", "stream.started,stream.ended")],
            "NOTIFY_EVENTS",
        ),
        (&[("NOTIFY_EVENTS", " , ")], "NOTIFY_EVENTS"),
        (&[("CLOCK_SKEW_SECS", "-1")], "CLOCK_SKEW_SECS"),
        (&[("CLOCK_SKEW_SECS", "5m")], "CLOCK_SKEW_SECS"),
        (&[("MAX_VALIDITY_SECS", "0")], "MAX_VALIDITY_SECS"),
        (&[("MAX_VALIDITY_SECS", "86401")], "MAX_VALIDITY_SECS"),
        (&[("TRUST_ROOTS", "all")], "TRUST_ROOTS"),
        (
            &[(
                "SNS_TOPIC_ARN",
                "arn:aws:sns:eu-west-1:123456789012:live.fifo",
            )],
            "SNS_TOPIC_ARN",
        ),
    ];
    for (overrides, variable) in cases {
        let mut vars = vec![("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k1")];
        vars.retain(|(name, _)| overrides.iter().all(|(o, _)| o != name));
        vars.extend_from_slice(overrides);
        let err = load(&vars).unwrap_err();
        assert_eq!(err.variable, *variable, "{overrides:?}");
        let text = err.to_string();
        assert!(text.starts_with(variable), "{text}");
        assert!(
            !text.contains("secret") && !text.contains("also-good"),
            "{text}"
        );
    }
}

#[test]
fn debug_output_hides_the_keys() {
    let config = load(&[("SNS_TOPIC_ARN", ARN), ("CALLBACK_KEYS", "k-one,k-two")]).unwrap();
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("k-one") && !shown.contains("k-two"),
        "{shown}"
    );
    assert!(shown.contains("2 redacted"));
}
