"""Profiling of a Python graph member: the counters, latency summaries and traces a Swift member
reports (plexus.profiling.v1), so `plexus profile` and the graph's trace stream see Python
processes too. The graph server routes GET_PROFILING_SNAPSHOT, SET_PROFILING_TRACE and
GET_PROFILING_TRACE_BATCH here (see control.py).

Everything runs on the member's asyncio loop: no locks.
"""
import collections
import time

from plexus.profiling.v1 import profiling_pb2


class LatencyHistogram:
    """Durations in nanoseconds in log-linear buckets: exact below 64 ns, then 32 buckets per
    power of two (at most ~3 % relative error). Memory is bounded by the range of values
    (~1,900 buckets up to 2^64 ns), recording is O(1)."""

    def __init__(self):
        self.buckets = collections.Counter()
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0

    @staticmethod
    def _index(nanos):
        if nanos < 64:
            return nanos
        shift = nanos.bit_length() - 6
        return 64 + (shift - 1) * 32 + ((nanos >> shift) - 32)

    @staticmethod
    def _value(index):
        """The middle of bucket `index`."""
        if index < 64:
            return index
        shift, mantissa = (index - 64) // 32 + 1, (index - 64) % 32 + 32
        return (mantissa << shift) + (1 << (shift - 1))

    def record(self, nanos):
        nanos = max(0, int(nanos))
        self.buckets[self._index(nanos)] += 1
        self.min = nanos if self.count == 0 else min(self.min, nanos)
        self.max = max(self.max, nanos)
        self.count += 1
        self.total += nanos

    def percentiles(self, *quantiles):
        """The values at `quantiles` (0..1), clamped to the recorded min and max."""
        if self.count == 0:
            return [0 for _ in quantiles]
        ranks = [max(1, int(q * self.count + 0.999999)) for q in quantiles]
        found = [None] * len(ranks)
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            for i, rank in enumerate(ranks):
                if found[i] is None and seen >= rank:
                    found[i] = min(max(self._value(index), self.min), self.max)
            if all(f is not None for f in found):
                break
        return found

    def summary(self):
        p50, p90, p99 = self.percentiles(0.5, 0.9, 0.99)
        return profiling_pb2.LatencySummary(count=self.count, min_nanos=self.min, p50_nanos=p50, p90_nanos=p90,
                                            p99_nanos=p99, max_nanos=self.max,
                                            mean_nanos=self.total / self.count if self.count else 0.0)


class TopicStats:
    """Counters and latencies of one topic in this process."""

    def __init__(self, topic):
        self.profile = profiling_pb2.TopicProfile(topic=topic)
        self.delivery = LatencyHistogram()
        self.publish = LatencyHistogram()

    def snapshot(self):
        profile = profiling_pb2.TopicProfile()
        profile.CopyFrom(self.profile)
        if self.delivery.count:
            profile.delivery_latency.CopyFrom(self.delivery.summary())
        if self.publish.count:
            profile.publish_latency.CopyFrom(self.publish.summary())
        return profile


class Profiler:
    """Per-topic statistics and the trace buffer of one graph member."""

    #: Trace samples kept until fetched; older ones are dropped (and counted) beyond this.
    TRACE_CAPACITY = 65_536

    def __init__(self):
        self.topics = {}
        self.trace = collections.deque()
        self.trace_dropped = 0
        self.trace_until = 0.0
        self.trace_topics = frozenset()

    def _topic(self, topic):
        stats = self.topics.get(topic)
        if stats is None:
            stats = self.topics[topic] = TopicStats(topic)
        return stats

    def published(self, topic, sequence, size, wait_nanos, took_nanos):
        """One message published: `size` payload bytes (0 when only local subscribers got the
        object), `wait_nanos` spent waiting for full blocking subscribers."""
        stats = self._topic(topic)
        stats.profile.messages_published += 1
        stats.profile.bytes_published += size
        stats.profile.backpressure_wait_nanos += wait_nanos
        stats.publish.record(took_nanos)
        self._sample(profiling_pb2.PUBLISH, topic, sequence, 0, wait_nanos, size)

    def received(self, topic, sequence, size, publish_unix_nanos):
        stats = self._topic(topic)
        stats.profile.messages_received += 1
        stats.profile.bytes_received += size
        delta = max(0, time.time_ns() - publish_unix_nanos) if publish_unix_nanos else 0
        if publish_unix_nanos:
            stats.delivery.record(delta)
        self._sample(profiling_pb2.RECEIVE, topic, sequence, delta, 0, size)

    def dropped(self, topic, count=1):
        self._topic(topic).profile.messages_dropped += count

    def snapshot(self, process_id, process_name):
        return profiling_pb2.ProfilingSnapshot(process_id=process_id, process_name=process_name,
                                               captured_unix_nanos=time.time_ns(),
                                               topics=[s.snapshot() for _, s in sorted(self.topics.items())])

    def set_trace(self, enabled, ttl_seconds, topics):
        """Switches tracing on for `ttl_seconds` (10 s when 0) or off; returns when it ends
        (unix nanoseconds, 0 when off)."""
        if not enabled:
            self.trace_until = 0.0
            return 0
        ttl = ttl_seconds if ttl_seconds > 0 else 10.0
        self.trace_until = time.monotonic() + ttl
        self.trace_topics = frozenset(topics)
        return time.time_ns() + int(ttl * 1e9)

    @property
    def tracing(self):
        return self.trace_until > time.monotonic()

    def _sample(self, kind, topic, sequence, delta, wait, size):
        if not self.trace_until or not self.tracing or (self.trace_topics and topic not in self.trace_topics):
            return
        if len(self.trace) >= self.TRACE_CAPACITY:
            self.trace.popleft()
            self.trace_dropped += 1
        self.trace.append(profiling_pb2.TraceSample(kind=kind, topic=topic, sequence=sequence,
                                                    timestamp_unix_nanos=time.time_ns(), publish_delta_nanos=delta,
                                                    backpressure_wait_nanos=wait, bytes=size))

    def drain(self, max_samples, process_id):
        """Up to `max_samples` trace samples (oldest first) and the drops since the last batch."""
        count = min(max_samples or 4096, len(self.trace))
        batch = profiling_pb2.TraceBatch(process_id=process_id, samples=[self.trace.popleft() for _ in range(count)],
                                         dropped_samples=self.trace_dropped, enabled=self.tracing)
        self.trace_dropped = 0
        return batch
