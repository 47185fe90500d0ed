import PlexusLoop

/// What a handler knows about its call, and where it sets response metadata.
public final class ServerContext: Sendable {
    /// The method called.
    public let method: MethodDescriptor
    /// The client's request headers.
    public let requestMetadata: Metadata
    /// When the call's deadline passes (nil = none), on the continuous clock.
    public let deadline: ContinuousClock.Instant?
    /// The peer's address.
    public let peer: String
    let state = Locked(State())

    struct State {
        var responseHeaders = Metadata()
        var trailers = Metadata()
        var cancelled = false
    }

    init(method: MethodDescriptor, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: String) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
    }

    /// Sets the response headers (sent with the first response frame).
    public func setResponseHeaders(_ headers: Metadata) {
        state.withLock { $0.responseHeaders = headers }
    }

    /// Sets the trailers sent with the final status.
    public func setTrailers(_ trailers: Metadata) {
        state.withLock { $0.trailers = trailers }
    }

    /// Whether the call was cancelled (client cancel, deadline, dropped connection).
    public var isCancelled: Bool { state.withLock { $0.cancelled } }
}
