"""`terraform plan -json` read line by line: counts per module and the text the log keeps."""

import json

from iconctl.errors import tool_errors
from iconctl.runners.terraform import _PlanStream


def _change(addr: str, module: str | None, action: str) -> str:
    resource = {"addr": addr, "module": module or "", "resource": addr.rsplit(".", 2)[-2]}
    return json.dumps({"@level": "info", "@message": f"{addr}: Plan to {action}",
                       "type": "planned_change",
                       "change": {"resource": resource, "action": action}})  # fmt: skip


def test_counts_actions_per_top_module_and_a_replace_as_add_and_destroy() -> None:
    stream = _PlanStream()
    lines = [
        json.dumps({"@message": "Terraform 1.10.5", "type": "version"}),
        _change(
            "module.nlb.module.cert.aws_acm_certificate.this", "module.nlb.module.cert", "create"
        ),  # fmt: skip
        _change("module.nlb.aws_lb.this", "module.nlb", "update"),
        _change("aws_s3_bucket.state", None, "replace"),
        _change("module.node.aws_instance.this[0]", "module.node", "delete"),
        _change("data.aws_ami.debian", None, "read"),
        _change("module.node.aws_eip.this", "module.node", "noop"),
        json.dumps(
            {
                "type": "change_summary",
                "@message": "Plan: 2 to add, 1 to change, 2 to destroy.",
                "changes": {"add": 2, "change": 1, "remove": 2},
            }
        ),  # fmt: skip
    ]
    texts = [stream.feed(line) for line in lines]
    summary = stream.summary()
    assert (summary.add, summary.change, summary.destroy) == (2, 1, 2)
    assert summary.modules == {"nlb": [1, 1, 0], "node": [0, 0, 1], "root": [1, 0, 1]}
    assert texts[0] == "Terraform 1.10.5"
    assert texts[-1] == "Plan: 2 to add, 1 to change, 2 to destroy."


def test_no_change_plan_has_no_modules() -> None:
    stream = _PlanStream()
    stream.feed(_change("module.node.aws_eip.this", "module.node", "noop"))
    assert not stream.summary().changes and stream.summary().modules == {}


def test_diagnostics_become_error_blocks_the_failure_report_quotes() -> None:
    stream = _PlanStream()
    diagnostic = {
        "@level": "error", "@message": "Error: Invalid count argument", "type": "diagnostic",
        "diagnostic": {"severity": "error", "summary": "Invalid count argument",
                       "detail": "The \"count\" value depends on resource attributes that "
                                 "cannot be determined until apply.",
                       "address": "module.asg.aws_lb_target_group_attachment.region",
                       "range": {"filename": "../../modules/aws-asg/main.tf",
                                 "start": {"line": 12}}},
    }  # fmt: skip
    tail = "\n".join(
        text
        for text in (
            stream.feed(json.dumps({"@message": "Planning...", "type": "log"})),
            stream.feed(json.dumps(diagnostic)),
        )  # fmt: skip
        if text
    )
    said = tool_errors(tail)
    assert said.splitlines()[0] == "Error: Invalid count argument"
    assert "module.asg.aws_lb_target_group_attachment.region" in said
    assert "modules/aws-asg/main.tf line 12" in said
    assert "cannot be determined until apply" in said


def test_lines_outside_the_machine_stream_are_kept_as_they_are() -> None:
    stream = _PlanStream()
    assert stream.feed("panic: runtime error") == "panic: runtime error"
    assert stream.feed("[1, 2]") == "[1, 2]"
    assert stream.feed(json.dumps({"type": "log", "@message": ""})) is None
