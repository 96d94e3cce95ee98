"""Fixtures for the interop tests: the ensemble scripts/test.sh started, the ferry binary, a kazoo client."""
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from kazoo.client import KazooClient

ROOT = Path(__file__).resolve().parents[2]


def _require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the interop tests through scripts/test.sh")
    return value


@pytest.fixture(scope="session")
def zk_connect():
    return _require_env("ZK_CONNECT")


@pytest.fixture(scope="session")
def zk_conf_dir():
    return _require_env("ZK_ENSEMBLE_CONF_DIR")


@pytest.fixture(scope="session")
def ferry_bin():
    path = _require_env("FERRY_BIN")
    assert os.access(path, os.X_OK), f"{path} is not an executable ferry binary"
    return path


@pytest.fixture
def kazoo(zk_connect):
    client = KazooClient(hosts=zk_connect, timeout=15)
    client.start(timeout=15)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def scratch(kazoo):
    """A unique znode for one test, removed afterwards."""
    path = f"/ferry-interop/{uuid.uuid4().hex}"
    kazoo.ensure_path(path)
    yield path
    kazoo.delete(path, recursive=True)


def run(*args, stdin=None, check=True, env=None):
    result = subprocess.run(
        [str(a) for a in args], input=stdin, capture_output=True, text=True, timeout=60, env=env
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result
