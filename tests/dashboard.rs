//! The dashboard in `template.yaml` is generated here, from the metrics the function
//! writes (`relay::metrics::METRICS`): the test fails when the template's body differs
//! from what this generates (`make dashboard` writes it), when a widget names a metric
//! the function does not write, and when the body is not a dashboard CloudWatch takes.

use std::collections::BTreeSet;
use std::path::Path;

use live_callback_relay::relay::metrics::METRICS;
use serde_json::{Value, json};

const NAMESPACE: &str = "LiveCallbackRelay/${AWS::StackName}";
/// What the placeholders of the body stand for, to read it as JSON.
const STAND_INS: [(&str, &str); 2] = [
    ("${AWS::StackName}", "stack"),
    ("${AWS::Region}", "eu-west-1"),
];
/// The alarms every stack has, and those that exist only with their condition.
const ALARMS: [&str; 5] = [
    "PublishFailuresAlarm",
    "RefusedNotificationsAlarm",
    "UnauthorizedBurstAlarm",
    "FunctionErrorsAlarm",
    "ApiServerErrorsAlarm",
];
const CONDITIONAL_ALARMS: [(&str, &str); 3] = [
    ("HasWindow", "HoldDeadLettersAlarm"),
    ("HasChat", "ChatFailuresAlarm"),
    ("HasTopicSubscription", "UndeliveredNotificationsAlarm"),
];
const MORE_ALARMS: &str = "@@conditional alarms@@";

fn metric(name: &str, label: &str) -> Value {
    json!([NAMESPACE, name, {"label": label}])
}

/// Every value of one dimension of `name`, as CloudWatch has them.
fn by(name: &str, dimension: &str, id: &str) -> Value {
    json!({
        "expression": format!(
            "SEARCH('{{\"{NAMESPACE}\",{dimension}}} MetricName=\"{name}\"', 'Sum', 300)"
        ),
        "id": id,
        "label": ""
    })
}

/// Every value of a search, stacked.
fn stacked(search: Value) -> Value {
    json!({"view": "timeSeries", "stacked": true, "stat": "Sum", "metrics": [[search]]})
}

fn widget(x: u32, y: u32, title: &str, properties: Value) -> Value {
    let mut properties = properties;
    properties["title"] = json!(title);
    properties["region"] = json!("${AWS::Region}");
    properties
        .as_object_mut()
        .unwrap()
        .entry("period")
        .or_insert(json!(300));
    json!({"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties})
}

fn body() -> Value {
    let sum = |metrics: Value| json!({"view": "timeSeries", "stat": "Sum", "metrics": metrics});
    let mut alarms: Vec<Value> = ALARMS
        .iter()
        .map(|a| json!(format!("${{{a}.Arn}}")))
        .collect();
    alarms.push(json!(MORE_ALARMS));
    json!({
        "widgets": [
            widget(0, 0, "Streams: starts and stops told", sum(json!([
                metric("Started", "started"),
                metric("StoppedAbnormally", "stopped abnormally"),
                metric("Stopped", "stopped"),
            ]))),
            widget(12, 0, "Abnormal stops by reason, as Tencent reported them", stacked(by("AbnormalStops", "Reason", "reasons"))),
            widget(0, 6, "Drops: resumed (blips) vs announced, and recovered", sum(json!([
                metric("Resumed", "resumed"),
                metric("StoppedAbnormally", "announced"),
                metric("Recovered", "recovered"),
                metric("HoldsParked", "held"),
            ]))),
            widget(12, 6, "Callbacks by outcome", stacked(by("Callbacks", "Outcome", "outcomes"))),
            widget(0, 12, "Rejections by status", stacked(by("Rejections", "Status", "statuses"))),
            widget(12, 12, "Publish latency (ms)", json!({
                "view": "timeSeries", "period": 60,
                "metrics": [
                    [NAMESPACE, "PublishLatency", {"stat": "p50", "label": "p50"}],
                    [NAMESPACE, "PublishLatency", {"stat": "p99", "label": "p99"}],
                ],
            })),
            widget(0, 18, "Failures: publishes, refusals, dead letters, chat", sum(json!([
                metric("PublishFailures", "publish failures (answered 503)"),
                metric("RefusedNotifications", "refused by SNS"),
                metric("HoldsDeadLettered", "holds dead-lettered"),
                metric("ChatFailures", "chat posts failed"),
                metric("SweepFailures", "holds the sweep could not park"),
            ]))),
            widget(12, 18, "Holds and sweeps by outcome, and chat posts", json!({
                "view": "timeSeries", "stat": "Sum",
                "metrics": [
                    [by("Holds", "Outcome", "holds")],
                    [by("Sweeps", "Outcome", "sweeps")],
                    metric("HoldsSwept", "parked by the sweep"),
                    metric("ChatPosted", "posted to chat"),
                ],
            })),
            {"type": "alarm", "x": 0, "y": 24, "width": 24, "height": 4,
             "properties": {"title": "Alarms", "alarms": alarms}},
        ]
    })
}

/// The template's `DashboardBody`, as this generates it (YAML, indented as in the
/// template): a `!Join` of the body with the conditional alarms' ARNs spliced in.
fn generated() -> String {
    // one widget a line
    let widgets: Vec<String> = body()["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|widget| format!("  {widget}"))
        .collect();
    let text = format!("{{\"widgets\": [\n{}\n]}}", widgets.join(",\n"));
    let at = text
        .find(&format!("\"{MORE_ALARMS}\""))
        .expect("the sentinel");
    let comma = text[..at].rfind(',').expect("alarms before it");
    let (before, after) = (&text[..comma], &text[at + MORE_ALARMS.len() + 2..]);
    let block = |text: &str| {
        text.lines()
            .map(|line| format!("            {line}\n"))
            .collect::<String>()
    };
    let mut yaml = String::from("      DashboardBody: !Join\n        - \"\"\n        - - !Sub |\n");
    yaml += &block(before);
    for (condition, alarm) in CONDITIONAL_ALARMS {
        yaml += &format!("          - !If [{condition}, !Sub ',\"${{{alarm}.Arn}}\"', \"\"]\n");
    }
    yaml += "          - |\n";
    yaml += &block(after.trim_start_matches('\n'));
    yaml
}

fn template() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml")).unwrap()
}

/// The template's `DashboardBody` block, and where it is.
fn in_template(template: &str) -> (usize, usize) {
    let start = template
        .find("      DashboardBody: !Join\n")
        .expect("a DashboardBody");
    let end = template[start..]
        .split_inclusive('\n')
        .skip(1)
        .take_while(|line| line.starts_with("        "))
        .map(str::len)
        .sum::<usize>()
        + template[start..].find('\n').unwrap()
        + 1;
    (start, start + end)
}

#[test]
fn the_templates_dashboard_is_the_generated_one() {
    let template = template();
    let (start, end) = in_template(&template);
    if std::env::var_os("UPDATE_DASHBOARD").is_some() {
        let updated = format!("{}{}{}", &template[..start], generated(), &template[end..]);
        std::fs::write(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml"),
            updated,
        )
        .unwrap();
        return;
    }
    assert_eq!(
        template[start..end],
        generated(),
        "template.yaml's dashboard is out of date: run `make dashboard`"
    );
}

/// The metrics a body's widgets show, each with the dimension it is shown by.
fn shown(body: &Value) -> BTreeSet<(String, Option<String>)> {
    let mut names = BTreeSet::new();
    for widget in body["widgets"].as_array().unwrap() {
        for entry in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let entry = entry.as_array().unwrap();
            match entry[0].as_str() {
                Some(namespace) => {
                    assert_eq!(namespace, NAMESPACE);
                    // a plain entry names every dimension after the metric: here, none
                    assert!(entry[2..].iter().all(Value::is_object), "{entry:?}");
                    names.insert((entry[1].as_str().unwrap().to_string(), None));
                }
                None => {
                    let expression = entry[0]["expression"].as_str().unwrap();
                    let name = expression
                        .split("MetricName=\"")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .expect("a metric name in the search");
                    let dimension = expression
                        .split("\",")
                        .nth(1)
                        .and_then(|rest| rest.split('}').next())
                        .expect("the search's dimension");
                    names.insert((name.to_string(), Some(dimension.to_string())));
                }
            }
        }
    }
    names
}

#[test]
fn every_metric_shown_is_one_the_function_writes_and_every_one_it_writes_is_shown() {
    let written: BTreeSet<(String, Option<String>)> = METRICS
        .iter()
        .map(|(name, _, dimension)| (name.to_string(), dimension.map(str::to_string)))
        .collect();
    assert_eq!(shown(&body()), written);
}

#[test]
fn the_body_is_a_dashboard_cloudwatch_takes() {
    // the body as CloudFormation makes it, with every conditional alarm there
    let mut text = generated()
        .lines()
        .skip(3)
        .map(|line| line.trim_start().to_string())
        .map(
            |line| match CONDITIONAL_ALARMS.iter().find(|(c, _)| line.contains(c)) {
                Some((_, alarm)) => format!(",\"${{{alarm}.Arn}}\""),
                None => line,
            },
        )
        .filter(|line| line != "- |")
        .collect::<Vec<_>>()
        .join("\n");
    for (placeholder, value) in STAND_INS {
        text = text.replace(placeholder, value);
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let widgets = body["widgets"].as_array().unwrap();
    assert!(!widgets.is_empty() && widgets.len() <= 500);
    for widget in widgets {
        let (x, width) = (
            widget["x"].as_u64().unwrap(),
            widget["width"].as_u64().unwrap(),
        );
        assert!(x + width <= 24, "{widget}");
        let properties = &widget["properties"];
        match widget["type"].as_str().unwrap() {
            "metric" => {
                assert_eq!(properties["region"], "eu-west-1");
                assert_eq!(properties["period"].as_u64().unwrap() % 60, 0);
                assert!(properties["title"].is_string());
            }
            "alarm" => {
                let alarms = properties["alarms"].as_array().unwrap();
                assert_eq!(alarms.len(), ALARMS.len() + CONDITIONAL_ALARMS.len());
                assert!(alarms.len() <= 100);
            }
            other => panic!("a {other} widget"),
        }
    }
    // every alarm named is one the template defines
    let template = local_stack::template::Template::load().expect("template.yaml");
    for alarm in ALARMS
        .iter()
        .chain(CONDITIONAL_ALARMS.iter().map(|(_, a)| a))
    {
        assert_eq!(
            template.resource(alarm)["Type"],
            "AWS::CloudWatch::Alarm",
            "{alarm}"
        );
    }
}
