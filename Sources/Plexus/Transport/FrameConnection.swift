import PlexusLoop

/// What both ends of a Plexus connection share: framing, HELLO, limits, keepalive, GOAWAY.
/// Loop-confined; subclasses handle stream frames.
class FrameConnection: @unchecked Sendable {  // confined to the connection's loop thread
    let tcp: TCPConnection
    var loop: EventLoop { tcp.eventLoop }
    var decoder: FrameDecoder
    /// Our limits, announced in our HELLO.
    let localHello: Hello
    /// The peer's limits (defaults until its HELLO arrives).
    var peerMaxMessageSize = FrameConnection.defaultMaxMessageSize
    var peerInitialWindow = FrameConnection.defaultWindow
    var peerMaxConcurrentStreams = FrameConnection.defaultMaxConcurrentStreams
    var peerMaxHeaderSize = FrameConnection.defaultMaxHeaderSize
    /// The peer's limits as this side enforces them on what it sends: only once the peer's
    /// HELLO told them (before that the peer judges; a default could be below its real limit).
    var sendLimitHeaderSize: Int { receivedHello ? peerMaxHeaderSize : .max }
    var sendLimitMessageSize: Int { receivedHello ? peerMaxMessageSize : .max }
    /// What a peer's HELLO means by 0, and what is assumed before it arrives (PROTOCOL.md §2).
    static let defaultMaxMessageSize = 4 * 1024 * 1024
    static let defaultWindow = 1024 * 1024
    static let defaultMaxConcurrentStreams = 100
    static let defaultMaxHeaderSize = 16 * 1024
    var receivedHello = false
    var closed = false
    /// Set once this side rejected the peer (GOAWAY for a connection error or a failed
    /// HELLO): nothing more it sends is processed, even frames in the same read.
    private(set) var rejected = false
    var keepaliveTimer: LoopTimer?
    var keepaliveInterval: Duration
    var keepaliveTimeout: Duration
    var awaitingPong = false
    var lastActivity = ContinuousClock.now

    var initialWindow: Int { Int(localHello.initialWindow) }
    /// The largest message payload this side accepts (not read from `decoder`, which is
    /// exclusively accessed while it hands out frames).
    let maxMessageSize: Int

    init(tcp: TCPConnection, hello: Hello, maxHeaderSize: Int, maxMessageSize: Int, keepaliveInterval: Duration, keepaliveTimeout: Duration) {
        self.tcp = tcp
        self.localHello = hello
        self.decoder = FrameDecoder(maxHeaderSize: maxHeaderSize, maxPayloadSize: maxMessageSize)
        self.maxMessageSize = maxMessageSize
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
    }

    /// Wires the TCP callbacks, sends HELLO and starts reading and keepalive.
    func start() {
        tcp.onRead = { [unowned self] bytes in self.received(bytes) }
        tcp.onClose = { [unowned self] error in self.connectionClosed(error) }
        tcp.onDrained = { [unowned self] in self.drained() }
        var header = FrameHeader(kind: .hello)
        header.hello = localHello
        writeFrame(header, payload: nil)
        tcp.startReading()
        if keepaliveInterval > .zero {
            let interval = max(1, keepaliveInterval.milliseconds / 2)
            keepaliveTimer = LoopTimer(on: loop, delayMilliseconds: interval, repeatMilliseconds: interval) { [weak self] in
                self?.keepaliveTick()
            }
        }
    }

    // MARK: Writing

    /// Current end of the output buffer (for ``truncateOutput(to:)``).
    var outputMark: Int { tcp.withOutput { $0.count } }

    func truncateOutput(to mark: Int) {
        tcp.withOutput { out in if out.count > mark { out.removeLast(out.count - mark) } }
    }

    /// Appends one frame whose header carries metadata or a status the application chose, unless
    /// that header exceeds the peer's max_header_size (the peer would have to drop the whole
    /// connection): then nothing is written and the result is `.headerTooLarge(size)`.
    func writeFrameWithinPeerLimit(_ header: FrameHeader, payload: ((inout [UInt8]) -> Void)?) -> HeaderCheckedWrite {
        guard !closed else { return .written(payloadSize: 0) }
        let limit = sendLimitHeaderSize
        return tcp.withOutput { out -> HeaderCheckedWrite in
            let start = out.count
            if let payload {
                FrameCodec.append(header, into: &out, payload: payload)
            } else {
                FrameCodec.append(header, into: &out)
            }
            let headerLength = out.withUnsafeBytes { Int(UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt32.self))) }
            if headerLength > limit {
                out.removeLast(out.count - start)
                return .headerTooLarge(size: headerLength, limit: limit)
            }
            return .written(payloadSize: out.count - start - FrameCodec.prefixSize - headerLength)
        }
    }

    /// The outcome of ``writeFrameWithinPeerLimit(_:payload:)``.
    enum HeaderCheckedWrite {
        case written(payloadSize: Int)
        case headerTooLarge(size: Int, limit: Int)
    }

    /// Appends one frame; returns the payload size.
    @discardableResult
    func writeFrame(_ header: FrameHeader, payload: ((inout [UInt8]) -> Void)?) -> Int {
        guard !closed else { return 0 }
        return tcp.withOutput { out -> Int in
            let start = out.count
            if let payload {
                FrameCodec.append(header, into: &out, payload: payload)
            } else {
                FrameCodec.append(header, into: &out)
            }
            let headerLength = out.withUnsafeBytes { Int(UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt32.self))) }
            return out.count - start - FrameCodec.prefixSize - headerLength
        }
    }

    @discardableResult
    func writeFrame(_ header: FrameHeader, _ payload: @escaping (inout [UInt8]) -> Void) -> Int {
        writeFrame(header, payload: Optional(payload))
    }

    /// Whether the socket's output is below its high-water mark.
    var isWritable: Bool { tcp.isWritable }

    func drained() {}

    func sendWindowUpdate(stream: UInt32, increment: Int) {
        var header = FrameHeader(kind: .windowUpdate, streamID: stream)
        header.windowIncrement = UInt32(clamping: increment)
        writeFrame(header, payload: nil)
    }

    // MARK: Reading

    private func received(_ bytes: UnsafeRawBufferPointer) {
        lastActivity = .now
        awaitingPong = false
        do throws(FrameError) {
            guard !closed, !rejected else { return }
            try decoder.feed(bytes) { (event) throws(FrameError) in
                guard !closed, !rejected else { return }
                switch event {
                case .frame(let header, let payload):
                    try dispatch(header, payload)
                case .oversizePayload(let header, let size):
                    oversizePayload(header, size: size)
                }
            }
        } catch {
            protocolError(error)
        }
    }

    private func dispatch(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer?) throws(FrameError) {
        if !receivedHello {
            guard header.kind == .hello, let hello = header.hello else {
                throw FrameError.protocolViolation("the first frame must be HELLO, got \(header.kind)")
            }
            guard hello.protocolVersion == 1 else {
                throw FrameError.protocolViolation("protocol version \(hello.protocolVersion) is not supported (this side speaks 1)")
            }
            receivedHello = true
            if hello.maxMessageSize > 0 { peerMaxMessageSize = Int(hello.maxMessageSize) }
            if hello.initialWindow > 0 { peerInitialWindow = Int(hello.initialWindow) }
            if hello.maxConcurrentStreams > 0 { peerMaxConcurrentStreams = Int(hello.maxConcurrentStreams) }
            if hello.maxHeaderSize > 0 { peerMaxHeaderSize = Int(hello.maxHeaderSize) }
            try helloReceived(hello)
            return
        }
        switch header.kind {
        case .ping:
            var pong = FrameHeader(kind: .pong)
            pong.pingData = header.pingData
            writeFrame(pong, payload: nil)
        case .pong:
            break
        case .goAway:
            goAwayReceived(header.goAway ?? GoAway())
        case .hello:
            throw FrameError.protocolViolation("a second HELLO")
        default:
            try streamFrame(header, payload)
        }
    }

    // MARK: Hooks for subclasses

    func helloReceived(_ hello: Hello) throws(FrameError) {}
    func streamFrame(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer?) throws(FrameError) {}
    func oversizePayload(_ header: FrameHeader, size: Int) {}
    func goAwayReceived(_ goAway: GoAway) {}
    /// The connection is gone; fail or cancel every stream.
    func closedWith(_ error: LoopError?) {}

    // MARK: Errors, keepalive, closing

    /// A peer that breaks the protocol gets GOAWAY with the reason; only this connection closes.
    func protocolError(_ error: FrameError) {
        reject(code: .internal, reason: error.description)
    }

    /// Sends GOAWAY, stops processing the peer's frames and closes once GOAWAY is written.
    func reject(code: Status.Code, reason: String) {
        guard !rejected, !closed else { return }
        sendGoAway(code: code, reason: reason)
        rejected = true
        tcp.closeGracefully()
    }

    func sendGoAway(code: Status.Code, reason: String, lastStreamID: UInt32 = 0) {
        var header = FrameHeader(kind: .goAway)
        header.goAway = GoAway(lastStreamID: lastStreamID, code: code, reason: reason)
        writeFrame(header, payload: nil)
    }

    private func keepaliveTick() {
        guard !closed else { return }
        let idle = ContinuousClock.now - lastActivity
        if awaitingPong {
            if idle > keepaliveTimeout + keepaliveInterval / 2 {
                // No answer: the peer or the path is dead.
                tcp.close()
            }
            return
        }
        if idle >= keepaliveInterval / 2 {
            awaitingPong = true
            var ping = FrameHeader(kind: .ping)
            ping.pingData = UInt64(truncatingIfNeeded: idle.milliseconds)
            writeFrame(ping, payload: nil)
        }
    }

    private func connectionClosed(_ error: LoopError?) {
        guard !closed else { return }
        closed = true
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        closedWith(error)
    }
}
