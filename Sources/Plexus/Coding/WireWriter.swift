/// Appends protobuf wire data to a byte array.
struct WireWriter {
    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func varintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    static func tag(_ field: UInt32, _ wireType: UInt8, into out: inout [UInt8]) {
        varint(UInt64(field << 3 | UInt32(wireType)), into: &out)
    }

    /// A varint field, skipped when zero (proto3).
    static func uint(_ field: UInt32, _ value: UInt64, into out: inout [UInt8]) {
        guard value != 0 else { return }
        tag(field, 0, into: &out)
        varint(value, into: &out)
    }

    /// A string or bytes field, skipped when empty (proto3).
    static func bytes<C: Collection>(_ field: UInt32, _ value: C, into out: inout [UInt8]) where C.Element == UInt8 {
        guard !value.isEmpty else { return }
        tag(field, 2, into: &out)
        varint(UInt64(value.count), into: &out)
        out.append(contentsOf: value)
    }

    static func string(_ field: UInt32, _ value: String, into out: inout [UInt8]) {
        bytes(field, value.utf8, into: &out)
    }

    static func uintSize(_ field: UInt32, _ value: UInt64) -> Int {
        value == 0 ? 0 : varintSize(UInt64(field << 3)) + varintSize(value)
    }

    static func bytesSize(_ field: UInt32, _ count: Int) -> Int {
        count == 0 ? 0 : varintSize(UInt64(field << 3)) + varintSize(UInt64(count)) + count
    }

    /// A nested message field whose encoded size is known (written even when empty).
    static func message(_ field: UInt32, size: Int, into out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        tag(field, 2, into: &out)
        varint(UInt64(size), into: &out)
        body(&out)
    }

    static func messageSize(_ field: UInt32, _ size: Int) -> Int {
        varintSize(UInt64(field << 3)) + varintSize(UInt64(size)) + size
    }
}

/// Reads protobuf wire data without ever reading out of bounds.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func varint() throws(FrameError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw FrameError.malformedHeader("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw FrameError.malformedHeader("varint longer than 10 bytes") }
        }
        throw FrameError.malformedHeader("truncated varint")
    }

    /// The next field's number and wire type, or nil at the end.
    mutating func field() throws(FrameError) -> (number: UInt32, wireType: UInt8)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        let number = UInt32(truncatingIfNeeded: key >> 3)
        guard number > 0 else { throw FrameError.malformedHeader("field number 0") }
        return (number, UInt8(key & 7))
    }

    mutating func lengthDelimited() throws(FrameError) -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else { throw FrameError.malformedHeader("length past the end") }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
        offset += Int(length)
        return slice
    }

    mutating func string() throws(FrameError) -> String {
        let raw = try lengthDelimited()
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw FrameError.malformedHeader("string is not valid UTF-8")
        }
        return string
    }

    mutating func skip(_ wireType: UInt8) throws(FrameError) {
        switch wireType {
        case 0: _ = try varint()
        case 1: try advance(8)
        case 2: _ = try lengthDelimited()
        case 5: try advance(4)
        default: throw FrameError.malformedHeader("unsupported wire type \(wireType)")
        }
    }

    mutating func advance(_ count: Int) throws(FrameError) {
        guard count <= bytes.count - offset else { throw FrameError.malformedHeader("truncated fixed-size field") }
        offset += count
    }

    /// Checks a field's wire type.
    static func expect(_ wireType: UInt8, _ expected: UInt8, _ field: String) throws(FrameError) {
        guard wireType == expected else { throw FrameError.malformedHeader("field \(field) has wire type \(wireType), expected \(expected)") }
    }
}
