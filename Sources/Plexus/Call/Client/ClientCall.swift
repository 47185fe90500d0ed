import DequeModule
import PlexusLoop

/// The raw outcome of a call that returns one response.
struct RawResponse: Sendable {
    var payload: [UInt8]?
    var headers: Metadata
    var trailers: Metadata
    var status: Status
}

/// One call on a client connection; loop-confined.
final class ClientCall: @unchecked Sendable {  // mutable state is touched only on the loop thread
    let id: UInt32
    let method: MethodDescriptor
    // Strong: the connection drops the call from its table when the call ends, so no cycle outlives it.
    let connection: ClientConnection
    let loop: EventLoop
    var deadlineTimer: LoopTimer?
    /// Largest response message this call accepts (nil = the connection's limit).
    var maxResponseMessageSize: Int?

    /// Unary and client-streaming calls: resumed with the final outcome.
    var responseContinuation: UnsafeContinuation<RawResponse, any Error>?
    // Streaming responses.
    private var inbox = Deque<[UInt8]>()
    private var inboxWaiter: UnsafeContinuation<[[UInt8]], any Error>?
    private var consumedSinceUpdate = 0
    /// Response payload bytes received and credit granted back: a server that sends past its
    /// credit (PROTOCOL.md §5) fails the call instead of filling the client's memory.
    private var receivedBytes = 0
    private var grantedBytes = 0
    private(set) var headers = Metadata()
    private(set) var trailers = Metadata()
    private var lastPayload: [UInt8]?
    private(set) var finalStatus: Status?
    private var headersWaiters: [UnsafeContinuation<Metadata, any Error>] = []

    // Sending.
    var sendWindow: Int
    /// Whether OPEN went out (it waits while the server's stream limit is reached).
    var opened = false
    /// Writers waiting for credit: what to write, and whom to tell.
    private var sendWaiters = Deque<(write: (inout [UInt8]) -> Void, continuation: UnsafeContinuation<Void, any Error>)>()
    private(set) var halfClosed = false
    private var pendingHalfClose = false

    init(id: UInt32, method: MethodDescriptor, connection: ClientConnection, sendWindow: Int) {
        self.id = id
        self.method = method
        self.connection = connection
        self.loop = connection.loop
        self.sendWindow = sendWindow
    }

    var isFinished: Bool { finalStatus != nil }

    // MARK: Frames from the server

    func received(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer?) {
        guard finalStatus == nil else { return }
        if !header.headers.isEmpty || headersWaiters.count > 0 {
            if headers.isEmpty { headers = header.headers }
            let waiters = headersWaiters
            headersWaiters = []
            for waiter in waiters { waiter.resume(returning: headers) }
        }
        if let limit = maxResponseMessageSize, let payload, payload.count > limit {
            // The call's own limit (CallOptions.maxResponseMessageSize), below the connection's.
            return cancel(Status(code: .resourceExhausted, message: "response message of \(payload.count) bytes exceeds the call's limit of \(limit) bytes (CallOptions.maxResponseMessageSize)"))
        }
        switch header.kind {
        case .message:
            guard let payload else { break }
            receivedBytes += payload.count
            let allowance = max(connection.initialWindow, FrameConnection.defaultWindow) + grantedBytes + connection.maxMessageSize
            if receivedBytes > allowance {
                return cancel(Status(code: .resourceExhausted, message: "flow control violated: the server sent \(receivedBytes) response bytes on stream \(id) but was granted \(allowance - connection.maxMessageSize)"))
            }
            deliver(payload.copiedBytes())
        case .close:
            let message = header.flags.contains(.message) ? (payload?.copiedBytes() ?? []) : nil
            finish(status: header.status ?? Status(code: .internal, message: "CLOSE without a status"), trailers: header.trailers, lastMessage: message)
        case .windowUpdate:
            sendWindow += Int(header.windowIncrement)
            resumeSenders()
        default:
            break
        }
    }

    private func deliver(_ bytes: [UInt8]) {
        if let waiter = inboxWaiter {
            inboxWaiter = nil
            consumed(bytes.count)
            waiter.resume(returning: [bytes])
        } else {
            inbox.append(bytes)
        }
    }

    private func consumed(_ count: Int) {
        consumedSinceUpdate += count
        if consumedSinceUpdate >= connection.initialWindow / 2, finalStatus == nil {
            grantedBytes += consumedSinceUpdate
            connection.sendWindowUpdate(stream: id, increment: consumedSinceUpdate)
            consumedSinceUpdate = 0
        }
    }

    /// Ends the call (CLOSE received, deadline, cancel, connection lost).
    func finish(status: Status, trailers: Metadata = Metadata(), lastMessage: [UInt8]? = nil) {
        guard finalStatus == nil else { return }
        finalStatus = status
        self.trailers = trailers
        deadlineTimer?.cancel()
        deadlineTimer = nil
        connection.callEnded(id)
        if let continuation = responseContinuation {
            responseContinuation = nil
            var payload = lastMessage
            if payload == nil, let first = inbox.popFirst() { payload = first }
            continuation.resume(returning: RawResponse(payload: payload, headers: headers, trailers: trailers, status: status))
        } else if let lastMessage {
            inbox.append(lastMessage)
        }
        if let waiter = inboxWaiter {
            inboxWaiter = nil
            deliverEnd(to: waiter)
        }
        for waiter in headersWaiters { waiter.resume(returning: headers) }
        headersWaiters = []
        while let waiter = sendWaiters.popFirst() {
            waiter.continuation.resume(throwing: RPCError(status: status.code == .ok ? Status(code: .cancelled, message: "the call already ended") : status, trailers: trailers))
        }
    }

    private func deliverEnd(to waiter: UnsafeContinuation<[[UInt8]], any Error>) {
        guard let status = finalStatus else { return }
        if status.code == .ok {
            waiter.resume(returning: [])
        } else {
            waiter.resume(throwing: RPCError(status: status, trailers: trailers))
        }
    }

    /// The first buffered payload (for a client-streaming call that ended before it waited).
    func takeLastPayload() -> [UInt8]? {
        inbox.popFirst()
    }

    // MARK: Reading (from ResponseStream, via the loop)

    /// All payloads that have arrived, waiting for at least one; empty = the stream ended OK.
    func takePayloads(_ continuation: UnsafeContinuation<[[UInt8]], any Error>) {
        if !inbox.isEmpty {
            let all = Array(inbox)
            inbox.removeAll(keepingCapacity: true)
            consumed(all.reduce(0) { $0 + $1.count })
            continuation.resume(returning: all)
        } else if finalStatus != nil {
            deliverEnd(to: continuation)
        } else {
            inboxWaiter = continuation
        }
    }

    func waitForHeaders(_ continuation: UnsafeContinuation<Metadata, any Error>) {
        if !headers.isEmpty || finalStatus != nil {
            continuation.resume(returning: headers)
        } else {
            headersWaiters.append(continuation)
        }
    }

    // MARK: Sending

    var canSend: Bool { opened && finalStatus == nil && !halfClosed && sendWindow > 0 && connection.isWritable }

    /// Writes a message now when credit allows, else when it arrives; resumes `continuation`
    /// once written (or with the call's error).
    func send(_ write: @escaping (inout [UInt8]) -> Void, _ continuation: UnsafeContinuation<Void, any Error>) {
        if let status = finalStatus {
            return continuation.resume(throwing: RPCError(status: status.code == .ok ? Status(code: .cancelled, message: "the call already ended") : status, trailers: trailers))
        }
        if halfClosed {
            return continuation.resume(throwing: RPCError(code: .failedPrecondition, message: "cannot write after finishing the request stream"))
        }
        if canSend && sendWaiters.isEmpty {
            connection.send(self, endStream: false, write)
            return resumeAfterWrite(continuation)
        }
        sendWaiters.append((write, continuation))
    }

    /// A write went out, or ended the call (a message over the server's limit cancels it).
    private func resumeAfterWrite(_ continuation: UnsafeContinuation<Void, any Error>) {
        if let status = finalStatus {
            continuation.resume(throwing: RPCError(status: status, trailers: trailers))
        } else {
            continuation.resume()
        }
    }

    /// Writes now when nothing is queued and credit allows; false otherwise. Throws when the
    /// write ended the call (a message over the server's limit).
    func trySendNow(_ write: (inout [UInt8]) -> Void) throws -> Bool {
        guard canSend, sendWaiters.isEmpty else { return false }
        connection.send(self, endStream: false, write)
        if let status = finalStatus { throw RPCError(status: status, trailers: trailers) }
        return true
    }

    func resumeSenders() {
        while canSend, let waiter = sendWaiters.popFirst() {
            connection.send(self, endStream: false, waiter.write)
            resumeAfterWrite(waiter.continuation)
        }
        if pendingHalfClose && sendWaiters.isEmpty && opened {
            pendingHalfClose = false
            halfClose()
        }
    }

    func halfClose(sendFrame: Bool = true) {
        guard !halfClosed, finalStatus == nil else { return }
        if !sendWaiters.isEmpty || !opened {
            // Finish after the queued writes (and the OPEN) went out.
            pendingHalfClose = true
            return
        }
        halfClosed = true
        if sendFrame { connection.writeFrame(FrameHeader(kind: .halfClose, streamID: id), payload: nil) }
    }

    /// Abandons the call: CANCEL to the server, `status` to the caller.
    func cancel(_ status: Status) {
        guard finalStatus == nil else { return }
        // A call still queued for a stream slot never reached the server: nothing to cancel there.
        if opened { connection.writeFrame(FrameHeader(kind: .cancel, streamID: id), payload: nil) }
        finish(status: status)
    }
}
