import DequeModule

/// A bounded, sequence-numbered history of events (settings, topology). Sequence numbers start
/// at 1 and never repeat; the oldest events are evicted past `capacity`.
struct EventLog<Event: Sendable> {
    let capacity: Int
    private(set) var events = Deque<Event>()
    /// Sequence number of the newest event (0 = none yet).
    private(set) var lastSeq: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Sequence number of the oldest event kept (lastSeq + 1 when empty).
    var firstSeq: UInt64 { lastSeq - UInt64(events.count) + 1 }

    /// Appends the event built for the next sequence number and returns it.
    mutating func append(_ make: (UInt64) -> Event) -> Event {
        lastSeq += 1
        let event = make(lastSeq)
        events.append(event)
        if events.count > capacity { events.removeFirst() }
        return event
    }

    /// Events after `seq` (at most `limit`), and whether some after `seq` were evicted already.
    func after(_ seq: UInt64, limit: Int = .max) -> (events: [Event], gap: Bool) {
        let gap = seq + 1 < firstSeq
        let start = seq + 1 < firstSeq ? firstSeq : seq + 1
        guard start <= lastSeq else { return ([], gap) }
        let offset = Int(start - firstSeq)
        let end = min(events.count, offset + limit)
        return (Array(events[offset..<end]), gap)
    }
}
