"""Process control for a Python graph member: answering the operations the graph server routes
to this process (the same set a Swift member answers), and sending operations to other
processes' units through the graph server.

A user-defined operation is a function registered by name when the process connects:

    async def reset(payload):                 # payload: google.protobuf.Any
        ...
        return any_pb2.Any()                  # or any protobuf message, packed for the caller
    graph = await GraphClient.connect("worker", units=["filter"], operations={"reset": reset})

Another process calls it with `await graph.process_request("filter", custom=CustomOperation(...))`.
"""
import asyncio
import os
import socket
import time

from google.protobuf import any_pb2

from plexus.control.v1 import control_pb2
from plexus.graph.fields import apply_field
from plexus.rpc.v1 import status_pb2


class ControlError(Exception):
    """A routed operation failed: `code` is a plexus.rpc.v1.RoutingCode (UNROUTABLE_UNIT,
    TIMEOUT, PROCESS_DISCONNECTED, UNSUPPORTED_OPERATION, HANDLER_NOT_CONFIGURED, HANDLER_ERROR,
    ...), `message` says why."""

    def __init__(self, code, message):
        self.code = code
        self.message = message
        super().__init__(f"{status_pb2.RoutingCode.Name(code)}: {message}")


async def answer(graph, request):
    """Runs one routed operation in this process; the response to send back."""
    response = control_pb2.ProcessControlResponse(request_id=request.request_id, unit=request.unit)
    op = request.WhichOneof("operation")
    try:
        if op == "ping":
            response.ping.payload = request.ping.payload
            response.ping.process_time_unix_nanos = time.time_ns()
        elif op == "get_process_stats":
            response.process_stats.pid = os.getpid()
            response.process_stats.host = socket.gethostname()
            response.process_stats.units.extend(graph.units)
        elif op == "get_profiling_snapshot":
            response.profiling_snapshot.CopyFrom(graph.profiler.snapshot(graph.process_id, graph.name))
        elif op == "set_profiling_trace":
            trace = request.set_profiling_trace
            ttl = trace.ttl.ToNanoseconds() / 1e9 if trace.HasField("ttl") else 0.0
            response.profiling_trace.enabled = trace.enabled
            response.profiling_trace.expires_unix_nanos = graph.profiler.set_trace(trace.enabled, ttl, trace.topics)
        elif op == "get_profiling_trace_batch":
            batch = graph.profiler.drain(request.get_profiling_trace_batch.max_samples, graph.process_id)
            response.trace_batch.CopyFrom(batch)
        elif op in ("update_setting_field", "apply_settings"):
            await _apply_settings(graph, request, op, response)
        elif op == "custom":
            handler = graph.operations.get(request.custom.name)
            if handler is None:
                response.error_code = status_pb2.HANDLER_NOT_CONFIGURED
                response.error_message = f"no handler for custom operation {request.custom.name!r}"
            else:
                result = handler(request.custom.payload)
                if asyncio.iscoroutine(result):
                    result = await result
                response.custom.payload.CopyFrom(_as_any(result))
        elif op is None:
            response.error_code = status_pb2.UNSUPPORTED_OPERATION
            response.error_message = "the request names no operation"
        else:
            response.error_code = status_pb2.UNSUPPORTED_OPERATION
            response.error_message = f"the Python client does not implement {op}"
    except Exception as error:  # noqa: BLE001 - reported to the requester
        response.ClearField("result")
        response.error_code = status_pb2.HANDLER_ERROR
        response.error_message = repr(error)
    return response


async def _apply_settings(graph, request, op, response):
    owned = graph._settings.get(request.unit)
    if owned is None:
        response.error_code = status_pb2.HANDLER_NOT_CONFIGURED
        response.error_message = f"unit {request.unit!r} has no settings owner in this process"
        return
    if op == "apply_settings":
        new = owned.value.__class__.FromString(request.apply_settings.settings)
    else:
        new = owned.value.__class__()
        new.CopyFrom(owned.value)
        apply_field(new, request.update_setting_field.field_path, request.update_setting_field.value)
    if owned.on_update:
        result = owned.on_update(new)
        if asyncio.iscoroutine(result):
            await result
    owned.value = new
    getattr(response, op).settings = new.SerializeToString()


def _as_any(result):
    """A handler's result as google.protobuf.Any: an Any as it is, another message packed,
    None as an empty Any."""
    if result is None:
        return any_pb2.Any()
    if isinstance(result, any_pb2.Any):
        return result
    packed = any_pb2.Any()
    packed.Pack(result)
    return packed
