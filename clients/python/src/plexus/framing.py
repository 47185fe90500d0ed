"""Frames: u32 BE header length | u32 BE payload length | FrameHeader (protobuf) | payload."""
import struct

from plexus.wire.v1 import frame_pb2

PREFIX = struct.Struct(">II")
FLAG_MESSAGE = frame_pb2.FLAG_MESSAGE
FLAG_END_STREAM = frame_pb2.FLAG_END_STREAM


def encode(header, payload=None):
    """One frame as bytes. `payload` None means the frame carries no message."""
    head = header.SerializeToString()
    body = payload if payload is not None else b""
    return PREFIX.pack(len(head), len(body)) + head + body


def metadata_entries(pairs):
    """[(key, str|bytes)] -> [MetadataEntry]; bytes values travel as binary."""
    entries = []
    for key, value in pairs or []:
        entry = frame_pb2.MetadataEntry(key=key.lower())
        if isinstance(value, (bytes, bytearray)):
            entry.binary = bytes(value)
        else:
            entry.text = str(value)
        entries.append(entry)
    return entries


def metadata_pairs(entries):
    """[MetadataEntry] -> [(key, str|bytes)]."""
    pairs = []
    for entry in entries:
        which = entry.WhichOneof("value")
        pairs.append((entry.key, entry.binary if which == "binary" else entry.text))
    return pairs


class FrameReader:
    """Accumulates bytes and yields complete (header, payload) frames."""

    def __init__(self, max_header=16 * 1024, max_payload=4 * 1024 * 1024):
        self.buffer = bytearray()
        self.max_header = max_header
        self.max_payload = max_payload

    def feed(self, data):
        self.buffer += data
        frames = []
        while len(self.buffer) >= PREFIX.size:
            head_len, body_len = PREFIX.unpack_from(self.buffer)
            if head_len > self.max_header:
                raise ValueError(f"frame header of {head_len} bytes exceeds {self.max_header}")
            if body_len > self.max_payload:
                raise ValueError(f"frame payload of {body_len} bytes exceeds {self.max_payload}")
            total = PREFIX.size + head_len + body_len
            if len(self.buffer) < total:
                break
            header = frame_pb2.FrameHeader.FromString(bytes(self.buffer[PREFIX.size:PREFIX.size + head_len]))
            payload = bytes(self.buffer[PREFIX.size + head_len:total])
            del self.buffer[:total]
            has_message = bool(header.flags & FLAG_MESSAGE)
            frames.append((header, payload if has_message or body_len else None))
        return frames
