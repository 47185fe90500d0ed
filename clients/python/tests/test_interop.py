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
