import PlexusLoop

/// The server end of one connection: opens streams, routes them to handlers, enforces limits.
final class ServerConnection: FrameConnection, @unchecked Sendable {  // confined to its loop thread
    let router: MethodRouter
    let configuration: ServerConfiguration
    weak var server: PlexusServer?
    private var streams: [UInt32: ServerStream] = [:]
    private var lastStreamID: UInt32 = 0
    private var goingAway = false

    init(tcp: TCPConnection, router: MethodRouter, configuration: ServerConfiguration, server: PlexusServer) {
        self.router = router
        self.configuration = configuration
        self.server = server
        var hello = Hello()
        hello.maxMessageSize = UInt32(configuration.maxMessageSize)
        hello.maxConcurrentStreams = UInt32(configuration.maxConcurrentStreams)
        hello.initialWindow = UInt32(configuration.initialWindow)
        hello.maxHeaderSize = UInt32(configuration.maxHeaderSize)
        hello.agent = "plexus-swift/0.1"
        super.init(tcp: tcp, hello: hello, maxHeaderSize: configuration.maxHeaderSize,
                   maxMessageSize: configuration.maxMessageSize,
                   keepaliveInterval: configuration.keepaliveInterval, keepaliveTimeout: configuration.keepaliveTimeout)
    }

    var activeStreams: Int { streams.count }

    override func helloReceived(_ hello: Hello) throws(FrameError) {
        if let token = configuration.authToken, hello.authToken != token {
            // Frames after this HELLO (OPENs in the same read) are not processed.
            reject(code: .unauthenticated, reason: "missing or wrong auth token in HELLO; set ClientConfiguration.authToken to the server's token")
        }
    }

    override func streamFrame(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer?) throws(FrameError) {
        switch header.kind {
        case .open:
            try open(header, payload)
        case .message:
            guard let stream = streams[header.streamID] else { return }  // already finished: ignore
            if let payload { stream.deliver(payload) }
            if header.flags.contains(.endStream) { stream.finishInput() }
        case .halfClose:
            streams[header.streamID]?.finishInput()
        case .cancel:
            streams[header.streamID]?.cancel()
        case .windowUpdate:
            streams[header.streamID]?.windowUpdate(Int(header.windowIncrement))
        default:
            throw FrameError.protocolViolation("a client may not send \(header.kind) frames")
        }
    }

    private func open(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer?) throws(FrameError) {
        let id = header.streamID
        guard id % 2 == 1, id > lastStreamID else {
            throw FrameError.protocolViolation("stream id \(id) is not odd and increasing (last was \(lastStreamID))")
        }
        lastStreamID = id
        if goingAway {
            return refuse(id, Status(code: .unavailable, message: "the server is shutting down; retry on a new connection"))
        }
        if streams.count >= configuration.maxConcurrentStreams {
            return refuse(id, Status(code: .resourceExhausted, message: "too many concurrent streams (limit \(configuration.maxConcurrentStreams))"))
        }
        guard let handler = router.handler(for: header.method) else {
            let what = router.hasService(of: header.method) ? "method" : "service"
            return refuse(id, Status(code: .unimplemented, message: "unknown \(what): \(header.method)"))
        }
        let deadline: ContinuousClock.Instant? = header.timeoutMicros > 0 ? .now + .microseconds(Int64(clamping: header.timeoutMicros)) : nil
        let context = ServerContext(method: handler.method, requestMetadata: header.headers, deadline: deadline, peer: tcp.remoteAddress)
        let stream = ServerStream(id: id, loop: loop, context: context, connection: self, sendWindow: peerInitialWindow)
        streams[id] = stream
        if let payload { stream.deliver(payload) }
        if header.flags.contains(.endStream) { stream.finishInput() }
        if header.timeoutMicros > 0 {
            let ms = max(1, (header.timeoutMicros + 999) / 1000)
            stream.deadlineTimer = LoopTimer(on: loop, delayMilliseconds: ms) { [weak stream] in
                stream?.fail(Status(code: .deadlineExceeded, message: "deadline exceeded after \(ms) ms"))
            }
        }
        let server = self.server
        server?.handlerStarted()
        stream.task = Task(executorPreference: loop) {
            await handler.run(stream)
            server?.handlerFinished()
        }
    }

    private func refuse(_ id: UInt32, _ status: Status) {
        var close = FrameHeader(kind: .close, streamID: id, flags: .endStream)
        close.status = status
        writeFrame(close, payload: nil)
    }

    override func oversizePayload(_ header: FrameHeader, size: Int) {
        let status = Status(code: .resourceExhausted, message: "request message of \(size) bytes exceeds the server's limit of \(configuration.maxMessageSize) bytes")
        if let stream = streams[header.streamID] {
            stream.fail(status)
        } else if header.kind == .open, header.streamID % 2 == 1, header.streamID > lastStreamID {
            lastStreamID = header.streamID
            refuse(header.streamID, status)
        }
    }

    override func drained() {
        for stream in streams.values { stream.resumeSenders() }
    }

    func streamClosed(_ id: UInt32) {
        streams[id] = nil
        if goingAway && streams.isEmpty { tcp.closeGracefully() }
    }

    override func goAwayReceived(_ goAway: GoAway) {
        goingAway = true
        if streams.isEmpty { tcp.closeGracefully() }
    }

    override func closedWith(_ error: LoopError?) {
        for stream in Array(streams.values) { stream.cancel() }
        streams.removeAll()
        server?.connectionClosed(self)
    }

    /// Graceful shutdown, step 1: GOAWAY, accept no new streams, close when the last one ends.
    func beginShutdown() {
        guard !goingAway else { return }
        goingAway = true
        sendGoAway(code: .unavailable, reason: "server shutting down", lastStreamID: lastStreamID)
        if streams.isEmpty { tcp.closeGracefully() }
    }

    /// Graceful shutdown, step 2 (grace period over): cancel what is left and close.
    func forceClose() {
        for stream in Array(streams.values) {
            stream.fail(Status(code: .unavailable, message: "server shut down before the call finished"))
        }
        tcp.closeGracefully()
    }
}
