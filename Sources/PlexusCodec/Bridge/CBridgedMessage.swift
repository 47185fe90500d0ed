#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CProtobufC

/// A message whose wire form goes through protobuf-c's generated C descriptors.
///
/// Generated code conforms every message to this protocol; the members prefixed with `_c` are
/// the generator's contract with the runtime and are not meant to be called by hand.
public protocol CBridgedMessage: ProtoMessage {
    /// The protoc-c descriptor of this message's C structure.
    static var _cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { get }
    /// Whether this message can contain messages nested without bound (a cycle in its type
    /// graph), in which case decoding first checks the nesting depth.
    static var _cNeedsDepthCheck: Bool { get }
    /// Builds the value from an unpacked C structure.
    init(_cReader reader: CMessageReader) throws(CodecError)
    /// Writes the value's fields into a zero-initialised C structure.
    func _cFill(_ writer: inout CMessageWriter)
}

/// The largest nesting depth of messages the decoder accepts (the protobuf default).
public let protoMaxNestingDepth = 100

extension CBridgedMessage {
    @inlinable
    public static var _cNeedsDepthCheck: Bool { false }

    @inlinable
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try CBridge.decode(Self.self, from: bytes)
    }

    @inlinable
    public func serializedBytes() -> [UInt8] {
        CBridge.encode(self)
    }

    @inlinable
    public var serializedSize: Int {
        CBridge.packedSize(self)
    }

    /// Appends the wire form of this message to `buffer` (no intermediate array).
    @inlinable
    public func serialize(appendingTo buffer: inout [UInt8]) {
        CBridge.encode(self, appendingTo: &buffer)
    }
}

/// Packs and unpacks generated messages with protobuf-c.
public enum CBridge {
    /// Decodes `type` from `bytes` through protobuf-c.
    @inlinable
    public static func decode<M: CBridgedMessage>(_ type: M.Type, from bytes: UnsafeRawBufferPointer) throws(CodecError) -> M {
        if M._cNeedsDepthCheck {
            guard NestingLimit.isWithin(protoMaxNestingDepth, bytes: bytes, descriptor: M._cDescriptor) else {
                throw CodecError.nestingTooDeep(type: M.protoMessageName, limit: protoMaxNestingDepth)
            }
        }
        var allocator = LargeBlockCache.allocator
        let message = bytes.withMemoryRebound(to: UInt8.self) { buffer -> UnsafeMutablePointer<ProtobufCMessage>? in
            // protobuf-c wants a non-null pointer even for an empty message.
            var empty: UInt8 = 0
            if let base = buffer.baseAddress {
                return protobuf_c_message_unpack(M._cDescriptor, &allocator, buffer.count, base)
            }
            return protobuf_c_message_unpack(M._cDescriptor, &allocator, 0, &empty)
        }
        guard let message else {
            throw CodecError.malformed(type: M.protoMessageName)
        }
        defer { protobuf_c_message_free_unpacked(message, &allocator) }
        return try M(_cReader: CMessageReader(message: UnsafeRawPointer(message), typeName: M.protoMessageName))
    }

    /// Runs `body` with the message laid out as a C structure (valid only inside `body`).
    @inlinable
    public static func withCMessage<M: CBridgedMessage, R>(_ message: M, _ body: (UnsafePointer<ProtobufCMessage>) -> R) -> R {
        EncodeArena.with { arena in
            let cMessage = arena.pointee.allocateMessage(M._cDescriptor)
            var writer = CMessageWriter(message: cMessage, arena: arena)
            message._cFill(&writer)
            return body(UnsafePointer(cMessage.assumingMemoryBound(to: ProtobufCMessage.self)))
        }
    }

    /// The wire form of `message`.
    ///
    /// Small messages are packed in one pass into scratch memory and copied out (cheaper than
    /// protobuf-c's separate size pass); large ones are sized first and packed in place.
    @inlinable
    public static func encode<M: CBridgedMessage>(_ message: M) -> [UInt8] {
        EncodeArena.with { arena in
            let cMessage = arena.pointee.allocateMessage(M._cDescriptor)
            var writer = CMessageWriter(message: cMessage, arena: arena)
            message._cFill(&writer)
            let packed = UnsafePointer(cMessage.assumingMemoryBound(to: ProtobufCMessage.self))
            if arena.pointee.pinned.isEmpty, let scratch = arena.pointee.scratch(EncodeArena.scratchBytes) {
                var simple = ProtobufCBufferSimple(
                    base: ProtobufCBuffer(append: protobuf_c_buffer_simple_append),
                    alloced: EncodeArena.scratchBytes, len: 0,
                    data: scratch.assumingMemoryBound(to: UInt8.self),
                    must_free_data: 0, allocator: nil)
                let length = withUnsafeMutablePointer(to: &simple) { pointer in
                    pointer.withMemoryRebound(to: ProtobufCBuffer.self, capacity: 1) { protobuf_c_message_pack_to_buffer(packed, $0) }
                }
                defer { if simple.must_free_data != 0 { free(simple.data) } }
                return [UInt8](UnsafeBufferPointer(start: simple.data, count: length))
            }
            let size = protobuf_c_message_get_packed_size(packed)
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBufferPointer { buffer in
                if let base = buffer.baseAddress { _ = protobuf_c_message_pack(packed, base) }
            }
            return bytes
        }
    }

    /// Appends the wire form of `message` to `buffer`.
    @inlinable
    public static func encode<M: CBridgedMessage>(_ message: M, appendingTo buffer: inout [UInt8]) {
        withCMessage(message) { cMessage in
            let size = protobuf_c_message_get_packed_size(cMessage)
            guard size > 0 else { return }
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: size))
            buffer.withUnsafeMutableBufferPointer { out in
                guard let base = out.baseAddress else { return }
                _ = protobuf_c_message_pack(cMessage, base + start)
            }
        }
    }

    /// The size of the wire form of `message`.
    @inlinable
    public static func packedSize<M: CBridgedMessage>(_ message: M) -> Int {
        withCMessage(message) { protobuf_c_message_get_packed_size($0) }
    }
}
