import sys

from pipeline import exit_skipping_teardown
from pipeline.cli import main

code = main()
if "tensorflow_io" in sys.modules:  # its S3 client aborts the teardown (see exit_skipping_teardown)
    exit_skipping_teardown(code)
sys.exit(code)
