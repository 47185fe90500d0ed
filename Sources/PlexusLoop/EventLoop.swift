import CUV
import DequeModule
#if canImport(Glibc)
import Glibc
#endif

/// One libuv loop running on its own thread.
///
/// Work reaches the loop from any thread through ``execute(_:)`` (a locked queue plus
/// `uv_async_send`). The loop is also a `TaskExecutor` and a `SerialExecutor`, so
/// `Task(executorPreference: loop) { … }` runs a task's jobs on the loop thread, without a
/// thread hop between a socket callback and the code that handles it. Every uv handle is
/// touched only on the loop thread.
public final class EventLoop: @unchecked Sendable {  // uv state is confined to the loop thread; the queue is a Mutex
    enum Job {
        case closure(@Sendable () -> Void)
        case task(UnownedJob)
    }

    struct Queue {
        var jobs = Deque<Job>()
        var stopping = false
        var stopped = false
    }

    let loop: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let flusher: UnsafeMutablePointer<uv_prepare_t>
    private let queue = Locked(Queue())
    private var thread = pthread_t()
    private let joined = Locked(false)
    private let exited = Locked<[CheckedContinuation<Void, Never>]?>([])
    private var threadExited = false
    /// Jobs drained from the queue, reused so draining allocates nothing.
    private var batch: [Job] = []
    /// Connections with coalesced output waiting for the end of this loop iteration.
    var dirtyConnections: [TCPConnection] = []
    /// Open handles owned by Swift objects, closed when the loop shuts down.
    var resources: [ObjectIdentifier: any LoopResource] = [:]
    /// One read buffer shared by every connection of this loop (reads never interleave).
    let readBuffer: UnsafeMutableRawBufferPointer
    /// A name for diagnostics.
    public let name: String

    /// Writing to a socket the peer closed raises SIGPIPE, whose default action kills the
    /// process; a server must survive dead peers, so Plexus ignores it (libuv then reports EPIPE).
    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Starts a loop on a new thread.
    public init(name: String = "plexus-loop") {
        Self.ignoreSIGPIPE
        self.name = name
        loop = .allocate(capacity: 1)
        uv_loop_init(loop)
        wakeup = .allocate(capacity: 1)
        flusher = .allocate(capacity: 1)
        readBuffer = .allocate(byteCount: 256 * 1024, alignment: 16)
        uv_async_init(loop, wakeup) { handle in
            guard let handle, let data = handle.pointee.data else { return }
            let eventLoop = Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue()
            eventLoop.drain()
            eventLoop.flushDirtyConnections()
        }
        uv_prepare_init(loop, flusher)
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        wakeup.pointee.data = opaque
        flusher.pointee.data = opaque
        // The prepare handle runs once per iteration, right before the loop blocks for I/O:
        // that is where coalesced writes are flushed.
        uv_prepare_start(flusher) { handle in
            guard let handle, let data = handle.pointee.data else { return }
            Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().beforePoll()
        }
        uv_unref(UnsafeMutableRawPointer(flusher).assumingMemoryBound(to: uv_handle_t.self))
        let retained = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let loop = Unmanaged<EventLoop>.fromOpaque(argument).takeRetainedValue()
            loop.run()
            return nil
        }, retained)
    }

    deinit {
        readBuffer.deallocate()
        loop.deallocate()
        wakeup.deallocate()
        flusher.deallocate()
    }

    private func run() {
        pthread_setspecific(EventLoop.currentKey, Unmanaged.passUnretained(self).toOpaque())
        uv_run(loop, UV_RUN_DEFAULT)
        // Close what Swift objects own (they free their handles in close callbacks), then the
        // loop's own handles, run the close callbacks, and close the loop.
        for resource in Array(resources.values) { resource.closeForShutdown() }
        uv_walk(loop, { handle, _ in
            guard let handle, uv_is_closing(handle) == 0 else { return }
            uv_close(handle, nil)
        }, nil)
        uv_run(loop, UV_RUN_DEFAULT)
        uv_loop_close(loop)
        let waiters = exited.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            let list = waiters ?? []
            waiters = nil
            return list
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The loop running on the current thread, if any (set by the loop thread itself).
    nonisolated(unsafe) static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether the caller runs on this loop's thread (a thread-local read, no lock).
    public var inEventLoop: Bool {
        pthread_getspecific(EventLoop.currentKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Traps unless called on the loop thread.
    public func preconditionInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inEventLoop, "must be called on the event loop thread of \(name)", file: file, line: line)
    }

    /// Runs `job` on the loop thread, soon. Callable from any thread; jobs run in order.
    /// Returns false when the loop has stopped (the job will never run).
    @discardableResult
    public func execute(_ job: @escaping @Sendable () -> Void) -> Bool {
        enqueue(.closure(job))
    }

    /// Enqueues `job`; false when the loop has stopped (the job will never run).
    @discardableResult
    private func enqueue(_ job: Job) -> Bool {
        let accepted = queue.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            queue.jobs.append(job)
            return true
        }
        // Jobs the loop thread enqueues itself run in this iteration's drain or in the prepare
        // phase before the loop next blocks: no wakeup needed.
        if accepted && !inEventLoop {
            // uv_async_send is thread safe and coalesces.
            uv_async_send(wakeup)
        }
        return accepted
    }

    /// True while `drain` runs (read on the loop thread only).
    private var draining = false
    /// Rounds `drain` runs before letting I/O in (jobs that enqueue jobs could starve it).
    private static let maxDrainRounds = 64

    private func drain() {
        draining = true
        var rounds = 0
        var stopping = false
        while true {
            stopping = queue.withLock { queue -> Bool in
                while let job = queue.jobs.popFirst() { batch.append(job) }
                return queue.stopping
            }
            if batch.isEmpty { break }
            for job in batch {
                switch job {
                case .closure(let body): body()
                case .task(let task): task.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
                }
            }
            batch.removeAll(keepingCapacity: true)
            rounds += 1
            if rounds == Self.maxDrainRounds {
                draining = false
                // Let I/O run; continue with the rest in the next iteration.
                if queue.withLock({ !$0.jobs.isEmpty }) { uv_async_send(wakeup) }
                return
            }
        }
        draining = false
        if stopping {
            queue.withLock { $0.stopped = true }
            uv_stop(loop)
        }
    }

    /// Runs `body` on the loop thread and returns its result.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = enqueue(.closure { continuation.resume(with: Result { try body() }) })
            if !accepted { continuation.resume(throwing: LoopError.loopClosed) }
        }
    }

    // MARK: Flushing coalesced writes

    func markDirty(_ connection: TCPConnection) {
        if dirtyConnections.isEmpty {
            uv_ref(UnsafeMutableRawPointer(flusher).assumingMemoryBound(to: uv_handle_t.self))
        }
        dirtyConnections.append(connection)
    }

    /// Runs once per iteration before the loop blocks: jobs enqueued by I/O callbacks, then
    /// the coalesced writes they produced.
    private func beforePoll() {
        // Flushing can produce more work (a drained socket lets waiting writers write, which
        // dirties the connection again): repeat a few rounds, then make sure the poll that
        // follows does not block while work is left.
        for _ in 0..<4 {
            drain()
            flushDirtyConnections()
            if dirtyConnections.isEmpty && queue.withLock({ $0.jobs.isEmpty }) { return }
        }
        uv_async_send(wakeup)
    }

    private func flushDirtyConnections() {
        guard !dirtyConnections.isEmpty else { return }
        let connections = dirtyConnections
        dirtyConnections.removeAll(keepingCapacity: true)
        for connection in connections { connection.takenForFlush() }
        if dirtyConnections.isEmpty {
            uv_unref(UnsafeMutableRawPointer(flusher).assumingMemoryBound(to: uv_handle_t.self))
        }
    }

    // MARK: Shutdown

    /// Closes every handle, stops the loop and waits for its thread to exit.
    /// Must not be called on the loop thread.
    public func shutdown() async {
        precondition(!inEventLoop, "EventLoop.shutdown() would wait for itself; call it from another thread")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyExited = exited.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters?.append(continuation)
                return false
            }
            if alreadyExited { return continuation.resume() }
            requestStop()
        }
        join()
    }

    private func join() {
        let thread = self.thread
        joined.withLock { joined in
            if !joined {
                pthread_join(thread, nil)
                joined = true
            }
        }
    }

    /// Blocking shutdown for non-async code (never from the loop thread).
    public func shutdownGracefully() {
        precondition(!inEventLoop, "EventLoop.shutdownGracefully() would wait for itself")
        requestStop()
        join()
    }

    private func requestStop() {
        let send = queue.withLock { queue -> Bool in
            guard !queue.stopping else { return false }
            queue.stopping = true
            return true
        }
        if send { uv_async_send(wakeup) }
    }
}

extension EventLoop: TaskExecutor, SerialExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(.task(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: EventLoop) -> Bool {
        self === other
    }

    public func checkIsolated() {
        preconditionInEventLoop()
    }
}

/// A Swift object that owns uv handles on a loop and must close them when the loop stops.
protocol LoopResource: AnyObject {
    /// Closes the object's handles; called on the loop thread during shutdown.
    func closeForShutdown()
}
