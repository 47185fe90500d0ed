/// How a call ended: one of gRPC's 17 codes (same names and numbers), a message, and typed
/// details (each an encoded `google.protobuf.Any`).
public struct Status: Error, Sendable, Hashable, CustomStringConvertible {
    /// A status code. Unknown numbers from a peer are kept as they are.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let ok = Code(rawValue: 0)
        public static let cancelled = Code(rawValue: 1)
        public static let unknown = Code(rawValue: 2)
        public static let invalidArgument = Code(rawValue: 3)
        public static let deadlineExceeded = Code(rawValue: 4)
        public static let notFound = Code(rawValue: 5)
        public static let alreadyExists = Code(rawValue: 6)
        public static let permissionDenied = Code(rawValue: 7)
        public static let resourceExhausted = Code(rawValue: 8)
        public static let failedPrecondition = Code(rawValue: 9)
        public static let aborted = Code(rawValue: 10)
        public static let outOfRange = Code(rawValue: 11)
        public static let unimplemented = Code(rawValue: 12)
        public static let `internal` = Code(rawValue: 13)
        public static let unavailable = Code(rawValue: 14)
        public static let dataLoss = Code(rawValue: 15)
        public static let unauthenticated = Code(rawValue: 16)

        static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
            "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED",
        ]

        public var description: String {
            rawValue >= 0 && Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "CODE_\(rawValue)"
        }
    }

    public var code: Code
    public var message: String
    /// Encoded `google.protobuf.Any` details.
    public var details: [[UInt8]]

    public init(code: Code, message: String = "", details: [[UInt8]] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    public static let ok = Status(code: .ok)

    public var description: String {
        message.isEmpty ? code.description : "\(code): \(message)"
    }
}

/// The error a call fails with on the client, and that a handler may throw to choose its
/// status. Any other error a handler throws ends the call with UNKNOWN and the error's
/// description as the message.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Status.Code
    public var message: String
    /// Trailing metadata the server sent with the status.
    public var metadata: Metadata
    /// Typed details (encoded `google.protobuf.Any`).
    public var details: [[UInt8]]

    public init(code: Status.Code, message: String, metadata: Metadata = Metadata(), details: [[UInt8]] = []) {
        self.code = code
        self.message = message
        self.metadata = metadata
        self.details = details
    }

    init(status: Status, trailers: Metadata) {
        self.init(code: status.code, message: status.message, metadata: trailers, details: status.details)
    }

    var status: Status { Status(code: code, message: message, details: details) }

    public var description: String { "\(code): \(message)" }
}
