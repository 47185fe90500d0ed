"""A Python member of a Plexus graph, for the demo and the cross-language tests.

    python plexus_graph_peer.py subscribe --topic T --count N      prints "ready", then index=<i> text=<t>
    python plexus_graph_peer.py publish --topic T --count N        publishes plexus.testing.v1.Sample 1..N
    python plexus_graph_peer.py set --unit U --field F --value V   updates one settings field
Address: --graph host:port, else PLEXUS_GRAPH_ADDRESS, else 127.0.0.1:25979.
"""
import argparse
import asyncio
import sys

from plexus.graph import GraphClient
from plexus.status import RpcError
from plexus.testing.v1 import graph_test_pb2 as pb


def say(line):
    print(line, flush=True)


async def subscribe(args):
    graph = await GraphClient.connect("python-subscriber", address=args.graph)
    samples = await graph.subscribe(args.topic, pb.Sample)
    say("ready")
    for _ in range(args.count):
        s = await samples.get(timeout=30)
        say(f"index={s.index} text={s.text}")
    await graph.close()


async def publish(args):
    graph = await GraphClient.connect("python-publisher", address=args.graph)
    publisher = await graph.publisher(args.topic, pb.Sample)
    for _ in range(2000):
        if publisher.subscriber_count >= args.wait_subscribers:
            break
        await asyncio.sleep(0.01)
    else:
        sys.exit(f"no subscriber joined topic {args.topic!r} within 20 s")
    say(f"publishing {args.count} on {args.topic}")
    for i in range(1, args.count + 1):
        await publisher.publish(pb.Sample(index=i, text=f"sample-{i}"))
        if args.rate:
            await asyncio.sleep(1 / args.rate)
    await asyncio.sleep(0.3)
    say(f"published {args.count}")
    await graph.close()


def parse_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text)


async def set_field(args):
    graph = await GraphClient.connect("python-settings", address=args.graph)
    try:
        event = await graph.update_setting_field(args.unit, args.field, parse_value(args.value))
        say(f"committed seq={event.seq} {args.unit}.{args.field}={args.value}")
    except RpcError as error:
        say(f"refused {error.code.name}: {error.message}")
    await graph.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["subscribe", "publish", "set"])
    parser.add_argument("--graph")
    parser.add_argument("--topic", default="demo")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--wait-subscribers", type=int, default=1)
    parser.add_argument("--unit")
    parser.add_argument("--field")
    parser.add_argument("--value")
    args = parser.parse_args()
    asyncio.run({"subscribe": subscribe, "publish": publish, "set": set_field}[args.mode](args))


if __name__ == "__main__":
    main()
