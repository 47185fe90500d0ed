import PlexusLoop
import DequeModule
import Foundation
import Plexus
import PlexusProto
import Synchronization

/// This process's profiler: per-topic counters and latency histograms, per-method RPC latency,
/// and a bounded trace buffer switched on with a TTL. The graph server fetches snapshots and
/// trace batches through routed process control (`plexus profile`).
public final class Profiler: Sendable {
    /// The process-wide profiler the pub/sub path and the graph session use.
    public static let shared = Profiler()

    private let topics = Locked<[String: TopicProbe]>([:])
    private let methods = Locked<[String: MethodProbe]>([:])
    // Tracing: a relaxed flag checked on the hot path, the rest under a lock.
    private let tracingOn = Atomic<Bool>(false)
    private struct TraceState {
        var expiresUnixNanos: UInt64 = 0
        var topics: Set<String> = []
        var samples = Deque<Plexus_Profiling_V1_TraceSample>()
        var dropped: UInt64 = 0
    }
    private let traceState = Locked(TraceState())
    /// Trace samples kept before the oldest are dropped (and counted).
    public let traceCapacity: Int

    public init(traceCapacity: Int = 65_536) {
        self.traceCapacity = traceCapacity
    }

    /// The probe of `topic` (created once, then cached by the caller).
    public func topic(_ name: String) -> TopicProbe {
        topics.withLock { t in
            if let p = t[name] { return p }
            let p = TopicProbe(topic: name, profiler: self)
            t[name] = p
            return p
        }
    }

    /// The probe of an RPC method (`/package.Service/Method`).
    public func method(_ path: String) -> MethodProbe {
        methods.withLock { m in
            if let p = m[path] { return p }
            let p = MethodProbe(path: path)
            m[path] = p
            return p
        }
    }

    /// Records every call a server configuration serves (sets its `callObserver`).
    public func observeCalls(of configuration: inout ServerConfiguration) {
        configuration.callObserver = { [self] method, duration, code in
            let (s, a) = duration.components
            self.method(method.fullPath).completed(nanos: UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000), failed: code != .ok)
        }
    }

    public func snapshot(processId: String, processName: String) -> Plexus_Profiling_V1_ProfilingSnapshot {
        var s = Plexus_Profiling_V1_ProfilingSnapshot()
        s.processId = processId
        s.processName = processName
        s.capturedUnixNanos = TopicStatsProbe.nowUnixNanos()
        s.topics = topics.withLock { Array($0.values) }.sorted { $0.topic < $1.topic }.map(\.profile)
        s.methods = methods.withLock { Array($0.values) }.sorted { $0.path < $1.path }.map(\.profile)
        return s
    }

    // MARK: Tracing

    /// Switches tracing on for `ttl` (for `topics`, or all when empty), or off.
    @discardableResult
    public func setTrace(enabled: Bool, ttl: Duration = .seconds(10), topics: [String] = []) -> UInt64 {
        let (s, a) = ttl.components
        let expires = enabled ? TopicStatsProbe.nowUnixNanos() + UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000) : 0
        traceState.withLock { t in
            t.expiresUnixNanos = expires
            t.topics = Set(topics)
        }
        tracingOn.store(enabled, ordering: .relaxed)
        return expires
    }

    @inline(__always)
    func tracing(_ topic: String) -> Bool {
        guard tracingOn.load(ordering: .relaxed) else { return false }
        let (on, expired) = traceState.withLock { t -> (Bool, Bool) in
            if TopicStatsProbe.nowUnixNanos() > t.expiresUnixNanos { return (false, true) }
            return (t.topics.isEmpty || t.topics.contains(topic), false)
        }
        if expired { tracingOn.store(false, ordering: .relaxed) }
        return on
    }

    func trace(kind: Plexus_Profiling_V1_TraceKind, topic: String, sequence: UInt64, delta: UInt64, wait: UInt64, handler: UInt64, bytes: Int) {
        var sample = Plexus_Profiling_V1_TraceSample()
        sample.kind = kind
        sample.topic = topic
        sample.sequence = sequence
        sample.timestampUnixNanos = TopicStatsProbe.nowUnixNanos()
        sample.publishDeltaNanos = delta
        sample.backpressureWaitNanos = wait
        sample.handlerNanos = handler
        sample.bytes = UInt32(clamping: bytes)
        traceState.withLock { t in
            if t.samples.count >= traceCapacity {
                t.samples.removeFirst()
                t.dropped += 1
            }
            t.samples.append(sample)
        }
    }

    /// Takes up to `max` trace samples.
    public func drainTrace(max: Int) -> Plexus_Profiling_V1_TraceBatch {
        var batch = Plexus_Profiling_V1_TraceBatch()
        batch.enabled = tracingOn.load(ordering: .relaxed)
        traceState.withLock { t in
            let n = Swift.min(max, t.samples.count)
            batch.samples = Array(t.samples.prefix(n))
            t.samples.removeFirst(n)
            batch.droppedSamples = t.dropped
            t.dropped = 0
        }
        return batch
    }
}
