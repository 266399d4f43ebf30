"""The strategy choice: every branch of `decide` with stubbed findings, the TPU branch through a
stubbed resolver only, and real MirroredStrategy on two logical CPU devices in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from components.settings import ConfigError, TrainingSpec, from_dict
from components.trainer.distribution import Cluster, choose_strategy, decide, find_tpu, read_cluster
from conftest import REPO

GPUS = ["/device:GPU:0", "/device:GPU:1"]
ONE_CPU = ["/device:CPU:0"]
TWO_CPUS = ["/device:CPU:0", "/device:CPU:1"]
TWO_WORKERS = Cluster(workers=2, task_type="worker", task_index=0)


def two_worker_config(index: int, chief: bool = False) -> str:
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    if chief:
        cluster["chief"] = ["127.0.0.1:3"]
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


@pytest.mark.parametrize(
    "tpu, gpus, cpus, cluster, expected",
    [
        (True, GPUS, ONE_CPU, TWO_WORKERS, "tpu"),
        (False, GPUS, ONE_CPU, TWO_WORKERS, "multi_worker"),
        (False, GPUS, ONE_CPU, Cluster(), "mirrored"),
        (False, GPUS[:1], ONE_CPU, Cluster(), "one_device"),
        (False, [], TWO_CPUS, Cluster(), "mirrored"),
        (False, [], ONE_CPU, Cluster(), "default"),
        (False, [], ONE_CPU, Cluster(workers=1, task_type="worker"), "default"),
    ],
)
def test_auto_takes_tpu_then_cluster_then_gpus_then_logical_cpus_then_default(tpu, gpus, cpus, cluster, expected):
    assert decide("auto", tpu, gpus, cpus, cluster).name == expected


def test_mirrored_over_all_gpus_and_one_device_on_a_single_gpu():
    assert decide("auto", False, GPUS, ONE_CPU, Cluster()).devices == tuple(GPUS)
    assert decide("auto", False, GPUS[:1], ONE_CPU, Cluster()).devices == ("/device:GPU:0",)
    assert decide("mirrored", False, [], TWO_CPUS, Cluster()).devices == tuple(TWO_CPUS)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("tpu", "found no TPU"),
        ("multi_worker", "TF_CONFIG names no cluster"),
        ("mirrored", "set training.cpu_devices"),
    ],
)
def test_a_forced_strategy_that_cannot_be_had_is_an_error_not_a_fallback(kind, message):
    with pytest.raises(ConfigError, match=message):
        decide(kind, False, [], ONE_CPU, Cluster())


def test_forced_default_ignores_what_was_found():
    assert decide("default", True, GPUS, TWO_CPUS, TWO_WORKERS).name == "default"


def test_tf_config_gives_the_cluster_size_and_the_chief():
    assert read_cluster(None) == Cluster()
    workers = [read_cluster(two_worker_config(i)) for i in (0, 1)]
    assert [w.workers for w in workers] == [2, 2]
    assert [w.is_chief for w in workers] == [True, False]
    with_chief = read_cluster(two_worker_config(0, chief=True))
    assert with_chief.workers == 3 and not with_chief.is_chief
    assert read_cluster(
        json.dumps({"cluster": {"chief": ["h:1"], "worker": ["h:2"]}, "task": {"type": "chief", "index": 0}})
    ).is_chief


def test_malformed_tf_config_names_the_variable():
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        read_cluster("{not json")


def no_tpu():
    raise ValueError("Please provide a TPU Name to connect to.")


class StubTpuResolver(tf.distribute.cluster_resolver.ClusterResolver):
    """A resolver that 'finds' a TPU which then cannot be reached."""

    def cluster_spec(self):
        raise ConnectionError("TPU worker 10.0.0.2:8470 is unreachable")

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        return "grpc://10.0.0.2:8470"


def test_no_tpu_found_means_the_next_branch():
    assert find_tpu(no_tpu) is None
    placement = choose_strategy("auto", tpu_resolver=no_tpu)
    assert placement.name == "default" and placement.replicas == 1 and placement.is_chief


def test_forced_tpu_without_one_is_a_config_error():
    with pytest.raises(ConfigError, match="found no TPU"):
        choose_strategy("tpu", tpu_resolver=no_tpu)


def test_a_found_tpu_is_initialized_and_its_failure_is_reported_not_skipped():
    with pytest.raises(RuntimeError, match=r"TPU was found \(grpc://10.0.0.2:8470\).*unreachable"):
        choose_strategy("auto", tpu_resolver=StubTpuResolver)


def test_forced_multi_worker_without_tf_config_is_a_config_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="multi_worker"):
        choose_strategy("multi_worker")


def test_training_spec_validates_strategy_and_cpu_devices():
    assert from_dict(TrainingSpec, {"strategy": "mirrored", "cpu_devices": 2}).cpu_devices == 2
    with pytest.raises(ConfigError, match="training.strategy"):
        from_dict(TrainingSpec, {"strategy": "horovod"}, "training")
    with pytest.raises(ConfigError, match="training.cpu_devices"):
        from_dict(TrainingSpec, {"cpu_devices": -1}, "training")


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json
    import components
    import numpy as np
    import tensorflow as tf
    from components.trainer.distribution import choose_strategy
    from components.trainer.models import build_model
    from components.trainer.models.inputs import InputSpec, TaskSpec
    from components.settings import ModelSpec

    placement = choose_strategy("auto", cpu_devices=2)
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    data = tf.data.Dataset.from_tensor_slices(({"a_xf": x[:, :1], "b_xf": x[:, 1:]}, y)).batch(32 * placement.replicas)
    with placement.strategy.scope():
        model = build_model(InputSpec(numeric=("a_xf", "b_xf")), TaskSpec("binary", 2), ModelSpec(hidden_units=[8]))
    history = model.fit(data, epochs=5, verbose=0)
    print(json.dumps({**placement.describe(), "loss": history.history["loss"],
                      "variable": type(model.trainable_variables[0]).__name__}))
    """
)


def test_mirrored_strategy_trains_on_two_logical_cpus_in_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["name"] == "mirrored" and report["class"] == "MirroredStrategy"
    assert report["replicas"] == 2 and len(report["devices"]) == 2
    assert report["variable"] == "MirroredVariable"
    assert report["loss"][-1] < report["loss"][0]
