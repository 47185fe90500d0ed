import CProtobufC

/// Checks, before protobuf-c unpacks a message whose type can nest without bound, that the
/// wire data nests no deeper than a limit (protobuf-c itself has no limit and would recurse
/// until the stack runs out).
public enum NestingLimit {
    /// Whether `bytes`, read as `descriptor`'s message, nests at most `limit` messages deep.
    /// Malformed data returns true: protobuf-c rejects it with a precise error afterwards.
    public static func isWithin(_ limit: Int, bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> Bool {
        var reader = WireScanner(bytes: bytes)
        return scan(&reader, end: bytes.count, descriptor: descriptor, depth: 1, limit: limit)
    }

    static func scan(_ reader: inout WireScanner, end: Int, descriptor: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int, limit: Int) -> Bool {
        if depth > limit { return false }
        while reader.offset < end {
            guard let key = reader.varint() else { return true }
            let wireType = key & 7
            let number = UInt32(truncatingIfNeeded: key >> 3)
            switch wireType {
            case 0:
                guard reader.varint() != nil, reader.offset <= end else { return true }
            case 1:
                reader.offset += 8
                if reader.offset > end { return true }
            case 5:
                reader.offset += 4
                if reader.offset > end { return true }
            case 2:
                guard let length = reader.varint(), reader.offset <= end, length <= UInt64(end - reader.offset) else { return true }
                let childEnd = reader.offset + Int(length)
                if let field = protobuf_c_message_descriptor_get_field(descriptor, number),
                   field.pointee.type == PROTOBUF_C_TYPE_MESSAGE,
                   let child = field.pointee.descriptor?.assumingMemoryBound(to: ProtobufCMessageDescriptor.self) {
                    if !scan(&reader, end: childEnd, descriptor: child, depth: depth + 1, limit: limit) { return false }
                }
                reader.offset = childEnd
            default:
                return true
            }
        }
        return true
    }
}

/// A cursor over protobuf wire data that never reads out of bounds.
struct WireScanner {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }
}
