//! The SAM template holds to what the code does: the values it allows are the ones the
//! function accepts, and the HTTP contract the README gives is the deployed stack's.

use live_callback_relay::config;
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
