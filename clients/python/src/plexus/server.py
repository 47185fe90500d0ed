"""A Plexus server in Python (docs/PROTOCOL.md): HELLO, OPEN of unary and client-streaming
methods, MESSAGE, HALF_CLOSE, CANCEL, per-stream flow control (WINDOW_UPDATE), CLOSE with a
status, PING/PONG, GOAWAY on connection errors. It is what lets a Python process receive
pub/sub messages from other processes (the graph's TopicDelivery service).

    server = plexus.Server()
    server.add_unary("/pkg.Service/Method", RequestType, handler)       # handler(request, metadata)
    server.add_client_streaming("/pkg.Service/Sink", RequestType, handler)  # handler(requests, metadata)
    await server.start(); print(server.port)
"""
import asyncio

from plexus import framing
from plexus.rpc.v1 import status_pb2
from plexus.status import RpcError, StatusCode
from plexus.wire.v1 import frame_pb2 as K

_EOF = object()


class _Stream:
    def __init__(self, conn, stream_id, metadata):
        self.conn = conn
        self.id = stream_id
        self.metadata = dict(metadata)
        self.queue = asyncio.Queue()
        self.consumed = 0
        self.received = 0
        self.granted = 0
        self.task = None

    async def messages(self, request_type):
        while True:
            item = await self.queue.get()
            if item is _EOF:
                return
            self.consumed += len(item)
            if self.consumed >= self.conn.server.initial_window // 2:
                self.conn.send(K.FrameHeader(kind=K.WINDOW_UPDATE, stream_id=self.id, window_increment=self.consumed))
                self.granted += self.consumed
                self.consumed = 0
            try:
                yield request_type.FromString(item)
            except Exception as error:  # noqa: BLE001 - any decode failure is the client's fault
                raise RpcError(StatusCode.INVALID_ARGUMENT, f"request is not a valid {request_type.DESCRIPTOR.full_name}: {error}")


class _Connection:
    def __init__(self, server, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.streams = {}
        self.last_id = 0
        self.hello = False
        self.frames = framing.FrameReader(max_payload=server.max_message_size)

    def send(self, header, payload=None):
        if not self.writer.is_closing():
            self.writer.write(framing.encode(header, payload))

    def goaway(self, code, reason):
        self.send(K.FrameHeader(kind=K.GOAWAY, goaway=K.GoAway(last_stream_id=self.last_id, code=code, reason=reason)))
        self.writer.close()

    def close_stream(self, stream_id, code, message="", payload=None):
        status = status_pb2.Status(code=int(code), message=message)
        flags = framing.FLAG_MESSAGE if payload is not None else 0
        self.send(K.FrameHeader(kind=K.CLOSE, stream_id=stream_id, status=status, flags=flags), payload)
        self.streams.pop(stream_id, None)

    async def run(self):
        s = self.server
        self.send(K.FrameHeader(kind=K.HELLO, hello=K.Hello(
            protocol_version=1, max_message_size=s.max_message_size, max_concurrent_streams=s.max_concurrent_streams,
            initial_window=s.initial_window, max_header_size=framing.DEFAULT_MAX_HEADER_SIZE, agent="plexus-python")))
        try:
            while True:
                data = await self.reader.read(256 * 1024)
                if not data:
                    break
                frames = self.frames.feed(data)
                for header, payload in frames:
                    self.dispatch(header, payload)
                if self.frames.error is not None:
                    self.goaway(status_pb2.INTERNAL, str(self.frames.error))
                    break
                await self.writer.drain()
        except (ConnectionError, framing.ProtocolError) as error:
            if not self.writer.is_closing():
                self.goaway(status_pb2.INTERNAL, str(error))
        finally:
            for stream in list(self.streams.values()):
                if stream.task:
                    stream.task.cancel()
            self.writer.close()

    def dispatch(self, header, payload):
        kind = header.kind
        if not self.hello:
            if kind != K.HELLO or header.hello.protocol_version != 1:
                raise framing.ProtocolError("the first frame must be HELLO with protocol_version 1")
            self.hello = True
            return
        if kind == K.HELLO:
            raise framing.ProtocolError("a second HELLO")
        if kind == K.PING:
            self.send(K.FrameHeader(kind=K.PONG, ping_data=header.ping_data))
        elif kind == K.OPEN:
            self.open(header, payload)
        elif kind in (K.MESSAGE, K.HALF_CLOSE, K.CANCEL):
            stream = self.streams.get(header.stream_id)
            if stream is None:
                return  # races with CLOSE
            if kind == K.CANCEL:
                if stream.task:
                    stream.task.cancel()
                self.streams.pop(header.stream_id, None)
                return
            self.message(stream, header, payload)
        elif kind == K.GOAWAY:
            self.writer.close()
        # PONG, WINDOW_UPDATE (this server sends no streamed responses), HEADERS: nothing to do.

    def message(self, stream, header, payload):
        if isinstance(payload, framing.Oversize):
            stream.task and stream.task.cancel()
            self.close_stream(stream.id, StatusCode.RESOURCE_EXHAUSTED,
                              f"request message of {payload.size} bytes exceeds the limit of {self.server.max_message_size} bytes")
            return
        if payload is not None:
            stream.received += len(payload)
            allowed = max(self.server.initial_window, framing.DEFAULT_WINDOW) + stream.granted + self.server.max_message_size
            if stream.received > allowed:
                stream.task and stream.task.cancel()
                self.close_stream(stream.id, StatusCode.RESOURCE_EXHAUSTED,
                                  f"flow control violated: {stream.received} bytes received, {allowed} allowed")
                return
            stream.queue.put_nowait(payload)
        if header.kind == K.HALF_CLOSE or header.flags & framing.FLAG_END_STREAM:
            stream.queue.put_nowait(_EOF)

    def open(self, header, payload):
        sid = header.stream_id
        if sid % 2 == 0 or sid <= self.last_id:
            raise framing.ProtocolError(f"stream id {sid} is even or not increasing")
        self.last_id = sid
        method = self.server.methods.get(header.method)
        if method is None:
            service = header.method.rsplit("/", 1)[0]
            known = any(m.rsplit("/", 1)[0] == service for m in self.server.methods)
            self.close_stream(sid, StatusCode.UNIMPLEMENTED,
                              f"unknown method: {header.method}" if known else f"unknown service: {service.lstrip('/')}")
            return
        if len(self.streams) >= self.server.max_concurrent_streams:
            self.close_stream(sid, StatusCode.RESOURCE_EXHAUSTED, "too many concurrent streams")
            return
        stream = _Stream(self, sid, framing.metadata_pairs(header.headers))
        self.streams[sid] = stream
        self.message(stream, header, payload)
        stream.task = asyncio.ensure_future(self.serve(stream, method))

    async def serve(self, stream, method):
        kind, request_type, handler = method
        try:
            requests = stream.messages(request_type)
            if kind == "unary":
                request = None
                async for r in requests:
                    request = r
                if request is None:
                    raise RpcError(StatusCode.INTERNAL, "the client half-closed without a request message")
                response = await handler(request, stream.metadata)
            else:
                response = await handler(requests, stream.metadata)
            if stream.id in self.streams:
                self.close_stream(stream.id, StatusCode.OK, payload=response.SerializeToString())
        except asyncio.CancelledError:
            self.streams.pop(stream.id, None)
        except RpcError as error:
            if stream.id in self.streams:
                self.close_stream(stream.id, error.code, error.message)
        except Exception as error:  # noqa: BLE001 - a failing handler fails only its call
            if stream.id in self.streams:
                self.close_stream(stream.id, StatusCode.UNKNOWN, repr(error))
        try:
            await self.writer.drain()
        except ConnectionError:
            pass


class Server:
    """Serves unary and client-streaming Plexus methods on one TCP port."""

    def __init__(self, host="127.0.0.1", port=0, *, max_message_size=framing.DEFAULT_MAX_MESSAGE_SIZE,
                 initial_window=framing.DEFAULT_WINDOW, max_concurrent_streams=1000):
        self.host = host
        self.port = port
        self.max_message_size = max_message_size
        self.initial_window = initial_window
        self.max_concurrent_streams = max_concurrent_streams
        self.methods = {}
        self._server = None
        self._connections = set()

    def add_unary(self, path, request_type, handler):
        """`handler(request, metadata)` -> response message (async); raise RpcError to fail."""
        self.methods[path] = ("unary", request_type, handler)

    def add_client_streaming(self, path, request_type, handler):
        """`handler(requests, metadata)` -> response message (async); `requests` is an async
        iterator; reading it grants the client flow-control credit."""
        self.methods[path] = ("client_streaming", request_type, handler)

    async def start(self):
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader, writer):
        connection = _Connection(self, reader, writer)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    async def stop(self):
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.writer.close()  # its read loop ends and cancels its handlers
            for _ in range(100):
                if not self._connections:
                    break
                await asyncio.sleep(0.01)
            await self._server.wait_closed()
            self._server = None
