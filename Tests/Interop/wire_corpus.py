"""Wire-compatibility corpus between Plexus (Swift, protobuf-c) and Google's protobuf (Python).

    python wire_corpus.py encode DIR     writes DIR/<case>.bin and DIR/manifest.tsv
    python wire_corpus.py check DIR      checks DIR/<case>.swift.bin (Swift's bytes) against Python
    python wire_corpus.py malformed DIR  writes malformed inputs and DIR/malformed.tsv
    python wire_corpus.py describe       prints the corpus

_pb2 modules are generated at run time from proto/ and Tests/Fixtures/proto with protoc.
Byte-identical comparisons use SerializeToString(deterministic=True) (map keys sorted).
Not in the corpus, because protobuf-c cannot produce the same bytes (see docs/DESIGN.md):
NUL characters inside strings (protobuf-c keeps strings as NUL-terminated C strings, so "a\0b"
would come back as "a"), -0.0 in proto3 singular floats (protobuf-c tests `== 0` and drops it;
upb keeps it), map entries whose key or value is the type's default. -0.0 is covered where the
field has presence (repeated, oneof, proto2 optional), NaN everywhere.
Values are compared NaN-aware and sign-of-zero-aware (same_value): by their deterministic
serializations, not by `==`, which says NaN != NaN and -0.0 == 0.0.
"""
import math
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_modules():
    out = pathlib.Path(tempfile.mkdtemp(prefix="plexus-corpus-"))
    protos = []
    for base in (ROOT / "proto", ROOT / "Tests" / "Fixtures" / "proto"):
        protos += [str(p.relative_to(base)) for p in base.rglob("*.proto")]
    subprocess.run(["protoc", f"-I{ROOT / 'proto'}", f"-I{ROOT / 'Tests' / 'Fixtures' / 'proto'}", "-I/usr/include",
                    f"--python_out={out}"] + protos, check=True)
    # A regular package here shadows the installed `plexus` client package.
    (out / "plexus" / "__init__.py").write_text("")
    sys.path.insert(0, str(out))
    for name in [m for m in sys.modules if m == "plexus" or m.startswith("plexus.")]:
        del sys.modules[name]
    from plexus.test.v1 import all_types_pb2, imported_pb2
    from plexus.wire.v1 import frame_pb2
    from plexus.rpc.v1 import status_pb2
    return all_types_pb2, imported_pb2, frame_pb2, status_pb2


T, I, W, S = load_modules()
from google.protobuf import any_pb2, struct_pb2, timestamp_pb2, duration_pb2, empty_pb2  # noqa: E402

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


# -- messages mirrored by Swift (Tests/PlexusCodecTests/Fixtures.swift) ------------------------
def scalars():
    return T.Scalars(i32=-42, i64=INT64_MIN, u32=2**32 - 1, u64=2**64 - 1, s32=INT32_MIN, s64=INT64_MAX,
                     f32=0xdeadbeef, f64=0x0123456789abcdef, sf32=-7, sf64=-8_000_000_000, flt=3.5, dbl=-1e300,
                     flag=True, text="héllo wörld ✓ 😈", data=bytes([0, 1, 2, 255, 0]), color=T.BLUE)


def repeated():
    return T.Repeated(i32=[1, -1, INT32_MAX, INT32_MIN], i64=[INT64_MIN, 0, INT64_MAX], u32=[0, 1, 2**32 - 1],
                      u64=[2**64 - 1, 12], s32=[-1, 1, INT32_MIN], s64=[INT64_MIN, -2], f32=[1, 2, 3], f64=[4, 5],
                      sf32=[-1, -2], sf64=[-3], flt=[1.5, -2.25], dbl=[math.inf, -0.0, 1e-300], flag=[True, False, True],
                      text=["a", "", "ünï"], data=[b"\x01\x02", b"", b"\x00"], color=[T.RED, T.GREEN, 77],
                      messages=[scalars(), T.Scalars()], unpacked_i32=[3, -4, 5])


def maps():
    m = T.Maps()
    m.string_to_string.update({"b": "2", "a": "1", "ä": "umlaut"})
    m.int_to_long.update({3: -3, -1: 1, 100: INT64_MAX})
    m.string_to_message["one"].CopyFrom(scalars())
    m.string_to_message["two"].CopyFrom(T.Scalars())
    m.id_to_color.update({1: T.RED, 2**64 - 1: T.BLUE})
    m.flag_to_bytes.update({True: b"\x01"})
    m.sint_to_double.update({-5: 0.5, 5: -0.5})
    return m


def oneofs():
    inner = T.Oneofs(name="inner", ratio=0.25)
    m = T.Oneofs(after="after")
    m.scalars.CopyFrom(scalars())
    m.nested.CopyFrom(inner)
    return m


def outer():
    inner = T.Outer.Inner(value=9, deepest=T.Outer.Inner.Deepest(leaf="leaf"))
    m = T.Outer(inner=inner, inners=[inner, T.Outer.Inner()], mode=T.Outer.SAFE, some_snake_case_name=77,
                imported=I.ImportedMessage(note="note"))
    setattr(m, "class", "class")
    setattr(m, "self", 5)
    setattr(m, "default", "default")
    setattr(m, "protocol", True)
    setattr(m, "type", "type")
    return m


def tree(depth):
    t = T.Tree(label=f"d{depth}")
    if depth > 0:
        t.left.CopyFrom(tree(depth - 1))
        t.right.CopyFrom(tree(depth - 1))
        t.children.append(tree(depth - 1))
    return t


def well_known():
    m = T.WellKnown()
    m.at.CopyFrom(timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=123_456_789))
    m.took.CopyFrom(duration_pb2.Duration(seconds=1, nanos=500_000_000))
    m.nothing.CopyFrom(empty_pb2.Empty())
    m.anything.Pack(scalars())
    number = struct_pb2.Value(number_value=42)
    text = struct_pb2.Value(string_value="text")
    null = struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    listing = struct_pb2.Value(list_value=struct_pb2.ListValue(values=[number, text, null]))
    nested = struct_pb2.Value(struct_value=struct_pb2.Struct(fields={"flag": struct_pb2.Value(bool_value=True)}))
    m.object.fields["number"].CopyFrom(number)
    m.object.fields["list"].CopyFrom(listing)
    m.object.fields["nested"].CopyFrom(nested)
    m.value.CopyFrom(listing)
    m.status.code = S.NOT_FOUND
    m.status.message = "missing"
    m.status.details.add().Pack(scalars())
    return m


def proto2():
    return I.Proto2(id=7, big=0, values=[1, 2, 3], packed_values=[4, 5], right="right")


# -- the corpus ------------------------------------------------------------------------------
def corpus():
    frame = W.FrameHeader(kind=W.OPEN, stream_id=7, flags=W.FLAG_MESSAGE | W.FLAG_END_STREAM,
                          method="/plexus.testing.v1.TestService/UnaryCall", timeout_micros=1_500_000)
    frame.headers.add(key="x-user", text="ada")
    frame.headers.add(key="x-token-bin", binary=b"\x00\xff")
    close = W.FrameHeader(kind=W.CLOSE, stream_id=7, flags=W.FLAG_END_STREAM)
    close.status.code = S.UNKNOWN
    close.status.message = "\t\nUnicode ☺ 😈"
    close.trailers.add(key="x-trailer", text="t")
    hello = W.FrameHeader(kind=W.HELLO, hello=W.Hello(protocol_version=1, max_message_size=4 << 20,
                                                      initial_window=1 << 20, agent="plexus-python"))
    big = T.Scalars(data=bytes((i * 31) & 0xff for i in range((1 << 20) + 7)))
    extremes = [T.Scalars(i32=v) for v in (INT32_MIN, -1, INT32_MAX)] + \
               [T.Scalars(s32=v, s64=w) for v, w in ((INT32_MIN, INT64_MIN), (INT32_MAX, INT64_MAX), (-1, -1))] + \
               [T.Scalars(sf32=INT32_MIN, sf64=INT64_MIN, f32=2**32 - 1, f64=2**64 - 1)] + \
               [T.Scalars(flt=float("inf"), dbl=float("-inf")), T.Scalars(flt=1e-45, dbl=5e-324),
                T.Scalars(flt=3.4028234663852886e38, dbl=1.7976931348623157e308)]
    nan = float("nan")
    negative_nan = struct.unpack("<d", struct.pack("<Q", 0xfff8000000000001))[0]  # sign + payload bits
    cases = {
        "scalars": scalars(), "repeated": repeated(), "maps": maps(), "oneofs": oneofs(), "outer": outer(),
        "tree": tree(4), "well_known": well_known(), "proto2": proto2(),
        "proto2_minimal": I.Proto2(id=-1), "proto2_defaults_set": I.Proto2(id=1, name="unnamed", big=-42, enabled=True),
        "oneof_empty_string": T.Oneofs(name=""), "oneof_zero_number": T.Oneofs(number=0),
        "oneof_enum": T.Oneofs(color=T.GREEN), "oneof_blob": T.Oneofs(blob=b"\x00\x01"),
        "empty_scalars": T.Scalars(), "unknown_enum": T.Scalars(color=1234),
        "utf8": T.Scalars(text="日本語 • Ελληνικά • עברית • 🎉👨‍👩‍👧 • e\u0301"),
        "large_bytes": big, "frame_open": frame, "frame_close": close, "frame_hello": hello,
        "status": well_known().status,
        # NaN and -0.0 (only where the field has presence: proto3 drops a singular -0.0 in C).
        "nan_singular": T.Scalars(flt=nan, dbl=negative_nan),
        "nan_and_negative_zero_repeated": T.Repeated(flt=[nan, -0.0, float("-inf"), 0.0], dbl=[negative_nan, -0.0, nan, 1.0]),
        "negative_zero_oneof": T.Oneofs(ratio=-0.0),
        "nan_oneof": T.Oneofs(ratio=negative_nan),
        "negative_zero_proto2": I.Proto2(id=0, ratio=-0.0, scale=-0.0),
        "nan_proto2": I.Proto2(id=INT32_MIN, ratio=nan, scale=nan),
        "nan_map_value": T.Maps(sint_to_double={-7: nan}),
        "packed_every_scalar_once": T.Repeated(i32=[-1], i64=[-1], u32=[1], u64=[1], s32=[-1], s64=[-1], f32=[1], f64=[1],
                                               sf32=[-1], sf64=[-1], flt=[-1.0], dbl=[-1.0], flag=[True], color=[T.GREEN]),
        "unpacked_only": T.Repeated(unpacked_i32=[INT32_MIN, -1, 0, 1, INT32_MAX]),
        "tree_left_only": _chain(30),
    }
    for i, m in enumerate(extremes):
        cases[f"extreme_{i}"] = m
    return cases


def _chain(depth):
    """A Tree `depth` levels deep along `left` (deep, still under the 100-level limit)."""
    t = T.Tree(label="leaf")
    for i in range(depth):
        t = T.Tree(label=f"n{i}", left=t)
    return t


def unknown_field_cases():
    base = scalars().SerializeToString(deterministic=True)
    extra = bytes([0xf8, 0x06, 0x96, 0x01,              # field 111 varint 150
                   0xfd, 0x06, 1, 2, 3, 4,              # field 111 fixed32
                   0x81, 0x07, 1, 2, 3, 4, 5, 6, 7, 8,  # field 112 fixed64
                   0x8a, 0x07, 0x03, 0x61, 0x62, 0x63]) # field 113 "abc"
    return {"unknown_fields": ("plexus.test.v1.Scalars", base + extra)}


# Maps with signed integer keys: Python's upb writes them in an order of its own (it is not
# ascending, unlike C++ protobuf), and map order is unspecified by protobuf, so these cases are
# compared by value, not by bytes.
VALUE_ONLY = {"maps", "swift_maps"}

SWIFT_CASES = {"swift_scalars": scalars, "swift_repeated": repeated, "swift_maps": maps, "swift_oneofs": oneofs,
               "swift_outer": outer, "swift_tree": lambda: tree(4), "swift_well_known": well_known,
               "swift_proto2": proto2}


def same_value(a, b):
    """Field equality, strict about floats: NaN equals the same NaN (`==` says NaN != NaN) and
    -0.0 differs from 0.0 (`==` says they are equal). Both messages are Python's, so their
    deterministic serializations are identical exactly when every field (map order aside,
    which deterministic serialization fixes) has identical bits."""
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def find_message(name, cases):
    if name in cases:
        return cases[name]
    if name in SWIFT_CASES:
        return SWIFT_CASES[name]()
    return None


def encode(directory):
    directory = pathlib.Path(directory)
    lines = []
    for name, message in corpus().items():
        (directory / f"{name}.bin").write_bytes(message.SerializeToString(deterministic=True))
        suffix = "\tvalue" if name in VALUE_ONLY else ""
        lines.append(f"{name}\t{message.DESCRIPTOR.full_name}{suffix}")
    for name, (type_name, data) in unknown_field_cases().items():
        (directory / f"{name}.bin").write_bytes(data)
        lines.append(f"{name}\t{type_name}")
    (directory / "manifest.tsv").write_text("\n".join(lines) + "\n")


def check(directory):
    directory = pathlib.Path(directory)
    cases = corpus()
    unknown = unknown_field_cases()
    passed = failed = 0
    present = {p.name[:-len(".swift.bin")] for p in directory.glob("*.swift.bin")}
    for name in sorted(set(SWIFT_CASES) - present):
        print(f"FAIL {name}: missing ({name}.swift.bin not written by the Swift side)")
        failed += 1
    for path in sorted(directory.glob("*.swift.bin")):
        name = path.name[:-len(".swift.bin")]
        data = path.read_bytes()
        if name in unknown:
            ok = data == unknown[name][1]
            reason = "bytes differ from the original with unknown fields"
        else:
            expected = find_message(name, cases)
            if expected is None:
                print(f"FAIL {name}: unknown case")
                failed += 1
                continue
            parsed = type(expected)()
            try:
                parsed.ParseFromString(data)
            except Exception as error:  # a decode error is a failure of this case
                print(f"FAIL {name}: Python cannot parse Swift's bytes: {error}")
                failed += 1
                continue
            same_bytes = name in VALUE_ONLY or parsed.SerializeToString(deterministic=True) == data
            equal = same_value(parsed, expected)
            ok = equal and same_bytes
            reason = "value differs" if not equal else "Python re-encodes to different bytes"
        if ok:
            passed += 1
            print(f"ok {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {reason}")
    print(f"{passed} passed, {failed} failed")
    return failed == 0


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def malformed(directory):
    directory = pathlib.Path(directory)
    nested = b""
    for _ in range(200):
        nested = b"\x12" + varint(len(nested)) + nested
    cases = {
        "truncated_varint": ("plexus.test.v1.Scalars", b"\x08\xff"),
        "truncated_length_delimited": ("plexus.test.v1.Scalars", b"\x72\x05ab"),
        "length_past_end": ("plexus.test.v1.Repeated", b"\x0a\x40\x01\x02"),
        "wrong_wire_type": ("plexus.test.v1.Scalars", b"\x0d\x01\x02\x03\x04"),
        "invalid_utf8": ("plexus.test.v1.Scalars", b"\x72\x02\xc3\x28"),
        "nesting_past_limit": ("plexus.test.v1.Tree", nested),
        "overlong_varint": ("plexus.test.v1.Scalars", b"\x08" + b"\xff" * 10 + b"\x01"),
        "tag_zero": ("plexus.test.v1.Scalars", b"\x00\x01"),
        "truncated_fixed64": ("plexus.test.v1.Scalars", b"\x41\x01\x02\x03"),
    }
    lines = []
    for name, (type_name, data) in cases.items():
        (directory / f"{name}.bin").write_bytes(data)
        lines.append(f"{name}\t{type_name}")
    (directory / "malformed.tsv").write_text("\n".join(lines) + "\n")


def describe():
    """The whole corpus as text format (messages over 16 KiB are summarised)."""
    from google.protobuf import text_format
    for name, message in {**corpus(), **{k: v() for k, v in SWIFT_CASES.items()}}.items():
        print(f"== {name} ({message.DESCRIPTOR.full_name})")
        if message.ByteSize() > 16384:
            fields = ", ".join(f"{f.name}: {len(v)} bytes" if isinstance(v, bytes) else f"{f.name}: {v!r}"
                               for f, v in message.ListFields())
            print(f"# {message.ByteSize()} bytes: {fields}; data[i] = (i * 31) & 0xff")
        else:
            print(text_format.MessageToString(message, as_utf8=True), end="")
    for name, (type_name, data) in unknown_field_cases().items():
        print(f"== {name} ({type_name}, raw bytes: swift_scalars' message + fields 111-113 the schema lacks)")
        print(data.hex(" "))


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "describe"
    if command == "encode":
        encode(sys.argv[2])
    elif command == "check":
        sys.exit(0 if check(sys.argv[2]) else 1)
    elif command == "malformed":
        malformed(sys.argv[2])
    elif command == "describe":
        describe()
    else:
        sys.exit(f"unknown command {command}; use encode DIR | check DIR | malformed DIR | describe")


if __name__ == "__main__":
    main()
