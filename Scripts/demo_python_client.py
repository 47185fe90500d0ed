"""The Python half of `make demo`: the same service, called from Python."""
import asyncio
import sys

import plexus
from plexus import RpcError
from plexus.testing.v1 import test_service_pb2 as pb

SERVICE = "/plexus.testing.v1.TestService/"


async def main(port):
    async with plexus.Channel("127.0.0.1", port) as channel:
        response, headers, _ = await channel.unary_call(
            SERVICE + "UnaryCall", pb.SimpleRequest(response_size=1000, payload=pb.Payload(body=b"hi")),
            pb.SimpleResponse, metadata=[("x-grpc-test-echo-initial", "hello from python")])
        print(f"python unary            → {len(response.payload.body)}-byte payload, header echoed: {dict(headers).get('x-grpc-test-echo-initial')}")
        request = pb.StreamingOutputCallRequest()
        request.response_parameters.extend(pb.ResponseParameters(size=n) for n in (1, 10, 100))
        sizes = [len(r.payload.body) async for r in channel.server_stream(SERVICE + "StreamingOutputCall", request, pb.StreamingOutputCallResponse)]
        print(f"python server streaming → responses of {sizes} bytes")
        total = await channel.client_stream(SERVICE + "StreamingInputCall",
                                            [pb.StreamingInputCallRequest(payload=pb.Payload(body=b"\0" * n)) for n in (5, 50, 500)],
                                            pb.StreamingInputCallResponse)
        print(f"python client streaming → server counted {total.aggregated_payload_size} bytes")
        try:
            await channel.unary(SERVICE + "UnaryCall", pb.SimpleRequest(response_status=pb.EchoStatus(code=5, message="no such key")), pb.SimpleResponse)
        except RpcError as error:
            print(f"python error status     → {error.code.name}: {error.message}")
        slow = pb.StreamingOutputCallRequest()
        slow.response_parameters.add(size=1, interval_us=1_000_000)
        try:
            async for _ in channel.server_stream(SERVICE + "StreamingOutputCall", slow, pb.StreamingOutputCallResponse, timeout=0.05):
                pass
        except RpcError as error:
            print(f"python deadline 50 ms   → {error.code.name}: {error.message}")


asyncio.run(main(int(sys.argv[1])))
