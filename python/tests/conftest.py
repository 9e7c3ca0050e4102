"""Shared fixtures: repository paths, CSV reading as the CLI reads it, and the `tabship` CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tabship

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"
GOLDEN = TESTDATA / "golden"
# The adult logistic pipeline with a drift profile (format 1.2), used by the drift tests.
PROFILED = GOLDEN / "adult_logistic_profile.tabship"


def read_csv(path: Path, **kwargs: object) -> pd.DataFrame:
    """Only empty fields are missing (no 'NA'/'null' guessing), as the CLI reads CSV."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""], **kwargs)


def read_text_csv(path: Path) -> pd.DataFrame:
    """Every field as text, empty fields as "" (exactly what the CLI sees)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `tabship` binary: $TABSHIP_CLI, or debug/tabship under cargo's target directory
    ($CARGO_TARGET_DIR, else target/) built (incrementally) here."""
    given = os.environ.get("TABSHIP_CLI")
    if given:
        return Path(given)
    subprocess.run(
        ["cargo", "build", "--quiet", "--locked", "-p", "tabship-cli"],
        cwd=REPO,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = (target if target.is_absolute() else REPO / target) / "debug" / "tabship"
    assert path.is_file(), path
    return path


def run_cli(cli: Path, *args: object) -> str:
    proc = subprocess.run(
        [str(cli), *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="session")
def profiled() -> tabship.Pipeline:
    """`PROFILED`, loaded once."""
    return tabship.Pipeline.load(PROFILED)


def readme_python_block(containing: str, readme: Path = REPO / "README.md") -> str:
    """The one ```python block of the README that contains ``containing``: the snippet a test
    runs exactly as a reader would copy it (fails when none or several match)."""
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    found = [b for b in blocks if containing in b]
    assert len(found) == 1, f"{len(found)} README python blocks contain {containing!r}"
    return found[0]


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark (`local[2]`, loopback only) for every test that needs one: the JVM starts
    once per run. Its Python workers run this interpreter with the tabship imported here."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    package = str(Path(tabship.__file__).resolve().parents[1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYSPARK_PYTHON", sys.executable)
        mp.setenv("PYTHONPATH", os.pathsep.join([package, os.environ.get("PYTHONPATH", "")]))
        mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = (
            pyspark_sql.SparkSession.builder.master("local[2]")
            .appName("tabship-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.local.dir", str(tmp_path_factory.mktemp("spark")))
            # Task results come back in the status message, never through the block manager:
            # a collected million-row result stored there was at times dropped before the
            # driver fetched it (`TaskResultLost (result lost from block manager)`).
            .config("spark.driver.memory", "2g")
            .config("spark.rpc.message.maxSize", "512")
            .config("spark.task.maxDirectResultSize", "512m")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()
