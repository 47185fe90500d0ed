import PlexusLoop
import DequeModule
import Synchronization

/// How a full subscription queue treats a new message.
public enum BackpressurePolicy: Sendable, Hashable {
    /// `publish` waits until the subscriber has room.
    case block
    /// The oldest queued message is dropped (and counted) to make room.
    case dropOldest

    var proto: Plexus_Graph_V1_BackpressurePolicy { self == .block ? .block : .dropOldest }
    init(_ proto: Plexus_Graph_V1_BackpressurePolicy) { self = proto == .dropOldest ? .dropOldest : .block }
}

import PlexusProto

/// A bounded single-consumer queue between publishers and one subscriber (or one remote link),
/// applying the subscription's backpressure policy. The consumer takes everything queued at once.
@usableFromInline
final class DeliveryQueue<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var items = Deque<Element>()
        @usableFromInline var dropped: UInt64 = 0
        @usableFromInline var consumer: CheckedContinuation<Void, Never>?
        @usableFromInline var producers: [CheckedContinuation<Bool, Never>] = []
        @usableFromInline var closed = false
        @usableFromInline init() {}
    }
    @usableFromInline let state = Locked(State())
    @usableFromInline let capacity: Int
    @usableFromInline let policy: BackpressurePolicy

    init(capacity: Int, policy: BackpressurePolicy) {
        self.capacity = max(1, capacity)
        self.policy = policy
    }

    @usableFromInline
    enum Offer { case queued, dropped, full, closed }

    /// Queues without waiting: with `.block` a full queue answers `.full` (then call `push`).
    @inlinable
    func offer(_ item: Element) -> Offer {
        let (result, consumer): (Offer, CheckedContinuation<Void, Never>?) = state.withLock { s in
            if s.closed { return (.closed, nil) }
            var result = Offer.queued
            if s.items.count >= capacity {
                if policy == .block { return (.full, nil) }
                s.items.removeFirst()
                s.dropped &+= 1
                result = .dropped
            }
            s.items.append(item)
            let c = s.consumer
            s.consumer = nil
            return (result, c)
        }
        consumer?.resume()
        return result
    }

    /// When the consumer is parked on an empty queue, offers `item` to `bypass` under the
    /// queue's lock instead of queueing it (with the drop count not yet reported, which it
    /// takes when it returns true); false, and nothing done, otherwise. Holding the lock keeps
    /// order: an item another thread offers meanwhile is queued after this one.
    @inlinable
    func bypassIfIdle(_ item: Element, _ bypass: (Element, UInt64) -> Bool) -> Bool {
        state.withLock { s in
            guard s.consumer != nil, s.items.isEmpty, !s.closed else { return false }
            guard bypass(item, s.dropped) else { return false }
            s.dropped = 0
            return true
        }
    }

    /// Queues a run of items under one lock: all of them with `.dropOldest` (dropping the oldest
    /// beyond the capacity), as many as fit with `.block`. Returns how many were taken (-1 when
    /// closed) and how many old items were dropped.
    @inlinable
    func offerAll(_ items: some Collection<Element>) -> (taken: Int, dropped: Int) {
        let (result, consumer): ((Int, Int), CheckedContinuation<Void, Never>?) = state.withLock { s in
            if s.closed { return ((-1, 0), nil) }
            var taken = 0
            var dropped = 0
            if policy == .block {
                let room = max(0, capacity - s.items.count)
                taken = min(room, items.count)
                s.items.append(contentsOf: items.prefix(taken))
            } else {
                s.items.append(contentsOf: items)
                taken = items.count
                dropped = max(0, s.items.count - capacity)
                if dropped > 0 {
                    s.items.removeFirst(dropped)
                    s.dropped &+= UInt64(dropped)
                }
            }
            guard taken > 0 else { return ((0, 0), nil) }
            let c = s.consumer
            s.consumer = nil
            return ((taken, dropped), c)
        }
        consumer?.resume()
        return result
    }

    /// Queues, waiting for room under `.block`. Returns false when the queue is closed.
    /// `waited` reports whether it had to wait (backpressure).
    @usableFromInline
    func push(_ item: Element) async -> (accepted: Bool, waited: Bool) {
        var waited = false
        while true {
            switch offer(item) {
            case .queued, .dropped: return (true, waited)
            case .closed: return (false, waited)
            case .full:
                waited = true
                let open = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                    let resume: Bool? = state.withLock { s in
                        if s.closed { return false }
                        if s.items.count < capacity { return true }
                        s.producers.append(c)
                        return nil
                    }
                    if let resume { c.resume(returning: resume) }
                }
                if !open { return (false, waited) }
            }
        }
    }

    /// Everything queued (waits for at least one item); empty once closed and drained.
    /// `cost` and `budget` bound a batch (e.g. by bytes); the first item is always taken.
    @inlinable
    func takeAll(max limit: Int = .max, budget: Int = .max, cost: (Element) -> Int = { _ in 0 }) async -> (items: Deque<Element>, dropped: UInt64) {
        var spins = 0
        while true {
            let (taken, producers, done): (Deque<Element>, [CheckedContinuation<Bool, Never>], Bool) = state.withLock { s in
                if s.items.isEmpty { return ([], [], s.closed) }
                if budget == .max && s.items.count <= limit {
                    // Everything: take the storage itself, O(1) under the lock.
                    let all = s.items
                    s.items = Deque(minimumCapacity: Swift.min(all.count, 1024))
                    let p = s.producers
                    s.producers.removeAll()
                    return (all, p, false)
                }
                var n = min(limit, s.items.count)
                if budget != .max {
                    var spent = 0
                    for (i, item) in s.items.prefix(n).enumerated() {
                        spent += cost(item)
                        if spent > budget && i > 0 {
                            n = i
                            break
                        }
                    }
                }
                let taken = Deque(s.items.prefix(n))
                s.items.removeFirst(n)
                let p = s.producers
                s.producers.removeAll()
                return (taken, p, false)
            }
            for p in producers { p.resume(returning: true) }
            if !taken.isEmpty {
                let dropped = state.withLock { s in defer { s.dropped = 0 }; return s.dropped }
                return (taken, dropped)
            }
            if done { return ([], 0) }
            // Before parking (a thread wake-up per batch), let producers on other threads add
            // more: under load the consumer then takes large batches.
            if spins < 2 {
                spins += 1
                await Task.yield()
                continue
            }
            spins = 0
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if !s.items.isEmpty || s.closed { return true }
                    s.consumer = c
                    return false
                }
                if ready { c.resume() }
            }
        }
    }

    /// Stops accepting items; waiting producers and the consumer wake up.
    func close() {
        let (consumer, producers) = state.withLock { s in
            s.closed = true
            defer { s.consumer = nil; s.producers.removeAll() }
            return (s.consumer, s.producers)
        }
        consumer?.resume()
        for p in producers { p.resume(returning: false) }
    }

    @usableFromInline
    var isClosed: Bool { state.withLock { $0.closed } }
}
