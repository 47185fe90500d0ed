import PlexusLoop
import Foundation
import Synchronization
import Plexus
import PlexusProto

/// Delivery from one publisher to one subscriber in another process: a bounded queue drained by
/// one client stream (`TopicDelivery/Deliver`) that sends whatever is queued as one batch.
@usableFromInline
final class RemoteLink: Sendable {
    /// Largest message a link carries (the data plane's request-plane message limit).
    @usableFromInline static let maxMessageSize = 64 << 20
    /// Request-plane credit a subscriber's process grants each delivery stream. Larger than the
    /// request plane's 1 MiB default so that batches of up to 1 MiB keep flowing while the
    /// subscriber decodes the previous ones (with 1 MiB, a 1 MiB batch would wait for a window
    /// update round trip every time); it also bounds what one publisher can have in flight
    /// towards a subscriber that stopped reading.
    static let deliveryWindow = 8 << 20
    @usableFromInline let route: Plexus_Graph_V1_SubscriberRoute
    let created = ContinuousClock.now
    @usableFromInline let queue: DeliveryQueue<Plexus_Graph_V1_TopicMessage>
    private let task: Locked<Task<Void, Never>?> = Locked(nil)
    /// The loop the stream runs on, and its writer once open (set and used on that loop).
    @usableFromInline let eventLoop: EventLoop
    @usableFromInline let writer = Locked<RequestWriter<EncodedBatch>?>(nil)
    /// Messages written by ``sendNowIfIdle(_:)`` (for tests and profiling).
    let directWrites = Atomic<UInt64>(0)

    init(route: Plexus_Graph_V1_SubscriberRoute, publisherId: UInt64, typeName: String, channel: PlexusChannel) {
        self.route = route
        queue = DeliveryQueue(capacity: Int(max(1, route.maxInFlight)), policy: BackpressurePolicy(route.policy))
        var options = CallOptions()
        options.metadata.add("plexus-subscriber-id", String(route.subscriberId))
        options.metadata.add("plexus-topic", route.topic)
        options.metadata.add("plexus-type-name", typeName)
        options.metadata.add("plexus-publisher-id", String(publisherId))
        let queue = self.queue
        eventLoop = channel.eventLoop
        let writerSlot = writer
        // On the channel's loop: writes with credit go out without a thread hop.
        let t = Task(executorPreference: channel.eventLoop) {
            do {
                _ = try await channel.clientStreaming(Plexus_Graph_V1_TopicDelivery.Method.deliver, requestType: EncodedBatch.self,
                                                      responseType: Plexus_Graph_V1_DeliverSummary.self, options: options) { writer in
                    writerSlot.withLock { $0 = writer }
                    defer { writerSlot.withLock { $0 = nil } }
                    while true {
                        // Batches stay well under the message-size limit: at most 1,024 messages
                        // or 1 MiB (a larger single message goes alone).
                        let (items, dropped) = await queue.takeAll(max: 1024, budget: 1 << 20) { $0.payload.count + 16 }
                        if items.isEmpty { return }
                        try await writer.write(EncodedBatch(messages: items, dropped: dropped))
                    }
                }
            } catch {
                // The subscriber is gone or refused: this link is dead; others are unaffected.
            }
            queue.close()
        }
        task.withLock { $0 = t }
    }

    @usableFromInline var isClosed: Bool { queue.isClosed }

    /// Hands `message` to the link: written at once when possible (``sendNowIfIdle(_:)``),
    /// else queued under the subscription's policy. `.closed` means the link died (revive it).
    /// Not inlined: it keeps the generic `publish` small.
    @usableFromInline
    func offer(_ message: Plexus_Graph_V1_TopicMessage) -> DeliveryQueue<Plexus_Graph_V1_TopicMessage>.Offer {
        if queue.isClosed { return .closed }
        if sendNowIfIdle(message) { return .queued }
        let result = queue.offer(message)
        // Closed between the two checks: dropped with the link, as before; report it queued.
        return result == .closed ? .queued : result
    }

    /// Publishing on the link's own loop while the link is idle (its task parked on an empty
    /// queue, the stream open with credit): writes the message into the stream at once, saving
    /// the hop to the link task. False when it did not (then queue it as usual).
    @usableFromInline
    func sendNowIfIdle(_ message: Plexus_Graph_V1_TopicMessage) -> Bool {
        guard eventLoop.inEventLoop, let writer = writer.withLock({ $0 }) else { return false }
        let sent = queue.bypassIfIdle(message) { m, dropped in
            (try? writer.tryWrite(EncodedBatch(messages: CollectionOfOne(m), dropped: dropped))) ?? false
        }
        if sent { directWrites.add(1, ordering: .relaxed) }
        return sent
    }

    func close() {
        queue.close()
    }

    func cancel() {
        queue.close()
        task.withLock { $0?.cancel() }
    }
}
