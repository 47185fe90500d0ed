import Foundation
import Plexus
import PlexusCodec
import PlexusLoop
import PlexusProto
import Synchronization

/// A process's membership in a Plexus graph: its session with the graph server (registration,
/// heartbeats, routed control requests, re-registration after a graph-server restart), its
/// publishers and subscriptions, the settings of the units it owns, and its endpoints.
///
/// ```swift
/// let graph = try await GraphClient.connect(name: "filter", units: ["filter"])
/// let out = try await graph.publisher(topic: "filtered", type: Sample.self)
/// for try await s in try await graph.subscribe(topic: "raw", type: Sample.self) {
///     try await out.publish(process(s))
/// }
/// ```
public final class GraphClient: Sendable, RouteResolver {
    /// A handler for a user-defined process-control operation.
    public typealias CustomHandler = @Sendable (Google_Protobuf_Any) async throws -> Google_Protobuf_Any

    struct PublisherEntry {
        let core: any RoutedPublisher
        let request: Plexus_Graph_V1_AddPublisherRequest
        var serverId: UInt64
    }
    struct SubscriberEntry {
        let core: any InboundSubscriber
        let request: Plexus_Graph_V1_AddSubscriberRequest
        var serverId: UInt64
    }
    struct State {
        var processId = ""
        var serverId = ""
        var units: [String]
        var publishers: [ObjectIdentifier: PublisherEntry] = [:]
        var routed: [UInt64: any RoutedPublisher] = [:]
        var lastRoutes: [UInt64: [Plexus_Graph_V1_SubscriberRoute]] = [:]
        var subscribers: [ObjectIdentifier: SubscriberEntry] = [:]
        var settings: [String: any SettingsOwner] = [:]
        var edges: [Plexus_Graph_V1_ConnectRequest] = []
        var endpoints: [Plexus_Graph_V1_RegisterEndpointRequest] = []
        var channels: [String: PlexusChannel] = [:]
        var registrations = 0
        var closed = false
    }

    public let name: String
    public let graphAddress: GraphAddress
    /// The typed client of the graph server, for calls this type does not wrap.
    public let graph: Plexus_Graph_V1_GraphServiceClient
    /// The one event loop this member's sockets run on: its calls to the graph server, its
    /// links to subscribers elsewhere, and the server where its own subscribers receive.
    ///
    /// Latency-sensitive code can run on it (`Task(executorPreference: graph.eventLoop)`):
    /// a publish then reaches the socket, and a received message reaches the consumer, without
    /// a thread hop (the one-way latency benchmark does this). Such code must not block: the
    /// loop serves every socket of the process.
    public let eventLoop: EventLoop
    let channel: PlexusChannel
    let server: PlexusServer
    let delivery = TopicDeliveryService()
    let customHandlers: [String: CustomHandler]
    /// How long `connect` keeps trying to reach the graph server before it gives up.
    let connectTimeout: Duration = .seconds(5)
    let state: Locked<State>
    let sessionTask = Locked<Task<Void, Never>?>(nil)
    let registeredSignal = Mailbox<Result<String, RPCError>>()

    init(name: String, units: [String], address: GraphAddress, customHandlers: [String: CustomHandler]) {
        self.name = name
        graphAddress = address
        self.customHandlers = customHandlers
        let loop = EventLoop(name: "plexus-graph")
        eventLoop = loop
        var config = ClientConfiguration()
        config.backoffMax = .seconds(1)
        config.maxMessageSize = RemoteLink.maxMessageSize
        channel = PlexusChannel(host: address.host, port: address.port, configuration: config, loop: loop)
        graph = Plexus_Graph_V1_GraphServiceClient(channel: channel)
        var serverConfig = ServerConfiguration()
        serverConfig.host = "127.0.0.1"
        serverConfig.port = 0
        serverConfig.maxConcurrentStreams = 10_000
        serverConfig.maxMessageSize = RemoteLink.maxMessageSize
        serverConfig.initialWindow = RemoteLink.deliveryWindow
        Profiler.shared.observeCalls(of: &serverConfig)
        server = PlexusServer(configuration: serverConfig, group: EventLoopGroup(loops: [loop]))
        state = Locked(State(units: units))
        server.register(delivery)
    }

    /// Registers this process with the graph server at `address` (default: `PLEXUS_GRAPH_ADDRESS`
    /// or 127.0.0.1:25979) and keeps the session alive until ``close()``. Fails with
    /// ALREADY_EXISTS when a unit is owned by another process.
    public static func connect(name: String, units: [String] = [], address: GraphAddress? = nil,
                               customOperations: [String: CustomHandler] = [:]) async throws -> GraphClient {
        let client = GraphClient(name: name, units: units, address: try address ?? GraphAddress.fromEnvironment(),
                                 customHandlers: customOperations)
        try await client.server.start()
        client.startSession()
        guard let first = await client.registeredSignal.next() else { throw GraphError.closed }
        switch first {
        case .success: return client
        case .failure(let error):
            await client.close()
            throw error
        }
    }

    /// The id the graph server gave this process (changes only if it restarted and the old id
    /// was taken).
    public var processId: String { state.withLock { $0.processId } }
    /// host:port of this process's own request-plane server (where subscribers receive).
    public var address: String { "\(server.host):\(server.port)" }

    // MARK: RouteResolver

    func localSubscriber(_ id: UInt64) -> (any InboundSubscriber)? { delivery.subscriber(id) }

    func channel(to address: String) -> PlexusChannel? {
        guard let parsed = try? GraphAddress(parsing: address) else { return nil }
        return state.withLock { s in
            if let c = s.channels[address] { return c }
            var config = ClientConfiguration()
            config.maxMessageSize = RemoteLink.maxMessageSize
            let c = PlexusChannel(host: parsed.host, port: parsed.port, configuration: config, loop: eventLoop)
            s.channels[address] = c
            return c
        }
    }

    // MARK: Pub/sub

    /// A publisher of `type` on `topic`.
    public func publisher<T: ProtoMessage>(topic: String, type: T.Type = T.self, unit: String = "") async throws -> Publisher<T> {
        var request = Plexus_Graph_V1_AddPublisherRequest()
        request.topic = topic
        request.typeName = T.protoMessageName
        request.unit = unit
        let publisher = Publisher<T>(topic: topic) { [weak self] key in await self?.removePublisher(key) }
        try await addPublisher(publisher, request: request)
        return publisher
    }

    func addPublisher(_ core: any RoutedPublisher, request: Plexus_Graph_V1_AddPublisherRequest) async throws {
        var r = request
        r.processId = processId
        let id = try await graph.addPublisher(r).publisherId
        let routes: [Plexus_Graph_V1_SubscriberRoute]? = state.withLock { s in
            s.publishers[ObjectIdentifier(core)] = PublisherEntry(core: core, request: request, serverId: id)
            s.routed[id] = core
            return s.lastRoutes[id]
        }
        if let routes { core.apply(routes: routes, publisherId: id, resolver: self) }
    }

    func removePublisher(_ key: ObjectIdentifier) async {
        let entry = state.withLock { s -> PublisherEntry? in
            guard let e = s.publishers.removeValue(forKey: key) else { return nil }
            s.routed[e.serverId] = nil
            s.lastRoutes[e.serverId] = nil
            return e
        }
        guard let entry else { return }
        var r = Plexus_Graph_V1_RemoveClientRequest()
        r.processId = processId
        r.id = entry.serverId
        _ = try? await graph.removeClient(r)
    }

    /// Subscribes to `topic`: messages published on it, or on topics connected upstream of it,
    /// from now on. At most `maxInFlight` messages wait for this subscriber; then `policy` applies.
    @inlinable
    public func subscribe<T: ProtoMessage>(topic: String, type: T.Type = T.self, maxInFlight: Int = 64,
                                           policy: BackpressurePolicy = .block, unit: String = "") async throws -> Subscription<T> {
        // Inlined into the caller so the receive path (the closure) is specialized for `T`.
        let core = SubscriberCore<T>(topic: topic, capacity: maxInFlight, policy: policy) { core, batch in
            try await core.deliverBatch(batch)
        }
        return try await subscribe(core: core, unit: unit)
    }

    @usableFromInline
    func subscribe<T: ProtoMessage>(core: SubscriberCore<T>, unit: String) async throws -> Subscription<T> {
        let (topic, maxInFlight, policy) = (core.topic, core.queue.capacity, core.queue.policy)
        var request = Plexus_Graph_V1_AddSubscriberRequest()
        request.topic = topic
        request.typeName = T.protoMessageName
        request.unit = unit
        request.maxInFlight = UInt32(max(1, maxInFlight))
        request.policy = policy.proto
        try await addSubscriber(core, request: request)
        let key = ObjectIdentifier(core)
        return Subscription(core: core) { [weak self] in await self?.removeSubscriber(key) }
    }

    func addSubscriber(_ core: any InboundSubscriber, request: Plexus_Graph_V1_AddSubscriberRequest) async throws {
        var r = request
        r.processId = processId
        let id = try await graph.addSubscriber(r).subscriberId
        delivery.add(id, core)
        state.withLock { $0.subscribers[ObjectIdentifier(core)] = SubscriberEntry(core: core, request: request, serverId: id) }
        reapplyRoutes()
    }

    func removeSubscriber(_ key: ObjectIdentifier) async {
        guard let entry = state.withLock({ $0.subscribers.removeValue(forKey: key) }) else { return }
        _ = delivery.remove(entry.serverId)
        var r = Plexus_Graph_V1_RemoveClientRequest()
        r.processId = processId
        r.id = entry.serverId
        _ = try? await graph.removeClient(r)
    }

    /// Applies the last known routes again (after a local subscriber appeared).
    func reapplyRoutes() {
        let all = state.withLock { s in s.routed.compactMap { id, core in s.lastRoutes[id].map { (id, core, $0) } } }
        for (id, core, routes) in all { core.apply(routes: routes, publisherId: id, resolver: self) }
    }

    func routesArrived(_ update: Plexus_Graph_V1_RouteUpdate) {
        let core = state.withLock { s -> (any RoutedPublisher)? in
            s.lastRoutes[update.publisherId] = update.routes
            return s.routed[update.publisherId]
        }
        core?.apply(routes: update.routes, publisherId: update.publisherId, resolver: self)
    }

    /// Connects two topics: messages published on `from` also reach subscribers of `to`. The
    /// edge belongs to this process and goes away with it.
    public func connect(_ from: String, to: String) async throws {
        var r = Plexus_Graph_V1_ConnectRequest()
        r.fromTopic = from
        r.toTopic = to
        r.processId = processId
        _ = try await graph.connect(r)
        state.withLock { $0.edges.append(r) }
    }

    /// Ends the session: everything this process held is released by the graph server, and
    /// ``eventLoop`` stops (tasks still preferring it do not run again).
    public func close() async {
        let (task, channels, publishers, subscribers) = state.withLock { s in
            s.closed = true
            return (sessionTask.withLock { $0 }, Array(s.channels.values), s.publishers.values.map(\.core), s.subscribers.values.map(\.core))
        }
        task?.cancel()
        _ = await task?.value
        for p in publishers { p.closeAll() }
        for s in subscribers { s.close() }
        for c in channels { await c.close() }
        await channel.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
        let loop = eventLoop
        if loop.inEventLoop {
            // Called from a task running on the loop: it cannot wait for itself to stop.
            Thread.detachNewThread { loop.shutdownGracefully() }
        } else {
            await loop.shutdown()
        }
    }
}
