"""The client's framing and stream state machine against an in-process fake server
(fake_server.py), frame by frame, following docs/PROTOCOL.md."""
import asyncio
import time

import pytest

import plexus
from plexus import RpcError, StatusCode, framing
from plexus.testing.v1 import test_service_pb2 as pb
from plexus.wire.v1 import frame_pb2 as K
from google.protobuf import any_pb2

from fake_server import FakeServer

UNARY = "/plexus.testing.v1.TestService/UnaryCall"
OUTPUT = "/plexus.testing.v1.TestService/StreamingOutputCall"
INPUT = "/plexus.testing.v1.TestService/StreamingInputCall"
DUPLEX = "/plexus.testing.v1.TestService/FullDuplexCall"


def run(test):
    """Runs an async test with a fake server and a connected channel: test(server, channel)."""
    def wrapper():
        async def main():
            hello = getattr(test, "hello", None)
            async with FakeServer(hello=hello, send_hello=getattr(test, "send_hello", True)) as server:
                options = getattr(test, "options", {})
                async with plexus.Channel("127.0.0.1", server.port, **options) as channel:
                    await asyncio.wait_for(test(server, channel), 10)
        asyncio.run(main())
    wrapper.__name__ = test.__name__  # not functools.wraps: pytest would see test's parameters
    wrapper.__doc__ = test.__doc__
    return wrapper


def with_(hello=None, send_hello=True, **options):
    def decorate(test):
        test.hello = hello
        test.send_hello = send_hello
        test.options = options
        return test
    return decorate


def payload(n):
    return pb.Payload(body=b"\1" * n)


# -- connection start ---------------------------------------------------------------------------
@run
@with_(max_message_size=1 << 20, window=1 << 16, max_header_size=8192, auth_token="secret")
async def test_hello_announces_the_client_limits(server, channel):
    hello = await server.handshake()
    assert hello.protocol_version == 1
    assert hello.max_message_size == 1 << 20 and hello.initial_window == 1 << 16
    assert hello.max_header_size == 8192 and hello.auth_token == "secret"
    assert hello.agent.startswith("plexus-python/")
    limits = await channel.ready(1)
    assert limits.known and limits.agent == "fake"


# -- unary --------------------------------------------------------------------------------------
@run
async def test_unary_is_one_frame_each_way_with_metadata_and_timeout(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary_call(
        UNARY, pb.SimpleRequest(response_size=3), pb.SimpleResponse, timeout=1.5,
        metadata=[("x-user", "ada"), ("x-token-bin", b"\0\xff")]))
    header, body = await server.recv(K.OPEN)
    assert header.stream_id == 1 and header.method == UNARY
    assert header.flags == framing.FLAG_MESSAGE | framing.FLAG_END_STREAM
    assert 1_000_000 < header.timeout_micros <= 1_500_000
    assert framing.metadata_pairs(header.headers) == [("x-user", "ada"), ("x-token-bin", b"\0\xff")]
    assert pb.SimpleRequest.FromString(body).response_size == 3
    server.close(1, response=pb.SimpleResponse(payload=payload(3)), headers=[("h", "1")],
                 trailers=[("t", "2"), ("t-bin", b"\1")])
    response, headers, trailers = await task
    assert response.payload.body == b"\1\1\1"
    assert headers == [("h", "1")] and trailers == [("t", "2"), ("t-bin", b"\1")]
    await server.nothing_more()  # no WINDOW_UPDATE, no CANCEL: one frame each way
    # The next call takes the next odd id.
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    header, body = await server.recv(K.OPEN)
    assert header.stream_id == 3 and body == b"" and header.flags & framing.FLAG_MESSAGE
    assert header.timeout_micros == 0
    server.close(3, response=pb.SimpleResponse())
    assert await task == pb.SimpleResponse()


@run
async def test_error_status_raises_with_message_trailers_and_details(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    header = K.FrameHeader(kind=K.CLOSE, stream_id=1, flags=framing.FLAG_END_STREAM)
    header.status.code = StatusCode.NOT_FOUND
    header.status.message = "no such thing ☺\t\n"
    header.status.details.add().Pack(pb.EchoStatus(code=5))
    header.trailers.extend(framing.metadata_entries([("why", "gone")]))
    server.send(header)
    with pytest.raises(RpcError) as raised:
        await task
    error = raised.value
    assert error.code == StatusCode.NOT_FOUND and isinstance(error.code, StatusCode)
    assert error.message == "no such thing ☺\t\n" and error.trailers == [("why", "gone")]
    assert isinstance(error.details[0], any_pb2.Any) and error.details[0].Is(pb.EchoStatus.DESCRIPTOR)
    assert "NOT_FOUND" in str(error)


@run
async def test_ok_without_a_response_is_internal_and_unknown_codes_are_unknown(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    server.close(1)
    with pytest.raises(RpcError) as raised:
        await task
    assert raised.value.code == StatusCode.INTERNAL
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    server.close(3, code=99, message="from the future")
    with pytest.raises(RpcError) as raised:
        await task
    assert raised.value.code == StatusCode.UNKNOWN


@run
async def test_response_in_a_message_before_close_and_headers_on_the_first_message(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary_call(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    server.message(1, pb.SimpleResponse(payload=payload(1)), headers=[("first", "frame")])
    server.close(1)
    response, headers, _ = await task
    assert response.payload.body == b"\1" and headers == [("first", "frame")]


# -- streaming ----------------------------------------------------------------------------------
@run
@with_(window=100)
async def test_server_stream_grants_credit_as_messages_are_consumed(server, channel):
    await server.handshake()
    call = channel.server_stream(OUTPUT, pb.StreamingOutputCallRequest(), pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.HEADERS, stream_id=1, headers=framing.metadata_entries([("k", "v")])))
    message = pb.StreamingOutputCallResponse(payload=payload(27))  # 31 bytes serialized
    size = message.ByteSize()
    for _ in range(3):
        server.message(1, message)
    assert await call.headers() == [("k", "v")]
    assert await call.read() == message
    await server.nothing_more(0.05)  # 31 < 50: not yet half the window
    assert await call.read() == message
    header, _ = await server.recv(K.WINDOW_UPDATE)
    assert header.stream_id == 1 and header.window_increment == 2 * size
    server.close(1, trailers=[("done", "yes")])
    assert [m async for m in call] == [message]  # the third, then the end
    assert call.trailers == [("done", "yes")] and call.code == StatusCode.OK


@run
@with_(hello=K.Hello(protocol_version=1, initial_window=100))
async def test_client_stream_waits_for_credit(server, channel):
    await server.handshake()
    await channel.ready(1)
    request = pb.StreamingInputCallRequest(payload=payload(56))  # 60 bytes
    assert request.ByteSize() == 60

    async def requests():
        for _ in range(3):
            yield request

    task = asyncio.ensure_future(channel.client_stream(INPUT, requests(), pb.StreamingInputCallResponse))
    header, body = await server.recv(K.OPEN)
    assert body is None and not header.flags & framing.FLAG_END_STREAM
    await server.recv(K.MESSAGE)  # credit 100 -> 40
    await server.recv(K.MESSAGE)  # 40 > 0 may still send (overdraw) -> -20
    await server.nothing_more(0.1)
    server.send(K.FrameHeader(kind=K.WINDOW_UPDATE, stream_id=1, window_increment=20))
    await server.nothing_more(0.05)  # credit 0: still waits
    server.send(K.FrameHeader(kind=K.WINDOW_UPDATE, stream_id=1, window_increment=100))
    header, body = await server.recv(K.MESSAGE)
    assert header.flags == framing.FLAG_MESSAGE and body == request.SerializeToString()
    await server.recv(K.HALF_CLOSE)
    server.close(1, response=pb.StreamingInputCallResponse(aggregated_payload_size=168))
    assert (await task).aggregated_payload_size == 168


@run
async def test_bidi_ping_pong_and_end_stream_on_the_last_message(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    for i in range(3):
        await call.write(pb.StreamingOutputCallRequest(payload=payload(i)), last=(i == 2))
        header, body = await server.recv(K.MESSAGE)
        expected = framing.FLAG_MESSAGE | (framing.FLAG_END_STREAM if i == 2 else 0)
        assert header.flags == expected
        server.message(1, pb.StreamingOutputCallResponse(payload=payload(i)))
        assert len((await call.read()).payload.body) == i
    with pytest.raises(RuntimeError):
        await call.write(pb.StreamingOutputCallRequest())
    await call.done_writing()  # already half-closed: nothing sent
    server.close(1)
    assert await call.read() is None
    await server.nothing_more(0.05)


@run
async def test_empty_message_is_present_and_early_ok_close_stops_the_writer(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    server.message(1, b"")
    assert await call.read() == pb.StreamingOutputCallResponse()
    server.close(1)
    assert await call.read() is None
    assert await call.write(pb.StreamingOutputCallRequest()) is False
    await call.done_writing()
    await server.nothing_more(0.05)


# -- deadlines and cancellation -----------------------------------------------------------------
@run
async def test_local_deadline_sends_cancel_and_raises_deadline_exceeded(server, channel):
    await server.handshake()
    started = time.monotonic()
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse, timeout=0.1))
    header, _ = await server.recv(K.OPEN)
    assert 0 < header.timeout_micros <= 100_000
    await server.recv(K.CANCEL)
    with pytest.raises(RpcError) as raised:
        await task
    assert raised.value.code == StatusCode.DEADLINE_EXCEEDED
    assert 0.09 < time.monotonic() - started < 1
    server.close(1, response=pb.SimpleResponse())  # late: ignored
    bidi = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse, timeout=0.05)
    await server.recv(K.OPEN)
    await server.recv(K.CANCEL)
    with pytest.raises(RpcError) as raised:
        await bidi.write(pb.StreamingOutputCallRequest())
    assert raised.value.code == StatusCode.DEADLINE_EXCEEDED


@run
async def test_server_deadline_status_is_reported(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse, timeout=5))
    await server.recv(K.OPEN)
    server.close(1, code=StatusCode.DEADLINE_EXCEEDED, message="deadline exceeded")
    with pytest.raises(RpcError) as raised:
        await task
    assert raised.value.code == StatusCode.DEADLINE_EXCEEDED
    await server.nothing_more(0.05)  # no CANCEL for a call the server ended


@run
async def test_cancelling_the_task_sends_cancel(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    task.cancel()
    header, _ = await server.recv(K.CANCEL)
    assert header.stream_id == 1
    with pytest.raises(asyncio.CancelledError):
        await task

    async def consume():
        async for _ in channel.server_stream(OUTPUT, pb.StreamingOutputCallRequest(), pb.StreamingOutputCallResponse):
            pass
    task = asyncio.ensure_future(consume())
    await server.recv(K.OPEN)
    server.message(3, pb.StreamingOutputCallResponse())
    await asyncio.sleep(0.05)
    task.cancel()
    header, _ = await server.recv(K.CANCEL)
    assert header.stream_id == 3


@run
async def test_cancel_drops_buffered_messages_and_ignores_later_frames(server, channel):
    await server.handshake()
    async with channel.bidi(DUPLEX, pb.StreamingOutputCallResponse) as call:
        await server.recv(K.OPEN)
        server.message(1, pb.StreamingOutputCallResponse(payload=payload(1)))
        server.message(1, pb.StreamingOutputCallResponse(payload=payload(2)))
        assert len((await call.read()).payload.body) == 1
        call.cancel()
        await server.recv(K.CANCEL)
        with pytest.raises(RpcError) as raised:
            await call.read()
        assert raised.value.code == StatusCode.CANCELLED
        server.message(1, pb.StreamingOutputCallResponse())
        server.close(1)
    # Leaving `async with` before the end cancels the call.
    async with channel.bidi(DUPLEX, pb.StreamingOutputCallResponse) as call:
        await server.recv(K.OPEN)
    header, _ = await server.recv(K.CANCEL)
    assert header.stream_id == 3 and call.code == StatusCode.CANCELLED
    # The connection still works.
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    header, _ = await server.recv(K.OPEN)
    server.close(header.stream_id, response=pb.SimpleResponse())
    await task


# -- connection frames --------------------------------------------------------------------------
@run
async def test_ping_is_answered_with_the_same_data(server, channel):
    await server.handshake()
    server.send(K.FrameHeader(kind=K.PING, ping_data=0xDEADBEEFCAFE))
    header, _ = await server.recv(K.PONG)
    assert header.ping_data == 0xDEADBEEFCAFE and header.stream_id == 0


@run
@with_(keepalive=0.2, keepalive_timeout=0.2)
async def test_keepalive_pings_and_closes_a_silent_connection(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    header, _ = await server.recv(K.PING, timeout=1)
    server.send(K.FrameHeader(kind=K.PONG, ping_data=header.ping_data))
    await server.recv(K.PING, timeout=1)  # silence again: another PING; this one unanswered
    with pytest.raises(RpcError) as raised:
        await call.read()
    assert raised.value.code == StatusCode.UNAVAILABLE and "keepalive" in raised.value.message


@run
async def test_goaway_fails_calls_above_last_stream_id_and_new_calls(server, channel):
    await server.handshake()
    first = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    second = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.GOAWAY, goaway=K.GoAway(last_stream_id=1, code=14, reason="shutting down")))
    with pytest.raises(RpcError) as raised:
        await second
    assert raised.value.code == StatusCode.UNAVAILABLE and "shutting down" in raised.value.message
    with pytest.raises(RpcError) as raised:
        channel.start(UNARY, pb.SimpleResponse)
    assert raised.value.code == StatusCode.UNAVAILABLE
    server.close(1, response=pb.SimpleResponse(payload=payload(1)))  # stream 1 completes normally
    assert (await first).payload.body == b"\1"
    assert channel.goaway.last_stream_id == 1


@run
@with_(send_hello=False, auth_token="wrong")
async def test_auth_rejection_ends_calls_unavailable_with_the_reason(server, channel):
    await server.handshake()
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.GOAWAY, goaway=K.GoAway(code=16, reason="wrong auth token")))
    server.drop()
    with pytest.raises(RpcError) as raised:
        await task
    assert raised.value.code == StatusCode.UNAVAILABLE and "wrong auth token" in raised.value.message


@run
async def test_dropped_connection_ends_every_call_unavailable(server, channel):
    await server.handshake()
    calls = [channel.bidi(DUPLEX, pb.StreamingOutputCallResponse) for _ in range(3)]
    for _ in calls:
        await server.recv(K.OPEN)
    server.drop()
    for call in calls:
        with pytest.raises(RpcError) as raised:
            await call.read()
        assert raised.value.code == StatusCode.UNAVAILABLE
    with pytest.raises(RpcError) as raised:
        await channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse)
    assert raised.value.code == StatusCode.UNAVAILABLE


# -- limits -------------------------------------------------------------------------------------
@run
@with_(hello=K.Hello(protocol_version=1, max_concurrent_streams=1))
async def test_opens_queue_in_id_order_under_the_servers_stream_limit(server, channel):
    await server.handshake()
    await channel.ready(1)
    tasks = [asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(response_size=i), pb.SimpleResponse))
             for i in range(3)]
    header, _ = await server.recv(K.OPEN)
    assert header.stream_id == 1
    await server.nothing_more(0.05)
    server.close(1, response=pb.SimpleResponse())
    header, body = await server.recv(K.OPEN)
    assert header.stream_id == 3 and pb.SimpleRequest.FromString(body).response_size == 1
    tasks[2].cancel()  # a queued call that is cancelled never opens
    await asyncio.sleep(0.01)
    server.close(3, response=pb.SimpleResponse())
    await server.nothing_more(0.05)
    await asyncio.gather(*tasks[:2])
    assert tasks[2].cancelled()


@run
@with_(hello=K.Hello(protocol_version=1, max_message_size=100, max_header_size=200))
async def test_sends_over_the_servers_limits_fail_only_their_call(server, channel):
    await server.handshake()
    await channel.ready(1)
    with pytest.raises(RpcError) as raised:
        await channel.unary(UNARY, pb.SimpleRequest(payload=payload(200)), pb.SimpleResponse)
    assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED and "100 bytes" in raised.value.message
    with pytest.raises(RpcError) as raised:
        await channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse, metadata=[("x-big", "v" * 300)])
    assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED and "max_header_size" in raised.value.message
    await server.nothing_more(0.05)  # neither was sent
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    header, _ = await server.recv(K.OPEN)
    with pytest.raises(RpcError) as raised:
        await call.write(pb.StreamingOutputCallRequest(payload=payload(200)))
    assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED
    cancel, _ = await server.recv(K.CANCEL)
    assert cancel.stream_id == header.stream_id


@run
@with_(max_message_size=1000)
async def test_oversize_response_fails_only_its_call(server, channel):
    await server.handshake()
    big = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    small = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    await server.recv(K.OPEN)
    server.message(1, pb.StreamingOutputCallResponse(payload=payload(5000)))
    server.message(3, pb.StreamingOutputCallResponse(payload=payload(5)))
    with pytest.raises(RpcError) as raised:
        await big.read()
    assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED and "1000" in raised.value.message
    header, _ = await server.recv(K.CANCEL)
    assert header.stream_id == 1
    assert len((await small.read()).payload.body) == 5


@run
@with_(window=1024, max_message_size=1024)
async def test_a_server_sending_past_its_credit_fails_the_call(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    chunk = b"\0" * 1024
    for _ in range(1024 + 2):  # allowance: max(1024, 1 MiB) + 0 granted + 1024
        server.message(1, chunk)
    header, _ = await server.recv(K.CANCEL)
    assert header.stream_id == 1
    with pytest.raises(RpcError) as raised:
        await call.read()
    assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED and "flow control" in raised.value.message


# -- connection errors (§8) ---------------------------------------------------------------------
async def expect_connection_error(server, channel, call, words):
    header, _ = await server.recv(K.GOAWAY)
    assert header.goaway.code == StatusCode.INTERNAL and words in header.goaway.reason
    await asyncio.wait_for(server.disconnected.wait(), 2)
    with pytest.raises(RpcError) as raised:
        if call is None:
            channel.start(UNARY, pb.SimpleResponse)
        else:
            await call.read()
    assert raised.value.code == StatusCode.UNAVAILABLE and words in raised.value.message


@run
async def test_payload_without_flag_message_is_a_connection_error(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    head = K.FrameHeader(kind=K.MESSAGE, stream_id=1).SerializeToString()
    server.send_raw(framing.PREFIX.pack(len(head), 3) + head + b"abc")
    await expect_connection_error(server, channel, call, "FLAG_MESSAGE")


@run
@with_(send_hello=False)
async def test_a_first_frame_other_than_hello_is_a_connection_error(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.PING))
    await expect_connection_error(server, channel, call, "not HELLO")


@run
async def test_server_sending_a_client_only_kind_is_a_connection_error(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.CANCEL, stream_id=1))
    await expect_connection_error(server, channel, call, "CANCEL")


@run
@with_(hello=K.Hello(protocol_version=2))
async def test_another_protocol_version_is_a_connection_error(server, channel):
    await server.handshake()
    await expect_connection_error(server, channel, None, "version 2")


@run
@with_(max_header_size=64)
async def test_a_header_over_the_clients_limit_is_a_connection_error(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.HEADERS, stream_id=1, headers=framing.metadata_entries([("k", "v" * 100)])))
    await expect_connection_error(server, channel, call, "exceeds")


@run
@with_(reconnect=True, initial_backoff=0.05, max_backoff=0.2)
async def test_reconnects_with_backoff_and_fails_fast_meanwhile(server, channel):
    await server.handshake()
    call = channel.bidi(DUPLEX, pb.StreamingOutputCallResponse)
    await server.recv(K.OPEN)
    server.drop()
    with pytest.raises(RpcError) as raised:
        await call.read()
    assert raised.value.code == StatusCode.UNAVAILABLE
    started = time.monotonic()
    with pytest.raises(RpcError) as raised:  # disconnected: fails at once, no waiting
        await channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse)
    assert raised.value.code == StatusCode.UNAVAILABLE and "reconnecting" in raised.value.message
    assert time.monotonic() - started < 0.05
    await server.recv(K.HELLO)  # the new connection's HELLO
    while not channel.peer_limits.known:
        await asyncio.sleep(0.01)
    assert channel.reconnects == 1
    task = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    header, _ = await server.recv(K.OPEN)
    assert header.stream_id == 1  # a new connection starts its stream ids afresh
    server.close(1, response=pb.SimpleResponse(payload=payload(2)))
    assert (await task).payload.body == b"\1\1"


@run
@with_(hello=K.Hello(protocol_version=1, max_concurrent_streams=1))
async def test_goaway_fails_queued_calls_even_below_last_stream_id(server, channel):
    await server.handshake()
    await channel.ready(1)
    first = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    queued = asyncio.ensure_future(channel.unary(UNARY, pb.SimpleRequest(), pb.SimpleResponse))
    await server.recv(K.OPEN)
    server.send(K.FrameHeader(kind=K.GOAWAY, goaway=K.GoAway(last_stream_id=99, code=14, reason="draining")))
    with pytest.raises(RpcError) as raised:
        await queued
    assert raised.value.code == StatusCode.UNAVAILABLE
    server.close(1, response=pb.SimpleResponse())
    await first
    await server.nothing_more(0.05)  # the queued OPEN never left
