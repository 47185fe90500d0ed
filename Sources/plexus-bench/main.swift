// plexus-bench: Plexus's request plane against a raw libuv C echo, in separate processes on
// loopback, in one run. Release build:  make bench   (or)  plexus-bench run [--seconds 3]
//   plexus-bench server                          a Plexus server with BenchService
//   plexus-bench client --port P --mode unary|stream|bidi|connections --size N [--inflight K] [--seconds S] [--count C]
import Foundation
import Plexus
import PlexusInterop
import PlexusLoop
import PlexusProto

// MARK: Service

struct BenchService: Plexus_Testing_V1_BenchServiceProtocol {
    func echo(request: Plexus_Testing_V1_Payload, context: ServerContext) async throws -> Plexus_Testing_V1_Payload {
        request
    }

    func sink(requests: RequestStream<Plexus_Testing_V1_Payload>, context: ServerContext) async throws -> Plexus_Testing_V1_StreamingInputCallResponse {
        var count: Int32 = 0
        for try await _ in requests { count &+= 1 }
        var response = Plexus_Testing_V1_StreamingInputCallResponse()
        response.aggregatedPayloadSize = count
        return response
    }

    func echoStream(requests: RequestStream<Plexus_Testing_V1_Payload>, response: ResponseWriter<Plexus_Testing_V1_Payload>, context: ServerContext) async throws {
        for try await request in requests { try await response.write(request) }
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count { return args[i + 1] }
    return fallback
}

/// Blocks until stdin closes (the orchestrator ends a child that way).
func waitForStdinToClose() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread {
            while FileHandle.standardInput.availableData.count > 0 {}
            continuation.resume()
        }
    }
}

func runServer() async throws {
    var configuration = try ServerConfiguration.fromEnvironment()
    configuration.port = Int(option("port", "0")) ?? 0
    configuration.maxConcurrentStreams = 10_000
    configuration.maxMessageSize = 8 * 1024 * 1024
    let server = PlexusServer(configuration: configuration)
    server.register(BenchService())
    try await server.start()
    print("listening \(server.port)")
    fflush(nil)
    await waitForStdinToClose()
    print(String(format: "server cpu_s=%.6f", cpuSeconds()))
    fflush(nil)
    exit(0)
}

// MARK: Client

func runClient() async throws {
    let port = Int(option("port", "0")) ?? 0
    let mode = option("mode", "unary")
    let size = Int(option("size", "64")) ?? 64
    let inflight = Int(option("inflight", "1")) ?? 1
    let seconds = Double(option("seconds", "3")) ?? 3
    var clientConfiguration = ClientConfiguration()
    clientConfiguration.maxMessageSize = 8 * 1024 * 1024
    if mode == "connections" {
        let count = Int(option("count", "1000")) ?? 1000
        var channels: [PlexusChannel] = []
        let loop = EventLoop()
        for _ in 0..<count {
            let channel = PlexusChannel(host: "127.0.0.1", port: port, configuration: clientConfiguration, loop: loop)
            _ = try await Plexus_Testing_V1_BenchServiceClient(channel: channel).echo(Plexus_Testing_V1_Payload())
            channels.append(channel)
        }
        print("connections=\(channels.count)")
        fflush(nil)
        await waitForStdinToClose()
        exit(0)
    }
    let channel = PlexusChannel(host: "127.0.0.1", port: port, configuration: clientConfiguration)
    let client = Plexus_Testing_V1_BenchServiceClient(channel: channel)
    var payload = Plexus_Testing_V1_Payload()
    payload.body = [UInt8](repeating: 7, count: size)
    let message = payload
    _ = try await client.echo(Plexus_Testing_V1_Payload())  // connect first
    let loop = channel.eventLoop
    let start = ContinuousClock.now
    let deadline = start + .milliseconds(Int(seconds * 1000))
    switch mode {
    case "unary":
        let results = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<inflight {
                group.addTask(executorPreference: loop) {
                    var latencies: [Duration] = []
                    latencies.reserveCapacity(200_000)
                    while ContinuousClock.now < deadline {
                        let sent = ContinuousClock.now
                        _ = try await client.echo(message)
                        latencies.append(ContinuousClock.now - sent)
                    }
                    return latencies
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - start
        let sorted = results.sorted()
        let micros = { (d: Duration) -> Double in Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12 }
        let p50 = sorted.isEmpty ? 0 : micros(sorted[sorted.count / 2])
        let p99 = sorted.isEmpty ? 0 : micros(sorted[sorted.count * 99 / 100])
        let secs = micros(elapsed) / 1e6
        print(String(format: "calls=%d seconds=%.3f rate=%.1f p50_us=%.1f p99_us=%.1f cpu_s=%.6f", results.count, secs, Double(results.count) / secs, p50, p99, cpuSeconds()))
    case "stream":
        let sent = try await Task(executorPreference: loop) { () async throws -> (Int, Int32) in
            var sent = 0
            let response = try await client.sink { writer in
                while ContinuousClock.now < deadline {
                    for _ in 0..<64 { try await writer.write(message) }
                    sent += 64
                }
            }

            return (sent, response.aggregatedPayloadSize)
        }.value
        let elapsed = ContinuousClock.now - start
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(Int(sent.1) == sent.0, "the server counted \(sent.1) of \(sent.0) messages")
        print(String(format: "messages=%d seconds=%.3f rate=%.1f mbps=%.1f cpu_s=%.6f", sent.0, secs, Double(sent.0) / secs, Double(sent.0 * size) / secs / 1e6, cpuSeconds()))
    case "bidi":
        let received = try await Task(executorPreference: loop) { () async throws -> Int in
            try await client.echoStream { writer, responses in
                let reader = Task(executorPreference: loop) { () async throws -> Int in
                    var count = 0
                    for try await _ in responses { count += 1 }
                    return count
                }
                var sent = 0
                while ContinuousClock.now < deadline {
                    for _ in 0..<64 { try await writer.write(message) }
                    sent += 64
                }
                await writer.finish()
                let count = try await reader.value
                precondition(count == sent, "echoed \(count) of \(sent)")
                return count
            }
        }.value
        let elapsed = ContinuousClock.now - start
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "messages=%d seconds=%.3f rate=%.1f mbps=%.1f cpu_s=%.6f", received, secs, Double(received) / secs, Double(received * size) / secs / 1e6, cpuSeconds()))
    default:
        fatalError("unknown mode \(mode)")
    }
    fflush(nil)
    await channel.close()
    exit(0)
}

// MARK: Orchestration

/// A child process with a pipe to its stdin (closing it ends the child) and its stdout.
final class Child {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffer = Data()

    init(_ path: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func readLine() -> String {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return "" }
            buffer += chunk
        }
    }

    func finish() -> String {
        try? input.fileHandleForWriting.close()
        let line = readLine()
        process.waitUntilExit()
        return line
    }

    var residentKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

func values(_ line: String) -> [String: Double] {
    var result: [String: Double] = [:]
    for pair in line.split(separator: " ") {
        let parts = pair.split(separator: "=")
        if parts.count == 2 { result[String(parts[0])] = Double(parts[1]) }
    }
    return result
}

struct Scenario {
    let name: String
    let arguments: [String]
}

func runAll() throws {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let baseline = directory + "/plexus-echo-baseline"
    let plexus = CommandLine.arguments[0]
    let seconds = option("seconds", "3")
    func measure(_ server: String, _ client: String, _ arguments: [String]) throws -> ([String: Double], Double) {
        let serverChild = try Child(server, ["server", "--port", "0"])
        let port = serverChild.readLine().split(separator: " ").last.map(String.init) ?? "0"
        let clientChild = try Child(client, ["client", "--port", port, "--seconds", seconds] + arguments)
        let result = values(clientChild.readLine())
        clientChild.process.waitUntilExit()
        let serverCPU = values(serverChild.finish())["cpu_s"] ?? 0
        return (result, serverCPU)
    }
    print("Plexus request plane vs raw libuv C echo — separate processes, loopback, \(seconds) s per run, best of \(option("repeats", "3")) alternating runs")
    print("case                               | baseline            | plexus              | ratio")
    print("-----------------------------------|---------------------|---------------------|------")
    let scenarios = [
        Scenario(name: "unary 64 B, 1 in flight (calls/s)", arguments: ["--mode", "unary", "--size", "64", "--inflight", "1"]),
        Scenario(name: "unary 64 B, 64 in flight (calls/s)", arguments: ["--mode", "unary", "--size", "64", "--inflight", "64"]),
        Scenario(name: "one-way stream 64 B (msg/s)", arguments: ["--mode", "stream", "--size", "64"]),
        Scenario(name: "one-way stream 1 MiB (MB/s)", arguments: ["--mode", "stream", "--size", "1048576"]),
    ]
    // The machine drifts: alternate baseline and Plexus `repeats` times and keep each side's best.
    let repeats = Int(option("repeats", "3")) ?? 3
    for scenario in scenarios {
        let key = scenario.name.contains("MB/s") ? "mbps" : "rate"
        var (b, bServerCPU) = try measure(baseline, baseline, scenario.arguments)
        var (p, pServerCPU) = try measure(plexus, plexus, scenario.arguments)
        for _ in 1..<max(1, repeats) {
            let (b2, b2CPU) = try measure(baseline, baseline, scenario.arguments)
            if (b2[key] ?? 0) > (b[key] ?? 0) { (b, bServerCPU) = (b2, b2CPU) }
            let (p2, p2CPU) = try measure(plexus, plexus, scenario.arguments)
            if (p2[key] ?? 0) > (p[key] ?? 0) { (p, pServerCPU) = (p2, p2CPU) }
        }
        let bv = b[key] ?? 0, pv = p[key] ?? 0
        print(String(format: "%-35@| %19.1f | %19.1f | %.2f", scenario.name as NSString, bv, pv, bv > 0 ? pv / bv : 0))
        if scenario.arguments.contains("unary") {
            print(String(format: "  latency p50/p99 (µs)             | %8.1f / %8.1f | %8.1f / %8.1f |", b["p50_us"] ?? 0, b["p99_us"] ?? 0, p["p50_us"] ?? 0, p["p99_us"] ?? 0))
            let bCPU = ((b["cpu_s"] ?? 0) + bServerCPU) / max(1, b["calls"] ?? 1) * 1e6
            let pCPU = ((p["cpu_s"] ?? 0) + pServerCPU) / max(1, p["calls"] ?? 1) * 1e6
            print(String(format: "  CPU per call, both processes (µs)| %19.2f | %19.2f | %.2f", bCPU, pCPU, bCPU > 0 ? pCPU / bCPU : 0))
        }
    }
    // Bidirectional echo has no C counterpart in the baseline; report it alone.
    let (bidi, _) = try measure(plexus, plexus, ["--mode", "bidi", "--size", "64"])
    print(String(format: "bidi echo 64 B (msg/s, plexus only)| %19@ | %19.1f |", "-" as NSString, bidi["rate"] ?? 0))
    // Server memory with 1,000 idle connections.
    for (name, path) in [("baseline", baseline), ("plexus", plexus)] {
        let server = try Child(path, ["server", "--port", "0"])
        let port = server.readLine().split(separator: " ").last.map(String.init) ?? "0"
        let before = server.residentKiB
        let clients = try Child(path, ["client", "--port", port, "--mode", "connections", "--count", "1000"])
        _ = clients.readLine()
        Thread.sleep(forTimeInterval: 0.3)
        let after = server.residentKiB
        print(String(format: "server RSS, 1000 idle connections (%@): %d KiB (%d KiB before)", name as NSString, after, before))
        _ = clients.finish()
        _ = server.finish()
    }
}

let command = CommandLine.arguments.dropFirst().first ?? "run"
switch command {
case "server": try await runServer()
case "client": try await runClient()
default: try runAll()
}
