"""`make tencent-connect`: point Tencent Cloud's live streaming at a deployed relay.

Creates or updates a callback template (`CreateLiveCallbackTemplate` /
`ModifyLiveCallbackTemplate`: stream begin and end URLs = the stack's CallbackUrl,
CallbackKey = the stack's key) and binds it to a push domain and app name
(`CreateLiveCallbackRule`), through Tencent's own API (`tencentcloud-sdk-python-live`),
with `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY`. It reads what Tencent has
first, and changes only what differs: running it twice changes nothing. `--dry-run`
prints the calls it would make, the key masked (`--offline` plans against an empty
account without calling Tencent). A new binding takes 5 to 10 minutes to apply.

Rebinding a domain from another template deletes its binding first (what
`CreateLiveCallbackRule` does to an existing binding is not documented, and no API modifies
one). If the new binding then fails, the old one is created again, so that the domain is
never left without callbacks; if that fails too, the command says exactly what to run.
"""

import argparse
import json
import re
import sys
from dataclasses import dataclass, field

from stack import MASK, StackError, add_stack_arguments, stack_of


@dataclass(frozen=True)
class Desired:
    template_name: str
    callback_url: str
    callback_key: str
    domain: str
    app: str

    def template_fields(self) -> dict:
        return {
            "StreamBeginNotifyUrl": self.callback_url,
            "StreamEndNotifyUrl": self.callback_url,
            "CallbackKey": self.callback_key,
        }


@dataclass
class Call:
    action: str
    params: dict = field(default_factory=dict)
    # the call that puts back what this one takes away, if it takes anything away
    undo: "Call | None" = None

    def shown(self, mask=lambda text: text) -> str:
        """The call as printed: the key masked, and what `mask` masks in the rest (the
        callback URL's secret path segment)."""
        masked = {k: (MASK if k == "CallbackKey" else v) for k, v in self.params.items()}
        return mask(f"{self.action} {json.dumps(masked, ensure_ascii=False, sort_keys=True)}")


# What a template created by this plan is called until Tencent gives it an id.
NEW_TEMPLATE = "<the new template's id>"


def template_name(stack_name: str, region: str) -> str:
    """One template per stack and region: Tencent allows 255 bytes of letters, digits, `_`
    and `-` (and Chinese); a stack's name (128 at most) and a region fit."""
    return ("lcr-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{region}-{stack_name}"))[:255]


def plan(templates: list, rules: list, desired: Desired) -> list:
    """The calls that make Tencent's templates and rules (as `DescribeLiveCallbackTemplates`
    and `DescribeLiveCallbackRules` list them) match `desired`; none when they already do."""
    calls = []
    ours = next((t for t in templates if t.get("TemplateName") == desired.template_name), None)
    if ours is None:
        calls.append(Call("CreateLiveCallbackTemplate", {
            "TemplateName": desired.template_name,
            # Tencent allows letters, digits, `_` and `-` only
            "Description": "live-callback-relay",
            **desired.template_fields(),
        }))
        template_id = NEW_TEMPLATE
    else:
        template_id = ours["TemplateId"]
        changed = {k: v for k, v in desired.template_fields().items() if ours.get(k) != v}
        if changed:
            calls.append(Call("ModifyLiveCallbackTemplate", {"TemplateId": template_id, **changed}))
    bound = binding(rules, desired)
    if bound == template_id:
        return calls
    if bound is not None:
        # what CreateLiveCallbackRule does to an existing binding is not documented
        calls.append(Call(
            "DeleteLiveCallbackRule",
            {"DomainName": desired.domain, "AppName": desired.app},
            undo=Call("CreateLiveCallbackRule", {
                "DomainName": desired.domain,
                "AppName": desired.app,
                "TemplateId": bound,
            }),
        ))
    calls.append(Call("CreateLiveCallbackRule", {
        "DomainName": desired.domain,
        "AppName": desired.app,
        "TemplateId": template_id,
    }))
    return calls


class Tencent:
    """Tencent's live API, through its SDK (imported only when Tencent is called)."""

    def __init__(self):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.live.v20180801 import live_client, models

        self.models = models
        try:
            credentials = credential.EnvironmentVariableCredential().get_credential()
        except Exception as e:
            raise StackError(f"Tencent credentials: {e}") from e
        if credentials is None:
            raise StackError("set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY")
        profile = ClientProfile(httpProfile=HttpProfile(reqTimeout=30))
        self.client = live_client.LiveClient(credentials, "", profile)

    def call(self, action: str, params: dict) -> dict:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        request = getattr(self.models, f"{action}Request")()
        request.from_json_string(json.dumps(params))
        try:
            return json.loads(getattr(self.client, action)(request).to_json_string())
        except TencentCloudSDKException as e:
            raise StackError(f"{action}: {e.get_code()}: {e.get_message()}") from e

    def state(self) -> tuple:
        templates = self.call("DescribeLiveCallbackTemplates", {}).get("Templates") or []
        rules = self.call("DescribeLiveCallbackRules", {}).get("Rules") or []
        return templates, rules


def tccli(planned: "Call", mask) -> str:
    """The `tccli` command line of a call, for a person to run."""
    args = " ".join(f"--{k} {v}" for k, v in planned.params.items())
    return mask(f"tccli live {planned.action} {args}")


def binding(rules: list, desired: Desired):
    """The template the desired domain's app is bound to in `rules`, or None."""
    return next(
        (r.get("TemplateId") for r in rules
         if r.get("DomainName") == desired.domain and r.get("AppName") == desired.app),
        None,
    )


def apply(calls: list, call, bound, mask=lambda text: text) -> None:
    """Makes `calls` through `call(action, params) -> answer`, the new template's id in
    place of NEW_TEMPLATE once Tencent has given it. When a call fails (or the run is
    interrupted) after a call that takes something away (a binding deleted, even one whose
    call failed, since it may have taken effect), `bound()` (what Describe says the domain's
    app is bound to now) decides: unbound, the old binding is created again; bound, it is
    left alone. What cannot be put back is named, with the command that does it."""
    created = None
    attempted = []
    for planned in calls:
        params = {k: (created if v == NEW_TEMPLATE else v) for k, v in planned.params.items()}
        attempted.append(planned)
        try:
            answer = call(planned.action, params)
        except (StackError, KeyboardInterrupt) as failure:
            outcome = put_back([c.undo for c in attempted if c.undo is not None], call, bound, mask)
            if isinstance(failure, KeyboardInterrupt):
                print(f"interrupted: {outcome or 'nothing taken away'}", file=sys.stderr)
                raise
            raise StackError(f"{failure}{f' ({outcome})' if outcome else ''}") from failure
        print(f"done: {Call(planned.action, params).shown(mask)}")
        if planned.action == "CreateLiveCallbackTemplate":
            created = answer["TemplateId"]


def put_back(undos: list, call, bound, mask) -> str:
    """Puts back what `undos` undo (the bindings deleted), if the domain's app is unbound
    now; says what became of it."""
    if not undos:
        return ""
    commands = "; ".join(f"check with tccli live DescribeLiveCallbackRules, and if it is unbound run: {tccli(u, mask)}" for u in undos)
    try:
        now = bound()
    except StackError as e:
        return f"NOT put back: what the domain is bound to could not be read ({e}); {commands}"
    if now is not None:
        return f"the domain is bound to template {now}: it keeps its callbacks"
    for undo in undos:
        try:
            call(undo.action, undo.params)
        except StackError as e:
            return f"NOT put back: {e}; to put it back, run: {tccli(undo, mask)}"
        print(f"put back: {undo.shown(mask)}")
    return "the binding it replaced is back: the domain keeps its callbacks"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_stack_arguments(parser)
    parser.add_argument("--domain", required=True, help="the push domain to bind, e.g. push.example.com")
    parser.add_argument("--app", default="live", help="the push path (AppName); Tencent's default is live")
    parser.add_argument("--dry-run", action="store_true", help="print the calls; change nothing")
    parser.add_argument("--offline", action="store_true", help="with --dry-run: plan for an empty account, without calling Tencent")
    args = parser.parse_args(argv)
    if args.offline and not args.dry_run:
        print("--offline plans without reading Tencent: it needs --dry-run", file=sys.stderr)
        return 2
    try:
        stack = stack_of(args)
        desired = Desired(
            template_name=template_name(stack.name, stack.region),
            callback_url=stack.callback_url,
            callback_key=stack.callback_key(),
            domain=args.domain,
            app=args.app,
        )
        tencent = None if args.offline else Tencent()
        templates, rules = ([], []) if tencent is None else tencent.state()
        calls = plan(templates, rules, desired)
        print(f"template {desired.template_name}: {stack.shown(desired.callback_url)}, bound to {desired.domain}/{desired.app}")
        if not calls:
            print("Tencent already matches: nothing to change")
            return 0
        if args.dry_run:
            print("would call:" + (" (planned for an empty account)" if args.offline else ""))
            for call in calls:
                print(f"  {call.shown(stack.shown)}")
            return 0
        apply(calls, tencent.call, lambda: binding(tencent.state()[1], desired), stack.shown)
        print("a new binding takes 5 to 10 minutes to apply at Tencent; then run make verify")
    except StackError as e:
        print(f"cannot connect Tencent: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
