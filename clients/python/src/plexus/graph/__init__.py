"""Joining a Plexus graph from Python (see docs/GRAPH.md): register the process with the graph
server, publish and subscribe, own and update settings, read and watch topology.

    graph = await GraphClient.connect("py-worker")               # PLEXUS_GRAPH_ADDRESS or 127.0.0.1:25979
    samples = await graph.subscribe("raw", Sample)
    out = await graph.publisher("filtered", Sample)
    async for s in samples:
        await out.publish(s)

Messages go publisher -> subscriber directly: a subscriber is served by this process's own Plexus
server (plexus.Server), a publisher opens one TopicDelivery stream per remote subscriber.
"""
import asyncio
import os
import socket
import time

from plexus.channel import Channel
from plexus.control.v1 import control_pb2
from plexus.graph import control
from plexus.graph.control import ControlError
from plexus.graph.discovery import EndpointRouter
from plexus.graph.fields import apply_field, field_value
from plexus.graph.profiling import Profiler
from plexus.graph.v1 import graph_pb2, pubsub_pb2
from plexus.server import Server
from plexus.status import RpcError, StatusCode

__all__ = ["GraphClient", "Publisher", "Subscription", "ControlError", "EndpointRouter", "Profiler", "apply_field",
           "field_value", "graph_address"]

SERVICE = "/plexus.graph.v1.GraphService/"
DELIVER = "/plexus.graph.v1.TopicDelivery/Deliver"
DEFAULT_ADDRESS = "127.0.0.1:25979"


def graph_address(address=None):
    text = address or os.environ.get("PLEXUS_GRAPH_ADDRESS") or DEFAULT_ADDRESS
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"graph address {text!r} is not host:port (e.g. {DEFAULT_ADDRESS})")
    return host or "127.0.0.1", int(port)


async def _enqueue(queue, message, drop_oldest, on_drop):
    """Queues `message` under a subscription's policy: with drop-oldest a full queue loses its
    oldest message (`on_drop()` counts it), with block it waits for room. Returns the
    nanoseconds spent waiting."""
    if queue.full():
        if drop_oldest:
            queue.get_nowait()
            on_drop()
        else:
            start = time.perf_counter_ns()
            await queue.put(message)
            return time.perf_counter_ns() - start
    queue.put_nowait(message)
    return 0


class Subscription:
    """Messages of one subscription (async iterator). `dropped` counts drop-oldest losses."""

    def __init__(self, graph, topic, message_type, max_in_flight, policy):
        self.graph = graph
        self.topic = topic
        self.type = message_type
        self.policy = policy
        self.queue = asyncio.Queue(maxsize=max_in_flight)
        self.dropped = 0
        self.subscriber_id = 0

    async def put(self, message):
        """Queues `message`; returns the nanoseconds spent waiting for room (`block` policy)."""
        return await _enqueue(self.queue, message, self.policy == graph_pb2.DROP_OLDEST, self._count_drop)

    def _count_drop(self):
        self.dropped += 1
        self.graph.profiler.dropped(self.topic)

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.queue.get()

    async def get(self, timeout=None):
        return await asyncio.wait_for(self.queue.get(), timeout)


class _Link:
    """Delivery to one remote subscriber: a bounded queue drained into one Deliver stream."""

    def __init__(self, graph, route, publisher):
        self.route = route
        self.queue = asyncio.Queue(maxsize=max(1, route.max_in_flight))
        self.dropped = 0
        self.profiler = graph.profiler
        self.dead = False
        self.created = time.monotonic()
        self.task = asyncio.ensure_future(self._run(graph, publisher))

    async def _run(self, graph, publisher):
        try:
            channel = await graph._channel(self.route.address)
            call = channel.start(DELIVER, pubsub_pb2.DeliverSummary, metadata=[
                ("plexus-subscriber-id", str(self.route.subscriber_id)), ("plexus-topic", self.route.topic),
                ("plexus-type-name", publisher.type.DESCRIPTOR.full_name), ("plexus-publisher-id", str(publisher.id))])
            while True:
                first = await self.queue.get()
                batch = pubsub_pb2.TopicBatch(messages=[first], dropped=self.dropped)
                self.dropped = 0
                while not self.queue.empty() and len(batch.messages) < 1024:
                    batch.messages.append(self.queue.get_nowait())
                if not await call.write(batch):
                    break
        except (RpcError, ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            self.dead = True

    async def offer(self, message, policy):
        """Queues `message`; returns the nanoseconds spent waiting for room (`block` policy)."""
        if self.dead:
            return 0
        return await _enqueue(self.queue, message, policy == graph_pb2.DROP_OLDEST, self._count_drop)

    def _count_drop(self):
        self.dropped += 1
        self.profiler.dropped(self.route.topic)


class Publisher:
    """Publishes messages of one type on a topic to every subscriber the graph routes to it."""

    def __init__(self, graph, topic, message_type):
        self.graph = graph
        self.topic = topic
        self.type = message_type
        self.id = 0
        self.links = {}
        self.sequence = 0

    @property
    def subscriber_count(self):
        return len(self.links)

    def _routes(self, routes):
        wanted = {r.subscriber_id: r for r in routes}
        for sid in list(self.links):
            if sid not in wanted:
                link = self.links.pop(sid)
                if not isinstance(link, Subscription):
                    link.task.cancel()
        for sid, route in wanted.items():
            if sid in self.links and not getattr(self.links[sid], "dead", False):
                continue
            local = self.graph._subscriptions.get(sid)
            self.links[sid] = local if route.process_id == self.graph.process_id and local else _Link(self.graph, route, self)

    async def publish(self, message):
        self.sequence += 1
        start = time.perf_counter_ns()
        now = time.time_ns()
        profiler = self.graph.profiler
        encoded = None
        waited = 0
        for link in list(self.links.values()):
            if isinstance(link, Subscription):
                waited += await link.put(message)
                profiler.received(self.topic, self.sequence, 0, now)
                continue
            if encoded is None:
                encoded = pubsub_pb2.TopicMessage(sequence=self.sequence, publish_unix_nanos=now,
                                                  payload=message.SerializeToString())
            if link.dead:
                # The subscriber's stream failed (restarting, not yet known there): reconnect
                # after a pause until the graph drops the subscriber.
                if time.monotonic() - link.created > 0.2:
                    self.links[link.route.subscriber_id] = _Link(self.graph, link.route, self)
                continue
            waited += await link.offer(encoded, link.route.policy)
        size = len(encoded.payload) if encoded is not None else 0
        profiler.published(self.topic, self.sequence, size, waited, time.perf_counter_ns() - start)


class GraphClient:
    """This process's membership in a Plexus graph."""

    def __init__(self, name, units, address, operations=None):
        self.name = name
        self.units = list(units)
        #: Handlers of user-defined operations by name (see plexus.graph.control).
        self.operations = dict(operations or {})
        #: This process's topic counters, latencies and traces (answered to `plexus profile`).
        self.profiler = Profiler()
        self.host, self.port = graph_address(address)
        self.channel = Channel(self.host, self.port, reconnect=True, max_backoff=1.0)
        self.server = Server()
        self.process_id = ""
        self._publishers = {}
        self._subscriptions = {}
        self._settings = {}
        self._channels = {}
        self._edges = []
        self._endpoints = []
        self._tasks = set()
        self._session = None

    @classmethod
    async def connect(cls, name, units=(), address=None, operations=None):
        """Registers with the graph server; raises RpcError(ALREADY_EXISTS) on a unit collision.
        The session is kept alive, and re-established (with everything this process declared)
        after the graph server restarts. `operations` maps user-defined operation names to
        handlers `f(payload: Any) -> message | Any | None` (plain or async) that other processes
        call through the graph server (`process_request(unit, custom=...)`)."""
        self = cls(name, units, address, operations)
        self.server.add_client_streaming(DELIVER, pubsub_pb2.TopicBatch, self._deliver)
        await self.server.start()
        await self.channel.connect()
        await self._open_session()
        self._spawn(self._keep_session())
        return self

    def _spawn(self, coroutine):
        """Runs `coroutine` as a task this client cancels on close (forgotten once it ends)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _open_session(self):
        self._session = self.channel.bidi(SERVICE + "Session", graph_pb2.SessionEvent)
        info = graph_pb2.ProcessInfo(name=self.name, pid=os.getpid(), host=socket.gethostname(), language="python",
                                     address=self.server.address, units=self.units,
                                     previous_process_id=self.process_id, custom_operations=sorted(self.operations))
        await self._session.write(graph_pb2.SessionRequest(register=graph_pb2.Register(process=info)))
        first = await self._session.read()
        if first is None:
            raise self._session._error()
        self.process_id = first.registered.process_id
        self._interval = first.registered.heartbeat_interval.ToTimedelta().total_seconds() or 0.5

    async def _keep_session(self):
        backoff = 0.1
        while True:
            beats = asyncio.ensure_future(self._heartbeats(self._interval))
            try:
                await self._events()
            except (RpcError, ConnectionError, OSError):
                pass
            finally:
                beats.cancel()
            while True:  # the session ended: the graph server restarted or the network failed
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                try:
                    await self._open_session()
                    await self._redeclare()
                    backoff = 0.1
                    break
                except (RpcError, ConnectionError, OSError):
                    continue

    async def _redeclare(self):
        """After re-registering: publishers, subscribers and settings again (new ids)."""
        publishers = list(self._publishers.values())
        self._publishers.clear()
        for publisher in publishers:
            r = await self._call("AddPublisher", graph_pb2.AddPublisherRequest(
                process_id=self.process_id, topic=publisher.topic, type_name=publisher.type.DESCRIPTOR.full_name),
                graph_pb2.AddPublisherResponse)
            publisher.id = r.publisher_id
            self._publishers[publisher.id] = publisher
            pending = getattr(self, "_pending_routes", {}).pop(publisher.id, None)
            if pending is not None:
                publisher._routes(pending)
        subscriptions = list(self._subscriptions.values())
        self._subscriptions.clear()
        for sub in subscriptions:
            r = await self._call("AddSubscriber", graph_pb2.AddSubscriberRequest(
                process_id=self.process_id, topic=sub.topic, type_name=sub.type.DESCRIPTOR.full_name,
                max_in_flight=sub.queue.maxsize, policy=sub.policy), graph_pb2.AddSubscriberResponse)
            sub.subscriber_id = r.subscriber_id
            self._subscriptions[r.subscriber_id] = sub
        for from_topic, to_topic in self._edges:
            await self._call("Connect", graph_pb2.ConnectRequest(from_topic=from_topic, to_topic=to_topic,
                                                                 process_id=self.process_id), graph_pb2.ConnectResponse)
        for unit, owned in self._settings.items():
            await self._call("DeclareSettings", graph_pb2.DeclareSettingsRequest(
                process_id=self.process_id, unit=unit, schema=owned.schema, value=owned.value.SerializeToString()),
                graph_pb2.DeclareSettingsResponse)
        for request in self._endpoints:
            request.process_id = self.process_id
            await self._call("RegisterEndpoint", request, graph_pb2.RegisterEndpointResponse)

    async def _heartbeats(self, interval):
        while True:
            await asyncio.sleep(interval)
            await self._session.write(graph_pb2.SessionRequest(heartbeat=graph_pb2.Heartbeat(sent_unix_nanos=time.time_ns())))

    async def _events(self):
        async for event in self._session:
            which = event.WhichOneof("kind")
            if which == "routes":
                publisher = self._publishers.get(event.routes.publisher_id)
                if publisher:
                    publisher._routes(event.routes.routes)
                else:
                    self._pending_routes = getattr(self, "_pending_routes", {})
                    self._pending_routes[event.routes.publisher_id] = event.routes.routes
            elif which == "control_request":
                self._spawn(self._control(event.control_request))

    async def _control(self, request):
        response = await control.answer(self, request)
        await self._session.write(graph_pb2.SessionRequest(control_reply=graph_pb2.ControlReply(response=response)))

    async def _deliver(self, requests, metadata):
        # The same answers as the Swift member (docs/PROTOCOL.md §10): only this stream fails.
        try:
            sid = int(metadata.get("plexus-subscriber-id", ""))
        except ValueError:
            raise RpcError(StatusCode.INVALID_ARGUMENT,
                           "Deliver needs the plexus-subscriber-id header (decimal subscriber id)")
        subscription = None
        for _ in range(100):  # the subscriber may be a moment away from being registered here
            subscription = self._subscriptions.get(sid)
            if subscription:
                break
            await asyncio.sleep(0.01)
        if subscription is None:
            raise RpcError(StatusCode.NOT_FOUND, f"no subscriber {sid} in this process (it left)")
        topic = metadata.get("plexus-topic")
        if topic is not None and topic != subscription.topic:
            raise RpcError(StatusCode.FAILED_PRECONDITION,
                           f"subscriber {sid} is on topic '{subscription.topic}', not '{topic}'")
        expected = subscription.type.DESCRIPTOR.full_name
        type_name = metadata.get("plexus-type-name")
        if type_name is not None and type_name != expected:
            raise RpcError(StatusCode.FAILED_PRECONDITION, f"subscriber {sid} takes {expected}, not {type_name}")
        count = 0
        async for batch in requests:
            if batch.dropped:
                subscription.dropped += batch.dropped
                self.profiler.dropped(subscription.topic, batch.dropped)
            for m in batch.messages:
                try:
                    message = subscription.type.FromString(m.payload)
                except Exception as error:  # protobuf's DecodeError, or worse bytes
                    raise RpcError(StatusCode.INVALID_ARGUMENT,
                                   f"topic '{subscription.topic}': a message does not decode as {expected} ({error}); "
                                   "the publisher sent another type or corrupt bytes")
                await subscription.put(message)
                self.profiler.received(subscription.topic, m.sequence, len(m.payload), m.publish_unix_nanos)
                count += 1
        return pubsub_pb2.DeliverSummary(messages=count)

    async def _channel(self, address):
        """The channel this member's publishers share to `address` (opened once)."""
        if address not in self._channels:
            self._channels[address] = await self._open_channel(address)
        return self._channels[address]

    @staticmethod
    async def _open_channel(address):
        """A new connected channel to a member's `host:port` (the caller closes it)."""
        host, port = graph_address(address)
        channel = Channel(host, port)
        await channel.connect()
        return channel

    async def _call(self, method, request, response_type):
        return await self.channel.unary(SERVICE + method, request, response_type)

    def _stream(self, method, request, response_type):
        """A server stream of GraphService `method`."""
        return self.channel.server_stream(SERVICE + method, request, response_type)

    async def publisher(self, topic, message_type, unit=""):
        publisher = Publisher(self, topic, message_type)
        r = await self._call("AddPublisher", graph_pb2.AddPublisherRequest(
            process_id=self.process_id, topic=topic, type_name=message_type.DESCRIPTOR.full_name, unit=unit),
            graph_pb2.AddPublisherResponse)
        publisher.id = r.publisher_id
        self._publishers[publisher.id] = publisher
        pending = getattr(self, "_pending_routes", {}).pop(publisher.id, None)
        if pending is not None:
            publisher._routes(pending)
        return publisher

    async def subscribe(self, topic, message_type, max_in_flight=64, policy="block", unit=""):
        policy = graph_pb2.DROP_OLDEST if policy in ("drop_oldest", graph_pb2.DROP_OLDEST) else graph_pb2.BLOCK
        subscription = Subscription(self, topic, message_type, max_in_flight, policy)
        r = await self._call("AddSubscriber", graph_pb2.AddSubscriberRequest(
            process_id=self.process_id, topic=topic, type_name=message_type.DESCRIPTOR.full_name, unit=unit,
            max_in_flight=max_in_flight, policy=policy), graph_pb2.AddSubscriberResponse)
        subscription.subscriber_id = r.subscriber_id
        self._subscriptions[r.subscriber_id] = subscription
        return subscription

    async def connect_topics(self, from_topic, to_topic):
        await self._call("Connect", graph_pb2.ConnectRequest(from_topic=from_topic, to_topic=to_topic,
                                                             process_id=self.process_id), graph_pb2.ConnectResponse)
        self._edges.append((from_topic, to_topic))

    # Discovery and process control

    async def register_endpoint(self, namespace, component, endpoint, address="", metadata=None):
        """Announces that this process serves namespace/component/endpoint (at `address`, or
        this process's own Plexus server when empty); returns the EndpointInstance. It goes away
        when the process leaves the graph, and is announced again after a graph-server restart."""
        request = graph_pb2.RegisterEndpointRequest(
            process_id=self.process_id, address=address, metadata=metadata or {},
            name=graph_pb2.EndpointName(namespace=namespace, component=component, endpoint=endpoint))
        instance = (await self._call("RegisterEndpoint", request, graph_pb2.RegisterEndpointResponse)).instance
        self._endpoints.append(request)
        return instance

    async def resolve(self, namespace="", component="", endpoint=""):
        """The live instances of an endpoint (empty parts match everything)."""
        name = graph_pb2.EndpointName(namespace=namespace, component=component, endpoint=endpoint)
        return list((await self._call("Resolve", graph_pb2.ResolveRequest(name=name), graph_pb2.ResolveResponse)).instances)

    async def endpoint_router(self, namespace, component, endpoint, strategy="round_robin"):
        """A router over the live instances of an endpoint (see plexus.graph.discovery), once
        it has the current set."""
        router = EndpointRouter(self, graph_pb2.EndpointName(namespace=namespace, component=component, endpoint=endpoint),
                                strategy)
        try:
            await router.ready()
        except BaseException:
            await router.close()
            raise
        return router

    async def process_request(self, unit, timeout=None, **operation):
        """Runs one operation in the process that owns `unit`, routed through the graph server:
        `ping=PingRequest()`, `get_process_stats=...`, `get_profiling_snapshot=...`,
        `custom=CustomOperation(name=..., payload=...)`, ... (plexus.control.v1). Returns the
        ProcessControlResponse; raises ControlError with the routing code when it failed."""
        request = control_pb2.ProcessControlRequest(unit=unit, **operation)
        if timeout:
            request.timeout.FromNanoseconds(int(timeout * 1e9))
        response = await self._call("ProcessRequest", request, control_pb2.ProcessControlResponse)
        if response.error_code:
            raise ControlError(response.error_code, response.error_message)
        return response

    # Settings

    async def own_settings(self, unit, message, schema, on_update=None):
        """Declares the settings of `unit` (owned by this process). `schema` is the
        plexus.settings.v1.SettingsSchema of the message type; `on_update(new)` may raise to refuse."""
        if unit not in self.units:
            await self._call("UpdateOwnership", graph_pb2.UpdateOwnershipRequest(process_id=self.process_id, add_units=[unit]),
                             graph_pb2.UpdateOwnershipResponse)
            self.units.append(unit)
        owned = _OwnedSettings(message, on_update, schema)
        self._settings[unit] = owned
        await self._call("DeclareSettings", graph_pb2.DeclareSettingsRequest(
            process_id=self.process_id, unit=unit, schema=schema, value=message.SerializeToString()),
            graph_pb2.DeclareSettingsResponse)
        return owned

    async def settings_snapshot(self, unit=""):
        return await self._call("SettingsSnapshot", graph_pb2.SettingsSnapshotRequest(unit=unit),
                                graph_pb2.SettingsSnapshotResponse)

    async def settings_events(self, after_seq=0, limit=0):
        return await self._call("SettingsEvents", graph_pb2.SettingsEventsRequest(after_seq=after_seq, limit=limit),
                                graph_pb2.SettingsEventsResponse)

    def watch_settings(self, after_seq=0, unit=""):
        """Server stream of SettingsStreamItem (events, then a gap marker if history was lost)."""
        return self._stream("SubscribeSettings", graph_pb2.SubscribeSettingsRequest(after_seq=after_seq, unit=unit),
                            graph_pb2.SettingsStreamItem)

    async def update_setting_field(self, unit, path, value, timeout=None):
        """Updates one field; the graph server validates it, the owner applies it. Returns the
        committed SettingsEvent; raises RpcError(INVALID_ARGUMENT) naming the rule it breaks."""
        request = graph_pb2.UpdateSettingFieldRequest(unit=unit, field_path=path, value=field_value(value))
        if timeout:
            request.timeout.FromNanoseconds(int(timeout * 1e9))
        return (await self._call("UpdateSettingField", request, graph_pb2.UpdateSettingFieldResponse)).event

    async def update_settings(self, unit, message):
        request = graph_pb2.UpdateSettingsRequest(unit=unit, value=message.SerializeToString())
        return (await self._call("UpdateSettings", request, graph_pb2.UpdateSettingsResponse)).event

    async def topology(self):
        return await self._call("GetTopology", graph_pb2.TopologyRequest(), graph_pb2.TopologySnapshot)

    def watch_topology(self, after_seq=0):
        return self._stream("WatchTopology", graph_pb2.WatchTopologyRequest(after_seq=after_seq),
                            graph_pb2.TopologyStreamItem)

    async def processes(self):
        return (await self._call("ListProcesses", graph_pb2.ListProcessesRequest(), graph_pb2.ListProcessesResponse)).processes

    async def close(self):
        for task in list(self._tasks):
            task.cancel()
        for publisher in self._publishers.values():
            for link in publisher.links.values():
                if isinstance(link, _Link):
                    link.task.cancel()
        if self._session is not None:
            self._session.cancel("the process left the graph")
        for channel in self._channels.values():
            await channel.close()
        await self.channel.close()
        await self.server.stop()


class _OwnedSettings:
    def __init__(self, value, on_update, schema):
        self.value = value
        self.on_update = on_update
        self.schema = schema
