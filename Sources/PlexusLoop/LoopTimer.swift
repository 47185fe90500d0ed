import CUV

/// A one-shot or repeating timer on a loop (`uv_timer_t`). Loop-confined: create, start and
/// cancel it on the loop thread.
public final class LoopTimer: LoopResource, @unchecked Sendable {  // confined to its loop thread
    private let eventLoop: EventLoop
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var callback: (() -> Void)?
    private let repeating: Bool
    /// Runs when the loop shuts down while the timer is still scheduled.
    var onShutdown: (() -> Void)?

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
        onShutdown = nil
        eventLoop.resources[ObjectIdentifier(self)] = nil
        uv_timer_stop(handle)
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { h in
            h?.deallocate()
        }
    }

    /// Whether the timer is still scheduled.
    public var isActive: Bool { handle != nil }

    func closeForShutdown() {
        let body = onShutdown
        onShutdown = nil
        cancel()
        body?()
    }
}

extension EventLoop {
    /// Suspends the caller for `milliseconds` on this loop's own timer (libuv's millisecond
    /// resolution). A task running on the loop (`Task(executorPreference: loop)`) resumes
    /// without any other thread taking part, unlike `Task.sleep`, whose timer thread wakes a
    /// pool thread that then wakes the loop: use it to pace work that runs on the loop.
    /// Throws `LoopError.loopClosed` when the loop has stopped.
    public func sleep(milliseconds: UInt64) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            // Exactly one of the three resumes: the timer fires (and cancels itself), the loop
            // stops first (the timer is closed for shutdown), or the loop has already stopped.
            let accepted = execute {
                let timer = LoopTimer(on: self, delayMilliseconds: milliseconds) { c.resume() }
                timer.onShutdown = { c.resume(throwing: LoopError.loopClosed) }
            }
            if !accepted { c.resume(throwing: LoopError.loopClosed) }
        }
    }
}
