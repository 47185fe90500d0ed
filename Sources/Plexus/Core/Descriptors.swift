/// The four call kinds.
public enum RPCKind: Sendable, Hashable {
    case unary, serverStreaming, clientStreaming, bidirectionalStreaming
}

/// A method: its service, name and kind. Its wire name is ``fullPath``.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// Fully qualified service name, e.g. `plexus.testing.v1.TestService`.
    public let service: String
    /// Method name, e.g. `UnaryCall`.
    public let method: String
    public let kind: RPCKind

    public init(service: String, method: String, kind: RPCKind) {
        self.service = service
        self.method = method
        self.kind = kind
    }

    /// `/package.Service/Method`.
    public var fullPath: String { "/\(service)/\(method)" }

    public var description: String { fullPath }
}

/// A service: its name and methods.
public struct ServiceDescriptor: Sendable {
    public let name: String
    public let methods: [MethodDescriptor]

    public init(name: String, methods: [MethodDescriptor]) {
        self.name = name
        self.methods = methods
    }
}

/// Options of one call.
public struct CallOptions: Sendable {
    /// How long the call may take; travels to the server, which cancels the handler when it
    /// passes. nil = no deadline.
    public var timeout: Duration?
    /// Request headers.
    public var metadata = Metadata()
    /// Largest response message accepted, in bytes (nil = the channel's
    /// ``ClientConfiguration/maxMessageSize``); a larger one fails the call with
    /// RESOURCE_EXHAUSTED. It can only lower the channel's limit, which the server is told in HELLO.
    public var maxResponseMessageSize: Int?

    public init(timeout: Duration? = nil, metadata: Metadata = Metadata(), maxResponseMessageSize: Int? = nil) {
        self.timeout = timeout
        self.metadata = metadata
        self.maxResponseMessageSize = maxResponseMessageSize
    }

    public static var defaults: CallOptions { CallOptions() }
}

/// A response with the metadata that came with it.
public struct ClientResponse<Message: Sendable>: Sendable {
    public var message: Message
    public var headers: Metadata
    public var trailers: Metadata
}
