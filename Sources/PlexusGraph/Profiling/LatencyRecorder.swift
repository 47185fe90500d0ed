import Histogram
import PlexusProto

/// An HDR histogram of nanoseconds (1 ns .. 100 s, 3 significant digits).
struct LatencyRecorder: Sendable {
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000,
                                              numberOfSignificantValueDigits: .three)

    mutating func record(_ nanos: UInt64) {
        _ = histogram.record(min(max(nanos, 1), 100_000_000_000))
    }

    var summary: Plexus_Profiling_V1_LatencySummary {
        var s = Plexus_Profiling_V1_LatencySummary()
        s.count = histogram.totalCount
        guard s.count > 0 else { return s }
        s.minNanos = histogram.min
        s.p50Nanos = histogram.valueAtPercentile(50)
        s.p90Nanos = histogram.valueAtPercentile(90)
        s.p99Nanos = histogram.valueAtPercentile(99)
        s.maxNanos = histogram.max
        s.meanNanos = histogram.mean
        return s
    }
}
