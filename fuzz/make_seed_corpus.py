"""Writes the seed corpus of the request_path fuzz target: the seed samples, signed with
the target's key and clock, in API Gateway v1, v2 and Function URL events, plain and
base64-encoded. Run from anywhere: python3 fuzz/make_seed_corpus.py"""
import base64
import hashlib
import json
import pathlib

KEY = "fuzz-key"
ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUT = ROOT / "fuzz" / "corpus" / "request_path"


def signed(sample, **changes):
    body = json.loads((FIXTURES / sample).read_text())
    body.update(changes)
    body["sign"] = hashlib.md5(f"{KEY}{body['t']}".encode()).hexdigest()
    return json.dumps(body)


def event(kind, body, encode):
    template = json.loads((FIXTURES / kind).read_text())
    if kind == "apigw_rest_v1_request.json":
        template["httpMethod"] = "POST"
        template["requestContext"]["httpMethod"] = "POST"
    else:
        template["requestContext"]["http"]["method"] = "POST"
    template["body"] = base64.b64encode(body.encode()).decode() if encode else body
    template["isBase64Encoded"] = encode
    return json.dumps(template)


bodies = [
    signed("seed_push_start.json"),
    signed("seed_push_interrupt.json"),
    signed("seed_push_interrupt.json", errcode=12, push_duration=3725000),
    signed("seed_push_start.json", event_type=100),
]
OUT.mkdir(parents=True, exist_ok=True)
count = 0
for kind in ["apigw_rest_v1_request.json", "apigw_http_v2_request.json", "function_url_request.json"]:
    for body in bodies:
        for encode in (False, True):
            (OUT / f"seed-{count:02}.json").write_text(event(kind, body, encode))
            count += 1
print(f"wrote {count} seeds to {OUT}")
