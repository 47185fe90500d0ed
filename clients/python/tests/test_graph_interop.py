"""Python and Swift members of one graph, in separate processes: pub/sub both ways and a
settings update from Python applied by a Swift owner."""
import asyncio
import os
import pathlib
import subprocess
import sys

import pytest

from plexus.graph import GraphClient
from plexus.status import RpcError, StatusCode
from plexus.testing.v1 import graph_test_pb2 as pb

ROOT = pathlib.Path(__file__).resolve().parents[3]


def binary(name):
    directory = os.environ.get("PLEXUS_BIN")
    if not directory:
        pytest.skip("PLEXUS_BIN is not set (make test-python sets it to the Swift build's bin directory)")
    path = pathlib.Path(directory) / name
    if not path.exists():
        pytest.skip(f"{path} is not built (run swift build --product {name})")
    return str(path)


@pytest.fixture()
def graph_address():
    process = subprocess.Popen([binary("plexus"), "graph", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("listening on "), line
    yield line.split()[-1]
    process.terminate()
    process.wait(timeout=10)


def swift_peer(address, *args):
    return subprocess.Popen([binary("plexus-graph-peer"), *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PLEXUS_GRAPH_ADDRESS": address})


def wait_line(process, expected):
    for line in process.stdout:
        if line.strip() == expected:
            return
    raise AssertionError(f"{expected!r} never printed")


def test_swift_publisher_python_subscriber(graph_address):
    async def run():
        graph = await GraphClient.connect("py-sub", address=graph_address)
        samples = await graph.subscribe("s2p", pb.Sample)
        publisher = swift_peer(graph_address, "publish", "--topic", "s2p", "--count", "300")
        got = [(await samples.get(timeout=20)) for _ in range(300)]
        assert [s.index for s in got] == list(range(1, 301))
        assert got[-1].text == "sample-300"
        assert publisher.wait(timeout=20) == 0
        await graph.close()
    asyncio.run(asyncio.wait_for(run(), 60))


def publish_to_swift_subscriber(graph_address, topic, count, sample):
    """A Swift peer subscribes to `topic`, a Python member publishes sample(i) for i in
    1..count; returns the peer's `index=` lines once it has them all."""
    subscriber = swift_peer(graph_address, "subscribe", "--topic", topic, "--count", str(count))
    wait_line(subscriber, "ready")

    async def run():
        graph = await GraphClient.connect(f"py-pub-{topic}", address=graph_address)
        publisher = await graph.publisher(topic, pb.Sample)
        for _ in range(500):
            if publisher.subscriber_count:
                break
            await asyncio.sleep(0.01)
        for i in range(1, count + 1):
            await publisher.publish(sample(i))
        out = await asyncio.get_running_loop().run_in_executor(None, lambda: subscriber.communicate(timeout=30)[0])
        await graph.close()
        return out
    out = asyncio.run(asyncio.wait_for(run(), 60))
    assert subscriber.returncode == 0
    return [line for line in out.splitlines() if line.startswith("index=")]


def test_python_publisher_swift_subscriber(graph_address):
    lines = publish_to_swift_subscriber(graph_address, "p2s", 300, lambda i: pb.Sample(index=i, text=f"sample-{i}"))
    assert lines == [f"index={i} text=sample-{i}" for i in range(1, 301)]


def test_python_publisher_streams_megabytes_to_a_swift_subscriber(graph_address):
    """10 MiB through one Deliver stream to a Swift member, whose server announces an 8 MiB
    window (credit granted back after 4 MiB consumed): in order and complete."""
    blob = bytes(64 << 10)
    lines = publish_to_swift_subscriber(graph_address, "p2s-big", 160,
                                        lambda i: pb.Sample(index=i, text=f"big-{i}", data=blob))
    assert lines == [f"index={i} text=big-{i}" for i in range(1, 161)]


def test_settings_update_from_python_applied_by_swift_owner(graph_address):
    owner = swift_peer(graph_address, "own", "--unit", "filter")
    wait_line(owner, "ready")

    async def run():
        graph = await GraphClient.connect("py-settings", address=graph_address)
        watch = graph.watch_settings(after_seq=0, unit="filter")
        first = await watch.read()
        assert first.event.source == first.event.DECLARED
        event = await graph.update_setting_field("filter", "cutoff_hz", 42.5)
        assert event.field_path == "cutoff_hz"
        event = await graph.update_setting_field("filter", "window", "blackman")
        for field, value, rule in [("cutoff_hz", 5000.0, "max"), ("window", "square", "choices"),
                                   ("device", "dev9", "read-only"), ("order", 9, "max")]:
            with pytest.raises(RpcError) as error:
                await graph.update_setting_field("filter", field, value)
            assert error.value.code == StatusCode.INVALID_ARGUMENT
            assert field in error.value.message and rule in error.value.message
        seen = [await watch.read(), await watch.read()]
        assert [i.event.field_path for i in seen] == ["cutoff_hz", "window"]
        snapshot = await graph.settings_snapshot("filter")
        value = pb.FilterSettings.FromString(snapshot.units[0].value)
        assert (value.cutoff_hz, value.window, value.device) == (42.5, "blackman", "dev0")
        watch.cancel()
        await graph.close()
    try:
        asyncio.run(asyncio.wait_for(run(), 60))
    finally:
        owner.terminate()
        out, _ = owner.communicate(timeout=10)
    assert "applied cutoff_hz=42.5" in out and 'applied window="blackman"' in out, out


def test_python_member_re_registers_after_a_graph_server_restart():
    """Its subscription and endpoint come back: the graph server learns them again."""
    def serve(port):
        process = subprocess.Popen([binary("plexus"), "graph", "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True)
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        return process, line.split()[-1]

    # The OS picks the first port (a random fixed one may be taken); the restart reuses it.
    server, address = serve(0)
    port = int(address.rpartition(":")[2])

    async def run():
        nonlocal server
        graph = await GraphClient.connect("py-survivor", address=address)
        samples = await graph.subscribe("after-restart", pb.Sample)
        await graph.register_endpoint("ns", "py", "work")
        first_id = graph.process_id
        server.kill()
        server.wait(timeout=10)
        server, _ = serve(port)
        for _ in range(300):
            try:
                if any(p.process_id == first_id for p in await graph.processes()):
                    break
            except RpcError:
                pass
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the Python member did not re-register")
        publisher = swift_peer(address, "publish", "--topic", "after-restart", "--count", "3")
        got = [(await samples.get(timeout=20)).index for _ in range(3)]
        assert got == [1, 2, 3]
        assert publisher.wait(timeout=20) == 0
        # Its endpoint was announced again too.
        for _ in range(250):
            instances = await graph.resolve("ns", "py", "work")
            if instances:
                break
            await asyncio.sleep(0.02)
        assert [i.process_id for i in instances] == [first_id]
        await graph.close()
    try:
        asyncio.run(asyncio.wait_for(run(), 60))
    finally:
        server.kill()
        server.wait(timeout=10)


def test_python_subscriber_refuses_a_wrong_type_and_undecodable_payloads(graph_address):
    """A Deliver stream with another type name, or a payload that is not the subscriber's type,
    fails with the same codes as in Swift; the subscription still takes good streams."""
    from plexus.channel import Channel
    from plexus.graph.v1 import pubsub_pb2

    async def run():
        graph = await GraphClient.connect("py-guarded", address=graph_address)
        samples = await graph.subscribe("guarded", pb.Sample)
        base = [("plexus-subscriber-id", str(samples.subscriber_id)), ("plexus-topic", "guarded")]
        async with Channel("127.0.0.1", graph.server.port) as channel:
            async def deliver(type_name, batch):
                call = channel.start("/plexus.graph.v1.TopicDelivery/Deliver", pubsub_pb2.DeliverSummary,
                                     metadata=base + [("plexus-type-name", type_name)])
                await call.write(batch, last=True)
                return await call.response()

            with pytest.raises(RpcError) as refused:
                await deliver("plexus.testing.v1.FilterSettings", pubsub_pb2.TopicBatch())
            assert refused.value.code == StatusCode.FAILED_PRECONDITION, refused.value
            corrupt = pubsub_pb2.TopicBatch(messages=[pubsub_pb2.TopicMessage(sequence=1, payload=b"\x00\x01")])
            with pytest.raises(RpcError) as refused:
                await deliver("plexus.testing.v1.Sample", corrupt)
            assert refused.value.code == StatusCode.INVALID_ARGUMENT, refused.value
            assert "plexus.testing.v1.Sample" in refused.value.message
            good = pubsub_pb2.TopicBatch(messages=[
                pubsub_pb2.TopicMessage(sequence=1, payload=pb.Sample(index=7).SerializeToString())])
            assert (await deliver("plexus.testing.v1.Sample", good)).messages == 1
            assert (await samples.get(timeout=5)).index == 7
        await graph.close()
    asyncio.run(asyncio.wait_for(run(), 60))
