"""The framing layer on its own."""
from plexus import framing
from plexus.wire.v1 import frame_pb2 as K


def test_frames_split_across_reads_and_coalesced():
    one = framing.encode(K.FrameHeader(kind=K.MESSAGE, stream_id=1, flags=framing.FLAG_MESSAGE), b"")
    two = framing.encode(K.FrameHeader(kind=K.CLOSE, stream_id=1), None)
    data = one + two
    reader = framing.FrameReader()
    frames = []
    for i in range(len(data)):
        frames += reader.feed(data[i:i + 1])
    assert [h.kind for h, _ in frames] == [K.MESSAGE, K.CLOSE]
    assert frames[0][1] == b""  # an empty message is present, not absent
    assert frames[1][1] is None


def test_metadata_round_trip():
    pairs = [("x-text", "value"), ("x-data-bin", b"\x00\xff")]
    assert framing.metadata_pairs(framing.metadata_entries(pairs)) == pairs


def test_oversize_header_is_rejected():
    reader = framing.FrameReader(max_header=4)
    try:
        reader.feed(framing.encode(K.FrameHeader(kind=K.OPEN, stream_id=1, method="/a.B/C")))
    except ValueError as error:
        assert "exceeds" in str(error)
    else:
        raise AssertionError("oversize header accepted")
