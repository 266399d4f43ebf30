"""Kubeflow: the compiled KFP v2 spec is parsed and checked, and `submit` is run against a local
HTTP server that stands in for the KFP API and records what it was sent."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from components.settings import ConfigError
from conftest import CSV_PIPELINE_NODES, REPO
from pipeline.commands.cli import main
from pipeline.config.resolve import resolved_config
from pipeline.orchestration.kubeflow import ENTRYPOINT, SpecError, check_executors

IMAGE = "us-docker.pkg.dev/my-project/pipelines/keras-tfx:0.1.0"
COMPONENTS = CSV_PIPELINE_NODES
BEAM_COMPONENTS = {"CsvExampleGen", "StatisticsGen", "Transform", "Evaluator"}


def compile_spec(tmp_path: Path, *args: str) -> tuple[dict, str]:
    output = tmp_path / "pipeline.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "compile",
                "--target",
                "kubeflow",
                "--image",
                IMAGE,
                "--output",
                str(output),
                "--config",
                str(REPO / "configs" / "penguins.yaml"),
                *args,
            ]
        )
    assert code == 0, printed.getvalue()
    return json.loads(output.read_text()), printed.getvalue()


def executors(job: dict) -> dict[str, dict]:
    """Component name -> its container spec (every executor is a container: see the recipe test)."""
    found = job["pipelineSpec"]["deploymentSpec"]["executors"]
    return {name.removesuffix("_executor"): spec["container"] for name, spec in found.items()}


@pytest.fixture(scope="module")
def gcs_job(tmp_path_factory) -> dict:
    job, _ = compile_spec(tmp_path_factory.mktemp("kfp"), "--pipeline-root", "gs://my-bucket/penguins")
    return job


def test_every_component_runs_our_image_with_tfx_entrypoint(gcs_job):
    containers = executors(gcs_job)
    assert set(containers) == COMPONENTS
    for name, container in containers.items():
        assert container["image"] == IMAGE, name
        assert container["command"] == ENTRYPOINT, name
    tasks = gcs_job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert set(tasks) == COMPONENTS  # no resolver task: the Evaluator finds its baseline itself
    assert gcs_job["pipelineSpec"]["schemaVersion"] == "2.1.0"


@pytest.mark.parametrize("recipe", sorted(path.name for path in (REPO / "configs").glob("*.yaml")))
def test_every_recipe_compiles_to_executors_open_source_kfp_runs(tmp_path, recipe):
    """KFP's backend compiler (kubeflow/pipelines backend/src/v2/compiler/visitor.go) refuses any
    executor that is neither a container nor an importer; TFX's Resolver compiles to `resolver`."""
    job, _ = compile_spec(
        tmp_path,
        "--config",
        str(REPO / "configs" / recipe),
        "--pipeline-root",
        "s3://bucket/root",
        "--set",
        "evaluation.max_loss=1.0",
    )
    found = job["pipelineSpec"]["deploymentSpec"]["executors"]
    assert found and all(set(spec) <= {"container", "importer"} for spec in found.values()), found.keys()
    check_executors(job["pipelineSpec"])


def test_a_resolver_executor_is_refused_by_name():
    spec = {
        "deploymentSpec": {
            "executors": {
                "Trainer_executor": {"container": {"image": "i"}},
                "latest_blessed_model_resolver-model-resolver_executor": {"resolver": {"outputArtifactQueries": {}}},
            }
        }
    }
    with pytest.raises(SpecError, match="'latest_blessed_model_resolver-model-resolver_executor' is a resolver"):
        check_executors(spec)


def test_the_vertex_target_takes_gcs_and_machine_accelerators(tmp_path):
    job, printed = compile_spec(tmp_path, "--target", "vertex", "--pipeline-root", "gs://my-bucket/penguins")
    assert "for Vertex AI Pipelines" in printed
    trainer = executors(job)["Trainer"]["resources"]["accelerator"]
    assert trainer["type"] == "NVIDIA_TESLA_T4" and trainer["count"] == "1"
    assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == COMPONENTS


def test_the_pusher_runs_our_staging_executor(gcs_job):
    args = executors(gcs_job)["Pusher"]["args"]
    assert args[args.index("--executor_class_path") + 1] == "components.pusher.push.Executor"


def test_only_the_trainer_requests_a_gpu_with_cpu_and_memory(gcs_job):
    containers = executors(gcs_job)
    resources = containers["Trainer"]["resources"]
    assert resources["accelerator"] == {
        "type": "nvidia.com/gpu",
        "count": "1",
        "resourceType": "nvidia.com/gpu",
        "resourceCount": "1",
    }
    assert resources["cpuRequest"] == 4 and resources["resourceCpuRequest"] == "4"
    assert resources["memoryRequest"] == 16 and resources["resourceMemoryRequest"] == "16G"
    for name, container in containers.items():
        if name != "Trainer":
            assert "resources" not in container, name


def test_accelerator_type_tpu_and_evaluator_resources_come_from_config(tmp_path):
    job, printed = compile_spec(
        tmp_path,
        "--target",
        "vertex",
        "--pipeline-root",
        "gs://my-bucket/penguins",
        "--set",
        "kubeflow.trainer.accelerator_type=NVIDIA_TESLA_A100",
        "--set",
        "kubeflow.trainer.accelerator_count=2",
        "--set",
        "kubeflow.trainer.memory=85Gi",
        "--set",
        "kubeflow.evaluator={cpu: 8, memory: 32G, accelerator_type: TPU_V3, accelerator_count: 8}",
    )
    containers = executors(job)
    trainer = containers["Trainer"]["resources"]
    assert trainer["accelerator"]["type"] == "NVIDIA_TESLA_A100" and trainer["accelerator"]["count"] == "2"
    assert trainer["memoryRequest"] == pytest.approx(85 * 1024**3 / 1e9)
    evaluator = containers["Evaluator"]["resources"]
    assert evaluator["accelerator"]["type"] == "TPU_V3" and evaluator["accelerator"]["count"] == "8"
    assert evaluator["cpuRequest"] == 8
    assert "Trainer requests 4 CPU, 85Gi memory, 2 x NVIDIA_TESLA_A100" in printed
    assert all("resources" not in containers[name] for name in COMPONENTS - {"Trainer", "Evaluator"})


def test_data_root_is_a_runtime_parameter_with_the_images_data_as_default(gcs_job):
    root = gcs_job["pipelineSpec"]["root"]
    assert root["inputDefinitions"]["parameters"]["data_root"]["parameterType"] == "STRING"
    example_gen = root["dag"]["tasks"]["CsvExampleGen"]["inputs"]["parameters"]
    assert example_gen["input_base"] == {"componentInputParameter": "data_root"}
    runtime = gcs_job["runtimeConfig"]
    assert runtime["parameterValues"] == {"data_root": "/pipeline/data/penguins"}
    assert runtime["gcsOutputDirectory"] == "gs://my-bucket/penguins"


def test_beam_args_pass_through_to_the_beam_components(tmp_path):
    dataflow = [
        "--runner=DataflowRunner",
        "--project=my-project",
        "--region=europe-west4",
        "--temp_location=gs://my-bucket/tmp",
    ]
    job, _ = compile_spec(
        tmp_path, "--pipeline-root", "gs://my-bucket/penguins", "--set", f"kubeflow.beam_args={json.dumps(dataflow)}"
    )
    containers = executors(job)
    for name in BEAM_COMPONENTS:
        assert containers[name]["args"][-len(dataflow) :] == dataflow, name
    default, _ = compile_spec(tmp_path, "--pipeline-root", "gs://my-bucket/penguins")
    assert "--direct_running_mode=multi_processing" in executors(default)["Transform"]["args"]


def test_the_module_functions_named_in_the_spec_are_inside_the_image(gcs_job):
    text = json.dumps(gcs_job)
    functions = {
        "preprocessing_fn": "components.transform.preprocessing.preprocessing_fn",
        "run_fn": "components.trainer.run.run_fn",
    }
    for key, path in functions.items():
        assert re.search(rf'\\"{key}\\": \\"{re.escape(path)}\\"', text) or f'"{path}"' in text, key
        module = path.rsplit(".", 1)[0]
        source = Path(importlib.util.find_spec(module).origin).resolve()
        package_dir = source.relative_to(REPO).parts[0]
        assert package_dir in copied_into_image(), f"{module} ({package_dir}/) is not copied into the image"
    assert importlib.util.find_spec(ENTRYPOINT[-1]) is not None  # the entrypoint module is ours
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"ENTRYPOINT {json.dumps(ENTRYPOINT)}" in dockerfile
    assert "pip install --no-cache-dir --no-deps --no-build-isolation ." in dockerfile
    assert "sh tools/install-lock.sh pip" in dockerfile and "COPY requirements.lock ./" in dockerfile
    assert "WORKDIR /pipeline" in dockerfile and "COPY data/ data/" in dockerfile


def copied_into_image() -> set[str]:
    return {match.group(1) for match in re.finditer(r"^COPY (\w+)/ ", (REPO / "Dockerfile").read_text(), re.M)}


def test_compiling_writes_nothing_but_the_spec(tmp_path, monkeypatch):
    """No S3 endpoint is configured here: compiling must not reach the store it names."""
    monkeypatch.chdir(tmp_path)
    s3_job, _ = compile_spec(tmp_path, "--pipeline-root", "s3://minio-bucket/penguins")
    assert s3_job["runtimeConfig"]["gcsOutputDirectory"] == "s3://minio-bucket/penguins"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pipeline.json"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"output.pipeline_root": "/tmp/local/root"}, "output.pipeline_root: on open-source Kubeflow Pipelines"),
        ({"output.pipeline_root": "minio://mlpipeline/v2"}, "know no minio://: use s3://"),
        ({"output.pipeline_root": "gs://b/r", "output.serving_dir": "/models"}, "output.serving_dir: on open-source"),
        (
            {"output.pipeline_root": "s3://b/r", "kubeflow.target": "vertex"},
            "output.pipeline_root: on Vertex AI Pipelines artifacts go to gs://",
        ),
        (
            {"output.pipeline_root": "gs://b/r", "kubeflow.trainer.accelerator_type": "NVIDIA_TESLA_T4"},
            "asks Kubernetes for a resource",
        ),
        (
            {
                "output.pipeline_root": "gs://b/r",
                "kubeflow.target": "vertex",
                "kubeflow.trainer.accelerator_type": "nvidia.com/gpu",
            },
            "Vertex AI takes a machine accelerator",
        ),
        (
            {"output.pipeline_root": "gs://b/r", "kubeflow.trainer.accelerator_count": 0},
            "kubeflow.trainer.accelerator_type and accelerator_count",
        ),
        ({"output.pipeline_root": "gs://b/r", "kubeflow.evaluator.memory": "lots"}, "kubeflow.evaluator.memory"),
        ({"output.pipeline_root": "gs://b/r", "kubeflow.image_workdir": "pipeline"}, "kubeflow.image_workdir"),
    ],
)
def test_kubeflow_settings_are_validated_with_the_key_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolved_config(REPO / "configs" / "penguins.yaml", {"runner.kind": "kubeflow", **overrides})


def test_compile_without_an_image_is_refused(tmp_path, capsys):
    code = main(["compile", "--pipeline-root", "gs://b/r", "--output", str(tmp_path / "p.json")])
    assert code == 2 and "kubeflow.image" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


class FakeKfpApi(BaseHTTPRequestHandler):
    """Answers the calls kfp.Client makes to submit a run, and records them."""

    requests: list[tuple[str, str, dict]] = []

    def do_GET(self):
        self.requests.append(("GET", self.path, {}))
        self._reply({})  # healthz, and no experiment of that name yet

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.requests.append(("POST", self.path, body))
        if self.path.endswith("/experiments"):
            self._reply({"experiment_id": "exp-7", "display_name": body.get("display_name")})
        elif self.path.endswith("/runs"):
            self._reply(
                {
                    "run_id": "run-42",
                    "experiment_id": body.get("experiment_id"),
                    "display_name": body.get("display_name"),
                }
            )
        else:
            self.send_error(404)

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def kfp_api():
    FakeKfpApi.requests = []
    server = HTTPServer(("127.0.0.1", 0), FakeKfpApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", FakeKfpApi.requests
    server.shutdown()


def test_submit_sends_the_compiled_spec_and_prints_the_run(tmp_path, kfp_api, capsys):
    host, requests = kfp_api
    compile_spec(tmp_path, "--pipeline-root", "gs://my-bucket/penguins")
    code = main(
        [
            "submit",
            "--host",
            host,
            "--pipeline",
            str(tmp_path / "pipeline.json"),
            "--experiment",
            "penguins",
            "--param",
            "data_root=gs://my-bucket/new-rows",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "submitted run run-42" in printed and f"{host}/#/runs/details/run-42" in printed
    posts = {path: body for method, path, body in requests if method == "POST"}
    assert posts["/apis/v2beta1/experiments"]["display_name"] == "penguins"
    run = posts["/apis/v2beta1/runs"]
    assert run["experiment_id"] == "exp-7" and run["display_name"] == "penguins"
    assert run["runtime_config"]["parameters"] == {"data_root": "gs://my-bucket/new-rows"}
    assert run["runtime_config"]["pipeline_root"] == "gs://my-bucket/penguins"
    compiled = json.loads((tmp_path / "pipeline.json").read_text())["pipelineSpec"]
    assert run["pipeline_spec"]["deploymentSpec"] == compiled["deploymentSpec"]
    assert run["pipeline_spec"]["root"] == compiled["root"]


def test_submit_of_a_missing_spec_names_the_file(tmp_path, capsys):
    code = main(["submit", "--host", "http://127.0.0.1:9", "--pipeline", str(tmp_path / "nope.json")])
    assert code == 2 and "nope.json does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["closed port", "http://no-such-kfp-host.invalid:8080"])
def test_submit_to_an_unreachable_host_says_so_in_one_line(host, tmp_path, capsys):
    if host == "closed port":
        with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
            probe.bind(("127.0.0.1", 0))
            host = f"http://127.0.0.1:{probe.getsockname()[1]}"
    compile_spec(tmp_path, "--pipeline-root", "gs://my-bucket/penguins")
    code = main(["submit", "--host", host, "--pipeline", str(tmp_path / "pipeline.json")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"configuration error: --host: cannot reach the Kubeflow Pipelines API at {host} (")
    assert "kubectl port-forward" in err and "Traceback" not in err and "HTTPConnection" not in err


def test_image_recipe_compiles_with_the_image_example_gen_under_a_kubeflow_name(tmp_path):
    job, printed = compile_spec(
        tmp_path, "--config", str(REPO / "configs" / "digits_cnn.yaml"), "--pipeline-root", "gs://my-bucket/digits"
    )
    assert "compiled pipeline digits-cnn for open-source Kubeflow Pipelines" in printed  # KFP names allow no "_"
    containers = executors(job)
    assert set(containers) == COMPONENTS - {"CsvExampleGen"} | {"ImageExampleGen"}
    example_gen = containers["ImageExampleGen"]
    assert example_gen["args"][:2] == ["--executor_class_path", "components.example_gen.image_example_gen.Executor"]
    inputs = job["pipelineSpec"]["root"]["dag"]["tasks"]["ImageExampleGen"]["inputs"]["parameters"]
    assert inputs["input_base"] == {"componentInputParameter": "data_root"}
    assert job["runtimeConfig"]["parameterValues"]["data_root"] == "/pipeline/data/digits_images"
    splits = json.loads(inputs["input_config"]["runtimeValue"]["constant"])["splits"]
    assert splits == [{"name": "train", "pattern": "train/*/*"}, {"name": "eval", "pattern": "test/*/*"}]
    settings = json.loads(json.loads(inputs["custom_config"]["runtimeValue"]["constant"])["custom_config"]["value"])
    assert settings["classes"] == [str(d) for d in range(10)] and settings["image"]["height"] == 8


def test_with_tuning_the_tuner_is_one_more_container_task_on_the_trainers_pod(tmp_path):
    """`--tune` adds TFX's Tuner (our executor) between Transform and the Trainer; it asks for the
    Trainer's resources, and the Trainer takes its best_hyperparameters output."""
    job, printed = compile_spec(tmp_path, "--pipeline-root", "gs://my-bucket/penguins", "--tune")
    containers = executors(job)
    assert set(containers) == set(COMPONENTS) | {"Tuner"}
    check_executors(job["pipelineSpec"])  # container executors only: open-source KFP runs them
    args = containers["Tuner"]["args"]
    assert args[args.index("--executor_class_path") + 1] == "components.tuner.executor.Executor"
    assert "components.tuner.tuning.tuner_fn" in json.dumps(job)
    assert containers["Tuner"]["resources"] == containers["Trainer"]["resources"]
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert set(tasks["Tuner"]["dependentTasks"]) >= {"Transform"}
    hyperparameters = tasks["Trainer"]["inputs"]["artifacts"]["hyperparameters"]["taskOutputArtifact"]
    assert hyperparameters == {"producerTask": "Tuner", "outputArtifactKey": "best_hyperparameters"}
    assert "Tuner requests" in printed
