"""Routing calls to the live instances of a discovered endpoint (Dynamo-style), as the Swift
`EndpointRouter` does: the router watches the graph server's endpoint events, drops an instance
the moment it goes down, uses a new one as soon as it comes up, and fails over to the others
when the chosen one is unreachable.

    router = await graph.endpoint_router("llm", "worker", "generate")
    reply = await router.call(lambda channel: channel.unary("/llm.Worker/Generate", request, Reply))
"""
import asyncio
import random

from plexus.graph.v1 import graph_pb2
from plexus.status import RpcError, StatusCode


class EndpointRouter:
    """The live instances of namespace/component/endpoint and a channel to each; `strategy` is
    "round_robin" or "random"."""

    def __init__(self, graph, name, strategy="round_robin"):
        if strategy not in ("round_robin", "random"):
            raise ValueError(f"strategy {strategy!r} is not 'round_robin' or 'random'")
        self.graph = graph
        self.name = name
        self.strategy = strategy
        self._instances = {}
        self._channels = {}
        self._turn = 0
        self._watched = asyncio.Event()
        self._closed = False
        self._task = graph._spawn(self._watch())

    @property
    def instances(self):
        """The instances currently up (EndpointInstance messages)."""
        return list(self._instances.values())

    async def ready(self, timeout=5.0):
        """Waits for the graph server's first answer (the current set of instances); raises
        RpcError(UNAVAILABLE) when it does not come within `timeout` seconds."""
        try:
            await asyncio.wait_for(self._watched.wait(), timeout)
        except asyncio.TimeoutError:
            raise RpcError(StatusCode.UNAVAILABLE, f"the graph server did not list the instances of "
                                                   f"{self.name.namespace}/{self.name.component}/{self.name.endpoint} "
                                                   f"within {timeout} s (is it running and reachable?)") from None

    async def _watch(self):
        backoff = 0.1
        while not self._closed:
            try:
                stream = self.graph._stream("WatchEndpoints", graph_pb2.ResolveRequest(name=self.name),
                                            graph_pb2.EndpointEvent)
                async for event in stream:
                    backoff = 0.1
                    if event.kind == graph_pb2.EndpointEvent.SNAPSHOT:
                        self._instances = {i.instance_id: i for i in event.instances}
                        self._watched.set()
                    elif event.kind == graph_pb2.EndpointEvent.UP:
                        self._instances.update((i.instance_id, i) for i in event.instances)
                    elif event.kind == graph_pb2.EndpointEvent.DOWN:
                        for i in event.instances:
                            self._instances.pop(i.instance_id, None)
                        await self._close_unused_channels()
            except (RpcError, ConnectionError, OSError):
                pass
            # The watch ended (graph server restarting): watch again; the snapshot resyncs.
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    async def _close_unused_channels(self):
        used = {i.address for i in self._instances.values()}
        for address in [a for a in self._channels if a not in used]:
            await self._channels.pop(address).close()

    async def _channel(self, address):
        """The router's own channel to `address` (closed when its instances go down)."""
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = await self.graph._open_channel(address)
        return channel

    def _order(self):
        """Every instance once, the strategy's pick first."""
        instances = list(self._instances.values())
        if not instances:
            raise RpcError(StatusCode.UNAVAILABLE, f"no live instance of {self.name.namespace}/{self.name.component}/"
                                                   f"{self.name.endpoint} (is a process serving it registered?)")
        if self.strategy == "random":
            first = random.randrange(len(instances))
        else:
            first = self._turn % len(instances)
            self._turn += 1
        return instances[first:] + instances[:first]

    async def next(self):
        """The next instance by the strategy and a channel to it; RpcError(UNAVAILABLE) when
        none is up."""
        instance = self._order()[0]
        return instance, await self._channel(instance.address)

    async def call(self, body):
        """Runs `await body(channel)` against the next instance; when that instance cannot be
        reached (connection refused or lost, UNAVAILABLE) tries each other instance once."""
        failure = None
        for instance in self._order():
            try:
                channel = await self._channel(instance.address)
                return await body(channel)
            except (ConnectionError, OSError) as error:
                failure = RpcError(StatusCode.UNAVAILABLE, f"{instance.address}: {error}")
            except RpcError as error:
                if error.code != StatusCode.UNAVAILABLE:
                    raise
                failure = error
            stale = self._channels.pop(instance.address, None)
            if stale is not None:
                await stale.close()
        raise failure

    async def close(self):
        """Stops watching and closes the channels."""
        self._closed = True
        self._task.cancel()
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
