"""A Python member's process control, profiling and discovery, used from other processes: a
Swift publisher feeds it, another member calls its operations through the graph server, and the
Swift CLI (`plexus profile`) reads its statistics."""
import asyncio
import socket
import subprocess

import pytest
from google.protobuf import any_pb2

from plexus.control.v1 import control_pb2
from plexus.graph import ControlError, GraphClient
from plexus.graph.profiling import LatencyHistogram
from plexus.profiling.v1 import profiling_pb2
from plexus.rpc.v1 import status_pb2
from plexus.status import RpcError, StatusCode
from plexus.testing.v1 import graph_test_pb2 as pb

from test_graph_interop import binary, graph_address, swift_peer  # noqa: F401 - the fixture


def custom(name, message=None):
    payload = any_pb2.Any()
    if message is not None:
        payload.Pack(message)
    return control_pb2.CustomOperation(name=name, payload=payload)


def test_python_member_answers_custom_operations_and_profiling_routed_by_the_graph(graph_address):
    async def echo(payload):
        sample = pb.Sample()
        payload.Unpack(sample)
        return pb.Sample(index=sample.index + 1, text=sample.text.upper())

    def refuse(payload):
        raise ValueError("not today")

    async def run():
        worker = await GraphClient.connect("py-worker", units=["worker"], address=graph_address,
                                           operations={"echo": echo, "refuse": refuse})
        caller = await GraphClient.connect("py-caller", address=graph_address)
        samples = await worker.subscribe("prof", pb.Sample)
        publisher = swift_peer(graph_address, "publish", "--topic", "prof", "--count", "50")
        got = [(await samples.get(timeout=20)) for _ in range(50)]
        assert [s.index for s in got] == list(range(1, 51))
        assert publisher.wait(timeout=20) == 0

        # A user-defined operation, its failure, and one nobody registered.
        response = await caller.process_request("worker", custom=custom("echo", pb.Sample(index=41, text="hi")))
        answer = pb.Sample()
        assert response.custom.payload.Unpack(answer)
        assert (answer.index, answer.text) == (42, "HI")
        with pytest.raises(ControlError) as failed:
            await caller.process_request("worker", custom=custom("refuse"))
        assert failed.value.code == status_pb2.HANDLER_ERROR and "not today" in failed.value.message
        with pytest.raises(ControlError) as unknown:
            await caller.process_request("worker", custom=custom("nope"))
        assert unknown.value.code == status_pb2.HANDLER_NOT_CONFIGURED
        with pytest.raises(ControlError) as nobody:
            await caller.process_request("no-such-unit", ping=control_pb2.PingRequest())
        assert nobody.value.code == status_pb2.UNROUTABLE_UNIT
        ping = await caller.process_request("worker", ping=control_pb2.PingRequest(payload=b"x"))
        assert ping.ping.payload == b"x"
        processes = {p.info.name: p.info for p in await caller.processes()}
        assert list(processes["py-worker"].custom_operations) == ["echo", "refuse"]

        # The worker's profile, through the graph server.
        snapshot = (await caller.process_request("worker", get_profiling_snapshot=control_pb2.GetProfilingSnapshotRequest())).profiling_snapshot
        topic = {t.topic: t for t in snapshot.topics}["prof"]
        assert topic.messages_received == 50 and topic.bytes_received > 0
        assert topic.delivery_latency.count == 50 and 0 < topic.delivery_latency.p50_nanos <= topic.delivery_latency.max_nanos

        # Traces: switched on with a TTL, fetched in a batch.
        trace = control_pb2.SetProfilingTraceRequest(enabled=True, topics=["prof"])
        trace.ttl.FromSeconds(30)
        assert (await caller.process_request("worker", set_profiling_trace=trace)).profiling_trace.expires_unix_nanos > 0
        publisher = swift_peer(graph_address, "publish", "--topic", "prof", "--count", "20")
        for _ in range(20):
            await samples.get(timeout=20)
        assert publisher.wait(timeout=20) == 0
        batch = (await caller.process_request("worker", get_profiling_trace_batch=control_pb2.GetProfilingTraceBatchRequest(max_samples=100))).trace_batch
        assert [s.sequence for s in batch.samples] == list(range(1, 21))
        assert {s.kind for s in batch.samples} == {profiling_pb2.RECEIVE} and batch.enabled

        # The Swift CLI shows the Python process beside the others.
        cli = await asyncio.get_running_loop().run_in_executor(None, lambda: subprocess.run(
            [binary("plexus"), "profile", "--graph", graph_address], capture_output=True, text=True, timeout=30))
        assert cli.returncode == 0, cli.stderr
        row = next(line for line in cli.stdout.splitlines() if "py-worker" in line and "prof" in line)
        assert " 70 " in f" {row} ", row
        await caller.close()
        await worker.close()
    asyncio.run(asyncio.wait_for(run(), 90))


def test_python_endpoint_is_resolved_and_released_when_its_process_leaves(graph_address):
    async def run():
        server = await GraphClient.connect("py-server", address=graph_address)
        client = await GraphClient.connect("py-client", address=graph_address)
        instance = await server.register_endpoint("dyn", "llm", "generate", metadata={"model": "small"})
        assert instance.process_id == server.process_id and instance.address == server.server.address
        found = await client.resolve("dyn", "llm", "generate")
        assert [(i.instance_id, i.metadata["model"]) for i in found] == [(instance.instance_id, "small")]
        assert await client.resolve("dyn", "llm", "other") == []
        await server.close()
        for _ in range(200):
            if not await client.resolve("dyn", "llm", "generate"):
                break
            await asyncio.sleep(0.02)
        assert await client.resolve("dyn", "llm", "generate") == []
        await client.close()
    asyncio.run(asyncio.wait_for(run(), 60))


def test_latency_histogram_percentiles_are_within_three_percent():
    h = LatencyHistogram()
    for v in range(1, 100_001):
        h.record(v * 1000)
    p50, p90, p99 = h.percentiles(0.5, 0.9, 0.99)
    for got, want in ((p50, 50_000_000), (p90, 90_000_000), (p99, 99_000_000)):
        assert abs(got - want) / want < 0.03, (got, want)
    summary = h.summary()
    assert (summary.count, summary.min_nanos, summary.max_nanos) == (100_000, 1000, 100_000_000)
    assert abs(summary.mean_nanos - 50_000_500) < 1
    exact = LatencyHistogram()
    for v in (5, 5, 7):
        exact.record(v)
    assert exact.percentiles(0.5, 1.0) == [5, 7]


def test_endpoint_router_spreads_calls_and_drops_an_instance_that_leaves(graph_address):
    """Two members serve one endpoint on their own Plexus servers; a router round-robins calls
    between them, and only the survivor gets calls once the other leaves the graph."""
    method = "/plexus.testing.v1.Echo/Who"

    async def member(name):
        graph = await GraphClient.connect(name, address=graph_address)

        async def who(request, metadata):
            return pb.Sample(index=request.index, text=name)
        graph.server.add_unary(method, pb.Sample, who)
        await graph.register_endpoint("dyn", "echo", "who")
        return graph

    async def run():
        a, b = await member("a"), await member("b")
        caller = await GraphClient.connect("caller", address=graph_address)
        router = await caller.endpoint_router("dyn", "echo", "who")
        assert sorted(i.process_id for i in router.instances) == sorted([a.process_id, b.process_id])

        async def ask(i):
            return (await router.call(lambda channel: channel.unary(method, pb.Sample(index=i), pb.Sample))).text
        answers = [await ask(i) for i in range(6)]
        assert sorted(answers) == ["a"] * 3 + ["b"] * 3 and answers[0] != answers[1]
        # An instance nobody serves any more (its port closed): calls fail over to the others.
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead = await b.register_endpoint("dyn", "echo", "who", address="127.0.0.1:%d" % closed.getsockname()[1])
        closed.close()
        for _ in range(250):
            if len(router.instances) == 3:
                break
            await asyncio.sleep(0.02)
        assert dead.instance_id in {i.instance_id for i in router.instances}
        assert set([await ask(i) for i in range(6)]) == {"a", "b"}
        await a.close()
        for _ in range(250):
            if all(i.process_id == b.process_id for i in router.instances):
                break
            await asyncio.sleep(0.02)
        assert {i.process_id for i in router.instances} == {b.process_id}
        assert [await ask(i) for i in range(4)] == ["b"] * 4
        await b.close()
        for _ in range(250):
            if not router.instances:
                break
            await asyncio.sleep(0.02)
        with pytest.raises(RpcError) as none:
            await ask(0)
        assert none.value.code == StatusCode.UNAVAILABLE
        await router.close()
        await caller.close()
    asyncio.run(asyncio.wait_for(run(), 60))


def test_drop_oldest_python_subscriber_keeps_the_newest_and_counts_every_drop(graph_address):
    """A Python subscriber that does not read, with drop-oldest and room for 4: the Swift
    publisher never waits, the 4 newest messages are kept, and every other one is counted as
    dropped (on either side of the stream) in the subscription and in the profile."""
    async def run():
        graph = await GraphClient.connect("py-lossy", units=["lossy"], address=graph_address)
        samples = await graph.subscribe("lossy", pb.Sample, max_in_flight=4, policy="drop_oldest")
        publisher = swift_peer(graph_address, "publish", "--topic", "lossy", "--count", "200")
        assert await asyncio.get_running_loop().run_in_executor(None, lambda: publisher.wait(timeout=30)) == 0
        for _ in range(250):
            if samples.dropped == 196:
                break
            await asyncio.sleep(0.02)
        assert [(await samples.get(timeout=5)).index for _ in range(4)] == [197, 198, 199, 200]
        assert samples.dropped == 196
        snapshot = graph.profiler.snapshot(graph.process_id, graph.name)
        assert {t.topic: t.messages_dropped for t in snapshot.topics}["lossy"] == 196
        await graph.close()
    asyncio.run(asyncio.wait_for(run(), 60))
