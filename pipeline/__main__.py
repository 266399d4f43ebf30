import logging
import os
import sys

from pipeline.cli import main

code = main()
if "tensorflow_io" in sys.modules:
    # tensorflow-io's S3 client aborts the interpreter's shutdown ("pure virtual method called",
    # exit code 134) after the work is done and printed; leave with the command's own code.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
sys.exit(code)
