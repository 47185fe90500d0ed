import PlexusLoop
import Foundation
import Plexus
import PlexusCodec
import PlexusProto
import Synchronization

/// Where a publisher's messages go: the graph server's route set, resolved to local
/// subscriptions (no serialization) and remote links.
protocol RoutedPublisher: AnyObject, Sendable {
    func apply(routes: [Plexus_Graph_V1_SubscriberRoute], publisherId: UInt64, resolver: RouteResolver)
    func closeAll()
}

/// Turns routes into local subscriber cores or channels (implemented by GraphClient).
protocol RouteResolver: Sendable {
    var processId: String { get }
    func localSubscriber(_ id: UInt64) -> (any InboundSubscriber)?
    func channel(to address: String) -> PlexusChannel?
}

/// Publishes messages of type `T` on a topic. Messages go straight to each subscriber: in this
/// process without serialization, to other processes over one request-plane stream each.
///
/// ```swift
/// let raw = try await graph.publisher(topic: "sensor/raw", type: Sample.self)
/// try await raw.publish(sample)
/// ```
public final class Publisher<T: ProtoMessage>: RoutedPublisher {
    @usableFromInline
    enum Link: Sendable {
        case local(SubscriberCore<T>)
        case remote(RemoteLink)
    }

    public let topic: String
    private let links = Locked<[UInt64: Link]>([:])
    @usableFromInline let snapshot = Locked<[Link]>([])
    @usableFromInline let sequence = Atomic<UInt64>(0)
    @usableFromInline let backpressureNanos = Atomic<UInt64>(0)
    let onClose: @Sendable (ObjectIdentifier) async -> Void
    @usableFromInline let profile: TopicProbe

    init(topic: String, onClose: @escaping @Sendable (ObjectIdentifier) async -> Void) {
        self.topic = topic
        profile = Profiler.shared.topic(topic)
        self.onClose = onClose
    }

    /// Subscribers currently routed to (local and remote).
    public var subscriberCount: Int { snapshot.withLock { $0.count } }

    /// Total time `publish` waited for full blocking subscribers, in nanoseconds.
    public var backpressureWaitNanos: UInt64 { backpressureNanos.load(ordering: .relaxed) }

    /// Sends `message` to every current subscriber. With a blocking subscriber whose queue is
    /// full it waits; a drop-oldest subscriber drops its oldest message instead. Throws only
    /// for a message over the data plane's size limit (64 MiB), which no remote subscriber gets.
    @inlinable @inline(__always)
    public func publish(_ message: T) async throws {
        // Synchronous unless a blocking subscriber is full: no async frame per message.
        if let pending = try offer(message) { await waitForRoom(message, pending) }
    }

    /// What `publish` still has to hand over once full blocking subscribers have room.
    @usableFromInline
    struct Pending {
        @usableFromInline var links: [Link]
        @usableFromInline var encoded: Plexus_Graph_V1_TopicMessage?
        @usableFromInline var sequence: UInt64
        @usableFromInline var publishNanos: UInt64

        @inlinable
        init(links: [Link], encoded: Plexus_Graph_V1_TopicMessage?, sequence: UInt64, publishNanos: UInt64) {
            self.links = links
            self.encoded = encoded
            self.sequence = sequence
            self.publishNanos = publishNanos
        }
    }

    /// Queues `message` for every subscriber with room; returns the full blocking ones.
    @inlinable
    func offer(_ message: T) throws -> Pending? {
        let links = snapshot.withLock { $0 }
        if links.isEmpty { return nil }
        let seq = sequence.add(1, ordering: .relaxed).newValue
        let now = TopicStatsProbe.nowUnixNanos()
        var encoded: Plexus_Graph_V1_TopicMessage?
        var full: [Link] = []
        for link in links {
            switch link {
            case .local(let core):
                switch core.queue.offer(Delivered(value: message, publishNanos: now)) {
                case .queued, .closed: break
                case .dropped:
                    core.probe.dropped(1)
                    profile.dropped(1)
                case .full: full.append(link)
                }
            case .remote(let remote):
                if encoded == nil {
                    var m = Plexus_Graph_V1_TopicMessage()
                    m.sequence = seq
                    m.publishUnixNanos = now
                    m.payload = message.serializedBytes()
                    if m.payload.count > RemoteLink.maxMessageSize - 64 {
                        throw GraphError.messageTooLarge(topic: topic, size: m.payload.count, limit: RemoteLink.maxMessageSize - 64)
                    }
                    encoded = m
                }
                guard let m = encoded else { continue }
                switch remote.offer(m) {
                case .queued: break
                case .dropped: profile.dropped(1)
                case .full: full.append(link)
                case .closed: revive(remote)
                }
            }
        }
        if full.isEmpty {
            profile.published(bytes: encoded?.payload.count ?? 0, sequence: seq, backpressureWaitNanos: 0)
            return nil
        }
        return Pending(links: full, encoded: encoded, sequence: seq, publishNanos: now)
    }

    /// The slow path: waits for room at each full blocking subscriber, counting the wait as
    /// backpressure.
    @inlinable
    func waitForRoom(_ message: T, _ pending: Pending) async {
        let start = ContinuousClock.now
        for link in pending.links {
            switch link {
            case .local(let core):
                _ = await core.queue.push(Delivered(value: message, publishNanos: pending.publishNanos))
            case .remote(let remote):
                if let m = pending.encoded { _ = await remote.queue.push(m) }
            }
        }
        let (s, a) = (ContinuousClock.now - start).components
        let waitedNanos = UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000)
        backpressureNanos.add(waitedNanos, ordering: .relaxed)
        profile.published(bytes: pending.encoded?.payload.count ?? 0, sequence: pending.sequence, backpressureWaitNanos: waitedNanos)
    }

    /// Publishes a run of messages: the same as publishing them one by one, in order, but each
    /// subscriber's queue is taken once for the run, and messages are encoded once for all
    /// remote subscribers. Use it when messages arrive in bursts.
    public func publish(contentsOf messages: some Collection<T>) async throws {
        let links = snapshot.withLock { $0 }
        if links.isEmpty || messages.isEmpty { return }
        let first = sequence.add(UInt64(messages.count), ordering: .relaxed).newValue - UInt64(messages.count) + 1
        let now = TopicStatsProbe.nowUnixNanos()
        var encoded: [Plexus_Graph_V1_TopicMessage]?
        var bytes = 0
        var waitStart: ContinuousClock.Instant?
        for link in links {
            switch link {
            case .local(let core):
                let items = messages.map { Delivered(value: $0, publishNanos: now) }
                let (taken, dropped) = core.queue.offerAll(items)
                if dropped > 0 {
                    core.probe.dropped(UInt64(dropped))
                    profile.dropped(UInt64(dropped))
                }
                if taken >= 0 && taken < items.count {
                    waitStart = waitStart ?? .now
                    for item in items.dropFirst(taken) where !(await core.queue.push(item).accepted) { break }
                }
            case .remote(let remote):
                if encoded == nil {
                    var all: [Plexus_Graph_V1_TopicMessage] = []
                    all.reserveCapacity(messages.count)
                    for (i, message) in messages.enumerated() {
                        var m = Plexus_Graph_V1_TopicMessage()
                        m.sequence = first + UInt64(i)
                        m.publishUnixNanos = now
                        m.payload = message.serializedBytes()
                        if m.payload.count > RemoteLink.maxMessageSize - 64 {
                            throw GraphError.messageTooLarge(topic: topic, size: m.payload.count, limit: RemoteLink.maxMessageSize - 64)
                        }
                        bytes += m.payload.count
                        all.append(m)
                    }
                    encoded = all
                }
                guard let all = encoded else { continue }
                if remote.isClosed {
                    revive(remote)
                    continue
                }
                let (taken, dropped) = remote.queue.offerAll(all)
                if dropped > 0 { profile.dropped(UInt64(dropped)) }
                if taken >= 0 && taken < all.count {
                    waitStart = waitStart ?? .now
                    for m in all.dropFirst(taken) where !(await remote.queue.push(m).accepted) { break }
                }
            }
        }
        var waitedNanos: UInt64 = 0
        if let waitStart {
            let (s, a) = (ContinuousClock.now - waitStart).components
            waitedNanos = UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000)
            backpressureNanos.add(waitedNanos, ordering: .relaxed)
        }
        profile.published(count: messages.count, bytes: bytes, sequence: first, backpressureWaitNanos: waitedNanos)
    }

    /// A remote link that died (subscriber restarting, network): reconnect after a pause unless
    /// the graph has dropped the subscriber by then.
    @usableFromInline
    func revive(_ dead: RemoteLink) {
        guard ContinuousClock.now - dead.created > .milliseconds(200), let (resolver, publisherId) = lastResolver.withLock({ $0 }) else { return }
        let replacement: RemoteLink? = links.withLock { current in
            guard case .remote(let r)? = current[dead.route.subscriberId], r === dead,
                  let channel = resolver.channel(to: dead.route.address) else { return nil }
            let link = RemoteLink(route: dead.route, publisherId: publisherId, typeName: T.protoMessageName, channel: channel)
            current[dead.route.subscriberId] = .remote(link)
            let all = Array(current.values)
            snapshot.withLock { $0 = all }
            return link
        }
        _ = replacement
    }

    private let lastResolver = Locked<(RouteResolver, UInt64)?>(nil)

    func apply(routes: [Plexus_Graph_V1_SubscriberRoute], publisherId: UInt64, resolver: RouteResolver) {
        lastResolver.withLock { $0 = (resolver, publisherId) }
        var closed: [Link] = []
        links.withLock { current in
            let wanted = Set(routes.map(\.subscriberId))
            for (id, link) in current where !wanted.contains(id) {
                closed.append(link)
                current[id] = nil
            }
            for route in routes {
                if let existing = current[route.subscriberId] {
                    if case .remote(let r) = existing, r.isClosed {
                        current[route.subscriberId] = nil
                    } else {
                        continue
                    }
                }
                if route.processId == resolver.processId, let local = resolver.localSubscriber(route.subscriberId) as? SubscriberCore<T> {
                    current[route.subscriberId] = .local(local)
                } else if let channel = resolver.channel(to: route.address) {
                    current[route.subscriberId] = .remote(RemoteLink(route: route, publisherId: publisherId,
                                                                     typeName: T.protoMessageName, channel: channel))
                }
            }
            let all = Array(current.values)
            snapshot.withLock { $0 = all }
        }
        for case .remote(let r) in closed { r.close() }
    }

    func closeAll() {
        let all = links.withLock { l -> [Link] in
            defer { l.removeAll() }
            return Array(l.values)
        }
        snapshot.withLock { $0 = [] }
        // The resolver is the GraphClient, which holds this publisher: let go of it.
        lastResolver.withLock { $0 = nil }
        for case .remote(let r) in all { r.close() }
    }

    /// Stops publishing: the graph server forgets the publisher, streams to subscribers end.
    public func close() async {
        closeAll()
        await onClose(ObjectIdentifier(self))
    }
}
