import DequeModule
import PlexusLoop

/// The client end of one connection: assigns stream ids and routes frames to calls.
final class ClientConnection: FrameConnection, @unchecked Sendable {  // confined to its loop thread
    private var calls: [UInt32: ClientCall] = [:]
    private var nextStreamID: UInt32 = 1
    weak var channel: PlexusChannel?
    private(set) var goingAway = false

    init(tcp: TCPConnection, configuration: ClientConfiguration, channel: PlexusChannel) {
        self.channel = channel
        var hello = Hello()
        hello.maxMessageSize = UInt32(configuration.maxMessageSize)
        hello.initialWindow = UInt32(configuration.initialWindow)
        hello.maxHeaderSize = UInt32(configuration.maxHeaderSize)
        hello.authToken = configuration.authToken
        hello.agent = "plexus-swift/0.1"
        super.init(tcp: tcp, hello: hello, maxHeaderSize: configuration.maxHeaderSize,
                   maxMessageSize: configuration.maxMessageSize,
                   keepaliveInterval: configuration.keepaliveInterval, keepaliveTimeout: configuration.keepaliveTimeout)
    }

    var isUsable: Bool { !closed && !goingAway && nextStreamID < UInt32.max - 2 }

    /// Calls waiting for a stream slot (the server's max_concurrent_streams is reached).
    private var queuedOpens = Deque<(ClientCall, () -> Void)>()
    private var openStreams = 0

    /// Opens a stream: OPEN (with the first message when given) and a new call. Beyond the
    /// server's max_concurrent_streams the OPEN waits until another call ends.
    func open(_ method: MethodDescriptor, options: CallOptions, endStream: Bool, message: ((inout [UInt8]) -> Void)?) -> ClientCall {
        let id = nextStreamID
        nextStreamID += 2
        let call = ClientCall(id: id, method: method, connection: self, sendWindow: peerInitialWindow)
        call.maxResponseMessageSize = options.maxResponseMessageSize
        calls[id] = call
        if let timeout = options.timeout {
            let ms = max(1, timeout.milliseconds)
            call.deadlineTimer = LoopTimer(on: loop, delayMilliseconds: ms) { [weak call] in
                call?.cancel(Status(code: .deadlineExceeded, message: "deadline exceeded after \(ms) ms"))
            }
        }
        let sendOpen = { [unowned self, unowned call] in
            var header = FrameHeader(kind: .open, streamID: id)
            header.method = method.fullPath
            header.headers = options.metadata
            if let timeout = options.timeout { header.timeoutMicros = max(1, timeout.microseconds) }
            if message != nil { header.flags.insert(.message) }
            if endStream { header.flags.insert(.endStream) }
            self.openStreams += 1
            call.opened = true
            call.sendWindow = self.peerInitialWindow
            let mark = self.outputMark
            switch self.writeFrameWithinPeerLimit(header, payload: message) {
            case .written(let payloadSize) where payloadSize > self.sendLimitMessageSize:
                self.truncateOutput(to: mark)
                call.finish(status: Self.requestTooLarge(payloadSize, self.sendLimitMessageSize))
            case .written(let payloadSize):
                call.sendWindow -= payloadSize
                if endStream { call.markHalfClosed() }
                call.resumeSenders()
            case .headerTooLarge(let size, let limit):
                // The server would drop the whole connection for this header: fail only this
                // call, before it leaves (`opened` is set, so ending it frees its slot).
                call.finish(status: Status(code: .resourceExhausted, message: "the call's request metadata makes a frame header of \(size) bytes, over the server's max_header_size of \(limit) bytes; send less metadata"))
            }
        }
        // OPENs go out in id order: behind any queued ones, whatever the current limit.
        if openStreams < peerMaxConcurrentStreams && queuedOpens.isEmpty {
            sendOpen()
        } else {
            queuedOpens.append((call, sendOpen))
        }
        return call
    }

    /// Sends queued OPENs while the server's stream limit allows.
    private func openQueued() {
        while openStreams < peerMaxConcurrentStreams, !queuedOpens.isEmpty, !closed {
            queuedOpens.removeFirst().1()
        }
    }

    override func helloReceived(_ hello: Hello) throws(FrameError) {
        // Streams opened before the server's HELLO counted their credit from the default window:
        // move it to the announced one (PROTOCOL.md §5, as HTTP/2 does for INITIAL_WINDOW_SIZE).
        // Without this a server announcing more than 1 MiB, which grants credit back only after
        // half its window is consumed, would never hear from a client stuck at 1 MiB.
        let delta = peerInitialWindow - FrameConnection.defaultWindow
        if delta != 0 {
            for call in calls.values where call.opened {
                call.sendWindow += delta
                call.resumeSenders()
            }
        }
        // Calls made before the server's HELLO assumed the default limit; it may be higher.
        openQueued()
    }

    /// Sends one message on `call` (credit was checked by the caller).
    @discardableResult
    func send(_ call: ClientCall, endStream: Bool, _ message: (inout [UInt8]) -> Void) -> Int {
        var header = FrameHeader(kind: .message, streamID: call.id, flags: .message)
        if endStream { header.flags.insert(.endStream) }
        let limit = sendLimitMessageSize
        // Credit counts payload bytes only (PROTOCOL.md §5), as the receiver does.
        let size = tcp.withOutput { out -> Int in
            let frameStart = out.count
            var payloadSize = 0
            FrameCodec.append(header, into: &out) { out in
                let start = out.count
                message(&out)
                payloadSize = out.count - start
            }
            // Never send what the server must refuse: take the frame back.
            if payloadSize > limit { out.removeLast(out.count - frameStart) }
            return payloadSize
        }
        if size > limit {
            call.cancel(Self.requestTooLarge(size, limit))
            return 0
        }
        call.sendWindow -= size
        return size
    }

    static func requestTooLarge(_ size: Int, _ limit: Int) -> Status {
        Status(code: .resourceExhausted, message: "request message of \(size) bytes exceeds the server's limit of \(limit) bytes")
    }

    override func streamFrame(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer?) throws(FrameError) {
        switch header.kind {
        case .message, .close, .windowUpdate, .headers:
            calls[header.streamID]?.received(header, payload)
        default:
            throw FrameError.protocolViolation("a server may not send \(header.kind) frames")
        }
    }

    override func oversizePayload(_ header: FrameHeader, size: Int) {
        calls[header.streamID]?.cancel(Status(code: .resourceExhausted, message: "response message of \(size) bytes exceeds the client's limit of \(maxMessageSize) bytes (ClientConfiguration.maxMessageSize)"))
    }

    override func drained() {
        for call in calls.values { call.resumeSenders() }
    }

    func callEnded(_ id: UInt32) {
        guard let call = calls.removeValue(forKey: id) else { return }
        if call.opened {
            openStreams -= 1
        } else {
            queuedOpens.removeAll { $0.0 === call }
        }
        openQueued()
        if goingAway && calls.isEmpty { tcp.closeGracefully() }
    }

    /// Why the server said GOAWAY, for the errors of calls the close then ends.
    private var goAwayReason: String?

    override func goAwayReceived(_ goAway: GoAway) {
        goingAway = true
        goAwayReason = "\(goAway.code): \(goAway.reason)"
        // Streams above last_stream_id were not processed: they may be retried elsewhere.
        for call in Array(calls.values) where goAway.lastStreamID > 0 && call.id > goAway.lastStreamID {
            call.finish(status: Status(code: .unavailable, message: "the server is going away (\(goAway.reason)); the call was not processed"))
        }
        channel?.connectionGoingAway(self)
        if calls.isEmpty { tcp.closeGracefully() }
    }

    override func closedWith(_ error: LoopError?) {
        var reason = error.map { "\($0)" } ?? "closed"
        if let goAwayReason { reason += " (server sent GOAWAY \(goAwayReason))" }
        for call in Array(calls.values) {
            call.finish(status: Status(code: .unavailable, message: "connection lost: \(reason)"))
        }
        calls.removeAll()
        channel?.connectionClosed(self)
    }
}

extension ClientCall {
    func markHalfClosed() { halfClose(sendFrame: false) }
}
