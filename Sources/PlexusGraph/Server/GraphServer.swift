import PlexusLoop
import Foundation
import Synchronization
import Plexus
import PlexusProto

/// The graph server: the control plane of a multi-process Plexus application, served as the
/// `plexus.graph.v1.GraphService` on an ordinary Plexus server. Embed it, or run
/// `plexus graph serve`.
///
/// ```swift
/// let server = GraphServer(configuration: try .fromEnvironment())
/// try await server.start()
/// ```
public final class GraphServer: Sendable {
    public let configuration: GraphServerConfiguration
    let registry: GraphRegistry
    let server: PlexusServer
    private let sweeper = Locked<Task<Void, Never>?>(nil)

    public init(configuration: GraphServerConfiguration = GraphServerConfiguration()) {
        self.configuration = configuration
        registry = GraphRegistry(configuration: configuration)
        var serverConfiguration = ServerConfiguration()
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        serverConfiguration.maxConcurrentStreams = 100_000
        server = PlexusServer(configuration: serverConfiguration)
        server.register(GraphService(registry: registry))
    }

    /// Starts listening; the heartbeat sweeper runs until ``shutdown()``.
    public func start() async throws {
        try await server.start()
        let registry = self.registry
        let period = configuration.heartbeatInterval / 2
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                await registry.sweep()
            }
        }
        sweeper.withLock { $0 = task }
    }

    /// The port it listens on (the real one when configured with port 0).
    public var port: Int { server.port }
    /// The host it listens on.
    public var host: String { server.host }
    /// `host:port`, as clients name it.
    public var address: GraphAddress { GraphAddress(host: host, port: port) }
    /// Identifies this server instance; changes on every start.
    public var serverId: String { registry.serverId }

    /// Stops listening and closes every session.
    public func shutdown() async {
        sweeper.withLock { $0?.cancel() }
        await server.shutdown(gracePeriod: .milliseconds(200))
    }
}
