"""One call on a Plexus channel (a stream, docs/PROTOCOL.md §3–§5): its reads, writes,
flow-control credit and end; and the server's limits from its HELLO. Made by `Channel.start`."""
import asyncio
import collections

from google.protobuf.message import DecodeError

from plexus.wire.v1 import frame_pb2 as K

from . import framing
from .framing import Oversize
from .status import RpcError, StatusCode


class PeerLimits:
    """The server's limits from its HELLO (§2); the defaults until it arrives."""

    def __init__(self):
        self.known = False
        self.max_message_size = framing.DEFAULT_MAX_MESSAGE_SIZE
        self.max_header_size = framing.DEFAULT_MAX_HEADER_SIZE
        self.initial_window = framing.DEFAULT_WINDOW
        self.max_concurrent_streams = framing.DEFAULT_MAX_CONCURRENT_STREAMS
        self.agent = ""

    def update(self, hello):
        self.known = True
        self.max_message_size = hello.max_message_size or framing.DEFAULT_MAX_MESSAGE_SIZE
        self.max_header_size = hello.max_header_size or framing.DEFAULT_MAX_HEADER_SIZE
        self.initial_window = hello.initial_window or framing.DEFAULT_WINDOW
        self.max_concurrent_streams = hello.max_concurrent_streams or framing.DEFAULT_MAX_CONCURRENT_STREAMS
        self.agent = hello.agent


class Call:
    """One call (stream). Streaming calls are driven through it: `await write(m)`,
    `await done_writing()`, `await read()` or `async for m in call`, `await headers()`,
    `trailers`, `cancel()`. Unary-response calls: `await response()`."""

    def __init__(self, channel, stream_id, method, response_type):
        self._channel = channel
        self.stream_id = stream_id
        self.method = method
        self._response_type = response_type
        self._messages = collections.deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._headers_event = asyncio.Event()
        self._headers = None
        self.trailers = []
        self._status = None  # (StatusCode, message, [Any]) once ended
        self._pending_open = None  # (OPEN header, payload) until sent
        self._deadline_at = None
        self._deadline_timer = None
        self._opened = False
        self._half_closed = False
        self._credit = 0  # send credit (§5)
        self._consumed = 0  # bytes read since the last WINDOW_UPDATE we sent
        self._received = 0  # payload bytes received (credit enforcement, §5)
        self._granted = 0  # sum of our WINDOW_UPDATE increments

    # -- state --------------------------------------------------------------------------------
    @property
    def done(self):
        return self._status is not None

    @property
    def status(self):
        """(StatusCode, message, details) once the call ended, else None."""
        return self._status

    @property
    def code(self):
        return self._status[0] if self._status else None

    def _error(self):
        code, message, details = self._status
        return RpcError(code, message, self.trailers, details)

    def _end(self, code, message, details=(), *, send_cancel=False, keep_messages=False):
        """Ends the call once. Local ends (cancel, deadline, connection loss, limits) drop
        buffered messages; the server's CLOSE keeps them readable before the status."""
        if self._status is not None:
            return False
        if send_cancel and self._opened:
            self._channel._send_frame(K.FrameHeader(kind=K.CANCEL, stream_id=self.stream_id))
        self._status = (StatusCode.of(code), message, list(details))
        if not keep_messages:
            self._messages.clear()
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        if self._headers is None:
            self._headers = []
        self._headers_event.set()
        self._readable.set()
        self._writable.set()
        self._channel._stream_ended(self)
        return True

    def cancel(self, message="the call was cancelled by the client"):
        """Abandons the call: CANCEL to the server; the call ends with CANCELLED."""
        return self._end(StatusCode.CANCELLED, message, send_cancel=True)

    def _deadline_passed(self, timeout):
        self._deadline_timer = None
        self._end(StatusCode.DEADLINE_EXCEEDED, f"deadline exceeded after {timeout:g} s", send_cancel=True)

    async def _wait(self, event):
        event.clear()
        try:
            await event.wait()
        except asyncio.CancelledError:
            self.cancel("the task waiting on the call was cancelled")
            raise

    # -- frames from the server ---------------------------------------------------------------
    def _on_frame(self, header, payload):
        kind = header.kind
        if kind == K.WINDOW_UPDATE:
            self._credit += header.window_increment
            if self._credit > 0:
                self._writable.set()
            return
        if self._headers is None:  # the first server frame carries the response headers (§3)
            self._headers = framing.metadata_pairs(header.headers)
            self._headers_event.set()
        if isinstance(payload, Oversize):
            limit = self._channel.max_message_size
            self._end(StatusCode.RESOURCE_EXHAUSTED,
                      f"response message of {payload.size} bytes exceeds the client's limit of {limit} bytes "
                      f"(Channel(max_message_size=...))", send_cancel=kind != K.CLOSE)
            return
        if payload is not None and kind in (K.MESSAGE, K.CLOSE):
            self._received += len(payload)
            channel = self._channel
            allowance = max(channel.window, framing.DEFAULT_WINDOW) + self._granted + channel.max_message_size
            if self._received > allowance:
                self._end(StatusCode.RESOURCE_EXHAUSTED,
                          f"flow control violated: the server sent {self._received} bytes on stream "
                          f"{self.stream_id}, more than the {allowance} bytes of credit it had", send_cancel=True)
                return
            self._messages.append(payload)
            self._readable.set()
        if kind == K.CLOSE:
            self.trailers = framing.metadata_pairs(header.trailers)
            st = header.status
            self._end(st.code, st.message, list(st.details), keep_messages=True)

    # -- reading ------------------------------------------------------------------------------
    async def read(self):
        """The next response message, or None once the server ended the call with OK.
        Raises RpcError when the call ended otherwise."""
        while not self._messages:
            if self._status is not None:
                if self._status[0] == StatusCode.OK:
                    return None
                raise self._error()
            await self._wait(self._readable)
        payload = self._messages.popleft()
        self._consumed += len(payload)
        if self._status is None and self._consumed >= self._channel.window // 2:
            self._granted += self._consumed
            self._channel._send_frame(K.FrameHeader(kind=K.WINDOW_UPDATE, stream_id=self.stream_id,
                                                    window_increment=self._consumed))
            self._consumed = 0
        try:
            return self._response_type.FromString(payload)
        except DecodeError as error:
            self._end(StatusCode.INTERNAL, f"could not decode a response as {self._response_type.DESCRIPTOR.full_name}: "
                                           f"{error}", send_cancel=True)
            raise self._error() from None

    def __aiter__(self):
        return self

    async def __anext__(self):
        message = await self.read()
        if message is None:
            raise StopAsyncIteration
        return message

    async def response(self):
        """For unary and client-streaming calls: the single response message, after the
        call's OK status (raises RpcError otherwise)."""
        message = await self.read()
        if message is None:
            raise RpcError(StatusCode.INTERNAL, "the server ended the call with OK but sent no response message",
                           self.trailers)
        if await self.read() is not None:
            self.cancel("more than one response message for a unary response")
            raise RpcError(StatusCode.INTERNAL, "the server sent more than one response message", self.trailers)
        return message

    async def headers(self):
        """Response headers as [(key, str|bytes)] (waits for the server's first frame)."""
        await self._headers_event.wait()
        return self._headers

    async def wait(self):
        """Waits for the end of the call without reading; returns the status tuple."""
        while self._status is None:
            await self._wait(self._readable)
        return self._status

    # -- writing ------------------------------------------------------------------------------
    async def write(self, message, *, last=False):
        """Sends one request message (waits for the stream to open and for flow-control
        credit). `last=True` also half-closes. Returns False when the server already ended
        the call with OK (the message was not sent); raises RpcError when it ended otherwise."""
        if self._half_closed:
            raise RuntimeError("write() after done_writing() or write(last=True)")
        payload = message.SerializeToString()
        while self._status is None and (not self._opened or self._credit <= 0):
            await self._wait(self._writable)
        if self._status is not None:
            if self._status[0] == StatusCode.OK:
                return False
            raise self._error()
        peer = self._channel._peer
        if peer.known and len(payload) > peer.max_message_size:
            self._end(StatusCode.RESOURCE_EXHAUSTED, f"request message of {len(payload)} bytes exceeds the server's "
                                                     f"limit of {peer.max_message_size} bytes", send_cancel=True)
            raise self._error()
        flags = framing.FLAG_MESSAGE | (framing.FLAG_END_STREAM if last else 0)
        self._channel._send_frame(K.FrameHeader(kind=K.MESSAGE, stream_id=self.stream_id, flags=flags), payload)
        self._credit -= len(payload)
        if last:
            self._half_closed = True
        await self._drain()
        return True

    async def done_writing(self):
        """Half-closes: the server sees the end of the request stream."""
        if self._half_closed:
            return
        while self._status is None and not self._opened:
            await self._wait(self._writable)
        if self._status is not None or self._half_closed:
            return
        self._half_closed = True
        self._channel._send_frame(K.FrameHeader(kind=K.HALF_CLOSE, stream_id=self.stream_id))
        await self._drain()

    async def _drain(self):
        try:
            await self._channel._drain()
        except asyncio.CancelledError:
            self.cancel("the task waiting on the call was cancelled")
            raise

    # -- context manager: leaving it before the end cancels the call ---------------------------
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if self._status is None:
            self.cancel("the call was left before it ended")
