import Foundation
import Plexus
import PlexusLoop
import PlexusProto

/// Routes calls to the live instances of one endpoint (namespace/component/endpoint), as the
/// graph server reports them: instances that go away are dropped at once, new ones are used as
/// soon as they come up.
///
/// ```swift
/// let router = try await graph.endpointRouter(namespace: "llm", component: "worker", endpoint: "generate")
/// let reply = try await router.withChannel { try await MyServiceClient(channel: $0).generate(request) }
/// ```
public final class EndpointRouter: Sendable {
    /// How the next instance is chosen.
    public enum Strategy: Sendable {
        case roundRobin
        case random
    }

    public let name: Plexus_Graph_V1_EndpointName
    public let strategy: Strategy
    private struct State {
        var instances: [Plexus_Graph_V1_EndpointInstance] = []
        var next = 0
        var channels: [String: PlexusChannel] = [:]
    }
    private let state = Locked(State())
    private let watch = Locked<Task<Void, Never>?>(nil)
    private let loop: EventLoop

    init(name: Plexus_Graph_V1_EndpointName, strategy: Strategy, loop: EventLoop) {
        self.name = name
        self.strategy = strategy
        self.loop = loop
    }

    /// The instances currently up.
    public var instances: [Plexus_Graph_V1_EndpointInstance] { state.withLock { $0.instances } }

    /// Picks an instance (by the strategy) and a channel to it; UNAVAILABLE when none is up.
    public func next() throws -> (instance: Plexus_Graph_V1_EndpointInstance, channel: PlexusChannel) {
        try state.withLock { s in
            guard !s.instances.isEmpty else {
                throw RPCError(code: .unavailable, message: "no live instance of \(name.namespace)/\(name.component)/\(name.endpoint)")
            }
            let index: Int
            switch strategy {
            case .roundRobin:
                index = s.next % s.instances.count
                s.next &+= 1
            case .random:
                index = Int.random(in: 0..<s.instances.count)
            }
            let instance = s.instances[index]
            if let c = s.channels[instance.address] { return (instance, c) }
            let address = try GraphAddress(parsing: instance.address)
            let c = PlexusChannel(host: address.host, port: address.port, loop: loop)
            s.channels[instance.address] = c
            return (instance, c)
        }
    }

    /// Runs `body` with a channel to the next instance; when that instance is unreachable
    /// (UNAVAILABLE) it tries the others once each.
    public func withChannel<R>(_ body: (PlexusChannel) async throws -> R) async throws -> R {
        let attempts = max(1, instances.count)
        var lastError: Error = RPCError(code: .unavailable, message: "no live instance")
        for _ in 0..<attempts {
            let (_, channel) = try next()
            do {
                return try await body(channel)
            } catch let e as RPCError where e.code == .unavailable {
                lastError = e
            }
        }
        throw lastError
    }

    func apply(_ event: Plexus_Graph_V1_EndpointEvent) {
        let stale: [PlexusChannel] = state.withLock { s in
            switch event.kind {
            case .snapshot: s.instances = event.instances
            case .up: s.instances += event.instances.filter { e in !s.instances.contains { $0.instanceId == e.instanceId } }
            case .down:
                let gone = Set(event.instances.map(\.instanceId))
                s.instances.removeAll { gone.contains($0.instanceId) }
            default: break
            }
            let live = Set(s.instances.map(\.address))
            let dead = s.channels.filter { !live.contains($0.key) }
            for key in dead.keys { s.channels[key] = nil }
            return Array(dead.values)
        }
        for c in stale { Task { await c.close() } }
    }

    func start(_ graph: Plexus_Graph_V1_GraphServiceClient) async throws {
        var request = Plexus_Graph_V1_ResolveRequest()
        request.name = name
        let ready = Mailbox<Result<Void, Error>>()
        let task = Task {
            do {
                try await graph.watchEndpoints(request) { events in
                    var first = true
                    for try await event in events {
                        self.apply(event)
                        if first {
                            first = false
                            ready.push(.success(()))
                        }
                    }
                }
            } catch {
                ready.push(.failure(error))
            }
        }
        watch.withLock { $0 = task }
        if case .failure(let error)? = await ready.next() { throw error }
    }

    /// Stops watching and closes the channels.
    public func close() async {
        watch.withLock { $0?.cancel() }
        let channels = state.withLock { s in
            defer { s.channels.removeAll() }
            return Array(s.channels.values)
        }
        for c in channels { await c.close() }
    }
}

extension GraphClient {
    /// Registers an endpoint instance served at `address` (default: this process's server).
    public func registerEndpoint(namespace: String, component: String, endpoint: String, address: String = "",
                                 metadata: [String: String] = [:]) async throws -> Plexus_Graph_V1_EndpointInstance {
        var r = Plexus_Graph_V1_RegisterEndpointRequest()
        r.processId = processId
        var n = Plexus_Graph_V1_EndpointName()
        n.namespace = namespace
        n.component = component
        n.endpoint = endpoint
        r.name = n
        r.address = address
        r.metadata = metadata
        let instance = try await graph.registerEndpoint(r).instance ?? Plexus_Graph_V1_EndpointInstance()
        state.withLock { $0.endpoints.append(r) }
        return instance
    }

    /// A router over the live instances of an endpoint.
    public func endpointRouter(namespace: String, component: String, endpoint: String,
                               strategy: EndpointRouter.Strategy = .roundRobin) async throws -> EndpointRouter {
        var n = Plexus_Graph_V1_EndpointName()
        n.namespace = namespace
        n.component = component
        n.endpoint = endpoint
        let router = EndpointRouter(name: n, strategy: strategy, loop: eventLoop)
        try await router.start(graph)
        return router
    }
}
