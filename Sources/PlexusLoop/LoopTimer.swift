import CUV

/// A one-shot or repeating timer on a loop (`uv_timer_t`). Loop-confined: create, start and
/// cancel it on the loop thread.
public final class LoopTimer: LoopResource, @unchecked Sendable {  // confined to its loop thread
    private let eventLoop: EventLoop
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var callback: (() -> Void)?
    private let repeating: Bool

    /// Schedules `callback` after `delay` milliseconds (and every `interval` ms if given).
    public init(on eventLoop: EventLoop, delayMilliseconds delay: UInt64, repeatMilliseconds interval: UInt64 = 0, _ callback: @escaping () -> Void) {
        eventLoop.preconditionInEventLoop()
        self.eventLoop = eventLoop
        self.callback = callback
        self.repeating = interval > 0
        let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(eventLoop.loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        self.handle = handle
        eventLoop.resources[ObjectIdentifier(self)] = self
        uv_timer_start(handle, { timer in
            guard let timer, let data = timer.pointee.data else { return }
            Unmanaged<LoopTimer>.fromOpaque(data).takeUnretainedValue().fire()
        }, delay, interval)
    }

    private func fire() {
        let body = callback
        if !repeating { cancel() }
        body?()
    }

    /// Stops the timer; its callback will not run again. Idempotent.
    public func cancel() {
        guard let handle else { return }
        self.handle = nil
        callback = nil
        eventLoop.resources[ObjectIdentifier(self)] = nil
        uv_timer_stop(handle)
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { h in
            h?.deallocate()
        }
    }

    /// Whether the timer is still scheduled.
    public var isActive: Bool { handle != nil }

    func closeForShutdown() { cancel() }
}
