"""Rules where the offline preview claims to do what the Pulumi engine does (the "same" rows of the
conformance table in docs/offline-preview.md). Each test names the engine's rule it checks; the
expected texts are the engine's own where it has one. In-process where the command line itself is
not under test: the real pack runs as a process where its launch, gRPC errors or time-outs are tested,
and the command runs as a process once per kind of error it reports (a malformed export, a missing
export, a refused ``--config-path``, a config type error, a program that never finishes); the other
cases of the same kind run the command's own ``main`` in the test's process."""

from __future__ import annotations

import json
import textwrap
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from pack_in_process import run_pack_in_process
from preview_helpers import PACK, PROGRAM, REPO, InProcessPack, preview_args, run_cli, run_cli_in_process
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from recorded import run_program  # shared by the tests of this process (not under --state)

from offline_preview import cli
from offline_preview.pack_client import PolicyPackProcess
from offline_preview.pack_config import PolicyConfig, PolicyError, load_policy_config_file
from offline_preview.pack_run import run_policy_pack
from offline_preview.project import ProjectError, load_project, load_stack_config
from offline_preview.runner import UNKNOWN
from offline_preview.state import StateError, load_state

# --------------------------------------------------------------------------------------------------
# State: a stack export of the real prod stack previews as all `same`, and policies run on it
# --------------------------------------------------------------------------------------------------


def _export(run, extra: list[dict] | None = None) -> dict:
    """A `pulumi stack export` document (version 3) of what ``run`` registered, in the export's
    format: the Stack, the default provider and every resource with its id, inputs and outputs.
    ``__defaults`` is how the provider's Check records the keys it defaulted."""
    resources = [{"urn": run.stack_urn, "custom": False, "type": "pulumi:pulumi:Stack",
                  "outputs": dict(run.outputs)}]
    for provider in run.default_providers:
        resources.append({"urn": provider.urn, "custom": True, "id": "8c5c6c0e-provider",
                          "type": provider.type, "inputs": dict(provider.inputs),
                          "outputs": dict(provider.inputs)})
    for record in run.resources:
        entry = {"urn": record.urn, "custom": record.custom, "type": record.type,
                 "parent": record.parent or run.stack_urn,
                 "inputs": {**record.inputs, "__defaults": []} if record.custom else {},
                 "outputs": dict(record.outputs or {}), "protect": record.protect}
        if record.custom:
            entry["id"] = record.id
            entry["provider"] = record.provider
        resources.append(entry)
    return {"version": 3, "deployment": {"manifest": {"time": "2026-11-27T00:00:00Z"},
                                         "resources": resources + (extra or [])}}


@pytest.fixture(scope="module")
def prod_export(tmp_path_factory) -> Path:
    """prod as deployed: a run with every output known (IDs and ARNs made up from the placeholder
    account, as a recorded deployment would hold real ones)."""
    deployed = run_program(REPO, "prod", preview=False)
    assert deployed.error is None, deployed.error_traceback
    path = tmp_path_factory.mktemp("state") / "prod.json"
    path.write_text(json.dumps(_export(deployed)))
    return path


def test_prod_export_previews_as_all_same_and_policies_run_on_known_outputs(prod_export) -> None:
    fresh = run_program(REPO, "prod")
    run = run_program(REPO, "prod", state=load_state(prod_export))
    assert run.error is None, run.error_traceback
    assert {r.op for r in run.resources} == {"same"} and run.stack_op == "same"
    assert [p.op for p in run.default_providers] == ["same"]
    assert run.deleted == []
    # What a preview of a create leaves unknown is the stored value now.
    assert fresh.outputs["trailArn"] == UNKNOWN
    assert run.outputs["trailArn"].startswith("arn:aws:mock:us-east-1:123456789012:")
    trail = next(r for r in run.resources if r.type == "aws:cloudtrail/trail:Trail")
    assert UNKNOWN not in json.dumps(trail.inputs)

    same = run_pack_in_process(run, REPO / "policy", REPO / "policy/config/hipaa.json")
    assert same.analyzed == len(run.analyzed_records())
    assert [d for d in same.diagnostics if d.preview_unknown] == []
    assert same.count("mandatory") == 0


def test_stack_policies_see_stored_outputs(prod_export, tmp_path) -> None:
    """AnalyzeStack is sent each resource's outputs: a trail whose stored state drifted (validation
    turned off outside Pulumi, then refreshed) fails the stack policy though its inputs are unchanged."""
    doc = json.loads(prod_export.read_text())
    trail = next(r for r in doc["deployment"]["resources"] if r["type"] == "aws:cloudtrail/trail:Trail")
    trail["outputs"]["enableLogFileValidation"] = False
    drifted = tmp_path / "drifted.json"
    drifted.write_text(json.dumps(doc))
    run = run_program(REPO, "prod", state=load_state(drifted))
    assert {r.op for r in run.resources} == {"same"}
    result = run_pack_in_process(run, REPO / "policy", REPO / "policy/config/hipaa.json")
    mandatory = [d.policy for d in result.diagnostics if d.enforcement_level == "mandatory"]
    assert mandatory == ["aws-cloudtrail-stack-security-trail"]


def test_state_plans_update_create_and_delete(tmp_path) -> None:
    deployed = run_program(PROGRAM, "dev", preview=False)
    doc = _export(deployed, extra=[{
        "urn": "urn:pulumi:dev::fixture-audit::aws:sns/topic:Topic::retired", "custom": True,
        "type": "aws:sns/topic:Topic", "id": "retired", "inputs": {}, "outputs": {}}])
    log_group = next(r for r in doc["deployment"]["resources"] if r["type"].endswith("logGroup:LogGroup"))
    log_group["inputs"]["retentionInDays"] = 90
    versioning = next(r for r in doc["deployment"]["resources"] if "bucketVersioning" in r["type"])
    doc["deployment"]["resources"].remove(versioning)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))

    run = run_program(PROGRAM, "dev", state=load_state(path))
    assert sorted((r.type, r.op, r.changed) for r in run.resources if r.op != "same") == [
        ("aws:cloudwatch/logGroup:LogGroup", "update", ["retentionInDays"]),
        ("aws:s3/bucketVersioning:BucketVersioning", "create", []),
    ]
    assert [d.urn for d in run.deleted] == ["urn:pulumi:dev::fixture-audit::aws:sns/topic:Topic::retired"]
    log = next(r for r in run.resources if r.type.endswith("logGroup:LogGroup"))
    assert log.outputs["retentionInDays"] == 400 and log.outputs["arn"].startswith("arn:aws:mock:")


def test_a_key_the_provider_defaulted_is_no_change(tmp_path) -> None:
    deployed = run_program(PROGRAM, "dev", preview=False)
    doc = _export(deployed)
    bucket = next(r for r in doc["deployment"]["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    bucket["inputs"].update({"region": "eu-west-1", "__defaults": ["region"]})
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    run = run_program(PROGRAM, "dev", state=load_state(path))
    assert next(r for r in run.resources if r.type == "aws:s3/bucket:Bucket").op == "same"
    # The same key without the provider's mark was set by an earlier program: now it is removed.
    bucket["inputs"]["__defaults"] = []
    path.write_text(json.dumps(doc))
    run = run_program(PROGRAM, "dev", state=load_state(path))
    bucket_record = next(r for r in run.resources if r.type == "aws:s3/bucket:Bucket")
    assert (bucket_record.op, bucket_record.changed) == ("update", ["region"])


@pytest.mark.parametrize(("text", "expected"), [
    ("{", "is not JSON (line 1"),
    ('{"version": 3}', "is not a stack export"),
    ('{"version": 9, "deployment": {}}', "deployment version 9 is not supported; allowed: 1, 2, 3"),
    ('{"version": 3, "deployment": {"resources": [{"urn": "x"}]}}', 'resource #0 has no "urn" and "type"'),
])
def test_a_file_that_is_not_a_stack_export_is_refused(tmp_path, text, expected) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateError, match="--state") as err:
        load_state(path)
    assert expected in str(err.value)


MALFORMED_EXPORTS = [
    (b"\xff{}", "byte 0 is not UTF-8"),
    (b'{"version": 3, "deployment": {"resources": [{"urn": "u", "type": "t", "inputs": 5}]}}',
     '"inputs" is int; allowed: an object'),
    (b'{"version": 3, "deployment": {"resources": [{"urn": "u", "type": "t", "outputs": "x"}]}}',
     '"outputs" is str; allowed: an object'),
    (b'{"version": 3, "deployment": {"resources": [], "n": ' + b"9" * 5000 + b"}}",
     "is not a usable stack export"),
]


@pytest.mark.parametrize(("raw", "expected"), MALFORMED_EXPORTS[:1])
def test_a_malformed_export_is_one_error_line_through_the_command_line(tmp_path, raw, expected) -> None:
    _check_malformed_export(run_cli, tmp_path, raw, expected)


@pytest.mark.parametrize(("raw", "expected"), MALFORMED_EXPORTS)
def test_a_malformed_export_is_one_error_line(tmp_path, raw, expected) -> None:
    _check_malformed_export(run_cli_in_process, tmp_path, raw, expected)


def _check_malformed_export(run, tmp_path, raw, expected) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(raw)
    result = run(*preview_args(PROGRAM, "--state", str(path), pack_dir=None))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("error:") == 1 and expected in result.stderr
    assert f"--state {path}" in result.stderr and "Traceback" not in result.stderr


def test_an_export_of_another_stack_is_refused(tmp_path) -> None:
    deployed = run_program(PROGRAM, "dev", preview=False)
    doc = _export(deployed)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    assert run_cli_in_process(*preview_args(PROGRAM, "--state", str(path), pack_dir=None)).returncode == 0
    # One change: the export was taken from stack "prod" of the same project.
    for res in doc["deployment"]["resources"]:
        res["urn"] = res["urn"].replace("urn:pulumi:dev::", "urn:pulumi:prod::", 1)
    path.write_text(json.dumps(doc))
    result = run_cli_in_process(*preview_args(PROGRAM, "--state", str(path), pack_dir=None))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    assert "is not in stack 'dev' of project 'fixture-audit'" in result.stderr


def test_state_through_the_command_line(tmp_path) -> None:
    deployed = run_program(PROGRAM, "dev", preview=False)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(_export(deployed)))
    result = run_cli(*preview_args(PROGRAM, "--state", str(path), pack_dir=None))
    assert result.returncode == 0, result.stderr
    assert "    6 unchanged" in result.stdout and "to create" not in result.stdout
    bad = run_cli(*preview_args(PROGRAM, "--state", str(tmp_path / "missing.json"), pack_dir=None))
    assert bad.returncode == 2 and bad.stderr.count("error:") == 1
    assert "cannot read --state" in bad.stderr and "Traceback" not in bad.stderr


# --------------------------------------------------------------------------------------------------
# Registrations: resource objects as inputs, transforms, never hang
# --------------------------------------------------------------------------------------------------

def _program(tmp_path: Path, body: str) -> Path:
    target = tmp_path / "program"
    target.mkdir()
    (target / "Pulumi.yaml").write_text("name: fixture-audit\nruntime: python\n")
    (target / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (target / "__main__.py").write_text(textwrap.dedent(body))
    return target


def test_a_resource_object_as_input_becomes_its_id(tmp_path) -> None:
    program = _program(tmp_path, """
        import pulumi, pulumi_aws as aws
        role = aws.iam.Role("role", assume_role_policy="{}")
        aws.iam.RolePolicyAttachment("attach", role=role, policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    """)
    run = run_program(program, "dev", timeout=60)
    assert run.error is None, run.error_traceback
    attach = next(r for r in run.resources if r.name == "attach")
    assert attach.inputs["role"] == UNKNOWN  # the role's ID, unknown while it is being created
    deployed = run_program(program, "dev", preview=False, timeout=60)
    assert next(r for r in deployed.resources if r.name == "attach").inputs["role"] == "role-id"


def test_transforms_run_in_the_engines_order_and_take_effect(tmp_path) -> None:
    program = _program(tmp_path, """
        import pulumi, pulumi_aws as aws

        def tag(source):
            def transform(args):
                if args.type_ != "aws:s3/bucket:Bucket":
                    return None
                props = dict(args.props)
                order = (props.get("tags") or {}).get("order", "")
                props["tags"] = {**(props.get("tags") or {}), "order": order + source}
                return pulumi.ResourceTransformResult(props, args.opts)
            return transform

        def protect(args):
            return pulumi.ResourceTransformResult(args.props, pulumi.ResourceOptions.merge(
                args.opts, pulumi.ResourceOptions(protect=True)))

        pulumi.runtime.register_resource_transform(tag("S"))
        class Box(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                super().__init__("fixture:box:Box", name, None, opts)
                aws.s3.Bucket(f"{name}-bucket",
                              opts=pulumi.ResourceOptions(parent=self, transforms=[tag("R")]))
                self.register_outputs({})
        Box("box", opts=pulumi.ResourceOptions(transforms=[tag("P"), protect]))
    """)
    run = run_program(program, "dev", timeout=60)
    assert run.error is None, run.error_traceback
    bucket = next(r for r in run.resources if r.name == "box-bucket")
    # The resource's own transform, then its parent's, then the stack's (source_eval.go).
    assert bucket.inputs["tags"] == {"order": "RPS"}
    assert bucket.protect is True
    assert next(r for r in run.resources if r.name == "box").protect is True


def test_a_program_that_never_finishes_ends_with_one_error_line(tmp_path) -> None:
    program = _program(tmp_path, """
        import threading, pulumi_aws as aws
        aws.s3.Bucket("before")
        threading.Event().wait()
    """)
    started = time.monotonic()
    result = run_cli(*preview_args(program, "--program-timeout", "0.3", pack_dir=None), timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    assert "error: the program did not finish within 0.3s" in result.stderr


def test_a_pack_that_stops_answering_is_an_error_after_its_timeout(tmp_path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    (pack / "__main__.py").write_text(textwrap.dedent("""
        import time
        from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy
        def stall(args, report_violation):
            time.sleep(3600)
        PolicyPack(name="stalls", enforcement_level=EnforcementLevel.MANDATORY, policies=[
            ResourceValidationPolicy(name="stall", description="Never answers.", validate=stall)])
    """))
    run = run_program(PROGRAM, "dev")
    # Started with room to boot (the time-out covers the start too); then each call gets 0.3 s.
    process = PolicyPackProcess(pack, project=run.project.name, stack=run.stack, timeout=60)
    process.start()
    process.timeout = 0.3
    started = time.monotonic()
    with pytest.raises(PolicyError, match=r"did not answer Analyze within 0\.3s"):
        run_policy_pack(run, pack, process=process)
    assert time.monotonic() - started < 30
    assert process.process is None  # stopped, even though it never answered


# --------------------------------------------------------------------------------------------------
# What is analyzed: the Stack, the default provider with its inputs, components; AnalyzeStack outputs
# --------------------------------------------------------------------------------------------------

SPY_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

def seen(args, report_violation):
    provider = args.provider
    region = provider.props.get("region") if provider is not None else None
    kind = provider.resource_type if provider else None
    report_violation(f"{args.resource_type} provider={kind} region={region}")

def stack(args, report_violation):
    for r in args.resources:
        if r.resource_type in ("pulumi:pulumi:Stack", "fixture:audit:AuditLog"):
            report_violation(f"{r.resource_type} {sorted(r.props)}", r.urn)

PolicyPack(name="spy", enforcement_level=EnforcementLevel.ADVISORY, policies=[
    ResourceValidationPolicy(name="seen", description="Reports what it analyzes.", validate=seen),
    StackValidationPolicy(name="stack", description="Reports stack properties.", validate=stack)])
"""


def test_analyze_covers_the_stack_components_and_the_default_provider(tmp_path) -> None:
    pack = tmp_path / "spy"
    pack.mkdir()
    (pack / "__main__.py").write_text(SPY_PACK)
    run = run_program(PROGRAM, "dev")
    result = run_pack_in_process(run, pack)
    seen = sorted(d.message for d in result.diagnostics if d.policy == "seen")
    assert seen == sorted([
        "pulumi:pulumi:Stack provider=None region=None",
        "pulumi:providers:aws provider=None region=None",
        "fixture:audit:AuditLog provider=None region=None",
        *[f"{t} provider=pulumi:providers:aws region=eu-west-1" for t in (
            "aws:s3/bucket:Bucket", "aws:s3/bucketVersioning:BucketVersioning",
            "aws:cloudwatch/logGroup:LogGroup", "aws:cloudtrail/trail:Trail")],
    ])
    provider = run.default_providers[0]
    assert provider.urn == "urn:pulumi:dev::fixture-audit::pulumi:providers:aws::default_7_51_1"
    assert provider.inputs == {"region": "eu-west-1", "version": "7.51.1"}
    stack = sorted(d.message for d in result.diagnostics if d.policy == "stack")
    # AnalyzeStack sees outputs: the Stack's exports, the component's registered outputs.
    assert stack == ["fixture:audit:AuditLog ['bucket', 'trail']",
                     "pulumi:pulumi:Stack ['bucketName', 'retentionDays', 'trailArn']"]


# --------------------------------------------------------------------------------------------------
# Configure and policy-pack config files: the engine's applyConfig and Configure
# --------------------------------------------------------------------------------------------------

class _Recorder(analyzer_pb2_grpc.AnalyzerServicer):
    def __init__(self) -> None:
        self.requests: list[analyzer_pb2.ConfigureAnalyzerRequest] = []

    def Configure(self, request, context):  # noqa: N802 - gRPC method name
        self.requests.append(request)
        from google.protobuf import empty_pb2
        return empty_pb2.Empty()


def test_configure_always_sends_properties_as_the_engine_does() -> None:
    recorder = _Recorder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(recorder, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        process = PolicyPackProcess(PACK, project="p", stack="s")
        process.stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        process.configure({"no-config": PolicyConfig("mandatory", {}),
                           "with-config": PolicyConfig("advisory", {"minimumDays": 365})})
    finally:
        server.stop(0)
    [request] = recorder.requests
    # structpb.NewStruct(nil) is an empty Struct, never an absent field.
    assert request.policyConfig["no-config"].HasField("properties")
    assert dict(request.policyConfig["no-config"].properties) == {}
    assert request.policyConfig["with-config"].properties["minimumDays"] == 365


class _ConfigureRecordingPack(InProcessPack):
    """The real pack served in-process, keeping every ``Configure`` request the preview sends it."""

    def __init__(self, pack_dir: Path, **kwargs) -> None:
        super().__init__(pack_dir, **kwargs)
        self.configure_requests: list[analyzer_pb2.ConfigureAnalyzerRequest] = []

    def _call(self, method: str, request):
        if method == "Configure":
            self.configure_requests.append(request)
        return super()._call(method, request)


@pytest.mark.parametrize("config_file", [None, "hipaa.json"])
def test_every_policy_in_configure_carries_a_properties_struct(fixture_run, config_file) -> None:
    # The engine sends each entry's properties through structpb.NewStruct, an empty Struct for a
    # policy without config, never an absent field (a Node.js pack fails on an absent one).
    pack_dir = REPO / "policy"
    pack = _ConfigureRecordingPack(pack_dir, project=fixture_run.project.name, stack=fixture_run.stack)
    config = pack_dir / "config" / config_file if config_file else None
    result = run_policy_pack(fixture_run, pack_dir, config, process=pack)
    [request] = pack.configure_requests
    assert sorted(request.policyConfig) == sorted(p.name for p in result.pack.policies)
    empty = [name for name, cfg in result.config.items() if not cfg.properties]
    assert empty and len(empty) < len(result.config)  # both kinds of entry are in the request
    for name, entry in request.policyConfig.items():
        assert entry.HasField("properties"), name
        assert json_format.MessageToDict(entry.properties) == result.config[name].properties, name


@pytest.fixture(scope="module")
def fixture_run():
    run = run_program(PROGRAM, "dev")
    assert run.error is None
    return run


def _config(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


def test_all_with_properties_only_fails_like_the_engine(fixture_run, tmp_path) -> None:
    with pytest.raises(PolicyError) as err:
        run_policy_pack(fixture_run, PACK, _config(tmp_path, {"all": {"profiles": ["hipaa"]}}))
    assert 'configuring policy pack "fixture-compliance" at' in str(err.value)
    assert 'invalid enforcement level ""' in str(err.value)


def test_all_with_a_level_and_an_unknown_policy_with_a_level_are_forwarded(fixture_run, tmp_path) -> None:
    result = run_policy_pack(fixture_run, PACK, _config(
        tmp_path, {"all": "advisory", "fixture-no-such-policy": "mandatory"}))
    assert result.config["fixture-no-such-policy"].enforcement_level == "mandatory"
    assert result.config["all"].enforcement_level == "advisory"
    assert result.config["fixture-buckets-protected"].enforcement_level == "advisory"


def test_an_entry_with_neither_level_nor_properties_is_dropped(tmp_path) -> None:
    assert load_policy_config_file(_config(tmp_path, {"fixture-no-such-policy": {}})) == {}


@pytest.mark.parametrize(("value", "expected"), [
    (["prod"], 'parsing "environments": ["prod"] is not a valid value; must be a string or object'),
])
def test_environments_is_a_policy_name_to_the_engine(tmp_path, value, expected) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy_config_file(_config(tmp_path, {"environments": value}))
    assert expected in str(err.value)


# --------------------------------------------------------------------------------------------------
# Stack files: YAML 1.2 scalars, every scalar as text, the CLI's type check
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "key", "value"), [
    ("fixture-audit:protectBucket: True", "fixture-audit:protectBucket", "true"),
    ("fixture-audit:retentionDays: 017", "fixture-audit:retentionDays", "17"),
    ("fixture-audit:retentionDays: '30'", "fixture-audit:retentionDays", "30"),
    ("aws:region: 123", "aws:region", "123"),
])
def test_stack_scalars_reach_the_program_as_the_cli_prints_them(program, line, key, value) -> None:
    (program / "Pulumi.dev.yaml").write_text(f"config:\n  {line}\n")
    assert load_stack_config(load_project(program), "dev").values[key] == value


def test_a_string_key_may_hold_a_number(program) -> None:
    project = program / "Pulumi.yaml"
    project.write_text(project.read_text() + "  trailName:\n    type: string\n    default: audit\n")
    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:trailName: 123\n")
    assert load_stack_config(load_project(program), "dev").values["fixture-audit:trailName"] == "123"


@pytest.mark.parametrize("value", ["yes", "on", "1"])
def test_yaml_11_booleans_are_strings_and_fail_a_boolean_key(program, value) -> None:
    (program / "Pulumi.dev.yaml").write_text(f"config:\n  fixture-audit:protectBucket: {value}\n")
    with pytest.raises(ProjectError) as err:
        load_stack_config(load_project(program), "dev")
    assert str(err.value) == "Stack 'dev' with configuration key 'protectBucket' must be of type 'boolean'"


def test_an_array_item_keeps_its_json_type(program) -> None:
    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:alarmEmails: [a@example.com, 1]\n")
    with pytest.raises(ProjectError, match=r"must be of type 'array<string>'"):
        load_stack_config(load_project(program), "dev")


def test_a_secret_key_must_be_encrypted(program) -> None:
    project = program / "Pulumi.yaml"
    project.write_text(project.read_text() + "  apiToken:\n    type: string\n    secret: true\n")
    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:apiToken: plain\n")
    with pytest.raises(ProjectError) as err:
        load_stack_config(load_project(program), "dev")
    assert str(err.value) == "Stack 'dev' with configuration key 'apiToken' must be encrypted as it's secret"
    (program / "Pulumi.dev.yaml").write_text("config:\n  fixture-audit:apiToken:\n    secure: AAABAxyz\n")
    assert load_stack_config(load_project(program), "dev").secret_keys == ["fixture-audit:apiToken"]


# --- `-c key=value` and `--config-path` (pkg/cmd/pulumi/newcmd ParseConfig, config.Map.Set) -------------

def test_config_flag_value_is_a_string_and_fails_an_array_key(program) -> None:
    """``-c key=[...]`` is the string "[...]" (``config.NewValue``), so an array key fails the type check
    with the CLI's own words; exit 2 here (1 under the CLI, see Exit codes)."""
    result = run_cli(*preview_args(program, "--config", 'alarmEmails=["a@example.com"]'))
    assert result.returncode == 2, result.stderr
    assert result.stderr == ("error: Stack 'dev' with configuration key 'alarmEmails' must be of type "
                             "'array<string>'\n")


def test_config_flag_keeps_a_number_as_a_string(program) -> None:
    project = program / "Pulumi.yaml"
    project.write_text(project.read_text() + "  trailName:\n    type: string\n    default: audit\n")
    overrides = cli._parse_overrides(["trailName=123"])
    assert overrides == {"trailName": "123"}
    config = load_stack_config(load_project(program), "dev", overrides)
    assert config.values["fixture-audit:trailName"] == "123"


def test_config_path_index_gives_the_program_a_one_element_list(program) -> None:
    main = program / "__main__.py"
    main.write_text(main.read_text()
                    + '\npulumi.export("seenAlarmEmails", pulumi.Config().get_object("alarmEmails"))\n')
    overrides = cli._parse_overrides(["alarmEmails[0]=soc@example.com"], path=True)
    assert overrides == {"alarmEmails": ["soc@example.com"]}
    config = load_stack_config(load_project(program), "dev", overrides)
    assert config.values["fixture-audit:alarmEmails"] == '["soc@example.com"]'
    run = run_program(program, "dev", preview=True, stack_config=config)
    assert run.error is None, run.error
    assert run.outputs["seenAlarmEmails"] == ["soc@example.com"]


def test_config_path_replaces_the_stack_files_whole_value(program) -> None:
    """``SaveConfig`` replaces the key with what the flags built: index 0 does not edit the file's list."""
    (program / "Pulumi.dev.yaml").write_text(
        "config:\n  fixture-audit:alarmEmails:\n    - a@example.com\n    - b@example.com\n")
    overrides = cli._parse_overrides(["alarmEmails[0]=c@example.com", "alarmEmails[1]=d@example.com"],
                                     path=True)
    config = load_stack_config(load_project(program), "dev", overrides)
    assert config.values["fixture-audit:alarmEmails"] == '["c@example.com","d@example.com"]'


@pytest.mark.parametrize(("item", "value"), [
    ("tags.owner=audit", {"owner": "audit"}),
    ('tags["a.b"]=x', {"a.b": "x"}),
    ("tags.on=true", {"on": True}),
    ("tags.n=123", {"n": 123}),
    ("tags.zip=0123", {"zip": "0123"}),
    ("tags=123", "123"),
])
def test_config_path_types_values_like_the_cli(item, value) -> None:
    """``adjustObjectValue``: under a path "true" and integers are typed; a one-segment key stays text."""
    assert cli._parse_overrides([item], path=True) == {"tags": value}


REFUSED_PATHS = [
    (["alarmEmails[*]=x"], "[*] is not supported here"),
    (["alarmEmails[1]=x"], "array index out of range"),
    (["alarmEmails[" + "9" * 5000 + "]=x"], "array index out of range"),
    (["alarmEmails[0]=x", "alarmEmails.sub=y"], 'a map was expected for key "sub"'),
    (["[0]=x"], "first path segment of config key must be a string"),
    (["alarmEmails[0=x"], "missing closing bracket"),
]


@pytest.mark.parametrize(("items", "message"), REFUSED_PATHS[:1])
def test_config_path_it_refuses_is_one_error_line_through_the_command_line(program, items, message) -> None:
    _check_refused_path(run_cli, program, items, message)


@pytest.mark.parametrize(("items", "message"), REFUSED_PATHS)
def test_config_path_it_refuses_is_one_error_line(program, items, message) -> None:
    _check_refused_path(run_cli_in_process, program, items, message)


def _check_refused_path(run, program, items, message) -> None:
    args = ["--config-path"] + [a for item in items for a in ("--config", item)]
    result = run(*preview_args(program, *args))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --config-path --config {items[-1]!r}: ")
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
