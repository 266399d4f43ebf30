"""Installable package. Its requirements, with constraints.txt, are what `make lock` resolves into
requirements.lock; the venv installs the lock, then this package with --no-deps (see README)."""

from setuptools import find_packages, setup

setup(
    name="keras-tfx-pipeline",
    version="0.1.0",
    description="TFX pipeline for Keras models: ingest, validate, standardize, train, gate, push",
    python_requires=">=3.9",
    packages=find_packages(include=["pipeline", "pipeline.*", "components", "components.*"]),
    install_requires=[
        "tfx[kfp]==1.16.0",
        "apache-beam==2.59.0",
        "tensorflow==2.16.2",
        "pyyaml>=6",
        # the run report's charts (inline PNGs in report.html)
        "matplotlib>=3.8",
    ],
    extras_require={
        # pillow: data/prepare.py writes the digits PNGs; the tests write images in every format.
        "data": ["palmerpenguins==0.1.6", "scikit-learn>=1.3", "pillow>=10"],
        # moto[server]: the S3-compatible server the s3:// spec execution test starts on 127.0.0.1;
        # ruff: `make lint` (ruff.toml).
        "test": [
            "pytest>=8",
            "pytest-xdist>=3.5",
            "pytest-randomly>=3.15",
            "pillow>=10",
            "moto[server]>=5",
            "ruff>=0.6",
        ],
        # In the Kubeflow image: s3:// (S3, MinIO) for tf.io.gfile (tensorflow-io, matching
        # TensorFlow 2.16) and for Beam's file IO and the directory-marker cleanup (boto3).
        "kubeflow": ["tensorflow-io==0.37.1", "boto3>=1.28"],
    },
    entry_points={"console_scripts": ["keras-pipeline=pipeline.commands.cli:main"]},
)
