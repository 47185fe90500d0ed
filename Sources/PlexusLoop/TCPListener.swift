import CUV
#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket. Accepted connections are spread round-robin over a group's loops
/// (a uv handle cannot move between loops, so for another loop the accepted socket's fd is
/// duplicated, its handle closed, and the duplicate opened as a new handle on that loop).
public final class TCPListener: LoopResource, @unchecked Sendable {  // uv state confined to its loop thread; `port` is set once before start returns
    /// The loop the listening socket lives on.
    public let eventLoop: EventLoop
    private let group: [EventLoop]
    private var next = 0
    private var handle: UnsafeMutablePointer<uv_tcp_t>?
    private let onAccept: @Sendable (TCPConnection) -> Void
    /// The address it listens on.
    public let host: String
    /// The port it listens on (the OS-assigned one when bound to port 0).
    public let port: Int

    /// Binds and listens. `onAccept` runs on the accepted connection's loop thread.
    public static func listen(
        host: String, port: Int, backlog: Int32 = 1024, on loops: [EventLoop],
        onAccept: @escaping @Sendable (TCPConnection) -> Void
    ) async throws -> TCPListener {
        guard let first = loops.first else { throw LoopError.loopClosed }
        return try await first.submit { try TCPListener(host: host, port: port, backlog: backlog, loops: loops, onAccept: onAccept) }
    }

    private init(host: String, port: Int, backlog: Int32, loops: [EventLoop], onAccept: @escaping @Sendable (TCPConnection) -> Void) throws(LoopError) {
        let eventLoop = loops[0]
        eventLoop.preconditionInEventLoop()
        self.eventLoop = eventLoop
        self.group = loops
        self.onAccept = onAccept
        self.host = host
        var address = try SocketAddress.make(host: host, port: port)
        let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(eventLoop.loop, handle)
        func fail(_ error: LoopError) -> LoopError {
            uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
            return error
        }
        var status = withUnsafeBytes(of: &address) { raw in
            uv_tcp_bind(handle, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), 0)
        }
        if status == 0 {
            status = uv_listen(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self), backlog) { server, status in
                guard let server, let data = server.pointee.data, status == 0 else { return }
                Unmanaged<TCPListener>.fromOpaque(data).takeUnretainedValue().accept()
            }
        }
        if status == UV_EADDRINUSE.rawValue { throw fail(.addressInUse(host: host, port: port)) }
        if status < 0 { throw fail(LoopError(operation: "listen on \(host):\(port)", code: status)) }
        self.port = SocketAddress.storage(handle, peer: false).map(SocketAddress.port) ?? port
        self.handle = handle
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        eventLoop.resources[ObjectIdentifier(self)] = self
    }

    private func accept() {
        guard let handle else { return }
        let client = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(eventLoop.loop, client)
        let server = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
        guard uv_accept(server, UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_stream_t.self)) == 0 else {
            uv_close(UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
            return
        }
        let target = group[next % group.count]
        next += 1
        if target === eventLoop {
            onAccept(TCPConnection(eventLoop: eventLoop, handle: client))
            return
        }
        // Move the socket to the target loop through a duplicated descriptor.
        var fd: uv_os_fd_t = -1
        uv_fileno(UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_handle_t.self), &fd)
        let duplicate = dup(fd)
        uv_close(UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
        guard duplicate >= 0 else { return }
        let onAccept = self.onAccept
        target.execute {
            let moved = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
            uv_tcp_init(target.loop, moved)
            guard uv_tcp_open(moved, duplicate) == 0 else {
                Glibc.close(duplicate)
                uv_close(UnsafeMutableRawPointer(moved).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
                return
            }
            onAccept(TCPConnection(eventLoop: target, handle: moved))
        }
    }

    /// Stops listening (accepted connections stay open). Idempotent; any thread.
    public func close() {
        if eventLoop.inEventLoop {
            closeOnLoop()
        } else {
            eventLoop.execute { self.closeOnLoop() }
        }
    }

    private func closeOnLoop() {
        guard let handle else { return }
        self.handle = nil
        eventLoop.resources[ObjectIdentifier(self)] = nil
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
    }

    func closeForShutdown() { closeOnLoop() }
}

extension TCPConnection {
    /// Connects to `host:port` on `eventLoop`; the connection is returned with reading not yet
    /// started (set ``onRead`` and call ``startReading()`` on the loop).
    public static func connect(on eventLoop: EventLoop, host: String, port: Int) async throws -> TCPConnection {
        let address = try SocketAddress.make(host: host, port: port)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TCPConnection, any Error>) in
            eventLoop.execute {
                let attempt = ConnectAttempt(eventLoop: eventLoop, host: host, port: port, continuation: continuation)
                attempt.start(address)
            }
        }
    }
}

/// One in-progress `uv_tcp_connect`.
private final class ConnectAttempt {
    let eventLoop: EventLoop
    let host: String
    let port: Int
    let continuation: CheckedContinuation<TCPConnection, any Error>
    let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
    let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)

    init(eventLoop: EventLoop, host: String, port: Int, continuation: CheckedContinuation<TCPConnection, any Error>) {
        self.eventLoop = eventLoop
        self.host = host
        self.port = port
        self.continuation = continuation
    }

    func start(_ address: sockaddr_storage) {
        var address = address
        uv_tcp_init(eventLoop.loop, handle)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let status = withUnsafeBytes(of: &address) { raw in
            uv_tcp_connect(request, handle, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self)) { request, status in
                guard let request, let data = request.pointee.data else { return }
                Unmanaged<ConnectAttempt>.fromOpaque(data).takeRetainedValue().finish(status)
            }
        }
        if status < 0 {
            Unmanaged<ConnectAttempt>.fromOpaque(request.pointee.data).release()
            finish(status)
        }
    }

    func finish(_ status: Int32) {
        request.deallocate()
        if status == 0 {
            continuation.resume(returning: TCPConnection(eventLoop: eventLoop, handle: handle))
            return
        }
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
        if status == UV_ECONNREFUSED.rawValue {
            continuation.resume(throwing: LoopError.connectionRefused(host: host, port: port))
        } else {
            continuation.resume(throwing: LoopError(operation: "connect to \(host):\(port)", code: status))
        }
    }
}
