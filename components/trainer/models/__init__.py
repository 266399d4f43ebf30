"""Model registry: a name in the config maps to a builder and what it can be used for.

A builder takes the transformed inputs (`InputSpec`), the task (`TaskSpec`) and the model's
hyperparameters (`ModelSpec`) and returns a compiled Keras model. Which tasks a model fits and
whether it needs images is declared here, once, and checked both when a config is loaded and
when a model is built.

A user's own builder is named `package.module:function` (docs/own-model.md): it has the same
contract, may return an uncompiled model (the config's optimizer and the task's loss compile
it), and is checked here before TensorFlow starts (the module is found and defines the
function) and in components/trainer/models/own.py once built (a Keras 2 model whose inputs are
transformed features and whose output fits the task).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from components.settings import CLASSIFICATION_TASKS, TASKS, ModelSpec

if TYPE_CHECKING:
    from components.trainer.models.inputs import InputSpec, TaskSpec

# No TensorFlow here: loading a config checks the model's name and task against this table, and
# a wrong name is reported before TensorFlow is imported. The builders are imported on use.
Builder = Callable[["InputSpec", "TaskSpec", ModelSpec], Any]


@dataclass(frozen=True)
class ModelInfo:
    builder_path: str  # "module:function"
    tasks: tuple[str, ...]
    needs_image: bool = False
    own: bool = False  # a user's builder, named in the config (not registered here)
    section: str = ""  # the ModelSpec section its builder reads besides the shared settings

    @property
    def builder(self) -> Builder:
        module, function = self.builder_path.split(":")
        if not self.own:
            return getattr(importlib.import_module(module), function)
        _importable_from_working_directory()
        try:
            loaded = importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - any failure of the user's module is named as theirs
            raise ValueError(
                f"{self.builder_path}: importing {module} failed: {type(error).__name__}: {error}"
            ) from None
        builder = getattr(loaded, function, None)
        if not callable(builder):
            raise ValueError(f"{self.builder_path}: {module} has no function {function}")
        return builder

    @property
    def description(self) -> str:
        """The first sentence of the builder's docstring."""
        paragraph = " ".join((self.builder.__doc__ or "").strip().split("\n\n")[0].split())
        return paragraph.split(". ")[0].rstrip(".")


_MLP, _CONV, _TRANSFER = (
    "components.trainer.models.mlp",
    "components.trainer.models.conv",
    "components.trainer.models.transfer",
)
REGISTRY: dict[str, ModelInfo] = {
    info.builder_path.split(":")[1]: info
    for info in (
        ModelInfo(f"{_MLP}:linear", TASKS),
        ModelInfo(f"{_MLP}:mlp_regressor", ("regression",)),
        ModelInfo(f"{_MLP}:mlp_classifier", CLASSIFICATION_TASKS),
        ModelInfo(f"{_MLP}:binary_classifier", ("binary",)),
        ModelInfo(f"{_MLP}:mlp_dropout_batchnorm", TASKS),
        ModelInfo(f"{_MLP}:mlp_batchnorm_input", TASKS),
        ModelInfo(f"{_MLP}:mnist_mlp", ("multiclass",)),
        ModelInfo(f"{_CONV}:cnn", CLASSIFICATION_TASKS, needs_image=True, section="conv"),
        ModelInfo("components.trainer.models.rnn:rnn", CLASSIFICATION_TASKS, needs_image=True, section="rnn"),
        ModelInfo(f"{_CONV}:vgg", CLASSIFICATION_TASKS, needs_image=True, section="vgg"),
        ModelInfo(f"{_CONV}:squeezenet", ("multiclass",), needs_image=True, section="squeezenet"),
        ModelInfo(f"{_TRANSFER}:transfer", CLASSIFICATION_TASKS, needs_image=True, section="transfer"),
    )
}


def default_model(task: str) -> str:
    """The model a recipe gets when it names none (`model.name: auto`), and a sweep's rows build on."""
    return "mlp_classifier" if task in CLASSIFICATION_TASKS else "mlp_regressor"


def settings_section(name: str) -> str:
    """The ModelSpec section a registered model reads ("" for the dense models and own builders)."""
    return REGISTRY[name].section if name in REGISTRY else ""


def check_model(name: str, task: str, image_data: bool | None = None) -> ModelInfo:
    """The model's registry entry, or a ValueError saying why it cannot serve `task` (or, when
    `image_data` is given, data of that kind): checked when a config is resolved and when the
    Trainer builds the model."""
    info = check_known(name)
    if task not in info.tasks:
        raise ValueError(f"model {name} fits task {' or '.join(info.tasks)}, not {task}")
    if info.needs_image and image_data is False:
        raise ValueError(f"{name} needs image data; CSV data has tabular features only")
    return info


def build_model(inputs: InputSpec, task: TaskSpec, spec: ModelSpec) -> Any:
    info = check_model(spec.name, task.task, image_data=inputs.image is not None)
    if info.own:
        from components.trainer.models.own import build_own_model

        return build_own_model(info, inputs, task, spec)
    return info.builder(inputs, task, spec)


@dataclass(frozen=True)
class CatalogRow:
    name: str
    tasks: tuple[str, ...]
    needs_image: bool
    parameters: int | None  # None where the model cannot be built without more settings
    description: str
    note: str = ""


def example_task(info: ModelInfo, num_classes: int) -> TaskSpec:
    """The task a catalogue entry is shown with: multiclass where it fits, else its first task."""
    from components.trainer.models.inputs import TaskSpec

    if "multiclass" in info.tasks:
        return TaskSpec("multiclass", num_classes)
    return TaskSpec(info.tasks[0], 2 if info.tasks[0] == "binary" else 0)


def catalog(image_shape: tuple[int, int, int], num_classes: int, base_model: str = "") -> list[CatalogRow]:
    """Every registered model built for one image shape (dense models read it flattened)."""
    from components.settings import TransferSpec
    from components.trainer.models.inputs import ImageInput, InputSpec

    spec = ModelSpec(transfer=TransferSpec(base_model=base_model))
    inputs = InputSpec(image=ImageInput("image", image_shape))
    rows = []
    for name, info in REGISTRY.items():
        model_spec = ModelSpec(**{**vars(spec), "name": name})
        try:
            parameters, note = build_model(inputs, example_task(info, num_classes), model_spec).count_params(), ""
        except ValueError as error:
            parameters, note = None, str(error)
        rows.append(CatalogRow(name, info.tasks, info.needs_image, parameters, info.description, note))
    return rows


def model_summary(name: str, image_shape: tuple[int, int, int], num_classes: int, base_model: str = "") -> str:
    """Keras' layer table of one registered model, built for one image shape."""
    from components.settings import TransferSpec
    from components.trainer.models.inputs import ImageInput, InputSpec

    lines: list[str] = []
    spec = ModelSpec(name=name, transfer=TransferSpec(base_model=base_model))
    model = build_model(
        InputSpec(image=ImageInput("image", image_shape)), example_task(check_known(name), num_classes), spec
    )
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


OWN_MODEL_FORM = "package.module:function"


def is_own_model(name: str) -> bool:
    return ":" in name


def own_model_info(name: str) -> ModelInfo:
    """A user's builder, checked without running their code: the module is found (on the
    working directory or the installed packages) and defines `function` at its top level."""
    module, _, function = name.partition(":")
    if not (all(part.isidentifier() for part in module.split(".")) and function.isidentifier()):
        raise ValueError(f"{name!r}: name a model of your own as {OWN_MODEL_FORM}, e.g. my_models:wide_mlp")
    source = own_model_source(name)
    if source.endswith(".py"):
        names = _top_level_names(name, source)
        if "*" not in names and function not in names:
            raise ValueError(f"{name}: {source} defines no function {function}")
    return ModelInfo(name, TASKS, own=True)


def own_model_source(name: str) -> str:
    """The file that holds a user's builder (`package.module:function`)."""
    module = name.partition(":")[0]
    _importable_from_working_directory()
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:
        spec, reason = None, f" ({error})"
    else:
        reason = ""
    if spec is None or not spec.origin:
        raise ValueError(
            f"{name}: cannot find module {module}{reason} from {os.getcwd()}; run from the folder that "
            f"holds {module.replace('.', '/')}.py, or install its package"
        )
    return spec.origin


def _top_level_names(name: str, source: str) -> set[str]:
    """What the module binds at its top level ("*" among them for a star import)."""
    try:
        with open(source, encoding="utf-8") as f:
            tree = ast.parse(f.read(), source)
    except SyntaxError as error:
        raise ValueError(f"{name}: {source} line {error.lineno}: {error.msg}") from None
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def _importable_from_working_directory() -> None:
    """A user's module next to their data imports as `python -m` would import it, also when the
    CLI runs as the installed `keras-pipeline` script (whose sys.path lacks the working directory)."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())


def check_known(name: str) -> ModelInfo:
    if is_own_model(name):
        return own_model_info(name)
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name]
