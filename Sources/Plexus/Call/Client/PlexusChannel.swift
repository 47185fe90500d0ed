import PlexusCodec
import PlexusLoop
#if canImport(Glibc)
import Glibc
#endif

/// A client's connection to one server, shared by any number of concurrent calls.
///
/// It connects on first use. When the connection drops, calls in flight fail with
/// UNAVAILABLE, new calls fail fast with UNAVAILABLE, and the channel reconnects in the
/// background with exponential backoff and jitter.
///
/// Call ``close()`` when done: a channel created without a loop runs its own loop thread until
/// then.
public final class PlexusChannel: @unchecked Sendable {  // `state` is touched only on `loop`
    public let host: String
    public let port: Int
    public let configuration: ClientConfiguration
    let loop: EventLoop
    private let ownsLoop: Bool

    /// The loop the channel's connection lives on. Tasks that prefer it as their executor
    /// (`Task(executorPreference: channel.eventLoop)`) start and finish calls without a thread hop.
    public var eventLoop: EventLoop { loop }
    private var state = State()

    enum Phase { case idle, connecting, ready, backoff, closed }

    struct State {
        var phase = Phase.idle
        var connection: ClientConnection?
        var waiting: [(Result<ClientConnection, RPCError>) -> Void] = []
        var attempts = 0
        var lastError = ""
    }

    public init(host: String, port: Int, configuration: ClientConfiguration = ClientConfiguration(), loop: EventLoop? = nil) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.loop = loop ?? EventLoop(name: "plexus-client")
        self.ownsLoop = loop == nil
    }

    // MARK: Connection management (on the loop)

    private func withConnection(_ body: @escaping (Result<ClientConnection, RPCError>) -> Void) {
        switch state.phase {
        case .ready:
            if let connection = state.connection, connection.isUsable { return body(.success(connection)) }
            state.phase = .idle
            state.connection = nil
            withConnection(body)
        case .idle:
            state.waiting.append(body)
            connect()
        case .connecting:
            state.waiting.append(body)
        case .backoff:
            body(.failure(RPCError(code: .unavailable, message: "not connected to \(host):\(port) (\(state.lastError)); reconnecting with backoff")))
        case .closed:
            body(.failure(RPCError(code: .unavailable, message: "the channel is closed")))
        }
    }

    private func connect() {
        state.phase = .connecting
        let host = self.host, port = self.port, loop = self.loop
        let timeoutMs = configuration.connectTimeout.milliseconds
        let attempt = Locked(false)  // set once the attempt is decided (connected or timed out)
        let timer = LoopTimer(on: loop, delayMilliseconds: max(1, timeoutMs)) { [weak self] in
            guard attempt.withLock({ done in defer { done = true }; return !done }) else { return }
            self?.connectFailed("connect timed out after \(timeoutMs) ms")
        }
        Task {
            do {
                let tcp = try await TCPConnection.connect(on: loop, host: host, port: port)
                loop.execute { [weak self] in
                    timer.cancel()
                    guard attempt.withLock({ done in defer { done = true }; return !done }), let self, self.state.phase == .connecting else {
                        return tcp.close()
                    }
                    self.connected(tcp)
                }
            } catch {
                loop.execute { [weak self] in
                    timer.cancel()
                    guard attempt.withLock({ done in defer { done = true }; return !done }) else { return }
                    self?.connectFailed("\(error)")
                }
            }
        }
    }

    private func connected(_ tcp: TCPConnection) {
        let connection = ClientConnection(tcp: tcp, configuration: configuration, channel: self)
        connection.start()
        state.connection = connection
        state.phase = .ready
        state.attempts = 0
        let waiting = state.waiting
        state.waiting = []
        for body in waiting { body(.success(connection)) }
    }

    private func connectFailed(_ reason: String) {
        guard state.phase != .closed else { return }
        state.lastError = reason
        let waiting = state.waiting
        state.waiting = []
        for body in waiting {
            body(.failure(RPCError(code: .unavailable, message: "cannot connect to \(host):\(port): \(reason)")))
        }
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        state.phase = .backoff
        let base = Double(configuration.backoffInitial.milliseconds) * pow(configuration.backoffMultiplier, Double(state.attempts))
        let capped = min(base, Double(configuration.backoffMax.milliseconds))
        let jitter = 1 + configuration.backoffJitter * Double.random(in: -1...1)
        state.attempts += 1
        _ = LoopTimer(on: loop, delayMilliseconds: UInt64(max(1, capped * jitter))) { [weak self] in
            guard let self, self.state.phase == .backoff else { return }
            self.connect()
        }
    }

    func connectionClosed(_ connection: ClientConnection) {
        guard state.connection === connection else { return }
        state.connection = nil
        guard state.phase != .closed else { return }
        state.lastError = "connection lost"
        scheduleReconnect()
    }

    func connectionGoingAway(_ connection: ClientConnection) {
        guard state.connection === connection else { return }
        // New calls go to a new connection; this one finishes its calls.
        state.connection = nil
        if state.phase == .ready { state.phase = .idle }
    }

    /// Whether the channel has a usable connection now.
    public var isConnected: Bool {
        get async { (try? await loop.submit { self.state.phase == .ready }) ?? false }
    }

    /// Closes the connection and fails calls in flight with UNAVAILABLE.
    public func close() async {
        _ = try? await loop.submit {
            self.state.phase = .closed
            self.state.connection?.tcp.close()
            self.state.connection = nil
        }
        if ownsLoop { await loop.shutdown() }
    }

    // MARK: Starting calls

    /// Starts a call on the loop; `started` gets the call or the reason it could not start.
    func startCall(_ method: MethodDescriptor, options: CallOptions, endStream: Bool,
                   message: (@Sendable (inout [UInt8]) -> Void)?, handle: CallHandle,
                   continuation: UnsafeContinuation<RawResponse, any Error>?,
                   started: @escaping @Sendable (Result<ClientCall, RPCError>) -> Void) {
        let body: @Sendable () -> Void = { [self] in
            self.withConnection { result in
                switch result {
                case .failure(let error):
                    continuation?.resume(throwing: error)
                    started(.failure(error))
                case .success(let connection):
                    if handle.isCancelled {
                        let error = RPCError(code: .cancelled, message: "the call was cancelled")
                        continuation?.resume(throwing: error)
                        return started(.failure(error))
                    }
                    let call = connection.open(method, options: options, endStream: endStream, message: message)
                    // The call may have ended already (e.g. its OPEN was over a server limit).
                    if let continuation { call.awaitResponse(continuation) }
                    handle.attach(call)
                    started(.success(call))
                }
            }
        }
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }
}

/// Lets a task's cancellation handler reach its call, whichever happens first.
final class CallHandle: Sendable {
    private let state = Locked<(cancelled: Bool, call: ClientCall?)>((false, nil))

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func attach(_ call: ClientCall) {
        state.withLock { $0.call = call }
    }

    /// Cancels the call (now, or as soon as it starts).
    func cancel() {
        let call = state.withLock { s -> ClientCall? in
            s.cancelled = true
            return s.call
        }
        if let call {
            call.loop.execute { call.cancel(Status(code: .cancelled, message: "the call was cancelled by the client")) }
        }
    }
}
