"""The alarms on the app's own metrics: dead mail and a job left running, on series the app
really publishes (chalicelib/observe.py's embedded metric lines), to the stack's alarm topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import observe


def metric_alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The packaged template's alarms in the app's namespace, by metric name."""
    found: dict[str, dict[str, Any]] = {}
    for res in resources.values():
        if res["Type"] == "AWS::CloudWatch::Alarm" and res["Properties"].get("Namespace") == "powerlunch":
            props = res["Properties"]
            assert props["MetricName"] not in found, f"two alarms on {props['MetricName']}"
            found[props["MetricName"]] = props
    return found


def test_dead_mail_and_overdue_jobs_raise_an_alarm(resources: dict[str, Any]) -> None:
    alarms = metric_alarms(resources)
    assert {"MailDead", "JobsOverdue"} <= set(alarms)
    dead, overdue = alarms["MailDead"], alarms["JobsOverdue"]
    assert (dead["Statistic"], dead["Period"], dead["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert overdue["Statistic"] == "Maximum"
    for props in (dead, overdue):
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
        # No metric yet (a quiet stack) is not an alarm.
        assert props["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("metric", ["MailDead", "JobsOverdue"])
def test_each_alarm_watches_a_series_the_app_publishes(
    resources: dict[str, Any], metric: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An alarm names a namespace, a metric and exact dimensions: one letter off and it watches
    nothing, forever, silently. Count the metric as the app does, with and without dimensions,
    and check the embedded lines publish the series the alarm reads."""
    props = metric_alarms(resources)[metric]
    assert metric in observe.METRICS
    observe.flush()
    capsys.readouterr()
    observe.count(metric)
    observe.count(metric, kind="mail.deliver")
    returned = observe.flush()
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == returned and len(printed) == 2
    watched = [{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])]
    for document in printed:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == props["Namespace"]
        assert metric in [m["Name"] for m in directive["Metrics"]]
        published = [[{"Name": k, "Value": document[k]} for k in keys] for keys in directive["Dimensions"]]
        assert watched in published, f"{metric} with {watched} is not what the app publishes"
