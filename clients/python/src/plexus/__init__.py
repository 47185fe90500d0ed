"""Plexus Python client: calls Plexus services over the Plexus wire protocol (docs/PROTOCOL.md).

    import asyncio, plexus
    from plexus.testing.v1 import test_service_pb2 as pb

    async def main():
        async with plexus.Channel("127.0.0.1", 50051) as channel:
            reply = await channel.unary("/plexus.testing.v1.TestService/UnaryCall",
                                        pb.SimpleRequest(response_size=10), pb.SimpleResponse,
                                        timeout=1.0, metadata=[("x-user", "ada")])


Synchronous code uses `plexus.SyncChannel` (the same calls, blocking).
"""
from .status import RpcError, StatusCode
from .channel import Channel, Call
from .sync import SyncChannel, SyncCall

__all__ = ["Channel", "Call", "SyncChannel", "SyncCall", "RpcError", "StatusCode"]
