import DequeModule
import Plexus
import PlexusCodec
import PlexusProto
import Synchronization

/// A message with the publisher's clock at publish time.
@usableFromInline
struct Delivered<T: Sendable>: Sendable {
    @usableFromInline var value: T
    @usableFromInline var publishNanos: UInt64
    /// Encoded size when it came over the wire; 0 on the local path.
    @usableFromInline var bytes: Int = 0

    @inlinable
    init(value: T, publishNanos: UInt64, bytes: Int = 0) {
        self.value = value
        self.publishNanos = publishNanos
        self.bytes = bytes
    }
}

/// The receiving end of a subscription, shared by the local fast path and remote delivery.
protocol InboundSubscriber: AnyObject, Sendable {
    var topic: String { get }
    /// Full protobuf name of the messages it takes.
    var typeName: String { get }
    /// Decodes and queues a batch from a remote publisher: how many messages it held, or nil
    /// when the subscription is gone.
    func deliver(_ batch: EncodedBatch) async throws -> Int?
    func close()
}

@usableFromInline
final class SubscriberCore<T: ProtoMessage>: InboundSubscriber {
    @usableFromInline let topic: String
    var typeName: String { T.protoMessageName }
    @usableFromInline let queue: DeliveryQueue<Delivered<T>>
    @usableFromInline let probe: TopicStatsProbe
    @usableFromInline let profile: TopicProbe
    /// `deliverBatch`, specialized for `T` where the subscription was made (see
    /// `GraphClient.subscribe`): the receive path then runs without generic metadata lookups.
    @usableFromInline let deliverer: @Sendable (SubscriberCore<T>, EncodedBatch) async throws -> Int?

    @usableFromInline
    init(topic: String, capacity: Int, policy: BackpressurePolicy,
         deliverer: @escaping @Sendable (SubscriberCore<T>, EncodedBatch) async throws -> Int?) {
        self.topic = topic
        queue = DeliveryQueue(capacity: capacity, policy: policy)
        probe = TopicStatsProbe(topic: topic)
        profile = Profiler.shared.topic(topic)
        self.deliverer = deliverer
    }

    func deliver(_ batch: EncodedBatch) async throws -> Int? {
        try await deliverer(self, batch)
    }

    /// Decodes every message straight from the batch bytes, then queues them in order.
    @inlinable
    func deliverBatch(_ batch: EncodedBatch) async throws -> Int? {
        var decoded: [Delivered<T>] = []
        let topic = self.topic
        let dropped: UInt64
        do {
            dropped = try batch.forEachMessage { nanos, payload in
                do {
                    decoded.append(Delivered(value: try T(serializedBytes: payload), publishNanos: nanos, bytes: payload.count))
                } catch {
                    throw Self.undecodable(topic: topic, type: T.protoMessageName, error: "\(error)")
                }
            }
        } catch let e as CodecError {
            throw Self.undecodable(topic: topic, type: EncodedBatch.protoMessageName, error: "\(e)")
        }
        if dropped > 0 {
            probe.dropped(dropped)
            profile.dropped(dropped)
        }
        // One lock for the batch; under `.block` what does not fit waits for room.
        let (taken, overflow) = queue.offerAll(decoded)
        if taken < 0 { return nil }
        if overflow > 0 {
            probe.dropped(UInt64(overflow))
            profile.dropped(UInt64(overflow))
        }
        for item in decoded.dropFirst(taken) where !(await queue.push(item).accepted) { return nil }
        return decoded.count
    }

    func close() { queue.close() }

    /// The error a delivery stream fails with when a payload does not decode: only that stream
    /// (one publisher's link) fails; the subscription and other publishers go on.
    @usableFromInline
    static func undecodable(topic: String, type: String, error: String) -> RPCError {
        RPCError(code: .invalidArgument,
                 message: "topic '\(topic)': a message does not decode as \(type) (\(error)); the publisher sent another type or corrupt bytes")
    }
}

/// Messages published on a topic (and on topics connected upstream of it), in publish order per
/// publisher. Iterate it; cancel it to leave the topic.
///
/// ```swift
/// let samples = try await graph.subscribe(topic: "sensor/raw", type: Sample.self)
/// for try await sample in samples { ... }
/// ```
public final class Subscription<T: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = T
    public let topic: String
    @usableFromInline let core: SubscriberCore<T>
    let onCancel: @Sendable () async -> Void

    @usableFromInline
    init(core: SubscriberCore<T>, onCancel: @escaping @Sendable () async -> Void) {
        self.topic = core.topic
        self.core = core
        self.onCancel = onCancel
    }

    /// Messages dropped for this subscription (drop-oldest policy, here or at the publisher).
    public var droppedCount: UInt64 { core.probe.droppedCount }

    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let core: SubscriberCore<T>
        @usableFromInline var buffer = Deque<Delivered<T>>()

        @usableFromInline
        init(core: SubscriberCore<T>) {
            self.core = core
        }

        @inlinable
        public mutating func next() async throws -> T? {
            if buffer.isEmpty {
                // The queue hands over its storage: no copy of the batch.
                buffer = await core.queue.takeAll().items
                if buffer.isEmpty { return nil }
                record(buffer)
            }
            return buffer.removeFirst().value
        }

        /// Publish → receive delays of a batch, recorded with one lock.
        @inlinable
        func record(_ items: Deque<Delivered<T>>) {
            let now = TopicStatsProbe.nowUnixNanos()
            var bytes = 0
            var delays = [UInt64](repeating: 0, count: items.count)
            for (i, item) in items.enumerated() {
                delays[i] = now > item.publishNanos ? now - item.publishNanos : 0
                bytes += item.bytes
            }
            delays.withUnsafeBufferPointer { core.profile.received(delays: $0, bytes: bytes) }
        }
    }

    @inlinable
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(core: core) }

    /// Leaves the topic: the graph server drops the subscriber and iteration ends.
    public func cancel() async {
        core.close()
        await onCancel()
    }
}
