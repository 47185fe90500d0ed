import PlexusLoop
import DequeModule
import Synchronization

/// A multi-producer, single-consumer queue with an optional bound. `push` never blocks: it
/// reports a full queue so the producer can apply its policy (drop, gap marker, ...).
final class Mailbox<Element: Sendable>: Sendable {
    private struct State {
        var items = Deque<Element>()
        var waiter: CheckedContinuation<Element?, Never>?
        var finished = false
    }
    private let state = Locked(State())
    let limit: Int

    init(limit: Int = .max) {
        self.limit = limit
    }

    enum PushResult { case queued, full, finished }

    /// Queues `item` unless the mailbox is full or finished. `force` ignores the bound.
    @discardableResult
    func push(_ item: Element, force: Bool = false) -> PushResult {
        let (result, waiter): (PushResult, CheckedContinuation<Element?, Never>?) = state.withLock { s in
            if s.finished { return (.finished, nil) }
            if let w = s.waiter {
                s.waiter = nil
                return (.queued, w)
            }
            if !force && s.items.count >= limit { return (.full, nil) }
            s.items.append(item)
            return (.queued, nil)
        }
        waiter?.resume(returning: item)
        return result
    }

    /// Ends the mailbox: queued items are still delivered, then `next` returns nil.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<Element?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    var count: Int { state.withLock { $0.items.count } }

    /// The next item; nil once finished and drained. Cancellation finishes the mailbox.
    func next() async -> Element? {
        if let item = state.withLock({ s -> Element?? in
            if let first = s.items.popFirst() { return .some(first) }
            if s.finished { return .some(nil) }
            return nil
        }) { return item }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Element?, Never>) in
                let immediate: Element?? = state.withLock { s in
                    if let first = s.items.popFirst() { return .some(first) }
                    if s.finished { return .some(nil) }
                    s.waiter = c
                    return nil
                }
                if let immediate { c.resume(returning: immediate) }
            }
        } onCancel: {
            self.finish()
        }
    }
}
