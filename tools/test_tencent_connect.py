"""`tencent_connect`: what it plans for every state Tencent can be in, that the plan is
idempotent, that every call it makes is one Tencent's SDK knows with fields it knows, and
that the callback key never reaches its output."""

import contextlib
import io
import unittest
from unittest import mock

import tencent_connect
from stack import Stack, StackError
from tencent_connect import NEW_TEMPLATE, Desired, apply, binding, plan, template_name

KEY = "k3y-Th4t-Must-N0t-Show"
DESIRED = Desired(
    template_name="lcr-ap-east-1-prod",
    callback_url="https://abc.execute-api.ap-east-1.amazonaws.com/callback",
    callback_key=KEY,
    domain="push.example.com",
    app="live",
)


def template(template_id=7, **changes):
    fields = {
        "TemplateId": template_id,
        "TemplateName": DESIRED.template_name,
        "Description": "",
        "StreamBeginNotifyUrl": DESIRED.callback_url,
        "StreamEndNotifyUrl": DESIRED.callback_url,
        "RecordNotifyUrl": "https://records.example.com/",
        "CallbackKey": KEY,
    }
    return {**fields, **changes}


def rule(template_id=7, domain="push.example.com", app="live"):
    return {"TemplateId": template_id, "DomainName": domain, "AppName": app}


class TencentAccount:
    """Tencent's templates and rules as the Describe calls list them, changed by the calls
    `plan` makes as Tencent's API reference says each call changes them."""

    def __init__(self, templates=(), rules=()):
        self.templates = [dict(t) for t in templates]
        self.rules = [dict(r) for r in rules]
        self.next_id = 100

    def call(self, action, params):
        if action == "CreateLiveCallbackTemplate":
            self.next_id += 1
            self.templates.append({"TemplateId": self.next_id, **params})
            return {"TemplateId": self.next_id}
        if action == "ModifyLiveCallbackTemplate":
            found = next(t for t in self.templates if t["TemplateId"] == params["TemplateId"])
            found.update(params)
        elif action == "DeleteLiveCallbackRule":
            self.rules = [
                r for r in self.rules
                if (r["DomainName"], r["AppName"]) != (params["DomainName"], params["AppName"])
            ]
        elif action == "CreateLiveCallbackRule":
            if any((r["DomainName"], r["AppName"]) == (params["DomainName"], params["AppName"]) for r in self.rules):
                raise AssertionError("a second rule for one domain and app")
            self.rules.append(dict(params))
        else:
            raise AssertionError(f"unexpected {action}")
        return {}

    def bound(self):
        return binding(self.rules, DESIRED)


def actions(calls):
    return [(c.action, c.params) for c in calls]


class PlanTest(unittest.TestCase):
    def test_an_empty_account_gets_a_template_and_a_binding(self):
        self.assertEqual(actions(plan([], [], DESIRED)), [
            ("CreateLiveCallbackTemplate", {
                "TemplateName": "lcr-ap-east-1-prod",
                "Description": "live-callback-relay",
                "StreamBeginNotifyUrl": DESIRED.callback_url,
                "StreamEndNotifyUrl": DESIRED.callback_url,
                "CallbackKey": KEY,
            }),
            ("CreateLiveCallbackRule", {"DomainName": "push.example.com", "AppName": "live", "TemplateId": NEW_TEMPLATE}),
        ])

    def test_an_account_that_matches_needs_nothing(self):
        self.assertEqual(plan([template()], [rule()], DESIRED), [])

    def test_only_the_fields_that_differ_are_modified(self):
        stale = template(StreamEndNotifyUrl="https://old.example.com/end", CallbackKey="old")
        self.assertEqual(actions(plan([stale], [rule()], DESIRED)), [
            ("ModifyLiveCallbackTemplate", {
                "TemplateId": 7,
                "StreamEndNotifyUrl": DESIRED.callback_url,
                "CallbackKey": KEY,
            }),
        ])

    def test_an_unbound_template_is_bound(self):
        self.assertEqual(actions(plan([template()], [rule(domain="other.example.com")], DESIRED)), [
            ("CreateLiveCallbackRule", {"DomainName": "push.example.com", "AppName": "live", "TemplateId": 7}),
        ])

    def test_a_binding_to_another_template_is_replaced(self):
        others = [template(), template(template_id=3, TemplateName="someone-elses")]
        self.assertEqual(actions(plan(others, [rule(template_id=3)], DESIRED)), [
            ("DeleteLiveCallbackRule", {"DomainName": "push.example.com", "AppName": "live"}),
            ("CreateLiveCallbackRule", {"DomainName": "push.example.com", "AppName": "live", "TemplateId": 7}),
        ])

    def test_other_apps_on_the_domain_are_left_alone(self):
        account = TencentAccount([template()], [rule(app="live"), rule(template_id=3, app="backup")])
        self.assertEqual(plan(account.templates, account.rules, DESIRED), [])

    def test_applying_a_plan_then_planning_again_changes_nothing(self):
        accounts = {
            "empty": TencentAccount(),
            "stale template": TencentAccount([template(StreamBeginNotifyUrl="http://old/")], [rule()]),
            "unbound": TencentAccount([template()]),
            "bound elsewhere": TencentAccount([template(), template(template_id=3, TemplateName="x")], [rule(template_id=3)]),
            "new key": TencentAccount([template(CallbackKey="rotated-away")], [rule()]),
        }
        for name, account in accounts.items():
            with self.subTest(name), contextlib.redirect_stdout(io.StringIO()):
                apply(plan(account.templates, account.rules, DESIRED), account.call, account.bound)
                self.assertEqual(plan(account.templates, account.rules, DESIRED), [])
                ours = [t for t in account.templates if t["TemplateName"] == DESIRED.template_name]
                self.assertEqual(len(ours), 1)
                bound = [r for r in account.rules if (r["DomainName"], r["AppName"]) == ("push.example.com", "live")]
                self.assertEqual([r["TemplateId"] for r in bound], [ours[0]["TemplateId"]])
                self.assertEqual(
                    (ours[0]["StreamBeginNotifyUrl"], ours[0]["StreamEndNotifyUrl"], ours[0]["CallbackKey"]),
                    (DESIRED.callback_url, DESIRED.callback_url, KEY),
                )

    def test_every_call_is_one_the_sdk_knows_with_fields_it_knows(self):
        from tencentcloud.live.v20180801 import models

        calls = plan([], [], DESIRED) + plan([template(CallbackKey="x")], [rule(template_id=3)], DESIRED)
        for call in calls:
            with self.subTest(call.action):
                request = getattr(models, f"{call.action}Request")()
                known = {name.lstrip("_") for name in vars(request)}
                self.assertLessEqual(set(call.params), known)
        for answer, model in (("Templates", models.CallBackTemplateInfo), ("Rules", models.CallBackRuleInfo)):
            known = {name.lstrip("_") for name in vars(model())}
            read = set(template()) if answer == "Templates" else set(rule())
            self.assertLessEqual(read - {"RecordNotifyUrl", "Description"}, known, answer)


class Refusing(TencentAccount):
    """An account whose `CreateLiveCallbackRule` fails for the templates in `refused`
    (after taking effect, for those in `applied_anyway`), and whose calls of `interrupted`
    are interrupted (Ctrl-C)."""

    def __init__(self, templates, rules, refused=(), applied_anyway=(), interrupted=(), delete_fails=False):
        super().__init__(templates, rules)
        self.refused, self.applied_anyway, self.interrupted = refused, applied_anyway, interrupted
        self.delete_fails = delete_fails

    def call(self, action, params):
        if action in self.interrupted:
            self.interrupted = ()  # one Ctrl-C
            raise KeyboardInterrupt
        if action == "CreateLiveCallbackRule" and params["TemplateId"] in self.refused:
            if params["TemplateId"] in self.applied_anyway:
                super().call(action, params)
            raise StackError(f"{action}: InternalError: refused")
        answer = super().call(action, params)
        if action == "DeleteLiveCallbackRule" and self.delete_fails:
            raise StackError(f"{action}: RequestTimeout: no answer")
        return answer


class RebindTest(unittest.TestCase):
    BOUND_ELSEWHERE = ([template(), template(template_id=3, TemplateName="someone-elses")], [rule(template_id=3)])

    def bound(self, account):
        return [r["TemplateId"] for r in account.rules if (r["DomainName"], r["AppName"]) == ("push.example.com", "live")]

    def test_a_failed_new_binding_puts_the_old_one_back(self):
        account = Refusing(*self.BOUND_ELSEWHERE, refused={7})
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(StackError) as raised:
            apply(plan(account.templates, account.rules, DESIRED), account.call, account.bound)
        self.assertEqual(self.bound(account), [3], "the domain keeps its callbacks")
        self.assertIn("the binding it replaced is back", str(raised.exception))
        self.assertIn("put back: CreateLiveCallbackRule", out.getvalue())

    def test_an_old_binding_that_cannot_be_put_back_is_named_with_the_command_that_does_it(self):
        account = Refusing(*self.BOUND_ELSEWHERE, refused={7, 3})
        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(StackError) as raised:
            apply(plan(account.templates, account.rules, DESIRED), account.call, account.bound)
        self.assertEqual(self.bound(account), [])
        self.assertIn(
            "NOT put back: CreateLiveCallbackRule: InternalError: refused; to put it back, run: "
            "tccli live CreateLiveCallbackRule --DomainName push.example.com --AppName live --TemplateId 3",
            str(raised.exception),
        )

    def test_a_failed_first_binding_has_nothing_to_put_back(self):
        account = Refusing([template()], [], refused={7})
        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(StackError) as raised:
            apply(plan(account.templates, account.rules, DESIRED), account.call, account.bound)
        self.assertEqual(str(raised.exception), "CreateLiveCallbackRule: InternalError: refused")

    def test_a_new_binding_that_took_effect_despite_its_error_is_not_undone(self):
        account = Refusing(*self.BOUND_ELSEWHERE, refused={7}, applied_anyway={7})
        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(StackError) as raised:
            apply(plan(account.templates, account.rules, DESIRED), account.call, account.bound)
        self.assertEqual(self.bound(account), [7])
        self.assertIn("the domain is bound to template 7", str(raised.exception))

    def test_a_delete_that_took_effect_despite_its_error_is_put_back(self):
        account = Refusing(*self.BOUND_ELSEWHERE, delete_fails=True)
        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(StackError) as raised:
            apply(plan(account.templates, account.rules, DESIRED), account.call, account.bound)
        self.assertEqual(self.bound(account), [3])
        self.assertIn("the binding it replaced is back", str(raised.exception))

    def test_an_interruption_between_the_delete_and_the_create_puts_the_binding_back(self):
        account = Refusing(*self.BOUND_ELSEWHERE)
        planned = plan(account.templates, account.rules, DESIRED)
        account.interrupted = ("CreateLiveCallbackRule",)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), \
                self.assertRaises(KeyboardInterrupt):
            apply(planned, account.call, account.bound)
        self.assertEqual(self.bound(account), [3])
        self.assertIn("interrupted: the binding it replaced is back", err.getvalue())

    def test_an_unreadable_binding_is_named_with_what_to_check_and_run(self):
        account = Refusing(*self.BOUND_ELSEWHERE, refused={7})

        def unreadable():
            raise StackError("DescribeLiveCallbackRules: InternalError: down")

        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(StackError) as raised:
            apply(plan(account.templates, account.rules, DESIRED), account.call, unreadable)
        self.assertIn(
            "check with tccli live DescribeLiveCallbackRules, and if it is unbound run: "
            "tccli live CreateLiveCallbackRule --DomainName push.example.com --AppName live --TemplateId 3",
            str(raised.exception),
        )

    def test_the_command_exits_2_and_says_what_happened(self):
        code, shown = OutputTest().run_main(
            ["--stack", "prod", "--domain", "push.example.com", "--region", "ap-east-1"],
            Refusing(*self.BOUND_ELSEWHERE, refused={7}),
        )
        self.assertEqual(code, 2)
        self.assertIn("cannot connect Tencent: CreateLiveCallbackRule: InternalError: refused", shown)
        self.assertIn("the domain keeps its callbacks", shown)
        self.assertNotIn(KEY, shown)


class NameTest(unittest.TestCase):
    def test_template_names_fit_tencents_rules_and_differ_per_stack_and_region(self):
        names = set()
        for stack in ("prod", "live-callback-relay-production", "live-callback-relay-production-eu", "a.b c/d", "x" * 128):
            for region in ("ap-east-1", "eu-west-1"):
                with self.subTest(stack=stack, region=region):
                    name = template_name(stack, region)
                    self.assertLessEqual(len(name.encode()), 255)
                    self.assertRegex(name, r"^lcr-[A-Za-z0-9_-]+$")
                    names.add(name)
        self.assertEqual(len(names), 10)

    def test_every_text_tencent_takes_has_only_the_characters_it_allows(self):
        for call in plan([], [], DESIRED):
            for field in ("TemplateName", "Description"):
                if field in call.params:
                    self.assertRegex(call.params[field], r"^[A-Za-z0-9_-]+$", field)


class OutputTest(unittest.TestCase):
    STACK = Stack(
        name="prod",
        region="ap-east-1",
        callback_url=DESIRED.callback_url,
        topic_arn="arn:aws:sns:ap-east-1:123456789012:prod-notifications",
        filter_presets={},
        window_secs=60,
        key_secret_id="",
    )

    def run_main(self, argv, account=None):
        out, err = io.StringIO(), io.StringIO()
        patches = [
            mock.patch("stack.describe", return_value=self.STACK),
            mock.patch.dict("os.environ", {"CALLBACK_KEY": KEY}),
        ]
        if account is not None:
            tencent = mock.Mock()
            tencent.state.side_effect = lambda: (account.templates, account.rules)
            tencent.call.side_effect = account.call
            patches.append(mock.patch.object(tencent_connect, "Tencent", return_value=tencent))
        with contextlib.ExitStack() as stack:
            for p in patches:
                stack.enter_context(p)
            stack.enter_context(contextlib.redirect_stdout(out))
            stack.enter_context(contextlib.redirect_stderr(err))
            code = tencent_connect.main(argv)
        return code, out.getvalue() + err.getvalue()

    def test_a_dry_run_prints_the_calls_with_the_key_masked(self):
        code, shown = self.run_main(["--stack", "prod", "--domain", "push.example.com", "--region", "ap-east-1", "--dry-run", "--offline"])
        self.assertEqual(code, 0)
        self.assertNotIn(KEY, shown)
        self.assertIn('CreateLiveCallbackTemplate {"CallbackKey": "***"', shown)
        self.assertIn("CreateLiveCallbackRule", shown)

    def test_applying_prints_what_was_done_with_the_key_masked(self):
        account = TencentAccount([template(CallbackKey="old")])
        code, shown = self.run_main(["--stack", "prod", "--domain", "push.example.com", "--region", "ap-east-1"], account)
        self.assertEqual(code, 0)
        self.assertNotIn(KEY, shown)
        self.assertIn("done: ModifyLiveCallbackTemplate", shown)
        self.assertIn("done: CreateLiveCallbackRule", shown)
        self.assertEqual(account.templates[0]["CallbackKey"], KEY)
        code, shown = self.run_main(["--stack", "prod", "--domain", "push.example.com", "--region", "ap-east-1"], account)
        self.assertEqual((code, "nothing to change" in shown), (0, True))

    def test_the_callback_urls_secret_path_segment_is_masked_too(self):
        secret = "pathSecret-0123456789"
        stack = Stack(**{**self.STACK.__dict__, "callback_url": DESIRED.callback_url + "/" + secret, "path_secret": secret})
        out = io.StringIO()
        with mock.patch("stack.describe", return_value=stack), \
                mock.patch.dict("os.environ", {"CALLBACK_KEY": KEY}), contextlib.redirect_stdout(out):
            code = tencent_connect.main(["--stack", "prod", "--domain", "d", "--region", "x", "--dry-run", "--offline"])
        self.assertEqual(code, 0)
        self.assertNotIn(secret, out.getvalue())
        self.assertIn("/callback/***", out.getvalue())

    def test_during_a_rotation_tencent_gets_the_new_key(self):
        self.assertEqual(self.STACK.callback_key({"CALLBACK_KEY": "old-key,new-key"}), "new-key")

    def test_offline_without_dry_run_is_refused(self):
        code, shown = self.run_main(["--stack", "prod", "--domain", "d", "--offline", "--region", "x"])
        self.assertEqual(code, 2)
        self.assertIn("needs --dry-run", shown)


if __name__ == "__main__":
    unittest.main()
