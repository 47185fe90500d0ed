"""Python client against the Swift interop server, in separate processes over loopback."""
import asyncio
import os
import pathlib
import subprocess
import sys

import pytest

import plexus
from plexus import RpcError, StatusCode
from plexus.testing.v1 import test_service_pb2 as pb

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python"))
import plexus_interop_client as interop  # noqa: E402


def server_binary():
    directory = os.environ.get("PLEXUS_BIN")
    if not directory:
        directory = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                                   capture_output=True, text=True).stdout.strip()
    path = pathlib.Path(directory) / "plexus-interop-server"
    if not path.exists():
        subprocess.run(["swift", "build", "--product", "plexus-interop-server"], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="module")
def server_port():
    process = subprocess.Popen([str(server_binary()), "--port", "0"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("listening "), line
    yield int(line.split()[1])
    process.stdin.close()  # the server exits when its stdin closes
    process.wait(timeout=10)


@pytest.mark.parametrize("case", list(interop.CASES))
def test_interop_case(server_port, case):
    async def run():
        async with plexus.Channel("127.0.0.1", server_port) as channel:
            await interop.CASES[case](channel)
    asyncio.run(asyncio.wait_for(run(), 30))


def test_deadline_and_error_status(server_port):
    async def run():
        async with plexus.Channel("127.0.0.1", server_port) as channel:
            # A server stream that sleeps 500 ms before its response, with a 100 ms deadline.
            request = pb.StreamingOutputCallRequest()
            request.response_parameters.add(size=10, interval_us=500_000)
            with pytest.raises(RpcError) as raised:
                async for _ in channel.server_stream("/plexus.testing.v1.TestService/StreamingOutputCall",
                                                     request, pb.StreamingOutputCallResponse, timeout=0.1):
                    pass
            assert raised.value.code == StatusCode.DEADLINE_EXCEEDED
            status = pb.EchoStatus(code=StatusCode.NOT_FOUND, message="no such thing")
            with pytest.raises(RpcError) as raised:
                await channel.unary("/plexus.testing.v1.TestService/UnaryCall",
                                    pb.SimpleRequest(response_status=status), pb.SimpleResponse)
            assert raised.value.code == StatusCode.NOT_FOUND
            assert raised.value.message == "no such thing"
            # The connection still serves calls afterwards.
            reply = await channel.unary("/plexus.testing.v1.TestService/UnaryCall",
                                        pb.SimpleRequest(response_size=3), pb.SimpleResponse)
            assert reply.payload.body == b"\0\0\0"
    asyncio.run(run())


def test_sync_channel_all_call_kinds(server_port):
    service = "/plexus.testing.v1.TestService/"
    with plexus.SyncChannel("127.0.0.1", server_port) as channel:
        reply, headers, trailers = channel.unary_call(
            service + "UnaryCall", pb.SimpleRequest(response_size=5), pb.SimpleResponse,
            metadata=[("x-grpc-test-echo-initial", "sync"), ("x-grpc-test-echo-trailing-bin", b"\x01\x02")])
        assert reply.payload.body == b"\0" * 5
        assert ("x-grpc-test-echo-initial", "sync") in headers
        assert ("x-grpc-test-echo-trailing-bin", b"\x01\x02") in trailers
        request = pb.StreamingOutputCallRequest()
        request.response_parameters.extend(pb.ResponseParameters(size=n) for n in (1, 2, 3))
        sizes = [len(r.payload.body) for r in channel.server_stream(service + "StreamingOutputCall", request,
                                                                    pb.StreamingOutputCallResponse)]
        assert sizes == [1, 2, 3]
        total = channel.client_stream(service + "StreamingInputCall",
                                      [pb.StreamingInputCallRequest(payload=pb.Payload(body=b"x" * n)) for n in (3, 4)],
                                      pb.StreamingInputCallResponse)
        assert total.aggregated_payload_size == 7
        with channel.bidi(service + "FullDuplexCall", pb.StreamingOutputCallResponse) as call:
            ask = pb.StreamingOutputCallRequest()
            ask.response_parameters.add(size=4)
            call.write(ask)
            assert len(call.read().payload.body) == 4
            call.done_writing()
            assert list(call) == [] and call.code == StatusCode.OK
        slow = pb.StreamingOutputCallRequest()
        slow.response_parameters.add(size=1, interval_us=500_000)
        with pytest.raises(RpcError) as raised:
            list(channel.server_stream(service + "StreamingOutputCall", slow, pb.StreamingOutputCallResponse,
                                       timeout=0.05))
        assert raised.value.code == StatusCode.DEADLINE_EXCEEDED
        with pytest.raises(RpcError) as raised:
            channel.unary(service + "UnimplementedCall", pb.Empty(), pb.Empty)
        assert raised.value.code == StatusCode.UNIMPLEMENTED


def test_many_concurrent_calls_on_one_connection(server_port):
    async def run():
        async with plexus.Channel("127.0.0.1", server_port) as channel:
            replies = await asyncio.gather(*(
                channel.unary("/plexus.testing.v1.TestService/UnaryCall", pb.SimpleRequest(response_size=i),
                              pb.SimpleResponse) for i in range(300)))
            assert [len(r.payload.body) for r in replies] == list(range(300))
            # More than the default stream limit (100) at once: the client queues OPENs.
            assert channel.peer_limits.known
    asyncio.run(asyncio.wait_for(run(), 30))


def test_a_large_client_stream_under_flow_control(server_port):
    async def run():
        async with plexus.Channel("127.0.0.1", server_port) as channel:
            chunk = pb.StreamingInputCallRequest(payload=pb.Payload(body=b"\0" * 65536))
            response = await channel.client_stream("/plexus.testing.v1.TestService/StreamingInputCall",
                                                   [chunk] * 256, pb.StreamingInputCallResponse)  # 16 MiB
            assert response.aggregated_payload_size == 256 * 65536
    asyncio.run(asyncio.wait_for(run(), 60))
