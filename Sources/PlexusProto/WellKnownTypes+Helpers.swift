import PlexusCodec

extension Google_Protobuf_Any {
    /// Packs `message` with the standard `type.googleapis.com/` URL prefix.
    public init<M: ProtoMessage>(packing message: M, typePrefix: String = "type.googleapis.com") {
        self.init()
        self.typeUrl = typePrefix + "/" + M.protoMessageName
        self.value = message.serializedBytes()
    }

    /// Whether this Any holds a message of type `M`.
    public func isA<M: ProtoMessage>(_ type: M.Type) -> Bool {
        typeUrl.split(separator: "/").last.map(String.init) == M.protoMessageName
    }

    /// The packed message, or nil when the Any holds another type.
    public func unpack<M: ProtoMessage>(_ type: M.Type) throws(CodecError) -> M? {
        guard isA(type) else { return nil }
        return try M(serializedBytes: value)
    }
}

extension Google_Protobuf_Duration {
    /// The protobuf duration for a Swift `Duration`.
    public init(_ duration: Swift.Duration) {
        self.init()
        let (seconds, attoseconds) = duration.components
        self.seconds = seconds
        self.nanos = Int32(attoseconds / 1_000_000_000)
    }

    /// This duration as a Swift `Duration`.
    public var swiftDuration: Swift.Duration {
        .seconds(seconds) + .nanoseconds(Int64(nanos))
    }
}

extension Google_Protobuf_Timestamp {
    /// A timestamp `seconds` + `nanos` after the Unix epoch.
    public init(unixNanoseconds: Int64) {
        self.init()
        var seconds = unixNanoseconds / 1_000_000_000
        var nanos = unixNanoseconds % 1_000_000_000
        if nanos < 0 {
            seconds -= 1
            nanos += 1_000_000_000
        }
        self.seconds = seconds
        self.nanos = Int32(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    public var unixNanoseconds: Int64 {
        seconds * 1_000_000_000 + Int64(nanos)
    }
}
