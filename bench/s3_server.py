"""An S3-compatible server on 127.0.0.1 (moto's, from PyPI), for executing compiled specs on an
s3:// root: the tests' `s3_server` fixture and bench/spec_execution.py start it here.

`env` holds the variables that reach it: S3_ENDPOINT for tensorflow-io's s3:// (a URL: it ignores
S3_USE_HTTPS), AWS_* for boto3 (Beam's s3:// and the directory-marker cleanup).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

KEY = "test"  # moto takes any credentials
REGION = "us-east-1"


@dataclass
class S3Server:
    process: subprocess.Popen
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {
            "S3_ENDPOINT": self.endpoint,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": KEY,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=KEY
        )

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start(log: Path, timeout: float = 60) -> S3Server:
    """A server on a free port, once it answers; its output goes to `log`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            return S3Server(process, endpoint)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the S3 server did not start: {log.read_text()}") from None
            time.sleep(0.2)
