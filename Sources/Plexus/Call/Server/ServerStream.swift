import DequeModule
import PlexusCodec
import PlexusLoop

/// One call on a server connection. Its state is confined to the connection's loop; the
/// handler's task (which prefers the loop as its executor) reaches it through `onLoop`.
final class ServerStream: @unchecked Sendable {  // mutable state is touched only on `loop`
    let id: UInt32
    let loop: EventLoop
    let context: ServerContext
    // Strong: the connection drops the stream from its table when it closes, so no cycle outlives it.
    let connection: ServerConnection
    var task: Task<Void, Never>?
    var deadlineTimer: LoopTimer?

    // Input.
    private var inbox = Deque<[UInt8]>()
    private var inputFinished = false
    private var inputWaiter: UnsafeContinuation<[UInt8]?, any Error>?
    private var consumedSinceUpdate = 0
    /// Request payload bytes received, and credit granted back with WINDOW_UPDATE: a client
    /// that sends past its credit (PROTOCOL.md §5) fails its call instead of filling memory.
    private var receivedBytes = 0
    private var grantedBytes = 0

    // Output.
    var sendWindow: Int
    private var sendWaiters = Deque<UnsafeContinuation<Void, any Error>>()
    private var headersSent = false
    private(set) var closed = false

    /// When the call started (for ServerConfiguration.callObserver).
    private let started = ContinuousClock.now

    init(id: UInt32, loop: EventLoop, context: ServerContext, connection: ServerConnection, sendWindow: Int) {
        self.id = id
        self.loop = loop
        self.context = context
        self.connection = connection
        self.sendWindow = sendWindow
    }

    /// Runs `body` on the loop: inline when already there.
    @inline(__always)
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    // MARK: Input (called by the connection on the loop)

    func deliver(_ payload: UnsafeRawBufferPointer) {
        guard !closed, !inputFinished else { return }
        receivedBytes += payload.count
        if receivedBytes > creditAllowance {
            return fail(Status(code: .resourceExhausted, message: "flow control violated: the client sent \(receivedBytes) request bytes on stream \(id) but was granted \(creditAllowance - connection.maxMessageSize) (send only while the stream's credit is above zero)"))
        }
        let bytes = payload.copiedBytes()
        if let waiter = inputWaiter {
            inputWaiter = nil
            consumed(bytes.count)
            waiter.resume(returning: bytes)
        } else {
            inbox.append(bytes)
        }
    }

    func finishInput() {
        inputFinished = true
        if let waiter = inputWaiter, inbox.isEmpty {
            inputWaiter = nil
            waiter.resume(returning: nil)
        }
    }

    private func consumed(_ count: Int) {
        consumedSinceUpdate += count
        if consumedSinceUpdate >= connection.initialWindow / 2 {
            grantedBytes += consumedSinceUpdate
            connection.sendWindowUpdate(stream: id, increment: consumedSinceUpdate)
            consumedSinceUpdate = 0
        }
    }

    /// The most request bytes a client that honours credit can have sent: the initial window
    /// (at least the 1 MiB default a client assumes before our HELLO arrives), what was granted
    /// since, and one message that may overdraw.
    private var creditAllowance: Int {
        max(connection.initialWindow, FrameConnection.defaultWindow) + grantedBytes + connection.maxMessageSize
    }

    /// A request payload that has already arrived, taken without suspending (on the loop
    /// only). Callers try this before ``nextPayload()``: each `await` of an async function
    /// costs a runtime executor check even when nothing waits.
    func readyPayload() -> [UInt8]? {
        guard loop.inEventLoop, let bytes = inbox.popFirst() else { return nil }
        consumed(bytes.count)
        return bytes
    }

    /// The next request payload, or nil when the client half-closed.
    func nextPayload() async throws -> [UInt8]? {
        // On the loop with a message waiting (the common case: unary requests ride in OPEN),
        // no continuation is needed.
        if loop.inEventLoop, let bytes = inbox.popFirst() {
            consumed(bytes.count)
            return bytes
        }
        return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[UInt8]?, any Error>) in
            onLoop {
                if let bytes = self.inbox.popFirst() {
                    self.consumed(bytes.count)
                    continuation.resume(returning: bytes)
                } else if self.closed {
                    continuation.resume(throwing: CancellationError())
                } else if self.inputFinished {
                    continuation.resume(returning: nil)
                } else {
                    self.inputWaiter = continuation
                }
            }
        }
    }

    /// The one request of a unary or server-streaming call when it is already here (it rides
    /// in OPEN), decoded without a suspension point; nil when ``singleRequest()`` must wait.
    func readyRequest<Req: ProtoMessage>() throws -> Req? {
        guard let payload = readyPayload() else { return nil }
        return try Self.decodeRequest(payload)
    }

    /// The one request of a unary or server-streaming call.
    func singleRequest<Req: ProtoMessage>() async throws -> Req {
        guard let payload = try await nextPayload() else {
            throw RPCError(code: .internal, message: "the client half-closed without sending a request message")
        }
        return try Self.decodeRequest(payload)
    }

    static func decodeRequest<Req: ProtoMessage>(_ payload: [UInt8]) throws -> Req {
        do {
            return try Req(serializedBytes: payload)
        } catch {
            throw RPCError(code: .invalidArgument, message: "request is not a valid \(Req.protoMessageName): \(error)")
        }
    }

    // MARK: Output

    /// Writes one response message now when on the loop with credit; false when the caller
    /// must use ``send(_:)`` (and suspend).
    func trySendNow<M: ProtoMessage>(_ message: M) throws -> Bool {
        guard loop.inEventLoop, canSend, sendWaiters.isEmpty else { return false }
        try writeMessage(message)
        return true
    }

    /// Sends one response message, waiting for flow-control credit when needed.
    func send<M: ProtoMessage>(_ message: M) async throws {
        if loop.inEventLoop, canSend {
            try writeMessage(message)
            return
        }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            onLoop {
                if self.closed { return continuation.resume(throwing: CancellationError()) }
                if self.canSend && self.sendWaiters.isEmpty { return continuation.resume() }
                self.sendWaiters.append(continuation)
            }
        }
        try await onLoopThrowing { try self.writeMessage(message) }
    }

    private var canSend: Bool { !closed && sendWindow > 0 && connection.isWritable }

    private func onLoopThrowing(_ body: @escaping @Sendable () throws -> Void) async throws {
        if loop.inEventLoop { return try body() }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            loop.execute { continuation.resume(with: Result { try body() }) }
        }
    }

    private func writeMessage<M: ProtoMessage>(_ message: M) throws {
        guard !closed else { throw CancellationError() }
        var header = FrameHeader(kind: .message, streamID: id, flags: .message)
        attachHeaders(&header)
        let mark = connection.outputMark
        switch connection.writeFrameWithinPeerLimit(header, payload: { message.serialize(appendingTo: &$0) }) {
        case .written(let size):
            if size > connection.peerMaxMessageSize {
                connection.truncateOutput(to: mark)  // never send what the client must refuse
                throw RPCError(code: .resourceExhausted, message: "response message of \(size) bytes exceeds the client's limit of \(connection.peerMaxMessageSize) bytes")
            }
            sendWindow -= size
        case .headerTooLarge(let size, let limit):
            throw RPCError(code: .resourceExhausted, message: "the response headers make a frame header of \(size) bytes, over the client's max_header_size of \(limit) bytes")
        }
    }

    private func attachHeaders(_ header: inout FrameHeader) {
        guard !headersSent else { return }
        headersSent = true
        header.headers = context.state.withLock { $0.responseHeaders }
    }

    /// More credit from the client.
    func windowUpdate(_ increment: Int) {
        sendWindow += increment
        resumeSenders()
    }

    /// Lets waiting writers go while credit and the socket allow.
    func resumeSenders() {
        while canSend, let waiter = sendWaiters.popFirst() {
            waiter.resume()
        }
    }

    // MARK: Ending

    /// Runs the handler and ends the call with its outcome.
    func run<Res: ProtoMessage>(_ body: @escaping @Sendable () async throws -> Res?) async {
        do {
            let response = try await body()
            onLoop { self.finish(status: .ok, response: response) }
        } catch let error as RPCError {
            if !error.metadata.isEmpty { context.setTrailers(error.metadata) }
            onLoop { self.finish(status: error.status, response: Optional<Res>.none) }
        } catch is CancellationError {
            onLoop { self.finish(status: Status(code: .cancelled, message: "the call was cancelled"), response: Optional<Res>.none) }
        } catch {
            onLoop { self.finish(status: Status(code: .unknown, message: "\(error)"), response: Optional<Res>.none) }
        }
    }

    /// Sends CLOSE (with the response message for unary and client-streaming calls).
    func finish<Res: ProtoMessage>(status: Status, response: Res?) {
        guard !closed else { return }
        connection.configuration.callObserver?(context.method, .now - started, status.code)
        var header = FrameHeader(kind: .close, streamID: id, flags: .endStream)
        header.status = status
        attachHeaders(&header)
        header.trailers = context.state.withLock { $0.trailers }
        var payload: ((inout [UInt8]) -> Void)?
        if let response {
            header.flags.insert(.message)
            payload = { response.serialize(appendingTo: &$0) }
        }
        let mark = connection.outputMark
        var fallback: Status?
        switch connection.writeFrameWithinPeerLimit(header, payload: payload) {
        case .written(let size):
            if response != nil, size > connection.peerMaxMessageSize {
                // Take the frame back and report the limit instead.
                connection.truncateOutput(to: mark)
                fallback = Status(code: .resourceExhausted, message: "response message of \(size) bytes exceeds the client's limit of \(connection.peerMaxMessageSize) bytes")
            }
        case .headerTooLarge(let size, let limit):
            fallback = Status(code: .resourceExhausted, message: "the response metadata and status make a frame header of \(size) bytes, over the client's max_header_size of \(limit) bytes")
        }
        if let fallback {
            var plain = FrameHeader(kind: .close, streamID: id, flags: .endStream)
            plain.status = fallback
            connection.writeFrame(plain, payload: nil)
        }
        close()
    }

    /// Ends the call with an error status (deadline, limits) and cancels the handler.
    func fail(_ status: Status) {
        guard !closed else { return }
        finish(status: status, response: Optional<EmptyResponse>.none)
        task?.cancel()
    }

    /// Drops the call without sending anything (client CANCEL, connection lost).
    func cancel() {
        guard !closed else { return }
        close()
        task?.cancel()
    }

    private func close() {
        closed = true
        context.state.withLock { $0.cancelled = true }
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if let waiter = inputWaiter {
            inputWaiter = nil
            waiter.resume(throwing: CancellationError())
        }
        while let waiter = sendWaiters.popFirst() { waiter.resume(throwing: CancellationError()) }
        inbox.removeAll()
        connection.streamClosed(id)
    }
}

/// A stand-in type for "no response message".
struct EmptyResponse: ProtoMessage {
    static let protoMessageName = "plexus.internal.Empty"
    var unknownFields = UnknownFields()
    init() {}
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {}
    func serializedBytes() -> [UInt8] { [] }
    var serializedSize: Int { 0 }
}

