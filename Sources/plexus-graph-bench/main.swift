// plexus-graph-bench: pub/sub, settings and graph-server scale measurements (release build).
//   plexus-graph-bench run [--seconds S]     every scenario; separate processes where it says so
import Foundation
import Plexus
import PlexusGraph
import PlexusProto

/// A child process of this executable (or another one) with line-oriented stdout.
final class Child: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    let stdout = Pipe()

    init(_ path: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
    }

    func readLine() -> String {
        var line: [UInt8] = []
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first, b != UInt8(ascii: "\n") else { break }
            line.append(b)
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// Closes stdin and returns the last line the child prints.
    func finish() -> String {
        try? stdin.fileHandleForWriting.close()
        var last = ""
        while true {
            let line = readLine()
            if line.isEmpty { break }
            last = line
        }
        process.waitUntilExit()
        return last
    }
}

let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
let seconds = Double(option("--seconds", "3")) ?? 3

func sample(size: Int) -> Plexus_Testing_V1_Sample {
    var s = Plexus_Testing_V1_Sample()
    s.data = [UInt8](repeating: 0x5a, count: size)
    return s
}

/// Publishes as fast as possible for `seconds` to a subscriber in another process.
func remoteThroughput(graph: GraphClient, address: String, size: Int, topic: String, batch: Int = 1) async throws -> (msgs: Double, bytes: Double) {
    let child = try Child(CommandLine.arguments[0], ["subscriber", "--graph", address, "--topic", topic,
                                                     "--inflight", size > 65536 ? "8" : "4096"])
    guard child.readLine() == "ready" else { throw SetupError("subscriber did not start") }
    let publisher = try await graph.publisher(topic: topic, type: Plexus_Testing_V1_Sample.self)
    while publisher.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
    let s = sample(size: size)
    let end = ContinuousClock.now + .seconds(seconds)
    var n = 0
    let run = [Plexus_Testing_V1_Sample](repeating: s, count: batch)
    while ContinuousClock.now < end {
        if batch == 1 {
            for _ in 0..<256 { try await publisher.publish(s) }
        } else {
            for _ in 0..<max(1, 256 / batch) { try await publisher.publish(contentsOf: run) }
        }
        n += 256
    }
    try await Task.sleep(for: .milliseconds(500))
    let parts = child.finish().split(separator: " ")
    await publisher.close()
    guard parts.count == 6, let count = Double(parts[1]), let bytes = Double(parts[2]), let secs = Double(parts[3]), secs > 0 else {
        throw SetupError("subscriber report missing")
    }
    return (count / secs, bytes / secs)
}

func localThroughput(graph: GraphClient, batch: Int = 1) async throws -> Double {
    let topic = "local-64-\(batch)"
    let samples = try await graph.subscribe(topic: topic, type: Plexus_Testing_V1_Sample.self, maxInFlight: 65_536)
    let publisher = try await graph.publisher(topic: topic, type: Plexus_Testing_V1_Sample.self)
    while publisher.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
    let s = sample(size: 64)
    let total = 5_000_000
    let consumer = Task {
        var n = 0
        for try await _ in samples {
            n += 1
            if n == total { break }
        }
    }
    let start = ContinuousClock.now
    if batch == 1 {
        for _ in 0..<total { try await publisher.publish(s) }
    } else {
        let run = [Plexus_Testing_V1_Sample](repeating: s, count: batch)
        for _ in 0..<(total / batch) { try await publisher.publish(contentsOf: run) }
    }
    _ = await consumer.result
    let (sec, atto) = (ContinuousClock.now - start).components
    await publisher.close()
    return Double(total) / (Double(sec) + Double(atto) / 1e18)
}

func latency(graph: GraphClient, address: String) async throws -> (UInt64, UInt64) {
    let child = try Child(CommandLine.arguments[0], ["subscriber", "--graph", address, "--topic", "latency", "--latency", "1"])
    guard child.readLine() == "ready" else { throw SetupError("subscriber did not start") }
    let publisher = try await graph.publisher(topic: "latency", type: Plexus_Testing_V1_Sample.self)
    while publisher.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
    // The publisher runs on the member's event loop (publish → socket without a thread hop),
    // paced by the loop's own timer like the C baseline's.
    let loop = graph.eventLoop
    try await Task(executorPreference: loop) {
        var s = sample(size: 64)
        let count = Int(seconds * 1000)
        let start = ContinuousClock.now
        for i in 0..<count {
            let due = start + .microseconds(1000 * i)
            while case let left = due - ContinuousClock.now, left > .zero {
                try await loop.sleep(milliseconds: UInt64(max(1, left.components.attoseconds / 1_000_000_000_000_000)))
            }
            s.index = nowNanos()
            try await publisher.publish(s)
        }
    }.value
    try await Task.sleep(for: .milliseconds(300))
    let parts = child.finish().split(separator: " ")
    await publisher.close()
    guard parts.count == 6, let p50 = UInt64(parts[4]), let p99 = UInt64(parts[5]) else { throw SetupError("no latency report") }
    return (p50, p99)
}

/// The machine's floor: raw libuv C, one 64 B frame per millisecond between two idle processes,
/// delay from the sender's write call to the receiver's read callback (µs, p50 and p99).
func baselineLatency() throws -> (Double, Double) {
    let server = try Child(directory + "/plexus-echo-baseline", ["server", "--port", "0"])
    let port = server.readLine().split(separator: " ").last.map(String.init) ?? "0"
    let client = try Child(directory + "/plexus-echo-baseline",
                           ["client", "--port", port, "--mode", "oneway", "--size", "64", "--seconds", String(Int(max(1, seconds)))])
    var values: [String: Double] = [:]
    for pair in client.readLine().split(separator: " ") {
        let kv = pair.split(separator: "=")
        if kv.count == 2 { values[String(kv[0])] = Double(kv[1]) }
    }
    client.process.waitUntilExit()
    _ = server.finish()
    guard let p50 = values["p50_us"], let p99 = values["p99_us"] else { throw SetupError("no baseline latency report") }
    return (p50, p99)
}

func settingsRoundTrip(graph: GraphClient, address: String) async throws -> (Double, Double) {
    let owner = try Child(directory + "/plexus-graph-peer", ["own", "--graph", address, "--unit", "bench-filter"])
    guard owner.readLine() == "ready" else { throw SetupError("owner did not start") }
    var watch = Plexus_Graph_V1_SubscribeSettingsRequest()
    watch.unit = "bench-filter"
    watch.afterSeq = try await graph.graph.settingsEvents(Plexus_Graph_V1_SettingsEventsRequest()).lastSeq
    var times: [Double] = []
    try await graph.graph.subscribeSettings(watch) { stream in
        var it = stream.makeAsyncIterator()
        for i in 0..<1000 {
            var v = Plexus_Settings_V1_FieldValue()
            v.kind = .doubleValue(1 + Double(i % 900))
            let start = ContinuousClock.now
            _ = try await graph.updateSetting(unit: "bench-filter", field: "cutoff_hz", value: v)
            while let item = try await it.next() {
                if case .event(let e)? = item.kind, e.source == .updated { break }
            }
            let (s, a) = (ContinuousClock.now - start).components
            times.append(Double(s) * 1e6 + Double(a) / 1e12)
        }
    }
    owner.process.terminate()
    owner.process.waitUntilExit()
    times.sort()
    return (times[times.count / 2], times[times.count * 99 / 100])
}

func scale(address: String, graphPid: Int32) async throws -> (register: Double, topics: Double, resolve: Double, rssMiB: Double) {
    let channel = PlexusChannel(host: "127.0.0.1", port: try GraphAddress(parsing: address).port)
    let client = Plexus_Graph_V1_GraphServiceClient(channel: channel)
    let rssBefore = rss(of: graphPid)
    let start = ContinuousClock.now
    // 1,000 processes, each a real Session (kept open), registered concurrently in groups.
    let sessions = SessionHolder()
    var ids: [String] = []
    for batch in 0..<10 {
        let batchIds = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<100 {
                group.addTask { try await sessions.open(client, name: "p\(batch * 100 + i)") }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        ids += batchIds
    }
    let registerUs = elapsedMicros(start) / 1000
    let topicsStart = ContinuousClock.now
    for t in 0..<10_000 {
        var r = Plexus_Graph_V1_AddPublisherRequest()
        r.processId = ids[t % ids.count]
        r.topic = "topic-\(t)"
        r.typeName = "plexus.testing.v1.Sample"
        _ = try await client.addPublisher(r)
        if t < 1000 {
            var e = Plexus_Graph_V1_RegisterEndpointRequest()
            e.processId = ids[t]
            var n = Plexus_Graph_V1_EndpointName()
            n.namespace = "bench"
            n.component = "worker"
            n.endpoint = "generate"
            e.name = n
            e.address = "127.0.0.1:\(20000 + t)"
            _ = try await client.registerEndpoint(e)
        }
    }
    let topicUs = elapsedMicros(topicsStart) / 10_000
    let resolveStart = ContinuousClock.now
    var q = Plexus_Graph_V1_ResolveRequest()
    var n = Plexus_Graph_V1_EndpointName()
    n.namespace = "bench"
    q.name = n
    for _ in 0..<100 { _ = try await client.resolve(q) }
    let resolveUs = elapsedMicros(resolveStart) / 100
    let rssAfter = rss(of: graphPid)
    sessions.closeAll()
    await channel.close()
    return (registerUs, topicUs, resolveUs, Double(rssAfter - rssBefore) / 1_048_576)
}

/// Holds Session calls open (one task each) until closeAll.
final class SessionHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [Task<Void, Never>] = []

    func open(_ client: Plexus_Graph_V1_GraphServiceClient, name: String) async throws -> String {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let task = Task {
            _ = try? await client.session { writer, events in
                var r = Plexus_Graph_V1_SessionRequest()
                var reg = Plexus_Graph_V1_Register()
                var info = Plexus_Graph_V1_ProcessInfo()
                info.name = name
                reg.process = info
                r.kind = .register(reg)
                try await writer.write(r)
                for try await e in events {
                    if case .registered(let x)? = e.kind { continuation.yield(x.processId) }
                }
            }
            continuation.finish()
        }
        lock.withLock { tasks.append(task) }
        for await id in stream { return id }
        throw SetupError("session for \(name) ended before Registered")
    }

    func closeAll() {
        lock.lock()
        defer { lock.unlock() }
        tasks.forEach { $0.cancel() }
    }
}

func rss(of pid: Int32) -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
    let parts = statm.split(separator: " ")
    return (parts.count > 1 ? Int(parts[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func elapsedMicros(_ start: ContinuousClock.Instant) -> Double {
    let (s, a) = (ContinuousClock.now - start).components
    return Double(s) * 1e6 + Double(a) / 1e12
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func runAll() async throws {
    let server = try Child(directory + "/plexus", ["graph", "serve", "--port", "0", "--heartbeat-timeout-ms", "30000"])
    let line = server.readLine()
    guard line.hasPrefix("listening on ") else { throw SetupError("graph server did not start: \(line)") }
    let address = String(line.dropFirst("listening on ".count))
    let graph = try await GraphClient.connect(name: "bench", address: try GraphAddress(parsing: address))
    print("scenario                                   | result")
    print("-------------------------------------------|------------------------------")
    let local = try await localThroughput(graph: graph)
    print("pub/sub 64 B, one process                   | \(Int(local)) msg/s")
    var best = (msgs: 0.0, bytes: 0.0)
    for i in 0..<2 {
        let r = try await remoteThroughput(graph: graph, address: address, size: 64, topic: "remote-64-\(i)")
        if r.msgs > best.msgs { best = r }
    }
    print("pub/sub 64 B, two processes                 | \(Int(best.msgs)) msg/s")
    let localRuns = try await localThroughput(graph: graph, batch: 64)
    print("  same, one process, runs of 64 (contentsOf) | \(Int(localRuns)) msg/s")
    let remoteRuns = try await remoteThroughput(graph: graph, address: address, size: 64, topic: "remote-runs", batch: 64)
    print("  same, two processes, runs of 64            | \(Int(remoteRuns.msgs)) msg/s")
    var big = (msgs: 0.0, bytes: 0.0)
    for i in 0..<2 {
        let r = try await remoteThroughput(graph: graph, address: address, size: 1 << 20, topic: "remote-1m-\(i)")
        if r.bytes > big.bytes { big = r }
    }
    print("pub/sub 1 MiB, two processes                | \(String(format: "%.2f", big.bytes / 1e9)) GB/s (\(Int(big.msgs)) msg/s)")
    let (p50, p99) = try await latency(graph: graph, address: address)
    let (b50, b99) = try baselineLatency()
    print("one-way latency at 1,000 msg/s, p50 / p99   | \(p50 / 1000) / \(p99 / 1000) µs (raw libuv C floor: \(Int(b50)) / \(Int(b99)) µs)")
    let (s50, s99) = try await settingsRoundTrip(graph: graph, address: address)
    print("settings field update → event seen, p50/p99 | \(Int(s50)) / \(Int(s99)) µs")
    await graph.close()
    let sc = try await scale(address: address, graphPid: server.process.processIdentifier)
    print("1,000 processes + 10,000 topics             | register \(String(format: "%.0f", sc.register)) µs/process, add topic \(String(format: "%.0f", sc.topics)) µs, resolve (1,000 endpoints) \(String(format: "%.0f", sc.resolve)) µs, graph RSS +\(String(format: "%.1f", sc.rssMiB)) MiB")
    server.process.terminate()
    server.process.waitUntilExit()
}

switch CommandLine.arguments.dropFirst().first ?? "run" {
case "subscriber": try await runSubscriber()
case "remote":
    // Only the between-process case, 64 B or --size N (for profiling with perf -a).
    var c = GraphServerConfiguration()
    c.port = 0
    let server = GraphServer(configuration: c)
    try await server.start()
    let graph = try await GraphClient.connect(name: "bench", address: server.address)
    let size = Int(option("--size", "64")) ?? 64
    let r = try await remoteThroughput(graph: graph, address: server.address.description, size: size, topic: "remote")
    print("pub/sub \(size) B, two processes: \(Int(r.msgs)) msg/s, \(String(format: "%.2f", r.bytes / 1e9)) GB/s")
    await graph.close()
    await server.shutdown()
case "latency":
    // Only the latency case and its raw libuv baseline, against a graph server process.
    let server = try Child(directory + "/plexus", ["graph", "serve", "--port", "0", "--heartbeat-timeout-ms", "30000"])
    let line = server.readLine()
    guard line.hasPrefix("listening on ") else { throw SetupError("graph server did not start: \(line)") }
    let address = String(line.dropFirst("listening on ".count))
    let graph = try await GraphClient.connect(name: "bench", address: try GraphAddress(parsing: address))
    for _ in 0..<(Int(option("--repeats", "1")) ?? 1) {
        let (p50, p99) = try await latency(graph: graph, address: address)
        let (b50, b99) = try baselineLatency()
        print("one-way latency at 1,000 msg/s, p50 / p99: plexus \(p50 / 1000) / \(p99 / 1000) µs, raw libuv C \(Int(b50)) / \(Int(b99)) µs")
    }
    await graph.close()
    server.process.terminate()
    server.process.waitUntilExit()
case "local":
    // Only the in-process case, against an embedded graph server (for profiling).
    var c = GraphServerConfiguration()
    c.port = 0
    let server = GraphServer(configuration: c)
    try await server.start()
    let graph = try await GraphClient.connect(name: "bench", address: server.address)
    print("pub/sub 64 B, one process: \(Int(try await localThroughput(graph: graph))) msg/s")
    await graph.close()
    await server.shutdown()
default: try await runAll()
}
