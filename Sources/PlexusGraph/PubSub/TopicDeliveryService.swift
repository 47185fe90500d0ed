import PlexusLoop
import Plexus
import PlexusProto
import Synchronization

/// `plexus.graph.v1.TopicDelivery`, hosted by every process with subscribers: takes batches from
/// remote publishers and hands them to the named subscription.
final class TopicDeliveryService: PlexusService {
    static var serviceDescriptor: ServiceDescriptor { Plexus_Graph_V1_TopicDelivery.descriptor }

    /// `Deliver` takes batches as raw bytes (`EncodedBatch`): the same wire as TopicBatch.
    func registerMethods(with router: inout MethodRouter) {
        router.registerClientStreaming(Plexus_Graph_V1_TopicDelivery.Method.deliver, request: EncodedBatch.self,
                                       response: Plexus_Graph_V1_DeliverSummary.self) { requests, context in
            try await self.deliver(requests: requests, context: context)
        }
    }

    private let subscribers = Locked<[UInt64: any InboundSubscriber]>([:])

    func add(_ id: UInt64, _ subscriber: any InboundSubscriber) {
        subscribers.withLock { $0[id] = subscriber }
    }

    func remove(_ id: UInt64) -> (any InboundSubscriber)? {
        subscribers.withLock { $0.removeValue(forKey: id) }
    }

    func subscriber(_ id: UInt64) -> (any InboundSubscriber)? {
        subscribers.withLock { $0[id] }
    }

    func removeAll() -> [any InboundSubscriber] {
        subscribers.withLock { s in
            defer { s.removeAll() }
            return Array(s.values)
        }
    }

    func deliver(requests: RequestStream<EncodedBatch>, context: ServerContext) async throws -> Plexus_Graph_V1_DeliverSummary {
        guard let text = context.requestMetadata["plexus-subscriber-id"], let id = UInt64(text) else {
            throw RPCError(code: .invalidArgument, message: "Deliver needs the plexus-subscriber-id header (decimal subscriber id)")
        }
        // The graph may route a publisher here a moment before AddSubscriber has returned to
        // this process: wait briefly for an id that is not known yet.
        var found = subscriber(id)
        for _ in 0..<100 where found == nil {
            try await Task.sleep(for: .milliseconds(10))
            found = subscriber(id)
        }
        guard let subscriber = found else {
            throw RPCError(code: .notFound, message: "no subscriber \(id) in this process (it left)")
        }
        if let topic = context.requestMetadata["plexus-topic"], topic != subscriber.topic {
            throw RPCError(code: .failedPrecondition, message: "subscriber \(id) is on topic '\(subscriber.topic)', not '\(topic)'")
        }
        if let type = context.requestMetadata["plexus-type-name"], type != subscriber.typeName {
            throw RPCError(code: .failedPrecondition, message: "subscriber \(id) takes \(subscriber.typeName), not \(type)")
        }
        var summary = Plexus_Graph_V1_DeliverSummary()
        for try await batch in requests {
            guard let count = try await subscriber.deliver(batch) else {
                throw RPCError(code: .cancelled, message: "subscriber \(id) left")
            }
            summary.messages += UInt64(count)
        }
        return summary
    }
}
