"""Frames (docs/PROTOCOL.md §1):
u32 BE header length | u32 BE payload length | FrameHeader (protobuf) | payload.

Pure functions and a sans-I/O reader, testable without sockets.
"""
import struct

from google.protobuf.message import DecodeError

from plexus.wire.v1 import frame_pb2

PREFIX = struct.Struct(">II")
FLAG_MESSAGE = frame_pb2.FLAG_MESSAGE
FLAG_END_STREAM = frame_pb2.FLAG_END_STREAM

DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
DEFAULT_MAX_HEADER_SIZE = 16 * 1024
DEFAULT_WINDOW = 1024 * 1024
DEFAULT_MAX_CONCURRENT_STREAMS = 100


class ProtocolError(Exception):
    """A connection error (§8): the connection must be closed (after a GOAWAY naming it)."""


class Oversize:
    """Stands in for a payload longer than the receiver's max_message_size (§1): the bytes were
    skipped; only the frame's stream fails."""

    __slots__ = ("size",)

    def __init__(self, size):
        self.size = size

    def __repr__(self):
        return f"Oversize({self.size})"


def encode_header(header):
    return header.SerializeToString()


def encode(header, payload=None, head=None):
    """One frame as bytes. `payload` None means the frame carries no message; bytes (even
    empty) mean it carries one, and FLAG_MESSAGE is set. `head` is the header's serialization
    when the caller already has it."""
    if payload is not None:
        header.flags |= FLAG_MESSAGE
    if head is None:
        head = header.SerializeToString()
    body = payload if payload is not None else b""
    return PREFIX.pack(len(head), len(body)) + head + body


def metadata_entries(pairs):
    """[(key, str|bytes)] -> [MetadataEntry]. Keys are lowercased; bytes values travel as
    `binary`, str values as `text`. A key ending in "-bin" must have a bytes value."""
    entries = []
    for key, value in pairs or []:
        key = key.lower()
        if not key.isascii() or not key:
            raise ValueError(f"metadata key {key!r} must be non-empty lowercase ASCII")
        entry = frame_pb2.MetadataEntry(key=key)
        if isinstance(value, (bytes, bytearray, memoryview)):
            entry.binary = bytes(value)
        elif key.endswith("-bin"):
            raise ValueError(f"metadata key {key!r} ends in -bin: its value must be bytes")
        else:
            entry.text = str(value)
        entries.append(entry)
    return entries


def metadata_pairs(entries):
    """[MetadataEntry] -> [(key, str|bytes)] in order (keys may repeat)."""
    pairs = []
    for entry in entries:
        which = entry.WhichOneof("value")
        pairs.append((entry.key, entry.binary if which == "binary" else entry.text))
    return pairs


class FrameReader:
    """Accumulates bytes and returns complete frames as (FrameHeader, payload), where payload
    is None (no message), bytes (a message, possibly empty) or Oversize (a message over
    `max_payload`, skipped without buffering it). On a connection error, feed() returns the
    frames before it and sets `error` (a ProtocolError); feeding more raises it."""

    def __init__(self, max_header=DEFAULT_MAX_HEADER_SIZE, max_payload=DEFAULT_MAX_MESSAGE_SIZE):
        self.buffer = bytearray()
        self.max_header = max_header
        self.max_payload = max_payload
        self._skipping = 0  # payload bytes still to drop for an oversize frame
        self.error = None

    def feed(self, data):
        if self.error is not None:
            raise self.error
        frames = []
        if self._skipping:
            dropped = min(self._skipping, len(data))
            self._skipping -= dropped
            data = data[dropped:]
        buffer = self.buffer
        buffer += data
        pos = 0
        try:
            while len(buffer) - pos >= PREFIX.size:
                head_len, body_len = PREFIX.unpack_from(buffer, pos)
                if head_len > self.max_header:
                    raise ProtocolError(f"frame header of {head_len} bytes exceeds the limit of {self.max_header} bytes")
                head_start = pos + PREFIX.size
                body_start = head_start + head_len
                if len(buffer) < body_start:
                    break
                try:
                    header = frame_pb2.FrameHeader.FromString(bytes(buffer[head_start:body_start]))
                except DecodeError as error:
                    raise ProtocolError(f"malformed frame header: {error}") from None
                has_message = bool(header.flags & FLAG_MESSAGE)
                if body_len and not has_message:
                    raise ProtocolError(f"{body_len} payload bytes in a frame without FLAG_MESSAGE")
                if body_len > self.max_payload:
                    # Skip the payload (it may be huge) and fail only its stream.
                    available = min(len(buffer) - body_start, body_len)
                    pos = body_start + available
                    self._skipping = body_len - available
                    frames.append((header, Oversize(body_len)))
                    if self._skipping:
                        break
                    continue
                end = body_start + body_len
                if len(buffer) < end:
                    break
                frames.append((header, bytes(buffer[body_start:end]) if has_message else None))
                pos = end
        except ProtocolError as error:
            self.error = error
        finally:
            del buffer[:pos]
        return frames
