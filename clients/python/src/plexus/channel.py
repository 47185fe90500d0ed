"""An asyncio connection to a Plexus server, multiplexing calls by stream id.

Follows docs/PROTOCOL.md: HELLO each way (§2), odd increasing stream ids and a queue for the
server's stream limit (§3), the client state machine of §3, deadlines and cancellation (§4),
per-stream flow control both ways (§5), PING/PONG and GOAWAY (§7), connection errors (§8).

Cancelling the task that awaits a call's read, write, done_writing or response cancels the
call (CANCEL goes to the server), as does leaving `async with call:` before the call ended.
"""
import asyncio
import collections
import random

from google.protobuf.message import DecodeError

from plexus.wire.v1 import frame_pb2 as K
from plexus.rpc.v1 import status_pb2

from . import framing
from .framing import ProtocolError, Oversize
from .status import RpcError, StatusCode

PROTOCOL_VERSION = 1
MAX_STREAM_ID = 0xFFFFFFFF


def _kind_name(kind):
    try:
        return K.FrameKind.Name(kind)
    except ValueError:
        return f"kind {kind}"


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


class Channel:
    """A connection to one Plexus server: `async with Channel(host, port) as ch:`.

    Options: max_message_size (largest response accepted, announced in HELLO), window (the
    per-stream credit granted to the server), max_header_size, auth_token, keepalive (seconds
    of silence after which the client PINGs, None = off) and keepalive_timeout, reconnect
    (after losing the connection, reconnect in the background with exponential backoff from
    initial_backoff up to max_backoff seconds, +-20 % jitter; calls made while disconnected
    fail at once with UNAVAILABLE)."""

    def __init__(self, host, port, *, max_message_size=framing.DEFAULT_MAX_MESSAGE_SIZE,
                 window=framing.DEFAULT_WINDOW, max_header_size=framing.DEFAULT_MAX_HEADER_SIZE,
                 auth_token="", agent="plexus-python/0.2", keepalive=None, keepalive_timeout=10.0,
                 reconnect=False, initial_backoff=0.1, max_backoff=5.0):
        self.host, self.port = host, port
        self.max_message_size = max_message_size
        self.window = window
        self.max_header_size = max_header_size
        self.auth_token = auth_token
        self.agent = agent
        self.keepalive = keepalive
        self.keepalive_timeout = keepalive_timeout
        self.reconnect = reconnect
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.reconnects = 0  # successful reconnections so far
        self._closing = False
        self._reconnect_task = None
        self._reader = self._writer = None
        self._tasks = []
        self._reset()

    def _reset(self):
        """Per-connection state (a reconnection starts afresh: stream ids from 1 again)."""
        self._peer = PeerLimits()
        self._calls = {}
        self._queue = collections.deque()
        self._open_streams = 0
        self._next_id = 1
        self._drain_lock = asyncio.Lock()
        self._hello_event = asyncio.Event()
        self._closed_reason = None
        self._last_received = 0.0
        self.goaway = None  # the server's GoAway once received

    @property
    def peer_limits(self):
        return self._peer

    # -- lifecycle ----------------------------------------------------------------------------
    async def connect(self):
        """Connects and sends HELLO. Calls may start at once (before the server's HELLO)."""
        self._closing = False
        await self._open()
        return self

    async def _open(self):
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as error:
            raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {self.host}:{self.port}: {error}") from None
        loop = asyncio.get_running_loop()
        self._reset()
        self._reader, self._writer = reader, writer
        self._tasks = []
        self._last_received = loop.time()
        hello = K.Hello(protocol_version=PROTOCOL_VERSION, max_message_size=self.max_message_size,
                        initial_window=self.window, max_header_size=self.max_header_size,
                        auth_token=self.auth_token, agent=self.agent)
        self._send_frame(K.FrameHeader(kind=K.HELLO, hello=hello))
        self._tasks.append(loop.create_task(self._read_loop()))
        if self.keepalive:
            self._tasks.append(loop.create_task(self._keepalive_loop()))

    async def _reconnect_loop(self):
        attempt = 0
        while not self._closing:
            delay = min(self.max_backoff, self.initial_backoff * 2 ** attempt) * random.uniform(0.8, 1.2)
            attempt += 1
            await asyncio.sleep(delay)
            if self._closing:
                return
            try:
                await self._open()
            except RpcError:
                continue
            self.reconnects += 1
            return

    async def ready(self, timeout=None):
        """Waits for the server's HELLO; raises RpcError(UNAVAILABLE) if the connection ends first."""
        try:
            await asyncio.wait_for(self._hello_event.wait(), timeout)
        except asyncio.TimeoutError:
            raise RpcError(StatusCode.UNAVAILABLE, f"no HELLO from the server within {timeout} s") from None
        if not self._peer.known:
            raise RpcError(StatusCode.UNAVAILABLE, self._closed_reason or "the connection closed")
        return self._peer

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        """Closes the connection; calls still running end with UNAVAILABLE."""
        self._closing = True
        self._lost("the channel was closed by the client")
        current = asyncio.current_task()
        tasks = self._tasks + ([self._reconnect_task] if self._reconnect_task is not None else [])
        self._reconnect_task = None
        for task in tasks:
            if task is not current:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._tasks = []
        if self._writer is not None:
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    @property
    def closed(self):
        return self._closed_reason is not None

    def _lost(self, reason):
        """The connection is over: every call ends UNAVAILABLE (§3), the socket closes."""
        if self._closed_reason is not None:
            return
        if self.goaway is not None and self.goaway.reason:
            code = StatusCode.of(self.goaway.code).name
            reason = f"{reason} (the server's GOAWAY: {code}: {self.goaway.reason})"
        self._closed_reason = reason
        for call in list(self._calls.values()):
            call._end(StatusCode.UNAVAILABLE, reason)
        self._queue.clear()
        if self._writer is not None:
            self._writer.close()
        self._hello_event.set()
        current = asyncio.current_task()
        for task in self._tasks:  # this connection's reader and keepalive
            if task is not current:
                task.cancel()
        if self.reconnect and not self._closing:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    def _connection_error(self, reason):
        """§8: GOAWAY INTERNAL naming the problem, then close."""
        goaway = K.GoAway(last_stream_id=0, code=status_pb2.INTERNAL, reason=reason)
        self._send_frame(K.FrameHeader(kind=K.GOAWAY, goaway=goaway))
        self._lost(f"connection error: {reason}")

    # -- I/O ----------------------------------------------------------------------------------
    def _send_frame(self, header, payload=None, head=None):
        if self._writer is None or self._closed_reason is not None or self._writer.is_closing():
            return False
        self._writer.write(framing.encode(header, payload, head))
        return True

    async def _drain(self):
        if self._writer is None:
            return
        async with self._drain_lock:
            try:
                await self._writer.drain()
            except (ConnectionError, OSError) as error:
                self._lost(f"connection lost: {error}")

    async def _read_loop(self):
        frames = framing.FrameReader(max_header=self.max_header_size, max_payload=self.max_message_size)
        loop = asyncio.get_running_loop()
        reason = "the server closed the connection"
        try:
            while self._closed_reason is None:
                data = await self._reader.read(256 * 1024)
                if not data:
                    break
                self._last_received = loop.time()
                for header, payload in frames.feed(data):
                    self._dispatch(header, payload)
                    if self._closed_reason is not None:
                        return
                if frames.error is not None:
                    raise frames.error
        except ProtocolError as error:
            self._connection_error(str(error))
            return
        except (ConnectionError, OSError) as error:
            reason = f"connection lost: {error}"
        self._lost(reason)

    def _dispatch(self, header, payload):
        kind = header.kind
        if not self._peer.known and kind not in (K.HELLO, K.GOAWAY):  # a refusal may precede HELLO
            raise ProtocolError(f"the server's first frame is {_kind_name(kind)}, not HELLO")
        if kind == K.HELLO:
            if self._peer.known:
                raise ProtocolError("a second HELLO from the server")
            if header.hello.protocol_version != PROTOCOL_VERSION:
                raise ProtocolError(f"the server speaks protocol version {header.hello.protocol_version}, "
                                    f"this client {PROTOCOL_VERSION}")
            assumed = self._peer.initial_window
            self._peer.update(header.hello)
            # Streams opened before the HELLO counted from the default window: move their credit
            # to the announced one (PROTOCOL.md §5), as HTTP/2 does for INITIAL_WINDOW_SIZE.
            delta = self._peer.initial_window - assumed
            if delta:
                for call in self._calls.values():
                    if call._opened:
                        call._credit += delta
                        call._writable.set()
            self._hello_event.set()
            self._release_queue()  # the server's limit may be above the default
        elif kind == K.PING:
            self._send_frame(K.FrameHeader(kind=K.PONG, ping_data=header.ping_data))
        elif kind == K.PONG:
            pass
        elif kind == K.GOAWAY:
            self._on_goaway(header.goaway)
        elif kind in (K.MESSAGE, K.CLOSE, K.WINDOW_UPDATE, K.HEADERS):
            call = self._calls.get(header.stream_id)
            if call is not None:  # else: a finished or cancelled stream (races with CLOSE)
                call._on_frame(header, payload)
        else:
            raise ProtocolError(f"a server may not send {_kind_name(kind)} frames")

    def _on_goaway(self, goaway):
        self.goaway = goaway
        code = StatusCode.of(goaway.code).name
        for call in list(self._calls.values()):
            # Queued calls were never sent, whatever their id: the server will not see them.
            if call.stream_id > goaway.last_stream_id or call._pending_open is not None:
                call._end(StatusCode.UNAVAILABLE,
                          f"the server is going away ({code}: {goaway.reason}) and did not process this call; "
                          f"it is safe to retry")

    async def _keepalive_loop(self):
        """PING after `keepalive / 2` s of silence; close when nothing arrives within
        `keepalive_timeout` after it (§7)."""
        loop = asyncio.get_running_loop()
        interval = self.keepalive / 2
        data = 0
        while self._closed_reason is None:
            await asyncio.sleep(max(0.0, self._last_received + interval - loop.time()))
            if loop.time() - self._last_received < interval:
                continue
            data += 1
            sent_at = loop.time()
            self._send_frame(K.FrameHeader(kind=K.PING, ping_data=data))
            await asyncio.sleep(self.keepalive_timeout)
            if self._last_received < sent_at:
                self._lost(f"keepalive: nothing from the server within {self.keepalive_timeout:g} s of a PING")
                return

    # -- streams ------------------------------------------------------------------------------
    def _check_usable(self):
        if self._writer is None:
            raise RpcError(StatusCode.UNAVAILABLE, "not connected: call connect() first (or use `async with`)")
        if self._closed_reason is not None:
            again = "; reconnecting" if self.reconnect and not self._closing else ""
            raise RpcError(StatusCode.UNAVAILABLE, f"not connected: {self._closed_reason}{again}")
        if self.goaway is not None:
            raise RpcError(StatusCode.UNAVAILABLE, f"the server is going away ({self.goaway.reason}); "
                                                   f"open a new channel")
        if self._next_id > MAX_STREAM_ID:
            raise RpcError(StatusCode.UNAVAILABLE, "stream ids exhausted on this connection; open a new channel")

    def start(self, method, response_type, *, request=None, end_stream=False, timeout=None, metadata=None):
        """Opens a stream (low level) and returns its Call. `request` rides in the OPEN frame;
        `end_stream` half-closes with it. OPENs beyond the server's max_concurrent_streams
        wait in a queue, in id order (§3). Raises RpcError(UNAVAILABLE) when not connected."""
        self._check_usable()
        header = K.FrameHeader(kind=K.OPEN, method=method)
        header.headers.extend(framing.metadata_entries(metadata))
        payload = request.SerializeToString() if request is not None else None
        if end_stream:
            header.flags |= framing.FLAG_END_STREAM
        stream_id = self._next_id
        self._next_id += 2
        header.stream_id = stream_id
        call = Call(self, stream_id, method, response_type)
        call._pending_open = (header, payload)
        self._calls[stream_id] = call
        if timeout is not None:
            loop = asyncio.get_running_loop()
            call._deadline_at = loop.time() + timeout
            call._deadline_timer = loop.call_later(max(0.0, timeout), call._deadline_passed, timeout)
        if not self._queue and self._open_streams < self._peer.max_concurrent_streams:
            self._send_open(call)
        else:
            self._queue.append(call)
        return call

    def _send_open(self, call):
        header, payload = call._pending_open
        call._pending_open = None
        if call._deadline_at is not None:
            remaining = call._deadline_at - asyncio.get_running_loop().time()
            header.timeout_micros = max(1, int(remaining * 1_000_000))
        if payload is not None:
            header.flags |= framing.FLAG_MESSAGE
        head = header.SerializeToString()
        peer = self._peer
        if peer.known and len(head) > peer.max_header_size:
            call._end(StatusCode.RESOURCE_EXHAUSTED,
                      f"the call's request metadata makes a frame header of {len(head)} bytes, over the server's "
                      f"max_header_size of {peer.max_header_size} bytes; send less metadata")
            return
        if peer.known and payload is not None and len(payload) > peer.max_message_size:
            call._end(StatusCode.RESOURCE_EXHAUSTED, f"request message of {len(payload)} bytes exceeds the server's "
                                                     f"limit of {peer.max_message_size} bytes")
            return
        self._send_frame(header, payload, head)
        call._opened = True
        self._open_streams += 1
        call._credit = peer.initial_window - (len(payload) if payload is not None else 0)
        if header.flags & framing.FLAG_END_STREAM:
            call._half_closed = True
        call._writable.set()

    def _release_queue(self):
        while self._queue and self._open_streams < self._peer.max_concurrent_streams and \
                self._closed_reason is None and self.goaway is None:
            self._send_open(self._queue.popleft())

    def _stream_ended(self, call):
        self._calls.pop(call.stream_id, None)
        if call._opened:
            self._open_streams -= 1
            self._release_queue()
        elif call._pending_open is not None:
            call._pending_open = None
            try:
                self._queue.remove(call)
            except ValueError:
                pass

    # -- the four call kinds ------------------------------------------------------------------
    async def unary_call(self, method, request, response_type, *, timeout=None, metadata=None):
        """A unary call: returns (response, headers, trailers); raises RpcError."""
        call = self.start(method, response_type, request=request, end_stream=True, timeout=timeout, metadata=metadata)
        await call._drain()
        response = await call.response()
        return response, await call.headers(), call.trailers

    async def unary(self, method, request, response_type, *, timeout=None, metadata=None):
        """A unary call: returns the response message; raises RpcError."""
        response, _, _ = await self.unary_call(method, request, response_type, timeout=timeout, metadata=metadata)
        return response

    def server_stream(self, method, request, response_type, *, timeout=None, metadata=None):
        """A server-streaming call: returns the Call, an async iterator of responses."""
        return self.start(method, response_type, request=request, end_stream=True, timeout=timeout, metadata=metadata)

    async def client_stream_call(self, method, requests, response_type, *, timeout=None, metadata=None):
        """A client-streaming call sending every message of `requests` (iterable or async
        iterable): returns (response, headers, trailers). Stops sending if the server ends the
        call early."""
        call = self.start(method, response_type, timeout=timeout, metadata=metadata)
        try:
            if hasattr(requests, "__aiter__"):
                async for request in requests:
                    if not await call.write(request):
                        break
            else:
                for request in requests:
                    if not await call.write(request):
                        break
            await call.done_writing()
            response = await call.response()
        except BaseException:
            call.cancel("the client-streaming call failed on the client")
            raise
        return response, await call.headers(), call.trailers

    async def client_stream(self, method, requests, response_type, *, timeout=None, metadata=None):
        """A client-streaming call: returns the response message; raises RpcError."""
        response, _, _ = await self.client_stream_call(method, requests, response_type, timeout=timeout,
                                                       metadata=metadata)
        return response

    def bidi(self, method, response_type, *, timeout=None, metadata=None):
        """A bidirectional call: returns the Call (write / done_writing / read / async for)."""
        return self.start(method, response_type, timeout=timeout, metadata=metadata)
