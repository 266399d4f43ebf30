"""Pusher executor that never leaves a partial model version in the serving dir.

TFX's Pusher copies the SavedModel file by file into `<serving_dir>/<version>/` (saved_model.pb
last). A process killed mid-copy, a full disk or a permission error leaves that version half
written, where a model server watching the dir may find it; and a second push within the same
second is skipped as "already pushed" although it is another model. This executor copies into
a hidden staging dir beside the versions and renames it into place: on a local filesystem the
rename is atomic, so the serving dir holds the whole new version or nothing of it, and the
versions already there are never touched. A staging dir left by a killed push is removed by the
next push. Object storage (gs://, s3://) has no atomic rename: there TFX's own order is kept
(every file, then saved_model.pb).
"""

from __future__ import annotations

import os
import shutil
import time

from absl import logging
from tfx.components.pusher import executor as tfx_pusher
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components.tfx_types import ArtifactDict, ExecProperties

STAGING_PREFIX = ".staging-"


class PushError(RuntimeError):
    """The model could not be written to the serving dir; the versions already there are intact."""


class Executor(tfx_pusher.Executor):
    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: ExecProperties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        serving_path = push(model_path, destination.filesystem.base_directory)
        io_utils.copy_dir(model_path, model_push.uri)  # the archive copy TFX keeps with the artifact
        self._MarkPushed(model_push, pushed_destination=serving_path, pushed_version=os.path.basename(serving_path))
        logging.info("Model pushed to %s.", serving_path)


def push(model_path: str, base_directory: str) -> str:
    """Copies the SavedModel at `model_path` to a new version dir under `base_directory`."""
    if "://" in base_directory:
        return _push_file_by_file(model_path, base_directory)
    try:
        os.makedirs(base_directory, exist_ok=True)
        remove_abandoned_staging(base_directory)
        version = new_version(base_directory)
        staging = os.path.join(base_directory, f"{STAGING_PREFIX}{version}-{os.getpid()}")
        try:
            shutil.copytree(model_path, staging, copy_function=_copy_file)
            os.rename(staging, os.path.join(base_directory, version))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:
        raise PushError(
            f"{base_directory}: cannot push the model: {_reason(error)}; the versions already there are untouched"
        ) from error
    return os.path.join(base_directory, version)


def _reason(error: OSError) -> str:
    """copytree gathers its failures into one shutil.Error: the first file's names the cause."""
    if isinstance(error, shutil.Error) and error.args and isinstance(error.args[0], list):
        source, _, why = error.args[0][0]
        return f"{why} (copying {source})"
    return str(error)


def new_version(base_directory: str) -> str:
    """The Unix time in seconds, or the next free number when a push in the same second took it."""
    version = int(time.time())
    while os.path.exists(os.path.join(base_directory, str(version))):
        version += 1
    return str(version)


def remove_abandoned_staging(base_directory: str) -> None:
    """Deletes staging dirs whose pushing process is gone (killed mid-copy)."""
    for name in os.listdir(base_directory):
        if name.startswith(STAGING_PREFIX) and not _alive(int(name.rsplit("-", 1)[-1])):
            logging.warning("removing %s, left by a push that did not finish", name)
            shutil.rmtree(os.path.join(base_directory, name), ignore_errors=True)


def _copy_file(source: str, target: str) -> str:
    return shutil.copy2(source, target)  # looked up per call, so a test can make it fail or slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _push_file_by_file(model_path: str, base_directory: str) -> str:
    from tfx.dsl.io import fileio

    serving_path = f"{base_directory.rstrip('/')}/{int(time.time())}"
    io_utils.copy_dir(model_path, serving_path, deny_regex_patterns=[r"saved_model\.pb"])
    io_utils.copy_file(os.path.join(model_path, "saved_model.pb"), f"{serving_path}/saved_model.pb")
    if not fileio.exists(f"{serving_path}/saved_model.pb"):
        raise PushError(f"{serving_path}: saved_model.pb was not written")
    return serving_path
