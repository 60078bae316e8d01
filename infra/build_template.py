"""Build the CloudFormation that `chalice package --merge-template` merges into Chalice's SAM template.

Generated, not hand-written, because three things must stay equal to code that lives elsewhere:
the table's key schema (chalicelib/store/schema.py), the routes of the API (app.py: every
integration URI is rewritten, see `_break_base_url_cycle`) and the queues (chalicelib/workers.py,
the map of background work: each queue, its dead-letter queue, its URL variable and its
consumer's event source come from there). SES bounces and complaints: a configuration set whose
event destination is an SNS topic, which the `on_sns_message` function of app.py subscribes to
(`ses_events`).

    python -m infra.build_template --stage prod --out out/merge-template.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalice.utils import to_cfn_resource_name  # noqa: E402

from chalicelib import config, observe, workers  # noqa: E402
from chalicelib.store import schema  # noqa: E402

QUEUE_RETENTION_SECONDS = 4 * 24 * 3600  # a weekend outage of SES still gets delivered
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the maximum: time to look at what failed
LOG_RETENTION_DAYS = 90
# API Gateway throttling, per method (requests per second, burst). The member pages are public:
# anyone holding a link (or guessing paths) reaches them, so they get the tighter bucket.
API_THROTTLE = (50, 100)
PUBLIC_PAGE_THROTTLE = (10, 20)
API_HANDLER = "APIHandler"  # Chalice's fixed logical id for the REST handler


def function_names(app: Any) -> dict[str, str]:
    """Chalice function name -> logical id in the SAM template, for every function of the app."""
    names = {"api_handler": API_HANDLER} if app.routes else {}
    for source in app.event_sources:
        names[source.name] = to_cfn_resource_name(source.name)
    return names


def stage_config(stage: str) -> dict[str, Any]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage not in config["stages"]:
        raise SystemExit(f"no stage {stage!r} in .chalice/config.json")
    return dict(config["stages"][stage])


def lambda_setting(stage: dict[str, Any], function: str, key: str, default: int) -> int:
    return int(stage.get("lambda_functions", {}).get(function, {}).get(key, stage.get(key, default)))


def table() -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": schema.ATTRIBUTE_DEFINITIONS,
            "KeySchema": schema.KEY_SCHEMA,
            "GlobalSecondaryIndexes": schema.GLOBAL_SECONDARY_INDEXES,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True},
        },
    }


def queue_pair(queue: workers.Queue, consumer_timeout: int) -> dict[str, Any]:
    """A queue and its dead-letter queue. Visibility at least 6x the consumer's timeout, as AWS
    advises for Lambda event sources: a batch still running is never handed to a second worker."""
    if queue.visibility_timeout < 6 * consumer_timeout:
        raise SystemExit(f"{queue.name}: visibility_timeout {queue.visibility_timeout} s is under 6x "
                         f"{queue.function}'s timeout ({consumer_timeout} s): raise it in chalicelib/workers.py")
    logical_id = queue.logical_id
    dlq = logical_id.replace("Queue", "DeadLetterQueue")
    return {
        logical_id: {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "VisibilityTimeout": queue.visibility_timeout,
                "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                                  "maxReceiveCount": queue.max_receives},
            },
        },
        dlq: {
            "Type": "AWS::SQS::Queue",
            # What failed five times is evidence: keep it if the stack goes.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"MessageRetentionPeriod": DLQ_RETENTION_SECONDS, "SqsManagedSseEnabled": True},
        },
        f"{dlq}Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": {"Fn::Sub": f"${{AWS::StackName}}: messages in ${{{dlq}.QueueName}} failed "
                                                f"{queue.max_receives} times; look at them, fix, redrive"},
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
                "OKActions": [{"Ref": "AlarmTopic"}],
            },
        },
    }


def metric_alarms() -> dict[str, Any]:
    """Alarms on the app's own metrics, which chalicelib/observe.py prints as embedded metric
    lines (CloudWatch Logs extracts them: no PutMetricData, no IAM permission). They watch the
    dimensionless series, which every count reaches whatever its dimensions. These count events,
    so no OK notice: a quiet period does not mean what went wrong is fixed."""

    def alarm(what: str, metric: str, statistic: str, period: int) -> dict[str, Any]:
        return {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": {"Fn::Sub": f"${{AWS::StackName}}: {what} (docs/DEPLOY.md, Where to look)"},
                "Namespace": observe.NAMESPACE,
                "MetricName": metric,
                "Dimensions": [],
                "Statistic": statistic,
                "Period": period,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
            },
        }

    return {
        "MailDeadAlarm": alarm("mail was given up on (MailDead): its member got nothing",
                               observe.MAIL_DEAD, "Sum", 300),
        # The hourly function reports it; an hour's period keeps the alarm up until the next report.
        "JobsOverdueAlarm": alarm("a job stays running past its timeout (JobsOverdue)",
                                  observe.JOBS_OVERDUE, "Maximum", 3600),
    }


SES_EVENT_TYPES = ["bounce", "complaint"]  # what suppresses a member; deliveries would only cost


def ses_events() -> dict[str, Any]:
    """The configuration set every send names (SES_CONFIGURATION_SET), its event destination (an
    SNS topic) and the topic's policy: only SES, for this configuration set in this account, may
    publish to it. The topic is not KMS-encrypted: SES could not publish under the AWS-managed
    key, and a customer key is a cost this does not need (the messages hold addresses, as the
    table does, and go only to our own function)."""
    config_set_arn = ("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
                      "configuration-set/${SesConfigurationSet}")
    return {
        "SesConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-mail"},
                # SES itself also stops sending to an address that bounced or complained.
                "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
            },
        },
        "SesEventsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "${AWS::StackName}-ses-events"},
                           "DisplayName": {"Fn::Sub": "${AWS::StackName} SES bounces and complaints"}},
        },
        "SesEventsTopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "SesEventsTopic"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "SesPublishesThisStacksConfigurationSetOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "ses.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": "SesEventsTopic"},
                        "Condition": {
                            "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {"AWS:SourceArn": {"Fn::Sub": config_set_arn}},
                        },
                    }],
                },
            },
        },
        # Lambda retries a failed SNS delivery twice; what still fails (the table unavailable for
        # minutes) lands here instead of being lost: `cli ses-event` replays a message's body.
        "SesEventsDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"MessageRetentionPeriod": DLQ_RETENTION_SECONDS, "SqsManagedSseEnabled": True},
        },
        "SesEventsDeadLetterQueueAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": {"Fn::Sub": "${AWS::StackName}: an SES bounce or complaint failed 3 times "
                                                "(docs/DEPLOY.md, Bounces and complaints): replay it"},
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName",
                                "Value": {"Fn::GetAtt": ["SesEventsDeadLetterQueue", "QueueName"]}}],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
                "OKActions": [{"Ref": "AlarmTopic"}],
            },
        },
        "SesEventDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "DependsOn": ["SesEventsTopicPolicy"],
            "Properties": {
                "ConfigurationSetName": {"Ref": "SesConfigurationSet"},
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": SES_EVENT_TYPES,
                    "SnsDestination": {"TopicARN": {"Ref": "SesEventsTopic"}},
                },
            },
        },
    }


def sns_subscription_event(source: Any) -> str:
    """The logical id Chalice gives an `on_sns_message` function's SNS event."""
    return to_cfn_resource_name(f"{source.name}-sns-subscription")


def _error_template(code: str, message_json: str) -> dict[str, str]:
    """The app's error body as a response template; message_json is JSON, or a VTL value that is."""
    body = '{"error": {"code": "' + code + '", "message": ' + message_json + ', "field": null, "errors": []}}'
    return {"application/json": body}


def gateway_responses() -> dict[str, Any]:
    """API Gateway's own answers (no route, throttled, its own failures) in the app's error shape,
    as the OpenAPI extension in the API's definition (what API Gateway itself reads).
    An unknown path is MISSING_AUTHENTICATION_TOKEN, a 403, by default: answer what it is, 404."""
    headers = {"gatewayresponse.header.Content-Type": "'application/json'"}

    def answer(status: int | None, code: str, message_json: str) -> dict[str, Any]:
        response: dict[str, Any] = {"responseParameters": headers,
                                    "responseTemplates": _error_template(code, message_json)}
        if status:
            response["statusCode"] = str(status)
        return response

    return {
        "MISSING_AUTHENTICATION_TOKEN": answer(404, "not_found", json.dumps("no such path")),
        "THROTTLED": answer(429, "throttled", json.dumps("too many requests; try again in a moment")),
        # $context.error.messageString is API Gateway's message, already quoted as JSON.
        "DEFAULT_4XX": answer(None, "bad_request", "$context.error.messageString"),
        "DEFAULT_5XX": answer(None, "unavailable", json.dumps("try again later")),
    }


def method_settings(app: Any) -> list[dict[str, Any]]:
    """Stage throttling: every method, then the member pages (not under /groups) tighter."""
    rate, burst = API_THROTTLE
    settings = [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}]
    rate, burst = PUBLIC_PAGE_THROTTLE
    for path, methods in sorted(app.routes.items()):
        if path.startswith("/groups"):
            continue
        for method in sorted(methods):
            # API Gateway's encoding: /rsvp/{token} is "/~1rsvp~1{token}".
            settings.append({"ResourcePath": "/" + path.replace("/", "~1"), "HttpMethod": method,
                             "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst})
    return settings


def _break_base_url_cycle(app: Any) -> dict[str, Any]:
    """Links in emails need the API's URL, which names the RestAPI, whose integration URIs name
    the handler function (`${APIHandler.Arn}`): passing the URL to that function is a cycle.
    Naming the function (`<stack>-api`) lets the URIs be built from the name instead, so the
    RestAPI no longer depends on the function and every function can get the URL."""
    uri = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                      "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                      "${AWS::StackName}-api/invocations"}
    return {path: {method.lower(): {"x-amazon-apigateway-integration": {"uri": uri}} for method in methods}
            for path, methods in app.routes.items()}


def build(stage_name: str) -> dict[str, Any]:
    from app import app

    stage = stage_config(stage_name)
    functions = function_names(app)
    api_stage = stage.get("api_gateway_stage", "api")
    resources: dict[str, Any] = {"Table": table()}

    consumers = {s.queue: s for s in app.event_sources if hasattr(s, "queue")}
    unknown = set(consumers) - {q.name for q in workers.QUEUES}
    if unknown:
        raise SystemExit(f"app.py consumes queues the worker map does not name: {sorted(unknown)}")
    for queue in workers.QUEUES:
        logical_id = queue.logical_id
        if queue.name not in consumers:
            raise SystemExit(f"no function in app.py consumes {queue.name} (chalicelib/workers.py)")
        source = consumers[queue.name]
        resources.update(queue_pair(queue, lambda_setting(stage, source.name, "lambda_timeout", 60)))
        fn = functions[source.name]
        event: dict[str, Any] = {
            # Fn::Sub, not Fn::GetAtt: this replaces the Fn::Sub Chalice wrote (a second key
            # beside it would be an invalid intrinsic, cfn-lint E3017).
            "Queue": {"Fn::Sub": f"${{{logical_id}.Arn}}"},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
        reserved = stage.get("lambda_functions", {}).get(source.name, {}).get("reserved_concurrency")
        if reserved:
            # Without this the poller keeps invoking a throttled function, and each throttled
            # receive counts towards maxReceiveCount: good mail would land in the DLQ.
            event["ScalingConfig"] = {"MaximumConcurrency": max(2, int(reserved))}
        resources[fn] = {"Properties": {"Events": {f"{fn}SqsEventSource": {"Properties": event}}}}

    subscribers = [s for s in app.event_sources if hasattr(s, "topic")]
    if [s.topic for s in subscribers] != [config.SES_EVENTS_TOPIC]:
        raise SystemExit(f"app.py must subscribe one function to {config.SES_EVENTS_TOPIC} (SES events), "
                         f"not {[s.topic for s in subscribers]}")
    (subscriber,) = subscribers
    resources.update(ses_events())
    # Fn::Sub replaces the name-built ARN Chalice wrote (a Ref beside it would be two intrinsics).
    resources[functions[subscriber.name]] = {"Properties": {
        "Events": {sns_subscription_event(subscriber): {"Properties": {"Topic": {"Fn::Sub": "${SesEventsTopic}"}}}},
        "DeadLetterQueue": {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["SesEventsDeadLetterQueue", "Arn"]}},
    }}

    for name, fn in functions.items():
        suffix = "api" if fn == API_HANDLER else name.replace("_", "-")
        resources.setdefault(fn, {}).setdefault("Properties", {})["FunctionName"] = {
            "Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
        resources[fn]["DependsOn"] = [f"{fn}LogGroup"]
        resources[f"{fn}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{suffix}"},
                           "RetentionInDays": LOG_RETENTION_DAYS},
        }

    resources["SigningSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}/link-signing-secret"},
            "Description": "Signs members' RSVP, lunch, pairing and unsubscribe links. Rotating it voids them.",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # Not encrypted with the AWS-managed SNS key: CloudWatch cannot publish to a topic under it
    # (its key policy cannot grant CloudWatch), and an alarm names only a queue.
    resources["AlarmTopic"] = {"Type": "AWS::SNS::Topic",
                               "Properties": {"DisplayName": {"Fn::Sub": "${AWS::StackName} alarms"}}}
    resources["AlarmSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlarmEmail",
        "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
    }
    resources.update(metric_alarms())
    resources["RestAPI"] = {"Properties": {
        "MethodSettings": method_settings(app),
        "DefinitionBody": {"paths": _break_base_url_cycle(app),
                           "x-amazon-apigateway-gateway-responses": gateway_responses()},
    }}

    api_url = {"Fn::Sub": f"https://${{RestAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{api_stage}"}
    base_url = {"Fn::If": ["HasBaseUrl", {"Ref": "BaseUrl"}, api_url]}
    return {
        "Parameters": {
            "SenderEmail": {
                "Type": "String",
                "Description": "From address of every email: an SES-verified address, or any at a verified domain.",
                "AllowedPattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            },
            "BaseUrl": {
                "Type": "String",
                "Default": "",
                "Description": "Public URL in members' links, e.g. https://lunch.example.org for a custom "
                               "domain; empty: the API's own execute-api URL.",
                "AllowedPattern": r"^(https://[^\s/]+(/[^\s]*[^\s/])?)?$",
            },
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "Description": "Who is emailed when a dead-letter queue fills (empty: alarm only in CloudWatch).",
            },
        },
        "Conditions": {
            "HasBaseUrl": {"Fn::Not": [{"Fn::Equals": [{"Ref": "BaseUrl"}, ""]}]},
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
        },
        "Globals": {"Function": {"Environment": {"Variables": {
            "TABLE_NAME": {"Ref": "Table"},
            "BASE_URL": base_url,
            "SENDER_EMAIL": {"Ref": "SenderEmail"},
            **{q.url_env: {"Ref": q.logical_id} for q in workers.QUEUES},
            "SIGNING_SECRET_ARN": {"Ref": "SigningSecret"},
            "SES_CONFIGURATION_SET": {"Ref": "SesConfigurationSet"},
        }}}},
        "Resources": resources,
        "Outputs": {
            "BaseUrl": {"Description": "Where members' links point", "Value": base_url},
            "TableName": {"Value": {"Ref": "Table"}},
            "SigningSecretArn": {"Value": {"Ref": "SigningSecret"}},
            "SesConfigurationSet": {"Description": "Every send names it; SES publishes bounces and complaints "
                                                   "through it", "Value": {"Ref": "SesConfigurationSet"}},
            "SesEventsTopicArn": {"Value": {"Ref": "SesEventsTopic"}},
            "SesEventsDeadLetterQueueUrl": {"Value": {"Ref": "SesEventsDeadLetterQueue"}},
            **{f"{q.logical_id}Url": {"Value": {"Ref": q.logical_id}} for q in workers.QUEUES},
            **{f"{q.logical_id.replace('Queue', 'DeadLetterQueue')}Url": {
                "Value": {"Ref": q.logical_id.replace("Queue", "DeadLetterQueue")}} for q in workers.QUEUES},
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(build(args.stage), indent=2) + "\n")


if __name__ == "__main__":
    main()
