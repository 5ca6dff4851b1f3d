"""`make scan-template`: checkov's security checks on template.yaml, every resource included.

checkov evaluates a template's conditions with the parameters' defaults and leaves out the
resources whose condition is then false, so an optional resource (the idempotency table, the
subscriptions' dead-letter queue, ...) would never be scanned. This scans a copy of the
template with every resource's `Condition` removed; `!If` choices keep their defaults.
Skips live on the resources themselves (Metadata: checkov: skip), each with its reason.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def main() -> int:
    template = cfn_yaml.load(str(TEMPLATE))
    for resource in template["Resources"].values():
        resource.pop("Condition", None)
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
