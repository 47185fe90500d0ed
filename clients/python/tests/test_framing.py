"""The framing layer on its own (no sockets)."""
import pytest

from plexus import framing
from plexus.wire.v1 import frame_pb2 as K


def test_frames_split_across_reads_and_coalesced():
    one = framing.encode(K.FrameHeader(kind=K.MESSAGE, stream_id=1), b"")
    two = framing.encode(K.FrameHeader(kind=K.CLOSE, stream_id=1), None)
    data = one + two
    reader = framing.FrameReader()
    frames = []
    for i in range(len(data)):
        frames += reader.feed(data[i:i + 1])
    assert [h.kind for h, _ in frames] == [K.MESSAGE, K.CLOSE]
    assert frames[0][1] == b""  # an empty message is present, not absent
    assert frames[0][0].flags & framing.FLAG_MESSAGE
    assert frames[1][1] is None
    assert reader.buffer == bytearray()


def test_protocol_md_worked_example_bytes():
    """PROTOCOL.md §9: the client's HELLO and OPEN, byte for byte."""
    hello = framing.encode(K.FrameHeader(kind=K.HELLO, hello=K.Hello(
        protocol_version=1, max_message_size=4194304, initial_window=1048576, agent="py")))
    assert hello.hex(" ") == "00 00 00 13 00 00 00 00 08 01 5a 0f 08 01 10 80 80 80 02 20 80 80 40 3a 02 70 79"
    open_ = framing.encode(K.FrameHeader(kind=K.OPEN, stream_id=1, flags=framing.FLAG_END_STREAM,
                                         method="/plexus.testing.v1.TestService/UnaryCall", timeout_micros=500000),
                           bytes([0x08, 0x03]))
    method = "/plexus.testing.v1.TestService/UnaryCall".encode().hex(" ")
    assert open_.hex(" ") == f"00 00 00 34 00 00 00 02 08 02 10 01 18 03 22 28 {method} 30 a0 c2 1e 08 03"
    close = bytes.fromhex("00000008 00000007 0805 1001 1803 3a00 0a050a03000000")
    [(header, payload)] = framing.FrameReader().feed(close)
    assert header.kind == K.CLOSE and header.stream_id == 1 and header.HasField("status")
    assert header.status.code == 0 and payload == bytes.fromhex("0a050a03000000")


def test_metadata_round_trip_and_rules():
    pairs = [("x-text", "value"), ("x-data-bin", b"\x00\xff"), ("x-text", "again"), ("x-empty", "")]
    entries = framing.metadata_entries(pairs)
    assert entries[3].WhichOneof("value") == "text"  # present even when empty
    assert framing.metadata_pairs(entries) == pairs
    assert framing.metadata_pairs(framing.metadata_entries([("X-Upper", "v")])) == [("x-upper", "v")]
    with pytest.raises(ValueError):
        framing.metadata_entries([("x-data-bin", "text for a -bin key")])


def test_oversize_header_is_a_connection_error_after_the_frames_before_it():
    reader = framing.FrameReader(max_header=16)
    ok = framing.encode(K.FrameHeader(kind=K.PING, ping_data=1))
    bad = framing.encode(K.FrameHeader(kind=K.OPEN, stream_id=1, method="/a.B/CCCCCCCCCCCCCCCC"))
    frames = reader.feed(ok + bad)
    assert [h.kind for h, _ in frames] == [K.PING]
    assert isinstance(reader.error, framing.ProtocolError) and "exceeds" in str(reader.error)
    with pytest.raises(framing.ProtocolError):
        reader.feed(b"")


def test_payload_without_flag_message_is_a_connection_error():
    head = K.FrameHeader(kind=K.MESSAGE, stream_id=1).SerializeToString()
    reader = framing.FrameReader()
    assert reader.feed(framing.PREFIX.pack(len(head), 2) + head + b"ab") == []
    assert "without FLAG_MESSAGE" in str(reader.error)


def test_malformed_header_is_a_connection_error():
    reader = framing.FrameReader()
    reader.feed(framing.PREFIX.pack(1, 0) + b"\x08")  # a truncated varint
    assert isinstance(reader.error, framing.ProtocolError)
    reader = framing.FrameReader()
    reader.feed(framing.PREFIX.pack(2, 0) + b"\x22\x05")  # a length past the end
    assert isinstance(reader.error, framing.ProtocolError)


def test_oversize_payload_is_skipped_and_reported_without_buffering():
    reader = framing.FrameReader(max_payload=10)
    big = framing.encode(K.FrameHeader(kind=K.MESSAGE, stream_id=3), b"x" * 1000)
    after = framing.encode(K.FrameHeader(kind=K.MESSAGE, stream_id=5), b"ok")
    data = big + after
    frames = reader.feed(data[:100])
    assert len(frames) == 1 and isinstance(frames[0][1], framing.Oversize) and frames[0][1].size == 1000
    assert len(reader.buffer) == 0  # the payload is dropped, not kept
    frames = reader.feed(data[100:600]) + reader.feed(data[600:])
    assert [(h.stream_id, p) for h, p in frames] == [(5, b"ok")]
