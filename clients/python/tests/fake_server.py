"""A scriptable in-process Plexus server (asyncio) for testing the client without Swift.

The test drives it frame by frame: `await server.recv(K.OPEN)` returns the next frame the
client sent (and checks its kind), `server.send(header, payload)` answers.
"""
import asyncio

from plexus import framing
from plexus.wire.v1 import frame_pb2 as K


class FakeServer:
    def __init__(self, hello=None, send_hello=True):
        self.hello = hello if hello is not None else K.Hello(protocol_version=1, agent="fake")
        self.send_hello = send_hello
        self.frames = asyncio.Queue()
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.writer = None
        self._server = None
        self.port = None

    async def __aenter__(self):
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        if self.writer is not None:
            self.writer.close()
        self._server.close()
        await self._server.wait_closed()

    async def _accept(self, reader, writer):
        self.writer = writer
        if self.send_hello:
            self.send(K.FrameHeader(kind=K.HELLO, hello=self.hello))
        self.connected.set()
        frames = framing.FrameReader(max_payload=1 << 30)
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                for frame in frames.feed(data):
                    await self.frames.put(frame)
        except (ConnectionError, OSError):
            pass
        self.disconnected.set()

    def send(self, header, payload=None):
        self.writer.write(framing.encode(header, payload))

    def send_raw(self, data):
        self.writer.write(data)

    async def recv(self, kind=None, timeout=2.0):
        """The next frame from the client, as (header, payload)."""
        header, payload = await asyncio.wait_for(self.frames.get(), timeout)
        if kind is not None:
            assert header.kind == kind, f"expected {K.FrameKind.Name(kind)}, got {header}"
        return header, payload

    async def handshake(self):
        """Waits for the client's connection and HELLO."""
        await asyncio.wait_for(self.connected.wait(), 2)
        header, _ = await self.recv(K.HELLO)
        return header.hello

    async def nothing_more(self, seconds=0.1):
        """Asserts the client sends nothing for `seconds`."""
        try:
            header, _ = await asyncio.wait_for(self.frames.get(), seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"unexpected frame from the client: {header}")

    def close(self, stream_id, code=0, message="", response=None, trailers=(), headers=()):
        header = K.FrameHeader(kind=K.CLOSE, stream_id=stream_id, flags=framing.FLAG_END_STREAM)
        header.status.code = code
        header.status.message = message
        header.trailers.extend(framing.metadata_entries(trailers))
        header.headers.extend(framing.metadata_entries(headers))
        self.send(header, response.SerializeToString() if response is not None else None)

    def message(self, stream_id, response, headers=()):
        header = K.FrameHeader(kind=K.MESSAGE, stream_id=stream_id)
        header.headers.extend(framing.metadata_entries(headers))
        self.send(header, response.SerializeToString() if not isinstance(response, bytes) else response)

    def drop(self):
        self.writer.close()
