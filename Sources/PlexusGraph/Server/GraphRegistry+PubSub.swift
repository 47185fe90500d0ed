import Foundation
import Plexus
import PlexusProto

extension GraphRegistry {
    static let defaultMaxInFlight: UInt32 = 64

    func addPublisher(_ r: Plexus_Graph_V1_AddPublisherRequest) throws(RPCError) -> UInt64 {
        try checkClient(processId: r.processId, topic: r.topic, typeName: r.typeName)
        let id = nextClientId
        nextClientId += 1
        publishers[id] = ClientRecord(processId: r.processId, topic: r.topic, unit: r.unit, maxInFlight: 0, policy: .block)
        topics[r.topic, default: TopicRecord(typeName: r.typeName)].publishers.insert(id)
        emitTopology(.publisherAdded(topicDescription(r.topic, publisher: id)))
        pushRoutes(for: id, force: true)
        return id
    }

    func addSubscriber(_ r: Plexus_Graph_V1_AddSubscriberRequest) throws(RPCError) -> UInt64 {
        try checkClient(processId: r.processId, topic: r.topic, typeName: r.typeName)
        guard let process = processes[r.processId], !process.info.address.isEmpty else {
            throw RPCError(code: .failedPrecondition, message: "a subscriber's process must register its request-plane address (ProcessInfo.address) so publishers can reach it")
        }
        let id = nextClientId
        nextClientId += 1
        let policy: Plexus_Graph_V1_BackpressurePolicy = r.policy == .dropOldest ? .dropOldest : .block
        subscribers[id] = ClientRecord(processId: r.processId, topic: r.topic, unit: r.unit,
                                       maxInFlight: r.maxInFlight == 0 ? Self.defaultMaxInFlight : r.maxInFlight, policy: policy)
        topics[r.topic, default: TopicRecord(typeName: r.typeName)].subscribers.insert(id)
        emitTopology(.subscriberAdded(topicDescription(r.topic, subscriber: id)))
        refreshRoutes(affecting: r.topic)
        return id
    }

    func checkClient(processId: String, topic: String, typeName: String) throws(RPCError) {
        guard processes[processId] != nil else { throw unknownProcess(processId) }
        guard !topic.isEmpty else { throw RPCError(code: .invalidArgument, message: "the topic name is empty") }
        guard !typeName.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "topic '\(topic)': type_name is empty (give the full protobuf message name)")
        }
        if let t = topicType(topic), t != typeName {
            throw RPCError(code: .failedPrecondition, message: "topic '\(topic)' carries \(t), not \(typeName)")
        }
    }

    /// The topic's message type: from its publishers/subscribers, or a connected topic.
    func topicType(_ topic: String) -> String? {
        if let t = topics[topic], !t.typeName.isEmpty { return t.typeName }
        return nil
    }

    func removeClient(_ r: Plexus_Graph_V1_RemoveClientRequest) throws(RPCError) {
        let owner = publishers[r.id]?.processId ?? subscribers[r.id]?.processId
        guard owner == r.processId else {
            throw RPCError(code: .notFound, message: "process \(r.processId) has no publisher or subscriber \(r.id)")
        }
        removePubSub(r.id)
    }

    func removePubSub(_ id: UInt64) {
        if let p = publishers.removeValue(forKey: id) {
            let description = topicDescriptionForRemoved(p.topic, publisher: id, record: p)
            topics[p.topic]?.publishers.remove(id)
            lastRoutes[id] = nil
            dropTopicIfUnused(p.topic)
            emitTopology(.publisherRemoved(description))
        } else if let s = subscribers.removeValue(forKey: id) {
            var description = Plexus_Graph_V1_TopicDescription()
            description.name = s.topic
            description.typeName = topics[s.topic]?.typeName ?? ""
            var d = Plexus_Graph_V1_SubscriberDescription()
            d.subscriberId = id
            d.processId = s.processId
            d.unit = s.unit
            description.subscribers = [d]
            topics[s.topic]?.subscribers.remove(id)
            refreshRoutes(affecting: s.topic)
            dropTopicIfUnused(s.topic)
            emitTopology(.subscriberRemoved(description))
        }
    }

    func topicDescriptionForRemoved(_ topic: String, publisher id: UInt64, record: ClientRecord) -> Plexus_Graph_V1_TopicDescription {
        var t = Plexus_Graph_V1_TopicDescription()
        t.name = topic
        t.typeName = topics[topic]?.typeName ?? ""
        var d = Plexus_Graph_V1_PublisherDescription()
        d.publisherId = id
        d.processId = record.processId
        d.unit = record.unit
        t.publishers = [d]
        return t
    }

    func dropTopicIfUnused(_ topic: String) {
        guard let t = topics[topic], t.publishers.isEmpty, t.subscribers.isEmpty else { return }
        let hasEdges = !(edges[topic] ?? []).isEmpty || edges.values.contains { $0.contains(topic) }
        if !hasEdges { topics[topic] = nil }
    }

    // MARK: Edges

    func connect(_ r: Plexus_Graph_V1_ConnectRequest) throws(RPCError) {
        guard !r.fromTopic.isEmpty, !r.toTopic.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "Connect needs from_topic and to_topic")
        }
        guard r.fromTopic != r.toTopic else {
            throw RPCError(code: .invalidArgument, message: "cannot connect topic '\(r.fromTopic)' to itself")
        }
        if let a = topicType(r.fromTopic), let b = topicType(r.toTopic), a != b {
            throw RPCError(code: .failedPrecondition, message: "cannot connect '\(r.fromTopic)' (\(a)) to '\(r.toTopic)' (\(b)): the message types differ")
        }
        if edges[r.fromTopic]?.contains(r.toTopic) == true { return }
        if reachable(from: r.toTopic).contains(r.fromTopic) {
            throw RPCError(code: .failedPrecondition, message: "connecting '\(r.fromTopic)' → '\(r.toTopic)' would make a cycle; topics form a DAG")
        }
        if !r.processId.isEmpty && processes[r.processId] == nil { throw unknownProcess(r.processId) }
        // Both topics take the known type.
        let type = topicType(r.fromTopic) ?? topicType(r.toTopic) ?? ""
        topics[r.fromTopic, default: TopicRecord(typeName: type)].typeName = type
        topics[r.toTopic, default: TopicRecord(typeName: type)].typeName = type
        edges[r.fromTopic, default: []].insert(r.toTopic)
        if !r.processId.isEmpty { edgeOwner[r.fromTopic + "\u{0}" + r.toTopic] = r.processId }
        var e = Plexus_Graph_V1_Edge()
        e.fromTopic = r.fromTopic
        e.toTopic = r.toTopic
        emitTopology(.edgeConnected(e))
        refreshRoutes(affecting: r.toTopic)
    }

    func disconnect(_ r: Plexus_Graph_V1_DisconnectRequest) throws(RPCError) {
        guard edges[r.fromTopic]?.contains(r.toTopic) == true else {
            throw RPCError(code: .notFound, message: "there is no edge '\(r.fromTopic)' → '\(r.toTopic)'")
        }
        disconnectEdge(r.fromTopic, r.toTopic)
    }

    func disconnectEdge(_ from: String, _ to: String) {
        guard edges[from]?.remove(to) != nil else { return }
        if edges[from]?.isEmpty == true { edges[from] = nil }
        edgeOwner[from + "\u{0}" + to] = nil
        var e = Plexus_Graph_V1_Edge()
        e.fromTopic = from
        e.toTopic = to
        emitTopology(.edgeDisconnected(e))
        // Publishers upstream of `from` may have lost subscribers downstream of `to`.
        refreshRoutes(affecting: from)
        dropTopicIfUnused(from)
        dropTopicIfUnused(to)
    }

    /// Topics reachable from `topic` through edges, itself included.
    func reachable(from topic: String) -> Set<String> {
        var seen: Set<String> = [topic]
        var stack = [topic]
        while let t = stack.popLast() {
            for next in edges[t] ?? [] where seen.insert(next).inserted { stack.append(next) }
        }
        return seen
    }

    /// Topics from which `topic` is reachable, itself included.
    func upstream(of topic: String) -> Set<String> {
        var reverse: [String: [String]] = [:]
        for (from, tos) in edges { for to in tos { reverse[to, default: []].append(from) } }
        var seen: Set<String> = [topic]
        var stack = [topic]
        while let t = stack.popLast() {
            for prev in reverse[t] ?? [] where seen.insert(prev).inserted { stack.append(prev) }
        }
        return seen
    }

    // MARK: Routes

    func routes(for publisherId: UInt64) -> [Plexus_Graph_V1_SubscriberRoute] {
        guard let p = publishers[publisherId] else { return [] }
        var result: [Plexus_Graph_V1_SubscriberRoute] = []
        for topic in reachable(from: p.topic).sorted() {
            for id in (topics[topic]?.subscribers ?? []).sorted() {
                guard let s = subscribers[id], let process = processes[s.processId] else { continue }
                var r = Plexus_Graph_V1_SubscriberRoute()
                r.subscriberId = id
                r.processId = s.processId
                r.address = process.info.address
                r.topic = s.topic
                r.maxInFlight = s.maxInFlight
                r.policy = s.policy
                result.append(r)
            }
        }
        return result
    }

    /// Sends the publisher its subscriber set when it changed (or always, with `force`).
    func pushRoutes(for publisherId: UInt64, force: Bool = false) {
        guard let p = publishers[publisherId], let process = processes[p.processId] else { return }
        let routes = routes(for: publisherId)
        if !force && lastRoutes[publisherId] == routes { return }
        lastRoutes[publisherId] = routes
        var update = Plexus_Graph_V1_RouteUpdate()
        update.publisherId = publisherId
        update.routes = routes
        var event = Plexus_Graph_V1_SessionEvent()
        event.kind = .routes(update)
        process.outbox.push(event, force: true)
    }

    func refreshRoutes(affecting topic: String) {
        for t in upstream(of: topic) {
            for id in topics[t]?.publishers ?? [] { pushRoutes(for: id) }
        }
    }
}
