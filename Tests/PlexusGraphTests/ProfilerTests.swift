import Plexus
@testable import PlexusGraph
import PlexusProto
import XCTest

final class ProfilerTests: XCTestCase {
    func testCountersAndPercentiles() {
        let profiler = Profiler()
        let probe = profiler.topic("t")
        XCTAssertTrue(probe === profiler.topic("t"))
        for i in 1...100 { probe.published(bytes: 10, sequence: UInt64(i)) }
        let delays = (1...1000).map { UInt64($0) * 1000 }
        delays.withUnsafeBufferPointer { probe.received(delays: $0, bytes: 10_000) }
        probe.dropped(3)
        let s = profiler.snapshot(processId: "p", processName: "n").topics[0]
        XCTAssertEqual(s.messagesPublished, 100)
        XCTAssertEqual(s.bytesPublished, 1000)
        XCTAssertEqual(s.messagesReceived, 1000)
        XCTAssertEqual(s.messagesDropped, 3)
        let l = s.deliveryLatency ?? Plexus_Profiling_V1_LatencySummary()
        XCTAssertEqual(l.count, 1000)
        XCTAssertEqual(Double(l.p50Nanos), 500_000, accuracy: 1_000)
        XCTAssertEqual(Double(l.p99Nanos), 990_000, accuracy: 1_000)
        XCTAssertEqual(Double(l.maxNanos), 1_000_000, accuracy: 1_000)
    }

    func testTraceHonoursTopicsCapacityAndTTL() async throws {
        let profiler = Profiler(traceCapacity: 10)
        let traced = profiler.topic("a"), quiet = profiler.topic("b")
        traced.published(bytes: 1, sequence: 1)
        XCTAssertTrue(profiler.drainTrace(max: 100).samples.isEmpty, "off by default")
        profiler.setTrace(enabled: true, ttl: .milliseconds(200), topics: ["a"])
        for i in 1...15 { traced.published(bytes: 1, sequence: UInt64(i)) }
        quiet.published(bytes: 1, sequence: 1)
        let batch = profiler.drainTrace(max: 100)
        XCTAssertEqual(batch.samples.map(\.sequence), Array(6...15))
        XCTAssertTrue(batch.samples.allSatisfy { $0.kind == .publish && $0.publishDeltaNanos > 0 }, "publish deltas after the first")
        XCTAssertEqual(batch.droppedSamples, 5)
        try await Task.sleep(for: .milliseconds(300))
        traced.published(bytes: 1, sequence: 99)
        let after = profiler.drainTrace(max: 100)
        XCTAssertTrue(after.samples.isEmpty)
        XCTAssertFalse(after.enabled, "tracing switched itself off after the TTL")
    }

    func testMethodProbesFromTheServerObserver() {
        let profiler = Profiler()
        var config = ServerConfiguration()
        profiler.observeCalls(of: &config)
        let method = MethodDescriptor(service: "s.S", method: "M", kind: .unary)
        config.callObserver?(method, .microseconds(50), .ok)
        config.callObserver?(method, .microseconds(150), .internal)
        let m = profiler.snapshot(processId: "", processName: "").methods[0]
        XCTAssertEqual(m.method, "/s.S/M")
        XCTAssertEqual(m.calls, 2)
        XCTAssertEqual(m.errors, 1)
        XCTAssertEqual(Double(m.latency?.maxNanos ?? 0), 150_000, accuracy: 200)
    }
}
