import CUV
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection on a loop (`uv_tcp_t`). Loop-confined: every method must be called on the
/// loop thread (it is `Sendable` only so that it can be captured into loop jobs).
///
/// Reads arrive through ``onRead`` with a buffer that is valid only during the callback.
/// Writes are coalesced: ``write(_:)`` and ``withOutput(_:)`` append to one output buffer that the
/// loop flushes once per iteration, first with `uv_try_write`, then with `uv_write` for what the
/// socket did not take.
public final class TCPConnection: LoopResource, @unchecked Sendable {  // confined to its loop thread
    /// The loop this connection lives on.
    public let eventLoop: EventLoop
    private var handle: UnsafeMutablePointer<uv_tcp_t>?
    private var writeRequest: UnsafeMutablePointer<uv_write_t>
    /// Bytes appended since the last flush.
    private var output: [UInt8] = []
    /// Bytes handed to `uv_write` and not yet written (kept alive until the write callback).
    private var inFlight: [UInt8] = []
    private var writing = false
    private var dirty = false
    private var closeAfterFlush = false
    private var closed = false
    private var reading = false

    /// Called with each chunk of received bytes (valid only during the call).
    public var onRead: ((UnsafeRawBufferPointer) -> Void)?
    /// Called once when the connection ends: nil for a local close, an error otherwise
    /// (``LoopError/endOfFile`` when the peer closed).
    public var onClose: ((LoopError?) -> Void)?
    /// Called when buffered output drops to or below ``lowWaterMark`` after having been above it.
    public var onDrained: (() -> Void)?
    /// Output size at which ``isWritable`` turns false.
    public var highWaterMark = 4 * 1024 * 1024
    /// Output size at which ``onDrained`` fires again.
    public var lowWaterMark = 1024 * 1024
    private var aboveHighWater = false

    /// The peer's address as `host:port`.
    public private(set) var remoteAddress = ""
    /// The local address as `host:port`.
    public private(set) var localAddress = ""

    init(eventLoop: EventLoop, handle: UnsafeMutablePointer<uv_tcp_t>) {
        self.eventLoop = eventLoop
        self.handle = handle
        self.writeRequest = .allocate(capacity: 1)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        writeRequest.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_tcp_nodelay(handle, 1)
        remoteAddress = SocketAddress.peer(of: handle) ?? ""
        localAddress = SocketAddress.local(of: handle) ?? ""
        eventLoop.resources[ObjectIdentifier(self)] = self
    }

    deinit {
        writeRequest.deallocate()
    }

    private var stream: UnsafeMutablePointer<uv_stream_t>? {
        handle.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: uv_stream_t.self) }
    }

    /// Whether the connection is open.
    public var isOpen: Bool { handle != nil && !closed }

    /// Bytes buffered and not yet written to the socket.
    public var pendingWriteBytes: Int { output.count + inFlight.count }

    /// False while buffered output is above ``highWaterMark``: stop producing until ``onDrained``.
    public var isWritable: Bool { pendingWriteBytes <= highWaterMark }

    // MARK: Reading

    /// Starts delivering received bytes to ``onRead``.
    public func startReading() {
        eventLoop.preconditionInEventLoop()
        guard let stream, !reading, !closed else { return }
        reading = true
        uv_read_start(stream, { handle, _, buffer in
            guard let handle, let buffer, let data = handle.pointee.data else { return }
            let connection = Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue()
            let shared = connection.eventLoop.readBuffer
            buffer.pointee = uv_buf_init(shared.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(shared.count))
        }, { stream, count, _ in
            guard let stream, let data = stream.pointee.data else { return }
            let connection = Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue()
            connection.didRead(count)
        })
    }

    /// Stops reading (backpressure); ``resumeReading()`` starts again.
    public func pauseReading() {
        eventLoop.preconditionInEventLoop()
        guard let stream, reading else { return }
        reading = false
        uv_read_stop(stream)
    }

    /// Resumes reading after ``pauseReading()``.
    public func resumeReading() {
        startReading()
    }

    private func didRead(_ count: Int) {
        if count > 0 {
            let buffer = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(eventLoop.readBuffer)[0..<count])
            onRead?(buffer)
            // Replies produced by this read go out together, now (one write per read).
            if dirty { flush() }
        } else if count < 0 {
            let code = Int32(count)
            finish(code == UV_EOF.rawValue ? .endOfFile : LoopError(operation: "read from \(remoteAddress)", code: code))
        }
    }

    // MARK: Writing

    /// Queues `bytes` for sending (coalesced with other writes of this loop iteration).
    public func write(_ bytes: [UInt8]) {
        withOutput { $0.append(contentsOf: bytes) }
    }

    /// Queues raw bytes for sending.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        withOutput { $0.appendBytes(bytes) }
    }

    /// Lets the caller append straight into the output buffer (no intermediate copies).
    public func withOutput<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        eventLoop.preconditionInEventLoop()
        let result = try body(&output)
        if !closed, !dirty, !output.isEmpty {
            dirty = true
            eventLoop.markDirty(self)
        }
        if output.count + inFlight.count > highWaterMark { aboveHighWater = true }
        return result
    }

    /// Called by the loop when it takes this connection off its list of connections to flush.
    func takenForFlush() {
        dirty = false
        flush()
    }

    /// Writes what is buffered now instead of at the end of the loop iteration.
    public func flush() {
        guard let stream, !writing, !output.isEmpty else {
            if closeAfterFlush && !writing && output.isEmpty { close() }
            return
        }
        var written = 0
        let total = output.count
        let result = output.withUnsafeMutableBytes { raw -> Int32 in
            var buf = uv_buf_init(raw.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(raw.count))
            return uv_try_write(stream, &buf, 1)
        }
        if result > 0 {
            written = Int(result)
        } else if result < 0 && result != UV_EAGAIN.rawValue {
            return finish(LoopError(operation: "write to \(remoteAddress)", code: result))
        }
        if written == total {
            output.removeAll(keepingCapacity: true)
            afterWrite()
            return
        }
        // The socket took part of it: hand the rest to uv_write and keep it alive until done.
        swap(&inFlight, &output)
        output.removeAll(keepingCapacity: true)
        if written > 0 {
            inFlight = inFlight.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[written...]).copiedBytes() }
        }
        writing = true
        let status = inFlight.withUnsafeMutableBytes { raw -> Int32 in
            var buf = uv_buf_init(raw.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(raw.count))
            return uv_write(writeRequest, stream, &buf, 1) { request, status in
                guard let request, let data = request.pointee.data else { return }
                Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue().didWrite(status)
            }
        }
        if status < 0 {
            writing = false
            finish(LoopError(operation: "write to \(remoteAddress)", code: status))
        }
    }

    private func didWrite(_ status: Int32) {
        writing = false
        inFlight.removeAll(keepingCapacity: true)
        if status < 0 {
            return finish(LoopError(operation: "write to \(remoteAddress)", code: status))
        }
        afterWrite()
        if !output.isEmpty { flush() }
    }

    private func afterWrite() {
        if aboveHighWater && pendingWriteBytes <= lowWaterMark {
            aboveHighWater = false
            onDrained?()
        }
        if closeAfterFlush && output.isEmpty && !writing { close() }
    }

    // MARK: Closing

    /// Closes after buffered output is written. Idempotent.
    public func closeGracefully() {
        eventLoop.preconditionInEventLoop()
        closeAfterFlush = true
        if output.isEmpty && !writing { close() } else if !dirty { flush() }
    }

    /// Closes now, dropping unwritten output. Idempotent; ``onClose`` gets nil.
    public func close() {
        finish(nil)
    }

    func closeForShutdown() { close() }

    private func finish(_ error: LoopError?) {
        guard !closed, let handle else { return }
        closed = true
        self.handle = nil
        reading = false
        eventLoop.resources[ObjectIdentifier(self)] = nil
        // Keep self alive until libuv is done with the handle (write callbacks may be pending).
        let retained = Unmanaged.passRetained(self)
        handle.pointee.data = retained.toOpaque()
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { h in
            guard let h else { return }
            if let data = h.pointee.data { Unmanaged<TCPConnection>.fromOpaque(data).release() }
            h.deallocate()
        }
        let callback = onClose
        onClose = nil
        onRead = nil
        onDrained = nil
        output = []
        callback?(error)
    }
}
