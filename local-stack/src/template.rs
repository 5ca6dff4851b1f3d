//! The SAM template as data, for the tests that hold it to what the code does.

use std::path::Path;

use serde_yaml::Value;

use crate::BoxError;

pub struct Template(Value);

impl Template {
    /// The project's `template.yaml`.
    pub fn load() -> Result<Template, BoxError> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        Ok(Template(serde_yaml::from_str(&std::fs::read_to_string(
            path,
        )?)?))
    }

    /// `Parameters.<name>`.
    pub fn parameter(&self, name: &str) -> &Value {
        &self.0["Parameters"][name]
    }

    /// Whether rule `name` lets a stack with `parameters` deploy: its condition does not
    /// apply, or every assertion holds.
    pub fn rule_holds(&self, name: &str, parameters: &[(&str, &str)]) -> bool {
        let rule = &self.0["Rules"][name];
        assert!(rule.is_mapping(), "no rule {name}");
        let holds = |v: &Value| evaluate(v, parameters) == Value::Bool(true);
        (!rule["RuleCondition"].is_null() && !holds(&rule["RuleCondition"]))
            || rule["Assertions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .all(|a| holds(&a["Assert"]))
    }

    /// `Mappings.<map>.<key>.<value>`.
    pub fn mapping(&self, map: &str, key: &str, value: &str) -> &Value {
        &self.0["Mappings"][map][key][value]
    }

    /// `Resources.<name>`.
    pub fn resource(&self, name: &str) -> &Value {
        &self.0["Resources"][name]
    }

    /// The subscriptions' filter presets: each name with its policy (JSON).
    pub fn filter_presets(&self) -> Vec<(String, String)> {
        self.0["Mappings"]["FilterPresets"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, preset)| {
                Some((
                    name.as_str()?.to_string(),
                    preset["Policy"].as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// Every resource of `resource_type`, with its logical id.
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.0["Resources"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r["Type"].as_str() == Some(resource_type))
            .filter_map(|(id, r)| Some((id.as_str()?, r)))
    }
}

/// What a CloudFormation rule function of `value` comes to with `parameters` (the rule
/// functions the template uses: `Fn::And`, `Fn::Or`, `Fn::Not`, `Fn::Equals`,
/// `Fn::Contains`, `Ref`), every parameter a string, as CloudFormation gives them to rules.
fn evaluate(value: &Value, parameters: &[(&str, &str)]) -> Value {
    let Value::Tagged(tagged) = value else {
        return value.clone();
    };
    let args: Vec<Value> = match &tagged.value {
        Value::Sequence(items) => items.iter().map(|v| evaluate(v, parameters)).collect(),
        other => vec![other.clone()],
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a string: {other:?}"),
    };
    let truth = |v: &Value| {
        v.as_bool()
            .unwrap_or_else(|| panic!("not a condition: {v:?}"))
    };
    match tagged.tag.to_string().trim_start_matches('!') {
        "Ref" => {
            let name = text(&args[0]);
            let (_, value) = parameters
                .iter()
                .find(|(p, _)| *p == name)
                .unwrap_or_else(|| panic!("{name} is not given"));
            Value::String(value.to_string())
        }
        "Equals" => Value::Bool(text(&args[0]) == text(&args[1])),
        "Not" => Value::Bool(!truth(&args[0])),
        "And" => Value::Bool(args.iter().all(truth)),
        "Or" => Value::Bool(args.iter().any(truth)),
        "Contains" => {
            let needle = text(&args[1]);
            Value::Bool(
                args[0]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|v| text(v) == needle),
            )
        }
        other => panic!("rule function {other} is not known here"),
    }
}

/// Every string value `value` may take, looking through intrinsic functions (`!Sub`,
/// both choices of an `!If`, ...), which YAML tags carry.
pub fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::Mapping(map) => map.values().flat_map(strings).collect(),
        Value::Tagged(tagged) if tagged.tag == "If" => match &tagged.value {
            Value::Sequence(items) => items.iter().skip(1).flat_map(strings).collect(),
            other => strings(other),
        },
        Value::Tagged(tagged) => strings(&tagged.value),
        _ => Vec::new(),
    }
}
