"""The one place that picks the `tf.distribute` strategy the Trainer trains under.

    placement = choose_strategy(training.strategy)
    with placement.strategy.scope():
        model = build_model(...)

`auto` takes, in order: a TPU if `TPUClusterResolver` finds one; a multi-worker cluster when
`TF_CONFIG` names more than one worker (MultiWorkerMirroredStrategy also mirrors over each
worker's own GPUs, so a cluster comes before local GPUs); MirroredStrategy over all local GPUs
when there are several, OneDeviceStrategy on a single GPU; MirroredStrategy over logical CPU
devices when the config splits the CPU (`training.cpu_devices`, for testing without GPUs); else
the default strategy. A forced strategy that this machine cannot give is a `ConfigError`, never
a silent fallback.

The decision (`decide`) is a pure function of what was found, so every branch is testable on
a CPU; `choose_strategy` looks at the machine and builds the strategy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Literal, Optional

import tensorflow as tf

from components.settings import ConfigError, StrategyKind

TpuResolverFactory = Callable[[], Any]


@dataclass(frozen=True)
class Cluster:
    """The multi-worker cluster `TF_CONFIG` describes, and this process's task in it."""

    workers: int = 1  # chief + workers
    task_type: Optional[str] = None
    task_index: int = 0
    has_chief: bool = False

    @property
    def is_chief(self) -> bool:
        """The chief writes the model: the `chief` task, else worker 0."""
        if self.task_type is None:
            return True
        if self.has_chief:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0


@dataclass(frozen=True)
class Decision:
    """Which strategy to build, and on what."""

    name: Literal["tpu", "multi_worker", "mirrored", "one_device", "default"]
    devices: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class Placement:
    """A built strategy with what the run summary reports about it."""

    strategy: tf.distribute.Strategy
    name: str
    replicas: int
    is_chief: bool = True
    devices: tuple[str, ...] = ()
    reason: str = ""

    def global_batch_size(self, per_replica: int) -> int:
        """The batch a step takes across all replicas (`training.batch_size` is per replica)."""
        return per_replica * self.replicas

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "class": type(self.strategy).__name__.lstrip("_"),
            "replicas": self.replicas,
            "devices": list(self.devices),
            "chief": self.is_chief,
            "reason": self.reason,
        }


def read_cluster(tf_config: str | None) -> Cluster:
    """Parses `TF_CONFIG` (JSON with `cluster` and `task`); absent or empty means no cluster."""
    if not tf_config:
        return Cluster()
    try:
        parsed = json.loads(tf_config)
        cluster = parsed.get("cluster", {})
        task = parsed.get("task", {})
        chiefs = len(cluster.get("chief", []))
        workers = len(cluster.get("worker", []))
        task_type = task.get("type")
        task_index = int(task.get("index", 0))
    except (ValueError, AttributeError, TypeError) as error:
        raise ConfigError(
            f'TF_CONFIG: expected JSON like {{"cluster": {{"worker": ["host:port", ...]}}, '
            f'"task": {{"type": "worker", "index": 0}}}}; got {tf_config!r} ({error})'
        ) from None
    return Cluster(chiefs + workers, task_type, task_index, has_chief=chiefs > 0)


def decide(
    kind: StrategyKind,
    tpu_found: bool,
    gpus: list[str],
    cpus: list[str],
    cluster: Cluster,
) -> Decision:
    """The strategy for what was found on this machine; a forced kind that cannot be had raises."""
    multi_worker = cluster.workers > 1
    if kind == "tpu" or (kind == "auto" and tpu_found):
        if not tpu_found:
            raise ConfigError(
                "training.strategy: tpu, but TPUClusterResolver found no TPU (set TPU_NAME, or run "
                "on a TPU VM); use strategy auto to fall back"
            )
        return Decision("tpu", reason="a TPU was found")
    if kind == "multi_worker" or (kind == "auto" and multi_worker):
        if not multi_worker:
            raise ConfigError(
                "training.strategy: multi_worker, but TF_CONFIG names no cluster of more than one "
                "worker; use strategy auto to fall back"
            )
        return Decision("multi_worker", reason=f"TF_CONFIG names {cluster.workers} workers")
    if kind == "mirrored":
        devices = gpus or (cpus if len(cpus) > 1 else [])
        if not devices:
            raise ConfigError(
                "training.strategy: mirrored, but this machine has no GPU and one CPU device; "
                "set training.cpu_devices to 2 or more to mirror over logical CPU devices"
            )
        return Decision("mirrored", tuple(devices), reason=f"forced, over {len(devices)} devices")
    if kind == "auto" and len(gpus) > 1:
        return Decision("mirrored", tuple(gpus), reason=f"{len(gpus)} GPUs")
    if kind == "auto" and len(gpus) == 1:
        return Decision("one_device", tuple(gpus), reason="one GPU")
    if kind == "auto" and len(cpus) > 1:
        return Decision("mirrored", tuple(cpus), reason=f"the CPU is split into {len(cpus)} logical devices")
    return Decision("default", reason="forced" if kind == "default" else "no TPU, GPU or cluster found")


def choose_strategy(
    kind: StrategyKind = "auto",
    cpu_devices: int = 0,
    tpu_resolver: TpuResolverFactory | None = None,
) -> Placement:
    """Looks at the machine (TPU, GPUs, TF_CONFIG), decides, and builds the strategy.

    Call it before any other TensorFlow work in the process: MultiWorkerMirroredStrategy and
    logical CPU devices must be configured before TensorFlow's runtime starts.
    """
    split_cpu(cpu_devices)
    resolver = find_tpu(tpu_resolver) if kind in ("auto", "tpu") else None
    cluster = read_cluster(os.environ.get("TF_CONFIG"))
    # Listing logical devices starts TensorFlow's runtime, after which MultiWorkerMirroredStrategy
    # can no longer set up its collective ops: a cluster is decided on without them.
    cluster_first = kind == "multi_worker" or (kind == "auto" and resolver is None and cluster.workers > 1)
    gpus = [] if cluster_first else [device.name for device in tf.config.list_logical_devices("GPU")]
    cpus = [] if cluster_first else [device.name for device in tf.config.list_logical_devices("CPU")]
    decision = decide(kind, resolver is not None, gpus, cpus, cluster)
    strategy = _build(decision, resolver)
    return Placement(
        strategy=strategy,
        name=decision.name,
        replicas=int(strategy.num_replicas_in_sync),
        is_chief=cluster.is_chief if decision.name == "multi_worker" else True,
        devices=decision.devices,
        reason=decision.reason,
    )


def find_tpu(tpu_resolver: TpuResolverFactory | None = None) -> Any | None:
    """A TPU cluster resolver, or None: `TPUClusterResolver` raises ValueError when there is no TPU."""
    factory = tpu_resolver or tf.distribute.cluster_resolver.TPUClusterResolver
    try:
        return factory()
    except ValueError:
        return None


def split_cpu(count: int) -> None:
    """Splits the host CPU into `count` logical devices (0 or 1: leave it whole)."""
    if count <= 1:
        return
    (cpu,) = tf.config.list_physical_devices("CPU")
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise ConfigError(
                f"training.cpu_devices: {count} logical CPU devices must be set before TensorFlow "
                f"starts, and this process already runs it with "
                f"{len(tf.config.list_logical_devices('CPU'))}"
            ) from None


def _build(decision: Decision, tpu_resolver: Any | None) -> tf.distribute.Strategy:
    if decision.name == "tpu":
        return _tpu_strategy(tpu_resolver)
    if decision.name == "multi_worker":
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise ConfigError(
                f"training.strategy: multi_worker must start before TensorFlow does in this process "
                f"(one Trainer process per worker): {error}"
            ) from None
    if decision.name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(decision.devices))
    if decision.name == "one_device":
        return tf.distribute.OneDeviceStrategy(decision.devices[0])
    return tf.distribute.get_strategy()


def _tpu_strategy(resolver: Any) -> tf.distribute.Strategy:
    """Connects to and initializes the TPU system; a TPU that was found but fails is an error."""
    try:
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except Exception as error:  # noqa: BLE001 - any failure here means the TPU cannot be used
        raise RuntimeError(f"a TPU was found ({_tpu_name(resolver)}) but could not be initialized: {error}") from error


def _tpu_name(resolver: Any) -> str:
    try:
        return str(resolver.master()) or "local TPU"
    except Exception:  # noqa: BLE001 - only for the message
        return "unknown address"
