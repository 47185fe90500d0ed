import PlexusLoop
import PlexusProto
import Synchronization

/// Counters and latency histograms of one topic in this process, kept by the pub/sub hot path.
/// Counters are relaxed atomics; histograms take a lock once per batch of received messages.
public final class TopicProbe: Sendable {
    public let topic: String
    let profiler: Profiler
    // Publishers write the first group, subscribers the second: a cache line apart, so the two
    // sides of a busy topic do not invalidate each other's line on every message.
    let messagesPublished = Atomic<UInt64>(0)
    let bytesPublished = Atomic<UInt64>(0)
    let backpressureNanos = Atomic<UInt64>(0)
    let lastPublishNanos = Atomic<UInt64>(0)
    private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    let messagesReceived = Atomic<UInt64>(0)
    let bytesReceived = Atomic<UInt64>(0)
    let messagesDropped = Atomic<UInt64>(0)
    private let histograms = Locked((delivery: LatencyRecorder(), handler: LatencyRecorder(), publish: LatencyRecorder()))

    init(topic: String, profiler: Profiler) {
        self.topic = topic
        self.profiler = profiler
    }

    /// A message was handed to the topic's subscriptions.
    @inline(__always)
    public func published(count: Int = 1, bytes: Int, sequence: UInt64, publishNanos: UInt64 = 0, backpressureWaitNanos: UInt64 = 0) {
        messagesPublished.add(UInt64(count), ordering: .relaxed)
        bytesPublished.add(UInt64(bytes), ordering: .relaxed)
        if backpressureWaitNanos > 0 {
            backpressureNanos.add(backpressureWaitNanos, ordering: .relaxed)
            histograms.withLock { $0.publish.record(backpressureWaitNanos) }
        }
        if profiler.tracing(topic) {
            // Publish delta: time since the previous publish on this topic in this process.
            let now = TopicStatsProbe.nowUnixNanos()
            let previous = lastPublishNanos.exchange(now, ordering: .relaxed)
            let delta = previous == 0 || previous > now ? 0 : now - previous
            profiler.trace(kind: .publish, topic: topic, sequence: sequence, delta: delta, wait: backpressureWaitNanos, handler: 0, bytes: bytes)
        }
    }

    /// A batch of messages reached a subscriber: their publish → receive delays.
    public func received(delays: UnsafeBufferPointer<UInt64>, bytes: Int) {
        messagesReceived.add(UInt64(delays.count), ordering: .relaxed)
        bytesReceived.add(UInt64(bytes), ordering: .relaxed)
        histograms.withLock { h in for d in delays { h.delivery.record(d) } }
        if profiler.tracing(topic) {
            for d in delays { profiler.trace(kind: .receive, topic: topic, sequence: 0, delta: d, wait: 0, handler: 0, bytes: 0) }
        }
    }

    /// One message received (remote paths that see messages one by one).
    public func received(delay: UInt64, bytes: Int) {
        withUnsafePointer(to: delay) { received(delays: UnsafeBufferPointer(start: $0, count: 1), bytes: bytes) }
    }

    @inline(__always)
    public func dropped(_ count: UInt64) {
        messagesDropped.add(count, ordering: .relaxed)
    }

    /// Time a subscriber's handler took for one message.
    public func handled(nanos: UInt64) {
        histograms.withLock { $0.handler.record(nanos) }
    }

    var profile: Plexus_Profiling_V1_TopicProfile {
        var p = Plexus_Profiling_V1_TopicProfile()
        p.topic = topic
        p.messagesPublished = messagesPublished.load(ordering: .relaxed)
        p.bytesPublished = bytesPublished.load(ordering: .relaxed)
        p.messagesReceived = messagesReceived.load(ordering: .relaxed)
        p.bytesReceived = bytesReceived.load(ordering: .relaxed)
        p.messagesDropped = messagesDropped.load(ordering: .relaxed)
        p.backpressureWaitNanos = backpressureNanos.load(ordering: .relaxed)
        histograms.withLock { h in
            p.deliveryLatency = h.delivery.summary
            p.handlerLatency = h.handler.summary
            p.publishLatency = h.publish.summary
        }
        return p
    }
}

/// Calls served for one RPC method.
public final class MethodProbe: Sendable {
    public let path: String
    let calls = Atomic<UInt64>(0)
    let errors = Atomic<UInt64>(0)
    private let latency = Locked(LatencyRecorder())

    init(path: String) {
        self.path = path
    }

    public func completed(nanos: UInt64, failed: Bool) {
        calls.add(1, ordering: .relaxed)
        if failed { errors.add(1, ordering: .relaxed) }
        latency.withLock { $0.record(nanos) }
    }

    var profile: Plexus_Profiling_V1_MethodProfile {
        var p = Plexus_Profiling_V1_MethodProfile()
        p.method = path
        p.calls = calls.load(ordering: .relaxed)
        p.errors = errors.load(ordering: .relaxed)
        p.latency = latency.withLock { $0.summary }
        return p
    }
}
