"""`make scan-template`: checkov's security checks on template.yaml, every resource included.

checkov leaves out the resources whose condition is false with the parameters' defaults,
and does not evaluate an `!If` inside a resource's properties. So this scans a copy of the
template in which every resource is kept (its `Condition` removed) and every `!If` is
resolved as a stack deployed with the defaults resolves it: what is scanned is what a
default deployment creates, plus every optional resource. Skips live on the resources
themselves (Metadata: checkov: skip), each with its reason.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
NO_VALUE = object()


def condition_values(template: dict) -> dict:
    defaults = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    definitions = template.get("Conditions", {})
    values: dict = {}

    def value_of(node):
        if isinstance(node, dict) and len(node) == 1:
            (function, args), = node.items()
            if function == "Ref":
                return defaults.get(args, args)
            if function == "Condition":
                return evaluate(args)
            if function == "Fn::Equals":
                return str(value_of(args[0])) == str(value_of(args[1]))
            if function == "Fn::Not":
                return not value_of(args[0])
            if function == "Fn::And":
                return all(value_of(a) for a in args)
            if function == "Fn::Or":
                return any(value_of(a) for a in args)
        return node

    def evaluate(name):
        if name not in values:
            values[name] = bool(value_of(definitions[name]))
        return values[name]

    for name in definitions:
        evaluate(name)
    return values


def resolved(node, conditions: dict):
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::If" in node:
            name, when_true, when_false = node["Fn::If"]
            return resolved(when_true if conditions[name] else when_false, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for key, value in node.items():
            value = resolved(value, conditions)
            if value is not NO_VALUE:
                out[key] = value
        return out
    if isinstance(node, list):
        return [v for v in (resolved(item, conditions) for item in node) if v is not NO_VALUE]
    return node


def main() -> int:
    template = cfn_yaml.load(str(TEMPLATE))
    conditions = condition_values(template)
    for name, resource in template["Resources"].items():
        resource.pop("Condition", None)
        template["Resources"][name] = resolved(resource, conditions)
    with tempfile.TemporaryDirectory() as scratch:
        every_resource = Path(scratch) / "template-every-resource.json"
        every_resource.write_text(json.dumps(template))
        return subprocess.run(
            [
                "checkov",
                "--file", str(every_resource),
                "--framework", "cloudformation",
                "--skip-download",
                "--compact",
            ],
            check=False,
        ).returncode


if __name__ == "__main__":
    sys.exit(main())
