"""`verify`: a run's age whatever the machine's time zone, what it reads as a relay
document, copies judged once, the credentials it looks for, and its exit status when AWS
refuses it."""

import contextlib
import io
import json
import os
import time
import unittest
import urllib.parse
from unittest import mock

from botocore.exceptions import ClientError, EndpointConnectionError

import verify
from stack import Stack


@contextlib.contextmanager
def time_zone(name: str):
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


class RunAge(unittest.TestCase):
    def test_a_run_just_started_is_seconds_old_in_every_time_zone(self):
        for zone in ["UTC", "Asia/Hong_Kong", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"]:
            with time_zone(zone):
                age = time.time() - verify.started_at(verify.new_run_id())
                self.assertTrue(0 <= age < 5, f"{zone}: {age}")

    def test_a_run_started_in_one_zone_has_the_same_age_read_in_another(self):
        with time_zone("Asia/Hong_Kong"):
            run_id = verify.new_run_id()
        with time_zone("America/Los_Angeles"):
            age = time.time() - verify.started_at(run_id)
        self.assertTrue(0 <= age < 5, age)

    def test_a_tag_that_is_not_a_run_is_as_old_as_can_be(self):
        self.assertEqual(verify.started_at("someone-else"), 0.0)


class Documents(unittest.TestCase):
    def test_only_a_json_object_is_a_document(self):
        self.assertEqual(verify.document_of({"Message": '{"event":"stream.started"}'}), {"event": "stream.started"})
        for envelope in [{}, {"Message": "not json"}, {"Message": "[1]"}, {"Message": "3"}, {"Message": None}]:
            self.assertIsNone(verify.document_of(envelope), envelope)

    def test_what_is_not_a_document_is_named_so(self):
        self.assertEqual(
            verify.events_of([{"Message": '{"event":"stream.resumed"}'}, {"Message": "[]"}]),
            ["stream.resumed", "(not a relay document)"],
        )


STACK = Stack(
    name="s",
    region="ap-east-1",
    callback_url="https://example.com/callback",
    topic_arn="arn:aws:sns:ap-east-1:123456789012:t",
    filter_presets={},
    window_secs=0,
    key_secret_id="",
)


def envelope(event: str, event_id: str = "", **fields) -> dict:
    return {"Message": json.dumps({"event": event, "event_id": event_id or event, **fields})}


class PresetCauses(unittest.TestCase):
    def judged(self, on_call_received: list):
        stack = Stack(**{**STACK.__dict__, "filter_presets": {"on-call": {"event": ["stream.stopped_abnormally"]}}})
        run = verify.Run(stack=stack, key="k", run_id=verify.new_run_id(), settle_secs=0, timeout_secs=0)
        run.queues = {"unfiltered": "u", "on-call": "o"}
        told = ["stream.started", "stream.stopped_abnormally"]
        run.received = {"unfiltered": [envelope(e) for e in told], "on-call": [envelope(e) for e in on_call_received]}
        with contextlib.redirect_stdout(io.StringIO()):
            verify.judge(run, {"unfiltered": told, "on-call": ["stream.stopped_abnormally"]})
        return {c.name.split(" {")[0]: c for c in run.checks}

    def test_a_preset_passing_too_much_may_not_be_in_effect_yet(self):
        check = self.judged(["stream.started", "stream.stopped_abnormally"])["queue, preset on-call"]
        self.assertFalse(check.passed)
        self.assertIn("up to 15 minutes", check.cause)
        self.assertIn("--settle 900", check.cause)

    def test_a_preset_passing_nothing_was_not_applied(self):
        check = self.judged([])["queue, preset on-call"]
        self.assertFalse(check.passed)
        self.assertIn("not applied as documented", check.cause)

    def test_a_preset_passing_what_it_should_passes(self):
        checks = self.judged(["stream.stopped_abnormally"])
        self.assertTrue(checks["queue, preset on-call"].passed)
        self.assertTrue(checks["queue, unfiltered"].passed)


class Duplicates(unittest.TestCase):
    def test_copies_of_a_notification_are_judged_once(self):
        run = verify.Run(stack=STACK, key="k", run_id=verify.new_run_id(), settle_secs=0, timeout_secs=0)
        run.queues = {"unfiltered": "u"}
        told = ["stream.started", "stream.stopped_abnormally"]
        run.received = {"unfiltered": [envelope(e) for e in told + told[:1]]}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            verify.judge(run, {"unfiltered": told})
        check = next(c for c in run.checks if c.name == "queue, unfiltered")
        self.assertTrue(check.passed, check)
        self.assertIn("1 copies of notifications already received", out.getvalue())

    def test_two_notifications_of_one_event_are_two(self):
        envelopes = [envelope("stream.started", "a"), envelope("stream.started", "b")]
        self.assertEqual(verify.events_of(envelopes), ["stream.started", "stream.started"])


class Leaks(unittest.TestCase):
    def test_the_test_callbacks_carry_every_planted_credential(self):
        for secret in verify.PLANTED.values():
            self.assertTrue(
                secret in verify.STREAM_PARAM or urllib.parse.quote(secret, safe="") in verify.STREAM_PARAM,
                secret,
            )
        self.assertLessEqual(len(verify.STREAM_PARAM), 4096)

    def test_a_credential_is_found_in_the_message_the_subject_or_an_attribute_in_any_form(self):
        secret = verify.PLANTED["nested"]
        clean = envelope("stream.started", stream_param="cb=token=***")
        self.assertEqual(verify.leaks(clean), [])
        for leaky in [
            envelope("stream.started", stream_param=f"cb=token={secret}"),
            {**clean, "Subject": f"Stream started: {secret}"},
            {**clean, "MessageAttributes": {"stream_id": {"Type": "String", "Value": secret}}},
            envelope("stream.started", stream_param="cb=token%3D" + urllib.parse.quote(secret)),
        ]:
            self.assertEqual(verify.leaks(leaky), ["nested"], leaky)

    def test_a_part_of_a_credential_is_a_leak_in_any_encoding(self):
        password = verify.PLANTED["url password"]
        run = password.split(",")[0]
        for shown in [
            f"relay=rtmp://pusher:{run}@live.example.com",
            "relay=" + urllib.parse.quote(urllib.parse.quote(f"rtmp://pusher:{run}", safe=""), safe=""),
        ]:
            self.assertEqual(verify.leaks(envelope("stream.started", stream_param=shown)), ["url password"], shown)
        masked = "relay=rtmp://***@live.example.com/live/s"
        self.assertEqual(verify.leaks(envelope("stream.started", stream_param=masked)), [])

    def test_a_chat_message_is_read_for_its_stream_and_event(self):
        chat = {"version": "1.0", "source": "custom", "metadata": {
            "eventType": "stream.recovered",
            "additionalContext": {"event_id": "x-start-1", "stream_id": "lcr-verify-1"},
        }}
        self.assertEqual(verify.about(chat, "event"), "stream.recovered")
        self.assertEqual(verify.about(chat, "stream_id"), "lcr-verify-1")
        self.assertEqual(verify.about({"event": "stream.started"}, "event"), "stream.started")


class ExitStatus(unittest.TestCase):
    def run_main(self, *argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = verify.main(["--stack", "s", *argv])
        return status, err.getvalue()

    def test_no_region_could_not_run(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertEqual(self.run_main()[0], 2)

    def test_aws_refusing_what_verify_needs_is_could_not_run_not_a_failed_check(self):
        denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed: sqs:CreateQueue"}}, "CreateQueue")
        unreachable = EndpointConnectionError(endpoint_url="https://sqs.ap-east-1.amazonaws.com/")
        for error in [denied, unreachable]:
            with (
                mock.patch.object(verify, "stack_of", return_value=STACK),
                mock.patch.dict(os.environ, {"CALLBACK_KEY": "k"}),
                mock.patch.object(verify, "verify", side_effect=error),
            ):
                status, err = self.run_main("--region", "ap-east-1")
            self.assertEqual(status, 2, err)
            self.assertIn("cannot verify", err)


if __name__ == "__main__":
    unittest.main()
