import ArgumentParser
import Foundation
import PlexusGraph

struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "graph", abstract: "Graph server commands.",
                                                    subcommands: [Serve.self])

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a graph server until SIGINT/SIGTERM; prints 'listening on HOST:PORT' when ready.")
        @Option(help: "Host to listen on (default: from PLEXUS_GRAPH_ADDRESS, else 127.0.0.1).") var host: String?
        @Option(help: "Port (0 = any free port; default: from PLEXUS_GRAPH_ADDRESS, else 25979).") var port: Int?
        @Option(help: "Drop a process after this many milliseconds without a heartbeat.") var heartbeatTimeoutMs = 3000
        @Option(help: "Settings events kept for replay.") var settingsHistory = 10_000
        @Option(help: "Topology events kept for replay.") var topologyHistory = 10_000
        @Option(help: "Default timeout of routed process-control requests, in milliseconds.") var routedTimeoutMs = 2000

        func run() async throws {
            var c: GraphServerConfiguration
            do { c = try GraphServerConfiguration.fromEnvironment() } catch { throw ValidationError("\(error)") }
            if let host { c.host = host }
            if let port { c.port = port }
            c.heartbeatTimeout = .milliseconds(heartbeatTimeoutMs)
            c.heartbeatInterval = .milliseconds(max(50, heartbeatTimeoutMs / 6))
            c.settingsHistory = settingsHistory
            c.topologyHistory = topologyHistory
            c.routedRequestTimeout = .milliseconds(routedTimeoutMs)
            let server = GraphServer(configuration: c)
            do {
                try await server.start()
            } catch {
                printError("error: cannot start the graph server on \(c.host):\(c.port): \(error)")
                throw ExitCode(1)
            }
            say("listening on \(server.host):\(server.port)")
            await waitForTermination()
            await server.shutdown()
        }
    }
}

/// Suspends until SIGINT or SIGTERM.
func waitForTermination() async {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    let (stream, continuation) = AsyncStream<Void>.makeStream()
    let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler { continuation.yield() }
        s.resume()
        return s
    }
    for await _ in stream { break }
    sources.forEach { $0.cancel() }
}
