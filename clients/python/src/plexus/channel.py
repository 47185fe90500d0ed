"""An asyncio connection to a Plexus server, multiplexing calls by stream id."""
import asyncio
import collections

from plexus.wire.v1 import frame_pb2

from . import framing
from .status import RpcError, StatusCode

K = frame_pb2
DEFAULT_WINDOW = 1024 * 1024


class Call:
    """One call. Streaming calls are driven through it: write(), done_writing(), async iteration."""

    def __init__(self, channel, stream_id, response_type):
        self._channel = channel
        self.stream_id = stream_id
        self._response_type = response_type
        self._messages = collections.deque()
        self._arrived = asyncio.Event()
        self._headers = None
        self._headers_event = asyncio.Event()
        self.trailers = []
        self.status = None  # (code, message, details) once ended
        self._send_window = channel._peer_window
        self._window_event = asyncio.Event()
        self._consumed = 0
        self._half_closed = False

    # -- frames from the server -------------------------------------------------
    def _on_frame(self, header, payload):
        if header.headers and self._headers is None:
            self._headers = framing.metadata_pairs(header.headers)
        if header.kind in (K.MESSAGE, K.CLOSE, K.HEADERS) and not self._headers_event.is_set():
            if self._headers is None and header.kind != K.CLOSE:
                self._headers = []
            if self._headers is not None or header.kind == K.CLOSE:
                self._headers_event.set()
        if header.kind == K.MESSAGE and payload is not None:
            self._messages.append(payload)
            self._arrived.set()
        elif header.kind == K.CLOSE:
            if header.flags & framing.FLAG_MESSAGE:
                self._messages.append(payload or b"")
            self.trailers = framing.metadata_pairs(header.trailers)
            st = header.status
            self._end(st.code, st.message, [d.SerializeToString() for d in st.details])
        elif header.kind == K.WINDOW_UPDATE:
            self._send_window += header.window_increment
            if self._send_window > 0:
                self._window_event.set()

    def _end(self, code, message, details=()):
        if self.status is not None:
            return
        self.status = (StatusCode.of(code), message, list(details))
        if self._headers is None:
            self._headers = []
        self._headers_event.set()
        self._arrived.set()
        self._window_event.set()
        self._channel._calls.pop(self.stream_id, None)

    def _error(self):
        code, message, details = self.status
        return RpcError(code, message, self.trailers, details)

    # -- reading ---------------------------------------------------------------
    async def read(self):
        """The next response message, or None when the server ended the call with OK."""
        while not self._messages:
            if self.status is not None:
                if self.status[0] != StatusCode.OK:
                    raise self._error()
                return None
            self._arrived.clear()
            await self._arrived.wait()
        payload = self._messages.popleft()
        self._consumed += len(payload)
        if self._consumed >= self._channel.window // 2 and self.status is None:
            self._channel._send(K.FrameHeader(kind=K.WINDOW_UPDATE, stream_id=self.stream_id,
                                              window_increment=self._consumed))
            self._consumed = 0
        return self._response_type.FromString(payload)

    def __aiter__(self):
        return self

    async def __anext__(self):
        message = await self.read()
        if message is None:
            raise StopAsyncIteration
        return message

    async def headers(self):
        """Response headers as [(key, str|bytes)] (waits for the first server frame)."""
        await self._headers_event.wait()
        return self._headers or []

    # -- writing ---------------------------------------------------------------
    async def write(self, message):
        """Sends one request message, waiting for flow-control credit."""
        while self._send_window <= 0 and self.status is None:
            self._window_event.clear()
            await self._window_event.wait()
        if self.status is not None:
            raise self._error() if self.status[0] != StatusCode.OK else RpcError(StatusCode.CANCELLED, "the call already ended")
        if self._half_closed:
            raise RpcError(StatusCode.FAILED_PRECONDITION, "cannot write after done_writing()")
        payload = message.SerializeToString()
        self._send_window -= len(payload)
        self._channel._send(K.FrameHeader(kind=K.MESSAGE, stream_id=self.stream_id, flags=framing.FLAG_MESSAGE), payload)
        await self._channel._drain()

    async def done_writing(self):
        """Half-closes: the server will see the end of the request stream."""
        if not self._half_closed and self.status is None:
            self._half_closed = True
            self._channel._send(K.FrameHeader(kind=K.HALF_CLOSE, stream_id=self.stream_id))
            await self._channel._drain()

    def cancel(self):
        """Abandons the call: CANCEL to the server; readers get CANCELLED."""
        if self.status is None:
            self._channel._send(K.FrameHeader(kind=K.CANCEL, stream_id=self.stream_id))
            self._end(StatusCode.CANCELLED, "the call was cancelled by the client")

    async def response(self):
        """For unary and client-streaming calls: the single response message."""
        message = await self.read()
        if message is None:
            raise RpcError(StatusCode.INTERNAL, "the server ended the call with OK but sent no response")
        return message


class Channel:
    """A connection to one Plexus server. Use as `async with Channel(host, port) as ch:`."""

    def __init__(self, host, port, *, max_message_size=4 * 1024 * 1024, window=DEFAULT_WINDOW, auth_token=""):
        self.host, self.port = host, port
        self.max_message_size = max_message_size
        self.window = window
        self.auth_token = auth_token
        self._calls = {}
        self._next_id = 1
        self._peer_window = DEFAULT_WINDOW
        self._peer_max_message = 4 * 1024 * 1024
        self._reader = self._writer = self._task = None
        self._closed_reason = None
        self.goaway = None

    async def connect(self):
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        hello = K.Hello(protocol_version=1, max_message_size=self.max_message_size,
                        initial_window=self.window, auth_token=self.auth_token, agent="plexus-python/0.1")
        self._send(K.FrameHeader(kind=K.HELLO, hello=hello))
        await self._drain()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())
        return self

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._fail_all("the channel was closed")

    # -- I/O -------------------------------------------------------------------
    def _send(self, header, payload=None):
        if self._writer is None or self._closed_reason is not None:
            raise RpcError(StatusCode.UNAVAILABLE, f"not connected: {self._closed_reason or 'call connect() first'}")
        self._writer.write(framing.encode(header, payload))

    async def _drain(self):
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as error:
            raise RpcError(StatusCode.UNAVAILABLE, f"connection lost: {error}")

    async def _read_loop(self):
        frames = framing.FrameReader(max_payload=self.max_message_size)
        reason = "the server closed the connection"
        try:
            while True:
                data = await self._reader.read(256 * 1024)
                if not data:
                    break
                for header, payload in frames.feed(data):
                    self._dispatch(header, payload)
        except (ConnectionError, OSError, ValueError) as error:
            reason = f"connection lost: {error}"
        self._closed_reason = reason
        self._fail_all(reason)

    def _dispatch(self, header, payload):
        kind = header.kind
        if kind == K.HELLO:
            if header.hello.initial_window:
                self._peer_window = header.hello.initial_window
            if header.hello.max_message_size:
                self._peer_max_message = header.hello.max_message_size
        elif kind == K.PING:
            self._send(K.FrameHeader(kind=K.PONG, ping_data=header.ping_data))
        elif kind == K.GOAWAY:
            self.goaway = header.goaway
        elif header.stream_id in self._calls:
            self._calls[header.stream_id]._on_frame(header, payload)

    def _fail_all(self, reason):
        for call in list(self._calls.values()):
            call._end(StatusCode.UNAVAILABLE, reason)

    # -- calls -----------------------------------------------------------------
    def start(self, method, response_type, *, request=None, end_stream=False, timeout=None, metadata=None):
        """Opens a stream (low level). `request` rides in the OPEN frame when given."""
        stream_id = self._next_id
        self._next_id += 2
        call = Call(self, stream_id, response_type)
        self._calls[stream_id] = call
        header = K.FrameHeader(kind=K.OPEN, stream_id=stream_id, method=method)
        header.headers.extend(framing.metadata_entries(metadata))
        if timeout is not None:
            header.timeout_micros = max(1, int(timeout * 1_000_000))
        payload = None
        if request is not None:
            payload = request.SerializeToString()
            header.flags |= framing.FLAG_MESSAGE
            call._send_window -= len(payload)
        if end_stream:
            header.flags |= framing.FLAG_END_STREAM
            call._half_closed = True
        self._send(header, payload)
        return call

    async def _with_deadline(self, call, awaitable, timeout):
        try:
            if timeout is None:
                return await awaitable
            return await asyncio.wait_for(awaitable, timeout)
        except asyncio.TimeoutError:
            call.cancel()
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"deadline exceeded after {timeout} s") from None
        except asyncio.CancelledError:
            call.cancel()
            raise

    async def unary_call(self, method, request, response_type, *, timeout=None, metadata=None):
        """A unary call: returns (response, headers, trailers)."""
        call = self.start(method, response_type, request=request, end_stream=True, timeout=timeout, metadata=metadata)
        await self._drain()
        response = await self._with_deadline(call, call.response(), timeout)
        # Drain the end of the call (CLOSE came with the message) to surface its status.
        rest = await self._with_deadline(call, call.read(), timeout)
        if rest is not None:
            raise RpcError(StatusCode.INTERNAL, "a unary call received more than one response")
        return response, call._headers or [], call.trailers

    async def unary(self, method, request, response_type, *, timeout=None, metadata=None):
        """A unary call: returns the response message; raises RpcError otherwise."""
        response, _, _ = await self.unary_call(method, request, response_type, timeout=timeout, metadata=metadata)
        return response

    async def server_stream(self, method, request, response_type, *, timeout=None, metadata=None):
        """A server-streaming call: an async iterator of responses."""
        call = self.start(method, response_type, request=request, end_stream=True, timeout=timeout, metadata=metadata)
        await self._drain()
        while True:
            message = await self._with_deadline(call, call.read(), timeout)
            if message is None:
                return
            yield message

    async def client_stream(self, method, requests, response_type, *, timeout=None, metadata=None):
        """A client-streaming call: sends every message of `requests` (iterable or async iterable)."""
        call = self.start(method, response_type, timeout=timeout, metadata=metadata)

        async def run():
            if hasattr(requests, "__aiter__"):
                async for request in requests:
                    await call.write(request)
            else:
                for request in requests:
                    await call.write(request)
            await call.done_writing()
            return await call.response()

        return await self._with_deadline(call, run(), timeout)

    def bidi(self, method, response_type, *, timeout=None, metadata=None):
        """A bidirectional call: returns the Call (write / done_writing / async for)."""
        return self.start(method, response_type, timeout=timeout, metadata=metadata)
