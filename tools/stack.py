"""What the go-live commands (`verify.py`, `tencent_connect.py`) read from a deployed stack:
its outputs, and the callback key, which is never printed.

The key comes from the environment (`CALLBACK_KEY`), or from the Secrets Manager secret
the stack was deployed with (`CallbackKeysSecretId`); `CallbackKeys` itself is a NoEcho
parameter that CloudFormation does not give back.
"""

import json
import os
from dataclasses import dataclass

MASK = "***"
PLACEHOLDER = "${CallbackPathSecret}"
# the template's default ChatEvents
CHAT_EVENTS = "stream.stopped_abnormally,stream.recovered"


class StackError(Exception):
    """The stack, or something it needs, is not as expected; the text says what to do."""


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    callback_url: str
    topic_arn: str
    filter_presets: dict
    window_secs: int
    key_secret_id: str
    clock_skew_secs: int = 300
    path_secret: str = ""
    # the chat topic (Amazon Q Developer), when the stack has one, and the events posted there
    chat_topic_arn: str = ""
    chat_events: tuple = ()

    def shown(self, text: str) -> str:
        """`text` with the callback URL's secret path segment, if any, masked."""
        return text.replace(self.path_secret, MASK) if self.path_secret else text

    def callback_key(self, environ=os.environ) -> str:
        """The key Tencent is to sign with: `CALLBACK_KEY`, or the last of the stack's
        secret (during a rotation, `old,new`: the new one)."""
        key = environ.get("CALLBACK_KEY", "").strip()
        if not key and self.key_secret_id:
            key = secret_key(self.region, self.key_secret_id)
        if not key:
            raise StackError(
                "no callback key: set CALLBACK_KEY to the key Tencent signs with "
                "(the stack's CallbackKeys), or deploy with CallbackKeysSecretId"
            )
        return key.split(",")[-1].strip()


def add_stack_arguments(parser) -> None:
    """The arguments that name the deployed stack: `--stack`, and `--region` (by default
    AWS_REGION or AWS_DEFAULT_REGION)."""
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


def stack_of(args) -> Stack:
    """The stack the arguments of `add_stack_arguments` name, its callback URL's secret
    path segment from CALLBACK_PATH_SECRET."""
    if not args.region:
        raise StackError("no region: pass --region or set AWS_REGION")
    return describe(args.stack, args.region, os.environ.get("CALLBACK_PATH_SECRET", ""))


def session(region: str):
    import boto3

    return boto3.session.Session(region_name=region)


def describe(name: str, region: str, path_secret: str = "") -> Stack:
    """The stack `name`'s outputs, with `path_secret` in place of the URL's placeholder."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = session(region).client("cloudformation").describe_stacks(StackName=name)
    except ClientError as e:
        raise StackError(f"stack {name} in {region}: {e.response['Error']['Message']}") from e
    except BotoCoreError as e:
        raise StackError(f"stack {name} in {region}: {e}") from e
    stack = found["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    missing = [k for k in ("CallbackUrl", "TopicArn") if k not in outputs]
    if missing:
        raise StackError(f"stack {name} has no output {', '.join(missing)}: is it a live-callback-relay stack?")
    url = outputs["CallbackUrl"]
    secret_path = PLACEHOLDER in url
    if secret_path:
        if not path_secret:
            raise StackError("the stack's callback URL has a secret path segment: set CALLBACK_PATH_SECRET")
        url = url.replace(PLACEHOLDER, path_secret)
    return Stack(
        name=name,
        region=region,
        callback_url=url,
        topic_arn=outputs["TopicArn"],
        filter_presets=json.loads(outputs.get("FilterPresets", "{}")),
        window_secs=int(outputs.get("ReconnectWindowSecs", "0")),
        key_secret_id=parameters.get("CallbackKeysSecretId", ""),
        clock_skew_secs=int(parameters.get("ClockSkewSecs") or 300),
        path_secret=path_secret if secret_path else "",
        chat_topic_arn=outputs.get("ChatTopicArn", ""),
        chat_events=tuple(
            e.strip() for e in (parameters.get("ChatEvents") or CHAT_EVENTS).split(",") if e.strip()
        ),
    )


def secret_key(region: str, secret_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        secret = session(region).client("secretsmanager").get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as e:
        raise StackError(f"the stack's key secret {secret_id} could not be read ({type(e).__name__})") from e
    return secret.get("SecretString", "")
