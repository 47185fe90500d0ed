import PlexusLoop
import Synchronization

/// A Plexus server: one TCP listener, any number of services.
///
/// ```swift
/// let server = PlexusServer(configuration: try .fromEnvironment())
/// server.register(MyService())
/// try await server.start()
/// print("listening on", server.port)
/// ```
public final class PlexusServer: Sendable {
    public let configuration: ServerConfiguration
    let group: EventLoopGroup
    private let ownsGroup: Bool
    private let state = Locked(State())

    struct State {
        var router = MethodRouter()
        var listener: TCPListener?
        var connections: [ObjectIdentifier: ServerConnection] = [:]
        var started = false
    }

    public init(configuration: ServerConfiguration = ServerConfiguration(), group: EventLoopGroup? = nil) {
        self.configuration = configuration
        self.group = group ?? EventLoopGroup(loopCount: configuration.loopCount, name: "plexus-server")
        self.ownsGroup = group == nil
    }

    /// Registers a service (before or after start; new connections see it).
    public func register(_ service: some PlexusService) {
        state.withLock { $0.router.register(service) }
    }

    /// Binds and starts accepting connections.
    public func start() async throws {
        let configuration = self.configuration
        let listener = try await TCPListener.listen(host: configuration.host, port: configuration.port, on: group.loops) { [weak self] tcp in
            guard let self else { return tcp.close() }
            let router = self.state.withLock { $0.router }
            let connection = ServerConnection(tcp: tcp, router: router, configuration: configuration, server: self)
            self.state.withLock { $0.connections[ObjectIdentifier(connection)] = connection }
            connection.start()
        }
        state.withLock {
            $0.listener = listener
            $0.started = true
        }
    }

    /// The port the server listens on (the OS-assigned one when configured with 0).
    public var port: Int { state.withLock { $0.listener?.port ?? configuration.port } }
    /// The address the server listens on.
    public var host: String { configuration.host }

    /// Connections open now.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    func connectionClosed(_ connection: ServerConnection) {
        state.withLock { $0.connections[ObjectIdentifier(connection)] = nil }
    }

    /// Stops accepting, sends GOAWAY, lets in-flight calls finish within `gracePeriod` (nil =
    /// ``ServerConfiguration/gracePeriod``), then cancels what is left and closes every connection.
    public func shutdown(gracePeriod: Duration? = nil) async {
        let gracePeriod = gracePeriod ?? configuration.gracePeriod
        let (listener, connections) = state.withLock { state -> (TCPListener?, [ServerConnection]) in
            let result = (state.listener, Array(state.connections.values))
            state.listener = nil
            return result
        }
        listener?.close()
        for connection in connections { connection.loop.execute { connection.beginShutdown() } }
        let deadline = ContinuousClock.now + gracePeriod
        while connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for connection in state.withLock({ Array($0.connections.values) }) {
            connection.loop.execute { connection.forceClose() }
        }
        let closeDeadline = ContinuousClock.now + .seconds(2)
        // Also wait for handlers still unwinding (cancelled, awaiting an actor, say): they resume
        // on their loop, and stopping it first would strand them, and what they hold, forever.
        while connectionCount > 0 || runningHandlers.load(ordering: .acquiring) > 0, ContinuousClock.now < closeDeadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        if ownsGroup { await group.shutdown() }
    }

    /// Handler tasks not finished yet (shutdown waits for them before stopping its loops).
    private let runningHandlers = Atomic<Int>(0)
    func handlerStarted() { runningHandlers.add(1, ordering: .relaxed) }
    func handlerFinished() { runningHandlers.subtract(1, ordering: .releasing) }

    // MARK: The shared per-process server (Dynamo-style)

    /// The shared server's start, awaited by every caller; cleared when it fails so a later
    /// call can try again (e.g. after fixing `PLEXUS_TCP_PORT`).
    private static let sharedStart = Locked<Task<PlexusServer, any Error>?>(nil)

    /// The process's shared server, configured from `PLEXUS_*` environment variables and
    /// started on first use; every service of the process registers on it. Concurrent first
    /// callers all get the same server, and only once it listens (its ``port`` is the real one).
    /// Throws ``ConfigurationError`` for a bad variable, or the bind error.
    public static func shared() async throws -> PlexusServer {
        let start = sharedStart.withLock { current -> Task<PlexusServer, any Error> in
            if let current { return current }
            let task = Task<PlexusServer, any Error> {
                let server = PlexusServer(configuration: try ServerConfiguration.fromEnvironment())
                do {
                    try await server.start()
                } catch {
                    await server.shutdown(gracePeriod: .zero)  // stops the loop threads it made
                    throw error
                }
                return server
            }
            current = task
            return task
        }
        do {
            return try await start.value
        } catch {
            sharedStart.withLock { current in
                if current == start { current = nil }
            }
            throw error
        }
    }
}
