# The pipeline image: every Kubeflow pod (ExampleGen ... Pusher) runs our executor entrypoint
# in it, with this project installed so `components.trainer.run.run_fn` and
# `components.transform.preprocessing.preprocessing_fn` import, and the shipped data under /pipeline/data.
#
#   CPU:  docker build -t IMAGE .
#   GPU:  docker build -t IMAGE --build-arg BASE_IMAGE=tensorflow/tensorflow:2.16.2-gpu .
#   Your own model: docker build -t IMAGE --build-arg USER_CODE=my_code .  (docs/own-model.md)
#
# The GPU base brings CUDA and cuDNN for TensorFlow 2.16.2 (Python 3.11); the lock keeps its
# TensorFlow. See docs/kubeflow.md for build, push, compile and submit.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# TFX 1.16 declares Python < 3.11 and runs on it (see README); Keras 2 (tf_keras) as locally.
ENV PIP_IGNORE_REQUIRES_PYTHON=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_USE_LEGACY_KERAS=1 \
    PYTHONUNBUFFERED=1

WORKDIR /pipeline

# Dependencies first, in their own layer: a code change does not reinstall 3 GB of wheels.
# The same requirements.lock as the dev venv and CI (it includes the `kubeflow` extra).
COPY requirements.lock ./
COPY tools/install-lock.sh tools/
RUN sh tools/install-lock.sh pip --no-cache-dir

COPY pipeline/ pipeline/
COPY components/ components/
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# A user's model code (`model.name: package.module:function`): a folder in the build context,
# importable from /pipeline/user_code; a folder with a pyproject.toml or setup.py is installed
# as a package instead, with its own dependencies. The default is the worked example.
ARG USER_CODE=docs/examples/own_model
COPY ${USER_CODE}/ user_code/
RUN if [ -f user_code/pyproject.toml ] || [ -f user_code/setup.py ]; then \
        pip install --no-cache-dir ./user_code; fi
ENV PYTHONPATH=/pipeline/user_code

# Recipes and shipped data: relative data paths in a compiled recipe resolve here
# (kubeflow.image_workdir, default /pipeline).
COPY configs/ configs/
COPY data/ data/

ENTRYPOINT ["python", "-m", "pipeline.orchestration.kfp_entrypoint"]
