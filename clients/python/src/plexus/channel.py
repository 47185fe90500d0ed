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
from .call import Call, PeerLimits  # noqa: F401 (Call is part of this module's API)

PROTOCOL_VERSION = 1
MAX_STREAM_ID = 0xFFFFFFFF


def _kind_name(kind):
    try:
        return K.FrameKind.Name(kind)
    except ValueError:
        return f"kind {kind}"


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
