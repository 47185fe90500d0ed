"""The corpus checker itself: Python's own bytes must pass, altered bytes must fail.

The Swift side (Tests/PlexusCodecTests/WireCompatibilityTests.swift) runs the same commands with
its own re-encodings; here Python plays the Swift side, which proves the checker.
"""
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).with_name("wire_corpus.py")


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


UNPACKED_FIELD = 18  # Repeated.unpacked_i32


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def play_swift(directory):
    """Writes <case>.swift.bin as Python's own deterministic re-encoding of every case, plus
    the swift_* cases (built by Python instead of Swift)."""
    assert run("encode", str(directory)).returncode == 0
    code = (f"import sys, pathlib; sys.path.insert(0, {str(SCRIPT.parent)!r}); import wire_corpus as w\n"
            f"d = pathlib.Path({str(directory)!r})\n"
            "cases = w.corpus()\n"
            "for line in (d / 'manifest.tsv').read_text().splitlines():\n"
            "    name = line.split('\\t')[0]\n"
            "    data = (d / f'{name}.bin').read_bytes()\n"
            "    if name in cases:\n"
            "        m = type(cases[name])(); m.ParseFromString(data); data = m.SerializeToString(deterministic=True)\n"
            "    (d / f'{name}.swift.bin').write_bytes(data)\n"
            "for name, make in w.SWIFT_CASES.items():\n"
            "    (d / f'{name}.swift.bin').write_bytes(make().SerializeToString(deterministic=True))\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_checker_accepts_python_bytes(tmp_path):
    play_swift(tmp_path)
    manifest = (tmp_path / "manifest.tsv").read_text().splitlines()
    assert len(manifest) >= 40
    result = run("check", str(tmp_path))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{len(manifest) + 8} passed, 0 failed", lines[-1]
    for name in ("nan_singular", "negative_zero_oneof", "unknown_fields", "large_bytes", "swift_well_known"):
        assert f"ok {name}" in lines


def test_checker_rejects_changed_value_bytes_and_missing_cases(tmp_path):
    play_swift(tmp_path)
    victim = tmp_path / "scalars.swift.bin"
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")            # a different value
    unknown = tmp_path / "unknown_fields.swift.bin"
    unknown.write_bytes(unknown.read_bytes()[:-5])                    # unknown fields lost
    nan = tmp_path / "nan_singular.swift.bin"
    nan.write_bytes(nan.read_bytes()[:-1] + bytes([nan.read_bytes()[-1] ^ 0x80]))  # NaN's sign flipped
    zero = tmp_path / "negative_zero_oneof.swift.bin"
    zero.write_bytes(bytes.fromhex("390000000000000000"))             # ratio 0.0 instead of -0.0
    repacked = tmp_path / "unpacked_only.swift.bin"                  # [packed=false] field written packed
    body = b"".join(varint(v & 0xFFFFFFFFFFFFFFFF) for v in (-2**31, -1, 0, 1, 2**31 - 1))
    repacked.write_bytes(varint(UNPACKED_FIELD << 3 | 2) + varint(len(body)) + body)
    (tmp_path / "swift_maps.swift.bin").unlink()
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout
    for name in ("scalars", "unknown_fields", "nan_singular", "negative_zero_oneof", "unpacked_only", "swift_maps"):
        assert f"FAIL {name}" in out, out
    assert out.splitlines()[-1].endswith(" failed") and " 6 failed" in out.splitlines()[-1]


def test_checker_fails_when_nothing_was_written(tmp_path):
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "0 passed, 8 failed"


def test_python_rejects_the_malformed_inputs_it_should(tmp_path):
    assert run("malformed", str(tmp_path)).returncode == 0
    cases = [line.split("\t") for line in (tmp_path / "malformed.tsv").read_text().splitlines()]
    names = {name for name, _ in cases}
    assert {"truncated_varint", "truncated_length_delimited", "length_past_end", "wrong_wire_type", "invalid_utf8",
            "nesting_past_limit", "overlong_varint", "tag_zero"} <= names
    code = (f"import sys, pathlib; sys.path.insert(0, {str(SCRIPT.parent)!r}); import wire_corpus as w\n"
            "from google.protobuf import symbol_database\n"
            f"d = pathlib.Path({str(tmp_path)!r})\n"
            "for line in (d / 'malformed.tsv').read_text().splitlines():\n"
            "    name, type_name = line.split('\\t')\n"
            "    cls = symbol_database.Default().GetSymbol(type_name)\n"
            "    try:\n"
            "        cls.FromString((d / f'{name}.bin').read_bytes()); print('accepted', name)\n"
            "    except Exception:\n"
            "        print('rejected', name)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    # Google's protobuf keeps a known field with the wrong wire type as an unknown field; Plexus
    # (protobuf-c) rejects it. Every other malformed input is rejected by both.
    for name in names - {"wrong_wire_type"}:
        assert f"rejected {name}" in out, out


def test_describe_prints_every_case():
    result = run("describe")
    assert result.returncode == 0, result.stderr
    for name in ("scalars", "swift_scalars", "swift_proto2", "large_bytes", "unknown_fields", "nan_singular"):
        assert f"== {name} (" in result.stdout
