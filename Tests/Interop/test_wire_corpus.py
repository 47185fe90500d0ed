"""The corpus checker itself: Python's own bytes must pass, altered bytes must fail."""
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).with_name("wire_corpus.py")


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_checker_accepts_python_bytes_and_rejects_changes(tmp_path):
    assert run("encode", str(tmp_path)).returncode == 0
    for path in tmp_path.glob("*.bin"):
        path.with_suffix(".swift.bin").write_bytes(path.read_bytes())
    result = run("check", str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert " passed, 0 failed" in result.stdout
    victim = tmp_path / "scalars.swift.bin"
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    assert "FAIL scalars" in result.stdout
