import Foundation

/// How a ``GraphServer`` listens and how long it keeps things.
public struct GraphServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = GraphAddress.defaultPort
    /// How often processes send heartbeats.
    public var heartbeatInterval: Duration = .milliseconds(500)
    /// A process silent for this long is dropped and everything it held is released.
    public var heartbeatTimeout: Duration = .seconds(3)
    /// Settings events kept for replay (`SettingsEvents`, `SubscribeSettings`).
    public var settingsHistory = 10_000
    /// Topology events kept for replay (`WatchTopology`).
    public var topologyHistory = 10_000
    /// Events a slow settings/topology subscriber may have queued before it gets a gap marker.
    public var subscriberQueueLimit = 4_096
    /// Default timeout of a request routed to a process.
    public var routedRequestTimeout: Duration = .seconds(2)

    public init() {}

    /// The default configuration at the address in `PLEXUS_GRAPH_ADDRESS`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(GraphError) -> GraphServerConfiguration {
        let address = try GraphAddress.fromEnvironment(environment)
        var c = GraphServerConfiguration()
        c.host = address.host
        c.port = address.port
        return c
    }
}
