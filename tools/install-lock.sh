#!/bin/sh
# Install requirements.lock with the pip given: every package at its locked version and file
# (hash-checked, no dependency resolution). Packages that PyPI has only as source are built
# with the lock's own setuptools and wheel (--no-build-isolation), not with whatever release is
# newest that day. Used by the Makefile (the venv) and the Dockerfile (the Kubeflow image).
#
#   sh tools/install-lock.sh PIP [PIP_OPTION ...]
set -eu
pip=$1
shift
lock="$(dirname "$0")/../requirements.lock"
build_tools=$(mktemp)
trap 'rm -f "$build_tools"' EXIT
grep -A1 -E '^(setuptools|wheel)==' "$lock" | grep -v '^--$' > "$build_tools"
"$pip" install "$@" --require-hashes --no-deps -r "$build_tools"
"$pip" install "$@" --require-hashes --no-deps --no-build-isolation -r "$lock"
