import CProtobufC

/// A read-only view of an unpacked protobuf-c message, addressing fields by their index in the
/// descriptor (protoc-c orders a message's fields by number; the generator uses that order).
///
/// Generated code calls it; offsets come from the descriptor, so no C struct member names are
/// needed.
public struct CMessageReader {
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let fields: UnsafePointer<ProtobufCFieldDescriptor>
    @usableFromInline let typeName: String

    @usableFromInline static var noFields: UnsafePointer<ProtobufCFieldDescriptor> { UnsafePointer(bitPattern: 16).unsafelyUnwrapped }

    @inlinable
    init(message: UnsafeRawPointer, typeName: String) {
        self.base = message
        let descriptor = message.load(as: UnsafePointer<ProtobufCMessageDescriptor>.self)
        // A message without fields has a null field table; no field accessor is ever called then.
        self.fields = descriptor.pointee.fields ?? Self.noFields
        self.typeName = typeName
    }

    @inlinable
    func field(_ index: Int) -> UnsafePointer<ProtobufCFieldDescriptor> {
        fields + index
    }

    @inlinable
    func member(_ index: Int) -> UnsafeRawPointer {
        base + Int(fields[index].offset)
    }

    @inlinable
    func quantifier(_ index: Int) -> UnsafeRawPointer {
        base + Int(fields[index].quantifier_offset)
    }

    // MARK: Singular values

    /// A fixed-size scalar (integers, floats, enums as Int32).
    @inlinable
    public func scalar<T: BitwiseCopyable>(_ index: Int, as type: T.Type = T.self) -> T {
        member(index).loadUnaligned(as: T.self)
    }

    /// A bool (protobuf-c stores it as an `int`).
    @inlinable
    public func bool(_ index: Int) -> Bool {
        member(index).loadUnaligned(as: Int32.self) != 0
    }

    /// A string field, validated as UTF-8.
    @inlinable
    public func string(_ index: Int) throws(CodecError) -> String {
        guard let pointer = member(index).loadUnaligned(as: UnsafePointer<CChar>?.self) else { return "" }
        return try makeString(pointer, index)
    }

    @inlinable
    func makeString(_ pointer: UnsafePointer<CChar>, _ index: Int) throws(CodecError) -> String {
        if pointer.pointee == 0 { return "" }
        guard let string = String(validatingCString: pointer) else {
            throw CodecError.invalidUTF8(type: typeName, field: String(cString: fields[index].name))
        }
        return string
    }

    /// A bytes field.
    @inlinable
    public func bytes(_ index: Int) -> [UInt8] {
        Self.bytes(member(index).loadUnaligned(as: ProtobufCBinaryData.self))
    }

    @inlinable
    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let pointer = data.data else { return [] }
        // One memcpy (the generic Array(sequence) path copies byte by byte in debug builds).
        return [UInt8](unsafeUninitializedCapacity: data.len) { buffer, count in
            if let base = buffer.baseAddress { base.update(from: pointer, count: data.len) }
            count = data.len
        }
    }

    /// A message field, or nil when absent.
    @inlinable
    public func message<M: CBridgedMessage>(_ index: Int, _ type: M.Type = M.self) throws(CodecError) -> M? {
        guard let pointer = member(index).loadUnaligned(as: UnsafeRawPointer?.self) else { return nil }
        return try M(_cReader: CMessageReader(message: pointer, typeName: M.protoMessageName))
    }

    // MARK: Presence (proto2 optional, oneofs)

    /// Whether a proto2 optional scalar or bytes field is present (its `has_` flag).
    @inlinable
    public func has(_ index: Int) -> Bool {
        let field = fields[index]
        switch field.type {
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_MESSAGE:
            // Absent strings point at the default value (or are null).
            guard let pointer = member(index).loadUnaligned(as: UnsafeRawPointer?.self) else { return false }
            return pointer != field.default_value
        default:
            return quantifier(index).loadUnaligned(as: Int32.self) != 0
        }
    }

    /// The field number of the member set in a oneof (0 when none), read through any member.
    @inlinable
    public func oneofCase(_ index: Int) -> UInt32 {
        quantifier(index).loadUnaligned(as: UInt32.self)
    }

    // MARK: Repeated values

    @inlinable
    func count(_ index: Int) -> Int {
        quantifier(index).loadUnaligned(as: Int.self)
    }

    /// A repeated fixed-size scalar field.
    @inlinable
    public func repeated<T: BitwiseCopyable>(_ index: Int, as type: T.Type = T.self) -> [T] {
        let n = count(index)
        guard n > 0, let pointer = member(index).loadUnaligned(as: UnsafeRawPointer?.self) else { return [] }
        return [T](UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: T.self), count: n))
    }

    /// A repeated bool field.
    @inlinable
    public func repeatedBool(_ index: Int) -> [Bool] {
        repeated(index, as: Int32.self).map { $0 != 0 }
    }

    /// A repeated string field.
    @inlinable
    public func repeatedString(_ index: Int) throws(CodecError) -> [String] {
        let n = count(index)
        guard n > 0, let pointer = member(index).loadUnaligned(as: UnsafePointer<UnsafePointer<CChar>?>?.self) else { return [] }
        var result: [String] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            if let string = pointer[i] {
                result.append(try makeString(string, index))
            } else {
                result.append("")
            }
        }
        return result
    }

    /// A repeated bytes field.
    @inlinable
    public func repeatedBytes(_ index: Int) -> [[UInt8]] {
        let n = count(index)
        guard n > 0, let pointer = member(index).loadUnaligned(as: UnsafePointer<ProtobufCBinaryData>?.self) else { return [] }
        return (0..<n).map { Self.bytes(pointer[$0]) }
    }

    /// A repeated message field.
    @inlinable
    public func repeatedMessage<M: CBridgedMessage>(_ index: Int, _ type: M.Type = M.self) throws(CodecError) -> [M] {
        let n = count(index)
        guard n > 0, let pointer = member(index).loadUnaligned(as: UnsafePointer<UnsafeRawPointer?>?.self) else { return [] }
        var result: [M] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            if let element = pointer[i] {
                result.append(try M(_cReader: CMessageReader(message: element, typeName: M.protoMessageName)))
            } else {
                result.append(M())
            }
        }
        return result
    }

    /// A map field: protoc-c represents it as repeated entry messages with key (index 0) and
    /// value (index 1); `entry` reads one of them.
    @inlinable
    public func map<K: Hashable, V>(_ index: Int, entry: (CMessageReader) throws(CodecError) -> (K, V)) throws(CodecError) -> [K: V] {
        let n = count(index)
        guard n > 0, let pointer = member(index).loadUnaligned(as: UnsafePointer<UnsafeRawPointer?>?.self) else { return [:] }
        var result: [K: V] = [:]
        result.reserveCapacity(n)
        for i in 0..<n {
            guard let element = pointer[i] else { continue }
            let (key, value) = try entry(CMessageReader(message: element, typeName: typeName))
            result[key] = value
        }
        return result
    }

    // MARK: Unknown fields

    /// The fields protobuf-c did not recognise.
    @inlinable
    public func unknownFields() -> UnknownFields {
        let message = base.assumingMemoryBound(to: ProtobufCMessage.self).pointee
        let n = Int(message.n_unknown_fields)
        guard n > 0, let list = message.unknown_fields else { return UnknownFields() }
        var fields: [UnknownFields.Field] = []
        fields.reserveCapacity(n)
        for i in 0..<n {
            let field = list[i]
            let data: [UInt8]
            if field.len > 0, let pointer = field.data {
                data = [UInt8](UnsafeBufferPointer(start: pointer, count: field.len))
            } else {
                data = []
            }
            fields.append(UnknownFields.Field(number: field.tag, wireType: UInt8(truncatingIfNeeded: field.wire_type.rawValue), data: data))
        }
        return UnknownFields(fields: fields)
    }
}
