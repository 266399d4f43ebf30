"""Wiring and running: the TFX pipeline factory, the local runner, Kubeflow's compile and
submit, the image's entrypoint and the spec runner. Imports config/ and components/, never
commands/ or runs/' report."""
