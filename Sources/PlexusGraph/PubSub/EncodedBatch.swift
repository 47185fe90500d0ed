import DequeModule
import PlexusCodec
import PlexusProto

/// A `plexus.graph.v1.TopicBatch` kept as its wire bytes. Publishers build it by appending each
/// message's already-encoded payload once; subscribers walk it and decode each payload in place.
/// The bytes are exactly what the generated `Plexus_Graph_V1_TopicBatch` reads and writes (other
/// languages use their ordinary protobuf types); this only skips a decode/encode pass and two
/// copies of every payload.
@usableFromInline
struct EncodedBatch: ProtoMessage {
    @usableFromInline
    static let protoMessageName = "plexus.graph.v1.TopicBatch"
    @usableFromInline
    var unknownFields = UnknownFields()

    /// What the batch holds: wire bytes (received), or messages a publisher queued, written
    /// straight into the connection's output buffer with no intermediate copy.
    @usableFromInline
    enum Storage: Sendable {
        case wire([UInt8])
        case outgoing(Deque<Plexus_Graph_V1_TopicMessage>, dropped: UInt64)
    }
    @usableFromInline
    var storage: Storage

    /// The batch's wire bytes (built on demand for an outgoing batch).
    var bytes: [UInt8] {
        get {
            if case .wire(let bytes) = storage { return bytes }
            var out: [UInt8] = []
            out.reserveCapacity(serializedSize)
            serialize(appendingTo: &out)
            return out
        }
        set { storage = .wire(newValue) }
    }

    @usableFromInline
    init() { storage = .wire([]) }

    @usableFromInline
    init(serializedBytes raw: UnsafeRawBufferPointer) throws(CodecError) {
        storage = .wire(Array(raw))
    }

    /// Takes the request plane's payload array as it is: no copy of the batch.
    @usableFromInline
    init(serializedBytes array: [UInt8]) throws(CodecError) {
        storage = .wire(array)
    }

    /// A batch of messages (TopicBatch.messages = 1, TopicMessage fields 1..3) and the dropped
    /// count (2).
    init(messages: Deque<Plexus_Graph_V1_TopicMessage>, dropped: UInt64) {
        storage = .outgoing(messages, dropped: dropped)
    }

    init(messages: some Collection<Plexus_Graph_V1_TopicMessage>, dropped: UInt64) {
        self.init(messages: Deque(messages), dropped: dropped)
    }

    @usableFromInline
    func serializedBytes() -> [UInt8] { bytes }

    @usableFromInline
    var serializedSize: Int {
        switch storage {
        case .wire(let bytes): return bytes.count
        case .outgoing(let messages, let dropped):
            var size = dropped > 0 ? 1 + Self.varintSize(dropped) : 0
            for m in messages {
                let inner = Self.innerSize(m)
                size += 1 + Self.varintSize(UInt64(inner)) + inner
            }
            return size
        }
    }

    /// Proto3 canonical form (default values omitted), byte for byte what protobuf writes.
    @usableFromInline
    func serialize(appendingTo out: inout [UInt8]) {
        switch storage {
        case .wire(let bytes): out.append(contentsOf: bytes)
        case .outgoing(let messages, let dropped):
            for m in messages {
                out.append(0x0A)  // field 1 (messages), length-delimited
                WireFields.appendVarint(UInt64(Self.innerSize(m)), to: &out)
                if m.sequence != 0 {
                    out.append(0x08)  // sequence
                    WireFields.appendVarint(m.sequence, to: &out)
                }
                if m.publishUnixNanos != 0 {
                    out.append(0x10)  // publish_unix_nanos
                    WireFields.appendVarint(m.publishUnixNanos, to: &out)
                }
                if !m.payload.isEmpty {
                    out.append(0x1A)  // payload
                    WireFields.appendVarint(UInt64(m.payload.count), to: &out)
                    out.append(contentsOf: m.payload)
                }
            }
            if dropped > 0 {
                out.append(0x10)  // field 2 (dropped)
                WireFields.appendVarint(dropped, to: &out)
            }
        }
    }

    static func innerSize(_ m: Plexus_Graph_V1_TopicMessage) -> Int {
        var inner = 0
        if m.sequence != 0 { inner += 1 + varintSize(m.sequence) }
        if m.publishUnixNanos != 0 { inner += 1 + varintSize(m.publishUnixNanos) }
        if !m.payload.isEmpty { inner += 1 + varintSize(UInt64(m.payload.count)) + m.payload.count }
        return inner
    }

    @usableFromInline
    static func == (a: EncodedBatch, b: EncodedBatch) -> Bool { a.bytes == b.bytes }
    @usableFromInline
    func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    static func varintSize(_ v: UInt64) -> Int {
        var n = 1
        var x = v
        while x >= 0x80 { x >>= 7; n += 1 }
        return n
    }

    /// Calls `body` with each message's publish time and payload (valid only during the call);
    /// returns the batch's dropped count. Unknown fields are skipped, as protobuf requires.
    @usableFromInline
    func forEachMessage(_ body: (UInt64, UnsafeRawBufferPointer) throws -> Void) throws -> UInt64 {
        try bytes.withUnsafeBytes { raw in
            var reader = Reader(raw: raw, position: 0, end: raw.count)
            var dropped: UInt64 = 0
            while reader.position < reader.end {
                let key = try reader.varint()
                switch (key >> 3, key & 7) {
                case (1, 2):
                    let length = try reader.length()
                    var inner = Reader(raw: raw, position: reader.position, end: reader.position + length)
                    reader.position += length
                    var nanos: UInt64 = 0
                    var payload = UnsafeRawBufferPointer(start: nil, count: 0)
                    while inner.position < inner.end {
                        let k = try inner.varint()
                        switch (k >> 3, k & 7) {
                        case (2, 0): nanos = try inner.varint()
                        case (3, 2):
                            let n = try inner.length()
                            payload = UnsafeRawBufferPointer(rebasing: raw[inner.position..<(inner.position + n)])
                            inner.position += n
                        default: try inner.skip(wireType: k & 7)
                        }
                    }
                    try body(nanos, payload)
                case (2, 0): dropped = try reader.varint()
                default: try reader.skip(wireType: key & 7)
                }
            }
            return dropped
        }
    }

    struct Reader {
        let raw: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < end, shift < 64 {
                let b = raw[position]
                position += 1
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
            throw CodecError.malformed(type: EncodedBatch.protoMessageName)
        }

        /// A length prefix that fits in what is left.
        mutating func length() throws -> Int {
            let v = try varint()
            guard v <= UInt64(end - position) else { throw CodecError.malformed(type: EncodedBatch.protoMessageName) }
            return Int(v)
        }

        mutating func skip(wireType: UInt64) throws {
            switch wireType {
            case 0: _ = try varint()
            case 1: position += 8
            case 2: position += try length()
            case 5: position += 4
            default: throw CodecError.malformed(type: EncodedBatch.protoMessageName)
            }
            if position > end { throw CodecError.malformed(type: EncodedBatch.protoMessageName) }
        }
    }
}
