"""The ``tabship`` MLflow flavour: log, register and load pipelines as MLflow models.

A model holds the ``.tabship`` artifact unchanged as its data file (``model.tabship``, its
SHA-256 recorded in the ``MLmodel`` file and checked on load) and two flavours:

``tabship``
    :func:`load_model` gives back the :class:`tabship.Pipeline`.
``python_function``
    ``mlflow.pyfunc.load_model``, ``mlflow models serve`` and ``mlflow.pyfunc.spark_udf``
    score it through :mod:`tabship.mlflow` (``loader_module``). A classifier answers a
    DataFrame with the ``prediction`` column and one ``probability_<class>`` column per class
    (the columns of ``tabship predict --proba``), or only the ``prediction`` with
    ``pyfunc_output="prediction"``; a regressor answers its ``prediction`` values.

The signature comes from the pipeline's schema (numeric columns ``double``, categorical columns
``string``, every column required: a column may hold missing values, but it must be there, as
:meth:`tabship.Pipeline.predict` wants), so MLflow checks inputs before tabship sees them.

    import tabship.mlflow
    info = tabship.mlflow.log_model(pipeline, name="model", registered_model_name="income")
    pipeline = tabship.mlflow.load_model("models:/income@champion")

``import tabship`` does not import MLflow; this module does.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any, Literal, TypeAlias

from mlflow import pyfunc
import numpy as np
import pandas as pd
import yaml
from mlflow.models import Model, ModelSignature
from mlflow.models.model import MLMODEL_FILE_NAME, ModelInfo
from mlflow.models.utils import _save_example
from mlflow.tracking._model_registry import DEFAULT_AWAIT_MAX_SLEEP_SECONDS
from mlflow.tracking.artifact_utils import _download_artifact_from_uri
from mlflow.types.schema import ColSpec, DataType, Schema
from mlflow.utils.environment import (
    _CONDA_ENV_FILE_NAME,
    _CONSTRAINTS_FILE_NAME,
    _PYTHON_ENV_FILE_NAME,
    _REQUIREMENTS_FILE_NAME,
    _mlflow_conda_env,
    _process_conda_env,
    _process_pip_requirements,
    _PythonEnv,
    _validate_env_arguments,
)
from mlflow.utils.file_utils import get_total_file_size, write_to
from mlflow.utils.model_utils import (
    _copy_extra_files,
    _get_flavor_configuration,
    _validate_and_copy_code_paths,
    _validate_and_prepare_target_save_path,
)

from . import __version__
from ._errors import ArtifactError
from ._tabship import Pipeline

__all__ = [
    "FLAVOR_NAME",
    "PyfuncOutput",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "model_signature",
    "save_model",
]

FLAVOR_NAME = "tabship"
#: The artifact's file name inside the MLflow model directory.
_DATA_FILE = "model.tabship"

# What a classifier's pyfunc ``predict`` answers. Spelled as a union of Literals, which it is
# for mypy, so that stubtest finds a Union at runtime too.
PyfuncOutput: TypeAlias = Literal["prediction_and_probabilities"] | Literal["prediction"]
_PYFUNC_OUTPUTS: tuple[str, ...] = ("prediction_and_probabilities", "prediction")


def get_default_pip_requirements() -> list[str]:
    """The pip requirements a saved model gets by default: this tabship version (MLflow adds
    itself)."""
    return [f"tabship=={__version__}"]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment a saved model gets by default."""
    env: dict[str, Any] = _mlflow_conda_env(additional_pip_deps=get_default_pip_requirements())
    return env


def model_signature(pipeline: Pipeline, pyfunc_output: PyfuncOutput | None = None) -> ModelSignature:
    """The pyfunc signature of ``pipeline``: its schema's columns in order (numeric →
    ``double``, categorical → ``string``; all required, missing values allowed) and the
    output columns :func:`save_model`'s ``pyfunc_output`` gives."""
    kinds = {"numeric": DataType.double, "categorical": DataType.string}
    inputs = Schema([ColSpec(kinds[kind], name) for name, kind in pipeline.schema.items()])
    output = _pyfunc_output(pipeline, pyfunc_output)
    if pipeline.task == "regression":
        outputs = [ColSpec(DataType.double, "prediction")]
    else:
        outputs = [ColSpec(_label_type(pipeline.classes), "prediction")]
        if output == "prediction_and_probabilities":
            outputs += [ColSpec(DataType.double, name) for name in _probability_columns(pipeline)]
    return ModelSignature(inputs=inputs, outputs=Schema(outputs))


def save_model(
    pipeline: Pipeline | str | os.PathLike[str],
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: list[str] | str | None = None,
    extra_pip_requirements: list[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: list[str] | None = None,
    pyfunc_output: PyfuncOutput | None = None,
) -> None:
    """Saves ``pipeline`` as an MLflow model directory at ``path`` (which must not exist or be
    empty).

    ``pipeline`` is a :class:`tabship.Pipeline` or the path of a ``.tabship`` file; either way
    the artifact's bytes are stored unchanged as ``model.tabship``. ``signature``: ``None``
    derives it from the schema (:func:`model_signature`), ``False`` stores none.
    ``pyfunc_output``: what the pyfunc ``predict`` of a classifier answers,
    ``"prediction_and_probabilities"`` (the default: the label column and one probability
    column per class) or ``"prediction"`` (the labels only); regressors answer values. The rest
    are MLflow's usual ``save_model`` arguments (the default pip requirement is this tabship
    version).
    """
    _validate_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    data = _artifact_bytes(pipeline)
    loaded = Pipeline.from_bytes(data)
    output = _pyfunc_output(loaded, pyfunc_output)

    path = os.path.abspath(path)
    _validate_and_prepare_target_save_path(path)
    code_dir_subpath = _validate_and_copy_code_paths(code_paths, path)
    if mlflow_model is None:
        mlflow_model = Model()
    _save_example(mlflow_model, input_example, path)
    if signature is None:
        signature = model_signature(loaded, output)
    if signature is not False:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata

    Path(path, _DATA_FILE).write_bytes(data)
    extra_files_config = _copy_extra_files(extra_files, path)
    pyfunc.add_to_model(
        mlflow_model,
        loader_module="tabship.mlflow",
        data=_DATA_FILE,
        conda_env=_CONDA_ENV_FILE_NAME,
        python_env=_PYTHON_ENV_FILE_NAME,
        code=code_dir_subpath,
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        tabship_version=__version__,
        format_version=loaded.format_version,
        data=_DATA_FILE,
        sha256=hashlib.sha256(data).hexdigest(),
        task=loaded.task,
        pyfunc_output=output,
        code=code_dir_subpath,
        **extra_files_config,
    )
    if size := get_total_file_size(path):
        mlflow_model.model_size_bytes = size
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))
    _write_environment(path, conda_env, pip_requirements, extra_pip_requirements)


def log_model(
    pipeline: Pipeline | str | os.PathLike[str],
    name: str | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: list[str] | str | None = None,
    extra_pip_requirements: list[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    pyfunc_output: PyfuncOutput | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: list[str] | None = None,
    extra_files: list[str] | None = None,
    await_registration_for: int | None = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    **kwargs: Any,
) -> ModelInfo:
    """Logs ``pipeline`` (a :class:`tabship.Pipeline` or a ``.tabship`` path) as an MLflow
    model of the active run (one is started if none is) and returns MLflow's ``ModelInfo``
    (``info.model_uri`` loads it back).

    ``name`` is the model's name in the run (MLflow 3's name for the former
    ``artifact_path``); ``registered_model_name`` also registers it as a new version of that
    registered model. ``signature``, ``pyfunc_output`` and the environment arguments are
    :func:`save_model`'s; further keywords (``params``, ``tags``, ``model_type``, ``step``,
    ``model_id``) go to ``mlflow.models.Model.log``.
    """
    info: ModelInfo = Model.log(
        artifact_path=None,
        name=name,
        flavor=sys.modules[__name__],  # this module: Model.log calls its save_model
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for,
        metadata=metadata,
        pipeline=pipeline,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        pyfunc_output=pyfunc_output,
        conda_env=conda_env,
        code_paths=code_paths,
        extra_files=extra_files,
        **kwargs,
    )
    return info


def load_model(model_uri: str, dst_path: str | None = None) -> Pipeline:
    """Loads the :class:`tabship.Pipeline` of an MLflow model: a local path, ``runs:/RUN/NAME``,
    ``models:/MODEL_ID``, ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``
    (``dst_path``: where to download it, else a temporary directory)."""
    local = _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path)
    return _load(Path(local))


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _PyfuncModel:
    """The pyfunc implementation, called by ``mlflow.pyfunc.load_model`` with the path of the
    model's data file."""
    model_dir = Path(path).parent if Path(path).is_file() else Path(path)
    conf = _get_flavor_configuration(model_path=str(model_dir), flavor_name=FLAVOR_NAME)
    pipeline = _load(model_dir)
    return _PyfuncModel(pipeline, _pyfunc_output(pipeline, conf.get("pyfunc_output")))


class _PyfuncModel:
    """What ``mlflow.pyfunc`` calls: a batch in, a pandas answer out (indexed as the input)."""

    def __init__(self, pipeline: Pipeline, output: PyfuncOutput) -> None:
        self._pipeline = pipeline
        self._output = output

    def get_raw_model(self) -> Pipeline:
        """The :class:`tabship.Pipeline` (MLflow's ``unwrap_python_model`` convention)."""
        return self._pipeline

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> pd.DataFrame | pd.Series:
        """A regressor's values or a classifier's labels as the ``prediction`` Series, or with
        ``prediction_and_probabilities`` a DataFrame adding one probability column per class."""
        if params:
            raise ValueError(
                f"tabship pyfunc models take no inference params, got {sorted(params)}; "
                "choose the output with save_model(..., pyfunc_output=...)"
            )
        if isinstance(model_input, dict) and not any(np.ndim(v) for v in model_input.values()):
            # One record (without a signature MLflow passes it as it came): a batch of one, so
            # the answer has the same shape as for any other input.
            model_input = [model_input]
        index = model_input.index if isinstance(model_input, pd.DataFrame) else None
        if self._pipeline.task == "regression" or self._output == "prediction":
            return pd.Series(self._pipeline.predict(model_input), index=index, name="prediction")
        labels, probabilities = self._pipeline.predict_with_proba(model_input)
        prediction = pd.Series(labels, index=index, name="prediction")
        columns = {"prediction": prediction}
        for i, name in enumerate(_probability_columns(self._pipeline)):
            columns[name] = pd.Series(probabilities[:, i], index=prediction.index)
        return pd.DataFrame(columns)


def _load(model_dir: Path) -> Pipeline:
    """The pipeline in an MLflow model directory, after checking its data file is the one
    saved."""
    conf = _get_flavor_configuration(model_path=str(model_dir), flavor_name=FLAVOR_NAME)
    data = (model_dir / conf["data"]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if "sha256" in conf and digest != conf["sha256"]:
        raise ArtifactError(
            f"`{model_dir / conf['data']}`: sha256 `{digest}` differs from the `{conf['sha256']}` "
            "recorded in MLmodel when the model was saved"
        )
    return Pipeline.from_bytes(data)


def _artifact_bytes(pipeline: object) -> bytes:
    """The artifact bytes to store: a pipeline's, or a ``.tabship`` file's as they are."""
    if isinstance(pipeline, Pipeline):
        return pipeline.to_bytes()
    if isinstance(pipeline, (str, os.PathLike)):
        return Path(pipeline).read_bytes()
    raise TypeError(
        "pipeline: expected a tabship.Pipeline or the path of a .tabship file, "
        f"got `{type(pipeline).__name__}`"
    )


def _pyfunc_output(pipeline: Pipeline, requested: str | None) -> PyfuncOutput:
    """The checked ``pyfunc_output`` (default: labels and probabilities for classifiers)."""
    regression = pipeline.task == "regression"
    if requested is None:
        return "prediction" if regression else "prediction_and_probabilities"
    if requested == "prediction":
        return "prediction"
    if requested == "prediction_and_probabilities" and not regression:
        return "prediction_and_probabilities"
    if requested == "prediction_and_probabilities":
        raise ValueError(
            f"pyfunc_output: a regressor has no probabilities, expected `'prediction'`, got `{requested!r}`"
        )
    raise ValueError(f"pyfunc_output: expected one of {list(_PYFUNC_OUTPUTS)}, got `{requested!r}`")


def _probability_columns(pipeline: Pipeline) -> list[str]:
    """``probability_<class>`` per class, in class order (as ``tabship predict --proba``)."""
    return [f"probability_{label}" for label in pipeline.classes]


def _label_type(classes: list[Any]) -> DataType:
    """The MLflow type of a classifier's labels (text or integers)."""
    if all(isinstance(label, str) for label in classes):
        return DataType.string
    return DataType.long


def _write_environment(
    path: str,
    conda_env: dict[str, Any] | str | None,
    pip_requirements: list[str] | str | None,
    extra_pip_requirements: list[str] | str | None,
) -> None:
    """conda.yaml, python_env.yaml, requirements.txt (and constraints.txt) as MLflow's own
    flavours write them."""
    if conda_env is None:
        default = None if pip_requirements is not None else get_default_pip_requirements()
        conda_env, pip_reqs, constraints = _process_pip_requirements(
            default, pip_requirements, extra_pip_requirements
        )
    else:
        conda_env, pip_reqs, constraints = _process_conda_env(conda_env)
    with open(os.path.join(path, _CONDA_ENV_FILE_NAME), "w") as f:
        yaml.safe_dump(conda_env, stream=f, default_flow_style=False)
    if constraints:
        write_to(os.path.join(path, _CONSTRAINTS_FILE_NAME), "\n".join(constraints))
    write_to(os.path.join(path, _REQUIREMENTS_FILE_NAME), "\n".join(pip_reqs))
    _PythonEnv.current().to_yaml(os.path.join(path, _PYTHON_ENV_FILE_NAME))

