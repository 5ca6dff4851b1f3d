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
