"""gRPC's interop cases (doc/interop-test-descriptions.md) run by the Python client against a
Plexus server implementing plexus.testing.v1.TestService.

    python plexus_interop_client.py --port 50051 --test_case=large_unary   (or all)
"""
import argparse
import asyncio
import sys

import plexus
from plexus import RpcError, StatusCode
from plexus.testing.v1 import test_service_pb2 as pb

SERVICE = "/plexus.testing.v1.TestService/"


def payload(size):
    return pb.Payload(body=b"\0" * size)


def output_request(sizes, body=0):
    request = pb.StreamingOutputCallRequest(payload=payload(body) if body else None)
    request.response_parameters.extend(pb.ResponseParameters(size=s) for s in sizes)
    return request


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def expect_error(code, awaitable):
    try:
        await awaitable
    except RpcError as error:
        check(error.code == code, f"expected {code.name}, got {error}")
        return error
    raise AssertionError(f"expected {code.name}, the call succeeded")


async def empty_unary(ch):
    response = await ch.unary(SERVICE + "EmptyCall", pb.Empty(), pb.Empty)
    check(response == pb.Empty(), "response not empty")


async def large_unary(ch):
    response = await ch.unary(SERVICE + "UnaryCall", pb.SimpleRequest(response_size=314159, payload=payload(271828)), pb.SimpleResponse)
    check(len(response.payload.body) == 314159, f"payload of {len(response.payload.body)} bytes")


async def client_streaming(ch):
    requests = [pb.StreamingInputCallRequest(payload=payload(n)) for n in (27182, 8, 1828, 45904)]
    response = await ch.client_stream(SERVICE + "StreamingInputCall", requests, pb.StreamingInputCallResponse)
    check(response.aggregated_payload_size == 74922, f"aggregated {response.aggregated_payload_size}")


async def server_streaming(ch):
    sizes = [31415, 9, 2653, 58979]
    got = [len(r.payload.body) async for r in ch.server_stream(SERVICE + "StreamingOutputCall", output_request(sizes), pb.StreamingOutputCallResponse)]
    check(got == sizes, f"sizes {got}")


async def ping_pong(ch):
    call = ch.bidi(SERVICE + "FullDuplexCall", pb.StreamingOutputCallResponse)
    for request_size, response_size in zip((27182, 8, 1828, 45904), (31415, 9, 2653, 58979)):
        await call.write(output_request([response_size], request_size))
        response = await call.read()
        check(response is not None and len(response.payload.body) == response_size, "wrong ping_pong response")
    await call.done_writing()
    check(await call.read() is None, "extra response after half-close")


async def empty_stream(ch):
    call = ch.bidi(SERVICE + "FullDuplexCall", pb.StreamingOutputCallResponse)
    await call.done_writing()
    check([r async for r in call] == [], "responses on an empty stream")


async def timeout_on_sleeping_server(ch):
    call = ch.bidi(SERVICE + "FullDuplexCall", pb.StreamingOutputCallResponse, timeout=0.001)

    async def run():
        await call.write(output_request([31415], 27182))
        async for _ in call:
            pass

    await expect_error(StatusCode.DEADLINE_EXCEEDED, run())


async def cancel_after_begin(ch):
    call = ch.start(SERVICE + "StreamingInputCall", pb.StreamingInputCallResponse)
    call.cancel()
    await expect_error(StatusCode.CANCELLED, call.response())


async def cancel_after_first_response(ch):
    call = ch.bidi(SERVICE + "FullDuplexCall", pb.StreamingOutputCallResponse)
    await call.write(output_request([31415], 27182))
    first = await call.read()
    check(first is not None, "no first response")
    call.cancel()
    await expect_error(StatusCode.CANCELLED, call.read())


async def custom_metadata(ch):
    metadata = [("x-grpc-test-echo-initial", "test_initial_metadata_value"),
                ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")]
    _, headers, trailers = await ch.unary_call(SERVICE + "UnaryCall", pb.SimpleRequest(response_size=314159, payload=payload(271828)),
                                               pb.SimpleResponse, metadata=metadata)
    check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in headers, f"headers {headers}")
    check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in trailers, f"trailers {trailers}")
    call = ch.bidi(SERVICE + "FullDuplexCall", pb.StreamingOutputCallResponse, metadata=metadata)
    await call.write(output_request([314159], 271828))
    await call.done_writing()
    async for _ in call:
        pass
    check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in await call.headers(), "stream headers")
    check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in call.trailers, "stream trailers")


async def status_code_and_message(ch):
    status = pb.EchoStatus(code=2, message="test status message")
    error = await expect_error(StatusCode.UNKNOWN, ch.unary(SERVICE + "UnaryCall", pb.SimpleRequest(response_status=status), pb.SimpleResponse))
    check(error.message == "test status message", f"message {error.message!r}")
    call = ch.bidi(SERVICE + "FullDuplexCall", pb.StreamingOutputCallResponse)
    await call.write(pb.StreamingOutputCallRequest(response_status=status))
    await call.done_writing()
    error = await expect_error(StatusCode.UNKNOWN, call.read())
    check(error.message == "test status message", f"stream message {error.message!r}")


async def special_status_message(ch):
    text = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
    status = pb.EchoStatus(code=2, message=text)
    error = await expect_error(StatusCode.UNKNOWN, ch.unary(SERVICE + "UnaryCall", pb.SimpleRequest(response_status=status), pb.SimpleResponse))
    check(error.message == text, f"message {error.message!r}")


async def unimplemented_method(ch):
    await expect_error(StatusCode.UNIMPLEMENTED, ch.unary(SERVICE + "UnimplementedCall", pb.Empty(), pb.Empty))


async def unimplemented_service(ch):
    await expect_error(StatusCode.UNIMPLEMENTED, ch.unary("/plexus.testing.v1.UnimplementedService/UnimplementedCall", pb.Empty(), pb.Empty))


CASES = {f.__name__: f for f in (
    empty_unary, large_unary, client_streaming, server_streaming, ping_pong, empty_stream,
    timeout_on_sleeping_server, cancel_after_begin, cancel_after_first_response, custom_metadata,
    status_code_and_message, special_status_message, unimplemented_method, unimplemented_service)}


async def run(host, port, names):
    failed = 0
    async with plexus.Channel(host, port) as channel:
        for name in names:
            try:
                await CASES[name](channel)
                print(f"ok {name}")
            except Exception as error:  # report and go on to the next case
                failed += 1
                print(f"FAIL {name}: {error!r}")
    print(f"{len(names) - failed} passed, {failed} failed")
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--test_case", default="all", help="a case name or 'all'")
    args = parser.parse_args()
    if args.test_case != "all" and args.test_case not in CASES:
        parser.error(f"unknown test case {args.test_case}; known: {', '.join(CASES)}")
    names = list(CASES) if args.test_case == "all" else [args.test_case]
    try:
        failed = asyncio.run(run(args.host, args.port, names))
    except RpcError as error:  # cannot connect
        print(f"FAIL: {error}")
        sys.exit(1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
