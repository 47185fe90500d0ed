import CProtobufC

/// Fills a protobuf-c message structure from Swift values, addressing fields by their index in
/// the descriptor. All memory comes from the encode's ``EncodeArena``.
public struct CMessageWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let fields: UnsafePointer<ProtobufCFieldDescriptor>
    @usableFromInline let arena: UnsafeMutablePointer<EncodeArena>

    @usableFromInline static var noFields: UnsafePointer<ProtobufCFieldDescriptor> { UnsafePointer(bitPattern: 16).unsafelyUnwrapped }

    @inlinable
    init(message: UnsafeMutableRawPointer, arena: UnsafeMutablePointer<EncodeArena>) {
        self.base = message
        let descriptor = message.load(as: UnsafePointer<ProtobufCMessageDescriptor>.self)
        // A message without fields has a null field table; no field accessor is ever called then.
        self.fields = descriptor.pointee.fields ?? Self.noFields
        self.arena = arena
    }

    @inlinable
    func member(_ index: Int) -> UnsafeMutableRawPointer {
        base + Int(fields[index].offset)
    }

    @inlinable
    func quantifier(_ index: Int) -> UnsafeMutableRawPointer {
        base + Int(fields[index].quantifier_offset)
    }

    // MARK: Singular values

    /// Sets a fixed-size scalar (integers, floats, enums as Int32).
    @inlinable
    public func setScalar<T: BitwiseCopyable>(_ index: Int, _ value: T) {
        member(index).storeBytes(of: value, as: T.self)
    }

    /// Sets a bool.
    @inlinable
    public func setBool(_ index: Int, _ value: Bool) {
        member(index).storeBytes(of: value ? 1 : 0, as: Int32.self)
    }

    /// Marks a proto2 optional scalar or bytes field present.
    @inlinable
    public func setHas(_ index: Int) {
        quantifier(index).storeBytes(of: 1, as: Int32.self)
    }

    /// Marks which member of a oneof is set.
    @inlinable
    public func setOneofCase(_ index: Int) {
        quantifier(index).storeBytes(of: fields[index].id, as: UInt32.self)
    }

    /// Sets a string field.
    @inlinable
    public func setString(_ index: Int, _ value: String) {
        member(index).storeBytes(of: UnsafePointer(arena.pointee.cString(value)), as: UnsafePointer<CChar>?.self)
    }

    /// Sets a bytes field.
    @inlinable
    public func setBytes(_ index: Int, _ value: [UInt8]) {
        member(index).storeBytes(of: binaryData(value), as: ProtobufCBinaryData.self)
    }

    @inlinable
    func binaryData(_ value: [UInt8]) -> ProtobufCBinaryData {
        if value.count >= EncodeArena.pinThreshold {
            // Large payloads are not copied: the arena keeps the array alive (and unmutated)
            // until the pack is done, and protobuf-c reads its storage directly.
            let base = arena.pointee.pin(value)
            return ProtobufCBinaryData(len: value.count, data: UnsafeMutablePointer(mutating: base))
        }
        let copy = value.withUnsafeBytes { arena.pointee.copy($0) }
        return ProtobufCBinaryData(len: value.count, data: copy.assumingMemoryBound(to: UInt8.self))
    }

    /// Sets a message field.
    @inlinable
    public func setMessage<M: CBridgedMessage>(_ index: Int, _ value: M) {
        member(index).storeBytes(of: UnsafeRawPointer(makeMessage(value)), as: UnsafeRawPointer?.self)
    }

    @inlinable
    func makeMessage<M: CBridgedMessage>(_ value: M) -> UnsafeMutableRawPointer {
        let pointer = arena.pointee.allocateMessage(M._cDescriptor)
        var writer = CMessageWriter(message: pointer, arena: arena)
        value._cFill(&writer)
        return pointer
    }

    // MARK: Repeated values

    @inlinable
    func setArray(_ index: Int, count: Int, elementSize: Int) -> UnsafeMutableRawPointer {
        let pointer = arena.pointee.allocate(count * elementSize)
        quantifier(index).storeBytes(of: count, as: Int.self)
        member(index).storeBytes(of: UnsafeMutableRawPointer?(pointer), as: UnsafeMutableRawPointer?.self)
        return pointer
    }

    /// Sets a repeated fixed-size scalar field.
    @inlinable
    public func setRepeated<T: BitwiseCopyable>(_ index: Int, _ values: [T]) {
        guard !values.isEmpty else { return }
        let pointer = setArray(index, count: values.count, elementSize: MemoryLayout<T>.stride)
        values.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: $0.count) }
    }

    /// Sets a repeated bool field.
    @inlinable
    public func setRepeatedBool(_ index: Int, _ values: [Bool]) {
        guard !values.isEmpty else { return }
        let pointer = setArray(index, count: values.count, elementSize: 4).assumingMemoryBound(to: Int32.self)
        for (i, value) in values.enumerated() { pointer[i] = value ? 1 : 0 }
    }

    /// Sets a repeated string field.
    @inlinable
    public func setRepeatedString(_ index: Int, _ values: [String]) {
        guard !values.isEmpty else { return }
        let stride = MemoryLayout<UnsafePointer<CChar>?>.stride
        let pointer = setArray(index, count: values.count, elementSize: stride).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
        for (i, value) in values.enumerated() { pointer[i] = UnsafePointer(arena.pointee.cString(value)) }
    }

    /// Sets a repeated bytes field.
    @inlinable
    public func setRepeatedBytes(_ index: Int, _ values: [[UInt8]]) {
        guard !values.isEmpty else { return }
        let stride = MemoryLayout<ProtobufCBinaryData>.stride
        let pointer = setArray(index, count: values.count, elementSize: stride).assumingMemoryBound(to: ProtobufCBinaryData.self)
        for (i, value) in values.enumerated() { pointer[i] = binaryData(value) }
    }

    /// Sets a repeated message field.
    @inlinable
    public func setRepeatedMessage<M: CBridgedMessage>(_ index: Int, _ values: [M]) {
        guard !values.isEmpty else { return }
        let stride = MemoryLayout<UnsafeMutableRawPointer?>.stride
        let pointer = setArray(index, count: values.count, elementSize: stride).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        for (i, value) in values.enumerated() { pointer[i] = makeMessage(value) }
    }

    /// Sets a map field as protoc-c's repeated entry messages, in the deterministic key order
    /// protobuf implementations use (so the bytes match theirs); `entry` writes key and value.
    @inlinable
    public func setMap<K: ProtoMapKey, V>(_ index: Int, _ values: [K: V], entry: (CMessageWriter, K, V) -> Void) {
        guard !values.isEmpty else { return }
        guard let entryDescriptor = fields[index].descriptor?.assumingMemoryBound(to: ProtobufCMessageDescriptor.self) else { return }
        let stride = MemoryLayout<UnsafeMutableRawPointer?>.stride
        let pointer = setArray(index, count: values.count, elementSize: stride).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        for (i, key) in values.keys.sorted(by: K.protoOrder).enumerated() {
            let element = arena.pointee.allocateMessage(entryDescriptor)
            // The key exists: it came from the dictionary's own keys.
            if let value = values[key] {
                entry(CMessageWriter(message: element, arena: arena), key, value)
            }
            pointer[i] = element
        }
    }

    // MARK: Unknown fields

    /// Writes back fields an earlier decode did not know.
    @inlinable
    public func setUnknownFields(_ unknown: UnknownFields) {
        guard !unknown.isEmpty else { return }
        let count = unknown.fields.count
        let list = arena.pointee.allocate(count * MemoryLayout<ProtobufCMessageUnknownField>.stride)
            .assumingMemoryBound(to: ProtobufCMessageUnknownField.self)
        for (i, field) in unknown.fields.enumerated() {
            let data = field.data.withUnsafeBytes { arena.pointee.copy($0) }
            list[i] = ProtobufCMessageUnknownField(
                tag: field.number,
                wire_type: ProtobufCWireType(rawValue: UInt32(field.wireType)),
                len: field.data.count,
                data: data.assumingMemoryBound(to: UInt8.self))
        }
        let message = base.assumingMemoryBound(to: ProtobufCMessage.self)
        message.pointee.n_unknown_fields = UInt32(count)
        message.pointee.unknown_fields = list
    }
}

/// A type protobuf allows as a map key, with the order deterministic encoders sort keys in.
public protocol ProtoMapKey: Hashable, Sendable {
    /// Whether `lhs` sorts before `rhs` in deterministic serialization.
    static func protoOrder(_ lhs: Self, _ rhs: Self) -> Bool
}

extension Int32: ProtoMapKey { public static func protoOrder(_ l: Int32, _ r: Int32) -> Bool { l < r } }
extension Int64: ProtoMapKey { public static func protoOrder(_ l: Int64, _ r: Int64) -> Bool { l < r } }
extension UInt32: ProtoMapKey { public static func protoOrder(_ l: UInt32, _ r: UInt32) -> Bool { l < r } }
extension UInt64: ProtoMapKey { public static func protoOrder(_ l: UInt64, _ r: UInt64) -> Bool { l < r } }
extension Bool: ProtoMapKey { public static func protoOrder(_ l: Bool, _ r: Bool) -> Bool { !l && r } }
extension String: ProtoMapKey {
    /// Byte-wise UTF-8 order, as protobuf's deterministic serialization uses.
    public static func protoOrder(_ l: String, _ r: String) -> Bool {
        l.utf8.lexicographicallyPrecedes(r.utf8)
    }
}
