"""A synchronous client: the asyncio Channel on a private event-loop thread.

    with plexus.SyncChannel("127.0.0.1", port) as channel:
        reply = channel.unary("/pkg.Service/Method", request, ReplyType, timeout=1.0)
        for message in channel.server_stream(...): ...

Interrupting a blocked call (KeyboardInterrupt, or any exception while waiting) cancels it:
CANCEL goes to the server. A client-streaming call's request iterable is consumed on the
loop thread, so it must not block.
"""
import asyncio
import threading

from .channel import Channel


class SyncCall:
    """The synchronous face of a Call: read() / iteration, write(), done_writing(),
    headers(), trailers, code, status, cancel()."""

    def __init__(self, channel, call):
        self._channel = channel
        self._call = call

    def read(self, timeout=None):
        return self._channel._run(self._call.read(), timeout)

    def __iter__(self):
        return self

    def __next__(self):
        message = self.read()
        if message is None:
            raise StopIteration
        return message

    def write(self, message, *, last=False):
        return self._channel._run(self._call.write(message, last=last))

    def done_writing(self):
        self._channel._run(self._call.done_writing())

    def response(self):
        return self._channel._run(self._call.response())

    def headers(self):
        return self._channel._run(self._call.headers())

    @property
    def trailers(self):
        return self._call.trailers

    @property
    def code(self):
        return self._call.code

    @property
    def status(self):
        return self._call.status

    def cancel(self):
        async def cancel():
            return self._call.cancel()
        return self._channel._run(cancel())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self._call.done:
            self.cancel()


class SyncChannel:
    """A blocking client with the same calls as Channel (and the same options)."""

    def __init__(self, host, port, **options):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="plexus-sync-loop", daemon=True)
        self._thread.start()
        self._channel = Channel(host, port, **options)
        try:
            self._run(self._channel.connect())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coroutine, timeout=None):
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # cancels the task, which cancels the call
            raise

    def _start(self, make):
        async def start():
            return make()
        return SyncCall(self, self._run(start()))

    @property
    def channel(self):
        """The underlying asyncio Channel (lives on the private loop)."""
        return self._channel

    def unary(self, method, request, response_type, *, timeout=None, metadata=None):
        return self._run(self._channel.unary(method, request, response_type, timeout=timeout, metadata=metadata))

    def unary_call(self, method, request, response_type, *, timeout=None, metadata=None):
        """Returns (response, headers, trailers)."""
        return self._run(self._channel.unary_call(method, request, response_type, timeout=timeout, metadata=metadata))

    def server_stream(self, method, request, response_type, *, timeout=None, metadata=None):
        """Returns a SyncCall: iterate it for the responses."""
        return self._start(lambda: self._channel.server_stream(method, request, response_type, timeout=timeout,
                                                               metadata=metadata))

    def client_stream(self, method, requests, response_type, *, timeout=None, metadata=None):
        return self._run(self._channel.client_stream(method, requests, response_type, timeout=timeout,
                                                     metadata=metadata))

    def client_stream_call(self, method, requests, response_type, *, timeout=None, metadata=None):
        return self._run(self._channel.client_stream_call(method, requests, response_type, timeout=timeout,
                                                          metadata=metadata))

    def bidi(self, method, response_type, *, timeout=None, metadata=None):
        """Returns a SyncCall: write(), done_writing(), read() / iteration."""
        return self._start(lambda: self._channel.bidi(method, response_type, timeout=timeout, metadata=metadata))

    def close(self):
        if self._loop.is_closed():
            return
        try:
            self._run(self._channel.close())
        finally:
            self._stop_loop()

    def _stop_loop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
