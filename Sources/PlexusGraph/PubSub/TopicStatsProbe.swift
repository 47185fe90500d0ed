import Foundation
import Synchronization

/// Per-subscription/publisher counters kept by the pub/sub path itself (drops are also reported
/// to the process profiler).
@usableFromInline
final class TopicStatsProbe: Sendable {
    let topic: String
    private let dropCount = Atomic<UInt64>(0)

    init(topic: String) {
        self.topic = topic
    }

    var droppedCount: UInt64 { dropCount.load(ordering: .relaxed) }

    @usableFromInline
    func dropped(_ n: UInt64) {
        dropCount.add(n, ordering: .relaxed)
    }

    @inlinable
    static func nowUnixNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
