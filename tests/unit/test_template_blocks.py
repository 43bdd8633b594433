"""template.yaml's per-function blocks (log group, errors and duration alarms, throttles alarms,
dashboard) are generated from its list of functions (jobprep_local.blocks, `make template`): a
function needs only its own block. These fail while the committed region differs."""

from __future__ import annotations

from jobprep_local import blocks
from jobprep_local.template import TEMPLATE_PATH, functions, load_template


def test_the_generated_blocks_are_current() -> None:
    text = TEMPLATE_PATH.read_text()
    assert blocks.BEGIN in text
    assert blocks.render(text) == text, "template.yaml's generated blocks are stale: run `make template`"


def test_a_new_function_block_alone_makes_the_region_stale() -> None:
    """Planted: a function added without `make template`; rendering adds its log group and alarms."""
    text = TEMPLATE_PATH.read_text()
    new = """  PingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/
      Handler: ping/app.lambda_handler
      Events:
        Api:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /ping}

"""
    planted = text.replace(blocks.BEGIN, new + blocks.BEGIN, 1)
    rendered = blocks.render(planted)
    assert rendered != planted
    for name in (
        "PingLogGroup:",
        "PingErrorsAlarm:",
        "PingDurationAlarm:",
        "${PingFunction}",
        "LoggingConfig: {LogGroup: !Ref PingLogGroup}",
    ):
        assert name in rendered
        assert name not in planted


def test_every_function_gets_its_log_group_and_alarms_from_the_region() -> None:
    resources = load_template()["Resources"]
    region = TEMPLATE_PATH.read_text().split(blocks.BEGIN, 1)[1]
    for spec in functions().values():
        short = spec.logical_id.removesuffix("Function")
        assert f"\n  {short}LogGroup:" in region
        assert f"\n  {short}ErrorsAlarm:" in region
        assert (f"\n  {short}DurationAlarm:" in region) == bool(spec.routes)
        # named without the function, and the function names it: it exists before anything invokes it
        assert resources[f"{short}LogGroup"]["Properties"]["LogGroupName"] == {
            "Fn::Sub": f"/aws/lambda/${{AWS::StackName}}/{short}"
        }
        props = resources[spec.logical_id]["Properties"]
        assert props["LoggingConfig"] == {"LogGroup": {"Ref": f"{short}LogGroup"}}
