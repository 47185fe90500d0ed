/// What a frame does (`plexus.wire.v1.FrameKind`).
public enum FrameKind: UInt8, Sendable {
    case unspecified = 0, hello = 1, open = 2, message = 3, halfClose = 4, close = 5, cancel = 6
    case windowUpdate = 7, ping = 8, pong = 9, goAway = 10, headers = 11
}

/// `plexus.wire.v1.FrameFlag` bits.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The payload carries one message (possibly zero bytes long).
    public static let message = FrameFlags(rawValue: 1)
    /// The sender sends nothing more on this stream.
    public static let endStream = FrameFlags(rawValue: 2)
}

/// `plexus.wire.v1.Hello`: each side's limits, sent first on a connection.
public struct Hello: Sendable, Hashable {
    public var protocolVersion: UInt32 = 1
    public var maxMessageSize: UInt32 = 0
    public var maxConcurrentStreams: UInt32 = 0
    public var initialWindow: UInt32 = 0
    public var maxHeaderSize: UInt32 = 0
    public var authToken = ""
    public var agent = ""
    public init() {}
}

/// `plexus.wire.v1.GoAway`.
public struct GoAway: Sendable, Hashable {
    public var lastStreamID: UInt32 = 0
    public var code: Status.Code = .ok
    public var reason = ""
    public init(lastStreamID: UInt32 = 0, code: Status.Code = .ok, reason: String = "") {
        self.lastStreamID = lastStreamID
        self.code = code
        self.reason = reason
    }
}

/// `plexus.wire.v1.FrameHeader`, decoded by hand on the hot path (``FrameCodec``).
public struct FrameHeader: Sendable, Hashable {
    public var kind: FrameKind = .unspecified
    public var streamID: UInt32 = 0
    public var flags: FrameFlags = []
    public var method = ""
    public var headers = Metadata()
    public var timeoutMicros: UInt64 = 0
    public var status: Status?
    public var trailers = Metadata()
    public var windowIncrement: UInt32 = 0
    public var pingData: UInt64 = 0
    public var hello: Hello?
    public var goAway: GoAway?

    public init(kind: FrameKind, streamID: UInt32 = 0, flags: FrameFlags = []) {
        self.kind = kind
        self.streamID = streamID
        self.flags = flags
    }
}
