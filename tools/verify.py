"""`make verify`: does a deployed relay work, end to end, on its own stack?

It subscribes temporary SQS queues to the stack's topic (one unfiltered, one per filter
preset the stack reports, with the same policies), sends signed test callbacks to the
stack's CallbackUrl under a stream name of its own (a start; with the reconnect window,
a blip that must be resumed and a drop that must be announced, then recovered; without
it, an abnormal stop; a forged and an expired callback that must be refused), reads
what each queue receives, and prints a table: check, expected, observed, pass or fail,
with the likely cause of a failure. It removes what it created (subscriptions first,
then queues), also when interrupted; every queue is tagged with the run, and
`--leftovers` removes what an earlier run could not.

What it proves on AWS that the local run cannot: that SNS evaluates attribute filter
policies for the relay's JSON-structured messages, whether SNS puts MessageAttributes
in the envelope it delivers, that the function's IAM permissions, the hold queue's
event source mapping and the key match what Tencent will send.

Exit status: 0 when every check passes, 1 when one fails, 2 when it could not run.
"""

import argparse
import calendar
import hashlib
import json
import re
import secrets
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from stack import Stack, StackError, add_stack_arguments, session, stack_of

TAG = "live-callback-relay-verifier"
# A callback answered anything but 200 (503, or 409 while a recovery waits for its drop's
# announcement) is sent again, as Tencent does (12 times, a minute apart), sooner.
TENCENT_RETRIES = 3
RETRY_SECS = 5
# Queues of runs younger than this may still be in use: --leftovers leaves them.
LEFTOVER_AGE_SECS = 3600
SCHEMA = Path(__file__).resolve().parent.parent / "schema" / "notification.schema.json"
# Credentials planted in the test callbacks' stream_param, in every form the relay masks:
# Tencent's pair, a pair nested in a value, a URL's password of reserved characters, and a
# pair percent-encoded inside a value. No run of letters and digits of one (each is long
# enough not to occur by chance) may reach any rendering, plain or encoded.
PLANTED = {
    "txSecret": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "nested": "9a8b7c6d5e4f3a2b1c0d",
    "url password": "hunter2q7z,andmore8x4;zebra9k2+quokka5v",
    "encoded pair": "c0ffee00c0ffee00c0ff",
}
STREAM_PARAM = "&".join([
    f"txSecret={PLANTED['txSecret']}&txTime=65A0B1C2",
    f"cb=token={PLANTED['nested']}",
    f"relay=rtmp://pusher:{PLANTED['url password']}@live.example.com/live/s",
    "origin=" + urllib.parse.quote(f"txSecret={PLANTED['encoded pair']}&txTime=1", safe=""),
])
CHAT = "chat"
SEED_START = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seed_push_start.json"


@dataclass
class Check:
    name: str
    expected: str
    observed: str
    passed: bool
    cause: str = ""


@dataclass
class Run:
    stack: Stack
    key: str
    run_id: str
    settle_secs: float
    timeout_secs: float
    checks: list = field(default_factory=list)
    queues: dict = field(default_factory=dict)
    subscriptions: list = field(default_factory=list)
    received: dict = field(default_factory=dict)
    # notifications of other streams (the stack's real traffic), not judged
    foreign: int = 0

    @property
    def stream(self) -> str:
        return f"lcr-verify-{self.run_id}"

    def check(self, name, expected, observed, passed, cause=""):
        self.checks.append(Check(name, listed(expected), listed(observed), bool(passed), "" if passed else cause))


def listed(value) -> str:
    """A list of events as `started, resumed`; anything else as it prints."""
    if isinstance(value, list):
        return ", ".join(str(v).removeprefix("stream.") for v in value) or "(none)"
    return str(value)


def callback(run: Run, event_type: int, sequence: str, errcode: int = 0, *, key=None, t=None) -> dict:
    now = int(time.time())
    t = now + 600 if t is None else t
    body = json.loads(SEED_START.read_text())
    body.update(
        event_type=event_type,
        t=t,
        sign=hashlib.md5(f"{key or run.key}{t}".encode()).hexdigest(),
        appid=1,
        app="verify.live-callback-relay",
        appname="live",
        stream_id=run.stream,
        channel_id=run.stream,
        event_time=now,
        sequence=f"{run.run_id}-{sequence}",
        errcode=errcode,
        stream_param=STREAM_PARAM,
    )
    if event_type == 0:
        body["push_duration"] = "60000"
    return body


def post(run: Run, body: dict) -> int:
    request = urllib.request.Request(
        run.stack.callback_url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, TimeoutError) as e:
        raise StackError(f"the callback URL {run.stack.shown(run.stack.callback_url)} is unreachable: {e}") from e


def status_cause(status: int) -> str:
    return {
        401: "wrong key: CALLBACK_KEY (or the stack's secret) is not one of the stack's CallbackKeys",
        404: "wrong URL: the route is POST /callback, with CALLBACK_PATH_SECRET if the stack has one",
        503: "the function could not publish or record: see its log (sns:Publish, the topic's region, the state table, the hold queue)",
    }.get(status, "see the function's log")


def create_queues(run: Run, sqs, sns) -> None:
    """A queue for the topic unfiltered, one per preset with its policy, and one on the
    chat topic if the stack has one."""
    presets = {"unfiltered": None, **run.stack.filter_presets}
    topics = {label: run.stack.topic_arn for label in presets}
    if run.stack.chat_topic_arn:
        presets[CHAT] = None
        topics[CHAT] = run.stack.chat_topic_arn
    for label, policy in presets.items():
        name = f"lcr-verify-{run.run_id}-{label}"[:80]
        url = sqs.create_queue(QueueName=name, tags={TAG: run.run_id})["QueueUrl"]
        run.queues[label] = url
        run.received[label] = []
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        access = {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topics[label]}},
            }],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(access)})
        attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
        subscription = sns.subscribe(
            TopicArn=topics[label],
            Protocol="sqs",
            Endpoint=arn,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        run.subscriptions.append(subscription)


def verifier_subscriptions(stack: Stack, sns, queue_names) -> list:
    """The subscriptions of the stack's topics (and its chat topic) to the verifier's queues
    named by `queue_names` (a predicate on the queue's name), whether or not a run recorded
    them."""
    found = []
    for topic in filter(None, [stack.topic_arn, stack.chat_topic_arn]):
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
            for subscription in page["Subscriptions"]:
                name = subscription["Endpoint"].rsplit(":", 1)[-1]
                if subscription["Protocol"] == "sqs" and queue_names(name):
                    found.append(subscription["SubscriptionArn"])
    return found


def cleanup(run: Run, sqs, sns) -> None:
    """Removes the run's subscriptions (also one a run interrupted while subscribing could
    not record), then its queues; a queue whose subscription could not be removed stays,
    tagged, for --leftovers."""
    names = {url.rsplit("/", 1)[-1] for url in run.queues.values()}
    kept = set()
    try:
        found = verifier_subscriptions(run.stack, sns, lambda name: name in names)
    except Exception as e:
        print(f"could not list the topic's subscriptions: {e}", file=sys.stderr)
        found = []
    for subscription in set(run.subscriptions) | set(found):
        try:
            sns.unsubscribe(SubscriptionArn=subscription)
        except Exception as e:  # keep removing the rest
            print(f"could not remove subscription {subscription}: {e}", file=sys.stderr)
            kept.add(subscription)
    for url in run.queues.values():
        if kept:
            print(f"left queue {url} for --leftovers", file=sys.stderr)
            continue
        try:
            sqs.delete_queue(QueueUrl=url)
        except Exception as e:
            print(f"could not remove queue {url}: {e}", file=sys.stderr)


RUN_TIME = "%Y%m%d%H%M%S"


def new_run_id() -> str:
    """A run's tag: when it started (UTC, whatever the machine's time zone) and 4 hex digits."""
    return time.strftime(RUN_TIME, time.gmtime()) + secrets.token_hex(2)


def started_at(run_id: str) -> float:
    """When the run tagged `run_id` started, in Unix seconds; 0 when the tag is not one of ours."""
    try:
        return float(calendar.timegm(time.strptime(run_id[:14], RUN_TIME)))
    except ValueError:
        return 0.0


def remove_leftovers(stack: Stack, older_than_secs: float = LEFTOVER_AGE_SECS) -> int:
    """Removes what earlier runs left behind: their tagged queues, and the topic's
    subscriptions to verifier queues, also those whose queue is gone. A run younger than
    `older_than_secs` may still be going on: it is left alone."""
    aws = session(stack.region)
    sqs, sns = aws.client("sqs"), aws.client("sns")
    recent, old = set(), []
    for url in sqs.list_queues(QueueNamePrefix="lcr-verify-").get("QueueUrls", []):
        run_id = sqs.list_queue_tags(QueueUrl=url).get("Tags", {}).get(TAG)
        if run_id is None:
            continue
        if time.time() - started_at(run_id) < older_than_secs:
            recent.add(url.rsplit("/", 1)[-1])
        else:
            old.append(url)
    for subscription in verifier_subscriptions(
        stack, sns, lambda name: name.startswith("lcr-verify-") and name not in recent
    ):
        sns.unsubscribe(SubscriptionArn=subscription)
    for url in old:
        sqs.delete_queue(QueueUrl=url)
    return len(old)


def matches(policy, event: str) -> bool:
    """Whether a preset's policy (an `event` list, as the template's presets are) passes `event`."""
    if policy is None:
        return True
    return set(policy) == {"event"} and event in policy["event"]


def poll(run: Run, sqs) -> None:
    """One round of receiving from every queue, into `run.received`."""
    for label, url in run.queues.items():
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in batch:
            envelope = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if about(document_of(envelope) or {}, "stream_id") in (run.stream, None):
                run.received[label].append(envelope)
            else:
                run.foreign += 1


def document_of(envelope: dict):
    """The JSON object a delivered notification carries (the relay's document, or its chat
    message); `None` for anything else."""
    try:
        document = json.loads(envelope["Message"])
    except (KeyError, TypeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def about(document: dict, field: str):
    """`event`, `event_id` or `stream_id` of a relay document, or of a chat message (which
    carries them in its metadata); `None` when it has none."""
    if "version" in document and document.get("source") == "custom":
        metadata = document.get("metadata") or {}
        if field == "event":
            return metadata.get("eventType")
        return (metadata.get("additionalContext") or {}).get(field)
    return document.get(field)


def poll_until(run: Run, sqs, done, deadline: float) -> bool:
    """Receives until `done()` or the `time.monotonic()` deadline; whether it is done."""
    while time.monotonic() < deadline:
        poll(run, sqs)
        if done():
            return True
    return False


def receive(run: Run, sqs, expected: dict) -> None:
    """Receives until each queue holds what is expected (or the timeout), and then for
    `settle_secs` more, so that anything unexpected shows too."""
    deadline = time.monotonic() + run.timeout_secs
    def complete():
        # distinct notifications: a copy of one (SNS delivers at least once) is not another
        return all(len(events_of(run.received[label])) >= len(expected[label]) for label in run.queues)

    if poll_until(run, sqs, complete, deadline):
        poll_until(run, sqs, lambda: False, min(deadline, time.monotonic() + run.settle_secs))


def wait_for_announcement(run: Run, sqs) -> None:
    """Receives until the unfiltered queue holds the drop's announcement: the window has
    passed and the hold queue's event source mapping has handed the drop back."""
    print(f"waiting for the drop to be held past the {run.stack.window_secs} s window and announced ...", flush=True)
    poll_until(
        run,
        sqs,
        lambda: "stream.stopped_abnormally" in events_of(run.received["unfiltered"]),
        time.monotonic() + run.stack.window_secs + run.timeout_secs,
    )


def events_of(envelopes: list) -> list:
    """The event of each distinct notification: SNS delivers at least once, and a copy of
    one (the same `event_id`) is the same notification."""
    distinct = {}
    for n, envelope in enumerate(envelopes):
        document = document_of(envelope) or {}
        distinct.setdefault(about(document, "event_id") or n, about(document, "event") or "(not a relay document)")
    return list(distinct.values())


def leaks(envelope: dict) -> list:
    """The planted credentials in what a subscriber got (the message: the document, or the
    chat message; the subject; the attributes' values): any of a credential's runs of
    letters and digits, as it is, or percent-encoded once or twice."""
    texts = [envelope.get("Message") or "", envelope.get("Subject") or ""]
    texts += [str(a.get("Value", "")) for a in (envelope.get("MessageAttributes") or {}).values()]
    found = []
    for name, secret in PLANTED.items():
        runs = [run for run in re.split(r"[^A-Za-z0-9]+", secret) if len(run) >= 6]
        forms = set()
        for text in [secret, *runs]:
            once = urllib.parse.quote(text, safe="")
            forms |= {text, once, urllib.parse.quote(once, safe=""), json.dumps(text)[1:-1]}
        if any(form in text for form in forms for text in texts):
            found.append(name)
    return found


def verify(run: Run) -> None:
    aws = session(run.stack.region)
    sqs, sns = aws.client("sqs"), aws.client("sns")
    try:
        create_queues(run, sqs, sns)
        if run.settle_secs:
            time.sleep(run.settle_secs)  # SNS documents up to 15 minutes; --settle 900 waits them out
        told = send_story(run, sqs)
        expected = {
            label: [e for e in told if label != CHAT and matches(run.stack.filter_presets.get(label), e)]
            for label in run.queues
        }
        if CHAT in run.queues:
            expected[CHAT] = [e for e in told if e in run.stack.chat_events]
        receive(run, sqs, expected)
        judge(run, expected)
    finally:
        cleanup(run, sqs, sns)


def send_story(run: Run, sqs) -> list:
    """Sends the test callbacks, checks their answers, and returns the events they must tell."""
    def send(name, body, expected_status=200):
        status = post(run, body)
        for _ in range(TENCENT_RETRIES):
            if status == expected_status or status not in (409, 429) and status < 500:
                break
            time.sleep(RETRY_SECS)  # as Tencent retries, sooner
            status = post(run, body)
        cause = "the function accepted a forged or expired callback: check CALLBACK_KEYS and the clock" if expected_status == 401 else status_cause(status)
        run.check(f"callback: {name}", expected_status, status, status == expected_status, cause)
        return status == expected_status

    other_key = secrets.token_hex(8)
    send("forged (signed with another key)", callback(run, 1, "forged", key=other_key), 401)
    expired = int(time.time()) - run.stack.clock_skew_secs - 3600
    send("expired (t an hour past the clock-skew allowance)", callback(run, 1, "expired", t=expired), 401)
    if not send("start", callback(run, 1, "a")):
        return []  # nothing else can work: the cause is in the table
    if run.stack.window_secs == 0:
        send("abnormal stop", callback(run, 0, "a", errcode=13))
        return ["stream.started", "stream.stopped_abnormally"]
    send("blip: abnormal stop", callback(run, 0, "a", errcode=14))
    send("blip: start again", callback(run, 1, "b"))
    send("drop: abnormal stop", callback(run, 0, "b", errcode=13))
    wait_for_announcement(run, sqs)
    send("recovery: start", callback(run, 1, "c"))
    return ["stream.started", "stream.resumed", "stream.stopped_abnormally", "stream.recovered"]


def judge(run: Run, expected: dict) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    for label in run.queues:
        policy = run.stack.filter_presets.get(label)
        observed = events_of(run.received[label])
        if label == "unfiltered":
            cause = (
                "the function did not publish these (its log), NOTIFY_EVENTS leaves them out, or, for "
                "stream.stopped_abnormally, the hold queue's event source mapping did not hand the drop back"
            )
        elif set(observed) - set(expected[label]):
            cause = (
                "the filter policy was not in effect yet (SNS takes up to 15 minutes to apply a new "
                "subscription's policy): run again with --settle 900 (about half an hour)"
            )
        else:
            cause = "the filter policy was not applied as documented (attribute filters on JSON-structured messages)"
        if label == CHAT:
            cause = "CHAT_EVENTS leaves them out, or the function could not post to the chat topic (its log)"
        if label == CHAT:
            name = "queue, chat topic"
        elif policy is None:
            name = "queue, unfiltered"
        else:
            name = f"queue, preset {label} {json.dumps(policy, separators=(',', ':'))}"
        run.check(name, expected[label], observed, sorted(observed) == sorted(expected[label]), cause)
    documents, invalid, leaked, attributes, copies = 0, [], set(), 0, 0
    for label, envelopes in run.received.items():
        copies += len(envelopes) - len(events_of(envelopes))
        for envelope in envelopes:
            leaked.update(leaks(envelope))
            attributes += bool(envelope.get("MessageAttributes"))
            document = document_of(envelope)
            if label == CHAT:
                continue
            if document is None:
                invalid.append("a message that is not a JSON object")
                continue
            documents += 1
            errors = sorted(validator.iter_errors(document), key=str)
            if errors:
                invalid.append(f"{document.get('event')}: {errors[0].message}")
    if documents or any(expected.values()):
        run.check(
            "documents valid against schema/notification.schema.json",
            f"{documents} of {documents}",
            f"{documents - len(invalid)} of {documents}" + (f" ({invalid[0]})" if invalid else ""),
            documents > 0 and not invalid,
            "the deployed function is of another version than this schema",
        )
    run.check(
        "push-URL credentials masked in every message, subject and attribute",
        "none shown",
        ", ".join(sorted(leaked)) or "none shown",
        not leaked,
        "the deployed function does not redact stream_param as this release does",
    )
    total = sum(len(v) for v in run.received.values())
    if copies:
        print(f"{copies} copies of notifications already received (SNS delivers at least once), judged once")
    print(
        "the e-mail and SMS renderings reach no queue: they are built from the same masked values "
        "(the relay's tests check every rendering)"
    )
    if run.foreign:
        print(f"{run.foreign} notifications of other streams (the stack's own traffic) arrived meanwhile, not judged")
    print(
        f"MessageAttributes in the SNS envelope: {attributes} of {total} deliveries "
        "(informational: AWS does not promise them for JSON-structured messages; the document holds every value)"
    )


def table(run: Run) -> str:
    rows = [("check", "expected", "observed", "result")]
    rows += [(c.name, c.expected, c.observed, "pass" if c.passed else "FAIL") for c in run.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    causes = [f"  - {c.name}: {c.cause}" for c in run.checks if not c.passed and c.cause]
    if causes:
        lines += ["", "likely causes:"] + causes
    return "\n".join(lines)


def interrupted(*_):
    """A termination signal cleans up as an interruption does."""
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_arguments(parser)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to let subscriptions and deliveries settle")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for deliveries")
    parser.add_argument("--leftovers", action="store_true", help="only remove what earlier runs left behind")
    parser.add_argument(
        "--older-than", type=float, default=LEFTOVER_AGE_SECS,
        help="with --leftovers: leave runs younger than this many seconds (they may be going on)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stack = stack_of(args)
        if args.leftovers:
            print(f"removed {remove_leftovers(stack, args.older_than)} queues left by earlier runs")
            return 0
        run = Run(
            stack=stack,
            key=stack.callback_key(),
            run_id=new_run_id(),
            settle_secs=args.settle,
            timeout_secs=args.timeout + stack.window_secs,
        )
        print(
            f"verifying stack {stack.name} ({stack.region}): {stack.shown(stack.callback_url)}, topic {stack.topic_arn}, "
            f"reconnect window {stack.window_secs} s, presets {', '.join(stack.filter_presets) or 'none'}; "
            f"test stream {run.stream}",
            flush=True,
        )
        verify(run)
    except (StackError, BotoCoreError, ClientError) as e:
        print(f"cannot verify: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; what was created is removed", file=sys.stderr)
        return 2
    print(table(run))
    return 0 if all(c.passed for c in run.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
