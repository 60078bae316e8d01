"""What must hold of the packaged prod template before anyone runs `aws cloudformation deploy`."""

from __future__ import annotations

import ast
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from chalice.utils import to_cfn_resource_name

from chalicelib import config, workers
from chalicelib.store import schema

ROOT = Path(__file__).resolve().parents[2]

# What from_env reads that a deployed function must NOT be given, and why.
LOCAL_ONLY = {"DYNAMODB_ENDPOINT", "OUTBOX_DIR", "SIGNING_SECRET", "SIGNING_SECRET_FILE"}
SET_BY_LAMBDA = {"AWS_REGION", "AWS_DEFAULT_REGION"}
DATA_SERVICES = ("dynamodb:", "sqs:", "secretsmanager:", "ses:")


def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def referenced(node: Any) -> set[str]:
    """Every logical name a Ref, Fn::GetAtt or Fn::Sub inside `node` points at."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                local = set(value[1]) if isinstance(value, list) else set()
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text)} - local
                if isinstance(value, list):
                    found |= referenced(value[1])
            else:
                found |= referenced(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced(item)
    return {name for name in found if not name.startswith("AWS::")}


def variables_read_by_settings() -> set[str]:
    """The names Settings.from_env asks for (`e.get("NAME")`), read from the source, so that a
    variable added there without being classified here fails this tier."""
    tree = ast.parse((ROOT / "chalicelib" / "config.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "e"
                and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(node.args[0].value)
    return names


def test_package_builds_lints_clean_and_fits(packaged: Any) -> None:
    """package.sh runs cfn-lint with informational checks and fails on any finding, and fails when
    Chalice left a dependency out; both would have failed the fixture already. Here: what it said."""
    assert "cfn-lint clean" in packaged.output
    assert "Could not install" not in packaged.output
    assert (packaged.out / "deployment.zip").exists() and (packaged.out / "layer-deployment.zip").exists()
    unzipped = sum(info.file_size for name in ("deployment.zip", "layer-deployment.zip")
                   for info in zipfile.ZipFile(packaged.out / name).infolist())
    assert unzipped < 250 * 2**20, f"{unzipped / 2**20:.1f} MiB unzipped: over Lambda's limit"


def test_table_is_the_store_schema(resources: dict[str, Any]) -> None:
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert list(tables) == ["Table"]
    table = tables["Table"]
    props = table["Properties"]
    assert props["KeySchema"] == schema.KEY_SCHEMA
    assert props["GlobalSecondaryIndexes"] == schema.GLOBAL_SECONDARY_INDEXES
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(schema.ATTRIBUTE_DEFINITIONS, key=str)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_settings_variables_are_all_classified() -> None:
    read = variables_read_by_settings()
    assert read, "found no e.get(...) in Settings.from_env: has config.py changed shape?"
    unclassified = read - set(config.AWS_VARIABLES) - LOCAL_ONLY - SET_BY_LAMBDA
    assert not unclassified, f"add these to config.AWS_VARIABLES (and the template) or LOCAL_ONLY: {unclassified}"
    assert set(config.AWS_VARIABLES) <= read


def test_every_function_gets_every_variable_it_reads(template: dict[str, Any], resources: dict[str, Any]) -> None:
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    fns = functions(resources)
    assert set(fns) >= {"APIHandler", "Hourly", "MailWorker"}
    for name, fn in fns.items():
        env = {**shared, **fn["Properties"].get("Environment", {}).get("Variables", {})}  # SAM's merge
        missing = set(config.AWS_VARIABLES) - set(env)
        assert not missing, f"{name} lacks {missing}"
        assert not (set(env) & (LOCAL_ONLY | SET_BY_LAMBDA)), f"{name} gets local-only or reserved variables"
        assert env["MAIL_MODE"] == "ses" and env["WORK_MODE"] == "sqs"
        assert env["TABLE_NAME"] == {"Ref": "Table"}
        for queue in workers.QUEUES:
            assert env[queue.url_env] == {"Ref": queue.logical_id}
        assert env["SIGNING_SECRET_ARN"] == {"Ref": "SigningSecret"}
        assert env["SENDER_EMAIL"] == {"Ref": "SenderEmail"}
        assert env["SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}
        assert referenced(env["BASE_URL"]) == {"BaseUrl", "RestAPI"}, "a custom domain, else the API's own URL"


def iam_statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, res in resources.items():
        props = res.get("Properties", {})
        docs = []
        if res["Type"] == "AWS::IAM::Role":
            docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs = [props["PolicyDocument"]]
        elif res["Type"] == "AWS::Serverless::Function":
            assert "Policies" not in props, f"{name}: SAM policy templates bypass the policy file"
        for doc in docs:
            statements = doc["Statement"]
            found += [(name, s) for s in (statements if isinstance(statements, list) else [statements])]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_statement(owner: str, statement: dict[str, Any], queues: set[str]) -> None:
    actions = _as_list(statement.get("Action", []))
    assert "NotAction" not in statement and "NotResource" not in statement, owner
    assert not any(a == "*" or a.endswith(":*") for a in actions), f"{owner}: wildcard action {actions}"
    data = [a for a in actions if a.startswith(DATA_SERVICES)]
    if not data:
        return
    if actions == ["ses:GetSendQuota"]:  # the account's limits: no resource type, so "*" alone
        assert statement["Resource"] == "*", statement
        return
    for resource in _as_list(statement["Resource"]):
        assert resource != "*" and isinstance(resource, dict), f"{owner}: {data} on {resource!r}"
        names = referenced(resource)
        if any(a.startswith("dynamodb:") for a in data):
            indexes = {f"${{Table.Arn}}/index/{g['IndexName']}" for g in schema.GLOBAL_SECONDARY_INDEXES}
            assert resource == {"Fn::GetAtt": ["Table", "Arn"]} or resource.get("Fn::Sub") in indexes, resource
        elif any(a.startswith("sqs:") for a in data):
            assert len(names) == 1 and names <= queues, f"{owner}: sqs on {resource}"
        elif any(a.startswith("secretsmanager:") for a in data):
            assert resource == {"Ref": "SigningSecret"}, resource
        else:  # ses: the sender's own identity (address or its domain) or the stack's configuration
            # set, and only as that From address
            text = json.dumps(resource)
            assert (("identity/" in text and "SenderEmail" in text)
                    or ("configuration-set/${SesConfigurationSet}" in text and names == {"SesConfigurationSet"})), resource
            assert statement.get("Condition") == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
    assert len({a.split(":")[0] for a in data}) == 1, f"{owner}: one service per statement keeps this checkable"


def test_no_iam_statement_grants_star_on_data(resources: dict[str, Any]) -> None:
    queues = set(of_type(resources, "AWS::SQS::Queue"))
    statements = iam_statements(resources)
    granted = {a.split(":")[0] for _, s in statements for a in _as_list(s["Action"])}
    assert {"dynamodb", "sqs", "secretsmanager", "ses", "logs"} <= granted
    for owner, statement in statements:
        check_statement(owner, statement, queues)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_policy_files_are_least_privilege(stage: str) -> None:
    """dev is not packaged here; its policy file gets the same checks."""
    chalice_config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    assert chalice_config["autogen_policy"] is False
    doc = json.loads((ROOT / ".chalice" / chalice_config["iam_policy_file"]).read_text())
    for statement in doc["Statement"]:
        check_statement(stage, statement, {q.logical_id for q in workers.QUEUES} | {"SesEventsDeadLetterQueue"})


def consumers(resources: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """queue logical id -> (function, its properties, the SQS event's properties)."""
    found = {}
    for name, fn in functions(resources).items():
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                (queue,) = referenced(event["Properties"]["Queue"])
                found[queue] = (name, fn["Properties"], event["Properties"])
    return found


def test_each_queue_has_a_dead_letter_queue_and_an_alarm(resources: dict[str, Any]) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    by_consumer = consumers(resources)
    assert set(by_consumer) == {q.logical_id for q in workers.QUEUES}
    receives = {q.logical_id: q.max_receives for q in workers.QUEUES}
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    for queue, (fn, fn_props, _) in by_consumer.items():
        props = queues[queue]["Properties"]
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == receives[queue]
        (dlq,) = referenced(redrive["deadLetterTargetArn"])
        assert dlq in queues and "RedrivePolicy" not in queues[dlq]["Properties"]
        assert props["VisibilityTimeout"] >= 6 * fn_props["Timeout"], f"{queue} vs {fn}'s timeout"
        assert "MessageRetentionPeriod" in props and "MessageRetentionPeriod" in queues[dlq]["Properties"]
        watching = [a["Properties"] for a in alarms
                    if a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]]
        assert len(watching) == 1, f"no alarm on {dlq}"
        alarm = watching[0]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_sqs_event_sources_report_partial_failures(resources: dict[str, Any]) -> None:
    for queue, (fn, _, event) in consumers(resources).items():
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"], fn
        # One intrinsic, pointing at this stack's queue (not the name-built ARN Chalice writes).
        assert event["Queue"] == {"Fn::Sub": f"${{{queue}.Arn}}"}, fn


def test_mail_worker_concurrency_is_bounded_consistently(resources: dict[str, Any]) -> None:
    _, props, event = consumers(resources)["MailQueue"]
    reserved = props["ReservedConcurrentExecutions"]
    assert 1 <= reserved <= 5, "sized to the SES send rate (docs/DEPLOY.md)"
    # Fewer pollers than reserved slots, or throttled receives burn maxReceiveCount.
    assert event["ScalingConfig"]["MaximumConcurrency"] <= max(2, reserved)


def test_signing_secret_is_generated_at_deploy(resources: dict[str, Any], packaged: Any) -> None:
    (secret,) = of_type(resources, "AWS::SecretsManager::Secret").values()
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate["PasswordLength"] >= 48
    assert "SecretString" not in secret["Properties"]
    assert "SIGNING_SECRET\"" not in (packaged.out / "sam.json").read_text()


def test_no_circular_dependency(resources: dict[str, Any]) -> None:
    """cfn-lint does not see through the API's OpenAPI body; CloudFormation would refuse a cycle."""
    graph = nx.DiGraph()
    for name, res in resources.items():
        graph.add_node(name)
        for target in referenced(res) | set(_as_list(res.get("DependsOn", []))):
            if target in resources:
                graph.add_edge(name, target)
    assert not list(nx.simple_cycles(graph)), "circular dependency"
    assert "APIHandler" not in referenced(resources["RestAPI"]), "the API names its handler by name only"


def test_api_integrations_name_the_api_function(resources: dict[str, Any]) -> None:
    name = resources["APIHandler"]["Properties"]["FunctionName"]["Fn::Sub"]
    assert name == "${AWS::StackName}-api"
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, methods in paths.items():
        for method, spec in methods.items():
            integration = spec.get("x-amazon-apigateway-integration", {})
            if integration.get("type") == "aws_proxy":
                assert integration["uri"]["Fn::Sub"].endswith(f":function:{name}/invocations"), (path, method)


def test_api_throttles_public_pages_and_answers_errors_as_json(resources: dict[str, Any],
                                                                template: dict[str, Any]) -> None:
    api = resources["RestAPI"]["Properties"]
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in api["MethodSettings"]}
    assert settings[("/*", "*")]["ThrottlingRateLimit"] > 0
    public = [p for p in api["DefinitionBody"]["paths"] if not p.startswith("/groups")]
    assert public, "no member pages?"
    for path in public:
        for method in api["DefinitionBody"]["paths"][path]:
            encoded = "/~1" + "~1".join(path.strip("/").split("/"))  # /a/{b} -> /~1a~1{b}, as AWS documents
            limit = settings[(encoded, method.upper())]
            assert limit["ThrottlingRateLimit"] <= settings[("/*", "*")]["ThrottlingRateLimit"]
    responses = api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    unknown_path = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown_path["statusCode"] == "404"
    assert json.loads(unknown_path["responseTemplates"]["application/json"])["error"]["code"] == "not_found"
    assert "EndpointURL" in template["Outputs"] and "BaseUrl" in template["Outputs"]


def test_deploy_doc_names_what_the_template_needs(template: dict[str, Any]) -> None:
    """docs/DEPLOY.md's commands must pass every parameter without a default."""
    doc = (ROOT / "docs" / "DEPLOY.md").read_text()
    required = [name for name, p in template["Parameters"].items() if "Default" not in p]
    assert required
    for name in [*required, "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND", "BaseUrl"]:
        assert name in doc, f"docs/DEPLOY.md does not mention {name}"
    for output in ("TableName", "SigningSecretArn", "BaseUrl"):
        assert output in template["Outputs"] and output in doc


def test_infra_builder_is_up_to_date_with_the_merge_in_the_package(packaged: Any) -> None:
    """The merge template package.sh used is the one infra/build_template.py makes now."""
    from infra.build_template import build

    used = json.loads((packaged.out / "merge-template.json").read_text())
    assert used == json.loads(json.dumps(build("prod")))


def test_local_and_test_stages_stay_local() -> None:
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert stages["local"]["environment_variables"]["MAIL_MODE"] == "files"
    assert stages["test"]["environment_variables"]["WORK_MODE"] == "inline"
    for stage in ("local", "test"):
        assert "iam_policy_file" not in stages[stage]


def test_the_worker_map_and_the_template_name_the_same_queues(resources: dict[str, Any]) -> None:
    """A queue in the template but not in chalicelib/workers.py, or the other way round, fails."""
    queues = of_type(resources, "AWS::SQS::Queue")
    dead_letter = {name for name, q in queues.items() if "RedrivePolicy" not in q["Properties"]}
    assert set(queues) - dead_letter == {q.logical_id for q in workers.QUEUES}
    assert set(consumers(resources)) == {q.logical_id for q in workers.QUEUES}
    fns = functions(resources)
    for queue in workers.QUEUES:
        (fn, _, event) = consumers(resources)[queue.logical_id]
        assert fn == to_cfn_resource_name(queue.function)
        assert event["BatchSize"] == queue.batch_size
        assert queues[queue.logical_id]["Properties"]["VisibilityTimeout"] == queue.visibility_timeout
        assert fn in fns


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_policy_files_let_every_function_use_every_queue_of_the_worker_map(stage: str) -> None:
    chalice_config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    doc = json.loads((ROOT / ".chalice" / chalice_config["iam_policy_file"]).read_text())
    (sqs,) = [s for s in doc["Statement"] if any(a.startswith("sqs:") for a in _as_list(s["Action"]))
              and s["Sid"] != "SesEventsFailuresToTheirDeadLetterQueue"]
    assert {r["Fn::GetAtt"][0] for r in sqs["Resource"]} == {q.logical_id for q in workers.QUEUES}
    for queue in workers.QUEUES:
        assert queue.function in chalice_config["lambda_functions"], f"no settings for {queue.function}"


# ---------------------------------------------------------------- SES bounces and complaints


def test_ses_publishes_bounces_and_complaints_to_the_subscriber(resources: dict[str, Any]) -> None:
    """Configuration set -> event destination -> SNS topic -> the ses_events function, all in the
    stack; the function subscribes to this stack's topic, not a topic found by name."""
    (config_set,) = of_type(resources, "AWS::SES::ConfigurationSet")
    (destination,) = of_type(resources, "AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": config_set}
    event = props["EventDestination"]
    assert event["Enabled"] is True and {"bounce", "complaint"} <= set(event["MatchingEventTypes"])
    (topic,) = referenced(event["SnsDestination"])
    assert resources[topic]["Type"] == "AWS::SNS::Topic" and topic != "AlarmTopic"

    subscribers = [(name, ev) for name, fn in functions(resources).items()
                   for ev in fn["Properties"].get("Events", {}).values() if ev["Type"] == "SNS"]
    assert len(subscribers) == 1, subscribers
    name, ev = subscribers[0]
    assert referenced(ev["Properties"]["Topic"]) == {topic}, "subscribes to the stack's own topic"
    assert resources[name]["Properties"]["Handler"] == "app.ses_events"
    assert {"SesEventsLogGroup"} <= set(resources)


def test_ses_events_that_keep_failing_are_kept_and_alarmed_on(resources: dict[str, Any]) -> None:
    """Lambda retries a failed SNS delivery twice, then drops it: a lost complaint would keep
    mailing someone who said stop. It goes to a dead-letter queue with an alarm instead, and the
    functions' role may send there (Chalice's roles are its own: SAM adds nothing to them)."""
    target = resources["SesEvents"]["Properties"]["DeadLetterQueue"]
    assert target["Type"] == "SQS"
    (queue,) = referenced(target["TargetArn"])
    assert resources[queue]["Type"] == "AWS::SQS::Queue" and resources[queue]["DeletionPolicy"] == "Retain"
    watching = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
                if a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]]
    assert len(watching) == 1 and watching[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    may_send = [s for _, s in iam_statements(resources) if "sqs:SendMessage" in _as_list(s["Action"])
                and {"Fn::GetAtt": [queue, "Arn"]} in _as_list(s["Resource"])]
    assert may_send, "the role cannot send to the SES events' dead-letter queue"


def test_only_ses_for_this_configuration_set_may_publish_to_the_topic(resources: dict[str, Any]) -> None:
    (policy,) = of_type(resources, "AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": "SesEventsTopic"}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert _as_list(statement["Action"]) == ["sns:Publish"] and statement["Resource"] == {"Ref": "SesEventsTopic"}
    condition = statement["Condition"]
    assert condition["StringEquals"] == {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = condition["ArnLike"]["AWS:SourceArn"]
    assert referenced(source) == {"SesConfigurationSet"} and ":configuration-set/" in source["Fn::Sub"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_functions_may_send_through_the_configuration_set_as_the_sender_only(stage: str) -> None:
    """SES authorizes a send against the identity and the configuration set it names: without the
    second every send is refused once SES_CONFIGURATION_SET is set."""
    chalice_config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    doc = json.loads((ROOT / ".chalice" / chalice_config["iam_policy_file"]).read_text())
    sends = [s for s in doc["Statement"] if "ses:SendRawEmail" in _as_list(s["Action"])]
    on_config_set = [s for s in sends if "configuration-set/" in json.dumps(s["Resource"])]
    assert len(on_config_set) == 1
    assert on_config_set[0]["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
    assert "ses_events" in chalice_config["lambda_functions"]
