import Foundation
import PlexusGraph
import PlexusProto

/// The subscriber side of a between-process measurement: counts what arrives until stdin closes
/// and prints `received COUNT BYTES SECONDS P50_NS P99_NS`.
func runSubscriber() async throws {
    let graph = try await GraphClient.connect(name: "bench-subscriber", address: try GraphAddress(parsing: option("--graph", "")))
    let samples = try await graph.subscribe(topic: option("--topic", "bench"), type: Plexus_Testing_V1_Sample.self,
                                            maxInFlight: Int(option("--inflight", "1024")) ?? 1024)
    let latency = option("--latency", "0") == "1"
    let stats = SubscriberStats()
    // With --latency the consumer runs on the member's event loop: the delivery handler hands
    // each message over without a thread hop.
    let reader = Task(executorPreference: latency ? graph.eventLoop : globalConcurrentExecutor) {
        var first: ContinuousClock.Instant?
        for try await s in samples {
            if first == nil { first = .now }
            stats.add(bytes: s.data.count, delay: latency ? nowNanos() &- s.index : 0, at: first)
        }
    }
    say("ready")
    await waitForStdinToClose()
    reader.cancel()
    let r = stats.result()
    say("received \(r.count) \(r.bytes) \(r.seconds) \(r.p50) \(r.p99)")
    await graph.close()
}

final class SubscriberStats: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var bytes = 0
    private var first: ContinuousClock.Instant?
    private var last: ContinuousClock.Instant?
    private var delays: [UInt64] = []

    func add(bytes n: Int, delay: UInt64, at first: ContinuousClock.Instant?) {
        let now = ContinuousClock.now
        lock.lock()
        count += 1
        bytes += n
        self.first = self.first ?? first
        last = now
        if delay > 0 { delays.append(delay) }
        lock.unlock()
    }

    func result() -> (count: Int, bytes: Int, seconds: Double, p50: UInt64, p99: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        var seconds = 0.0
        if let first, let last {
            let (s, a) = (last - first).components
            seconds = Double(s) + Double(a) / 1e18
        }
        let sorted = delays.sorted()
        let p = { (q: Double) -> UInt64 in sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        return (count, bytes, seconds, p(0.5), p(0.99))
    }
}

func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

func waitForStdinToClose() async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            c.resume()
        }
    }
}
