/// One field occurrence in protobuf wire format, read without the message's generated type.
public enum WireValue: Sendable, Hashable {
    case varint(UInt64)
    case fixed64(UInt64)
    case fixed32(UInt32)
    case lengthDelimited([UInt8])
}

/// A field number with one wire value.
public struct WireField: Sendable, Hashable {
    public var number: UInt32
    public var value: WireValue

    public init(number: UInt32, value: WireValue) {
        self.number = number
        self.value = value
    }
}

/// Reads and writes the top level of a protobuf message as a list of fields, in wire order.
/// The graph server and the CLI use it to check and patch settings messages whose generated
/// type they do not have.
public enum WireFields {
    /// Splits `bytes` into fields; throws when the bytes are not well-formed protobuf.
    public static func parse(_ bytes: [UInt8]) throws(SettingsError) -> [WireField] {
        var fields: [WireField] = []
        var i = 0
        func varint() throws(SettingsError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < bytes.count else { throw .malformed("a varint runs past the end of the message") }
                let b = bytes[i]
                i += 1
                if shift == 63 && b > 1 { throw .malformed("a varint is longer than 64 bits") }
                result |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return result }
                shift += 7
                if shift > 63 { throw .malformed("a varint is longer than 10 bytes") }
            }
        }
        while i < bytes.count {
            let key = try varint()
            let number = key >> 3
            guard number > 0, number <= 536_870_911 else { throw .malformed("field number \(number) is out of range") }
            let value: WireValue
            switch key & 7 {
            case 0: value = .varint(try varint())
            case 1:
                guard i + 8 <= bytes.count else { throw .malformed("a fixed64 field runs past the end") }
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
                i += 8
                value = .fixed64(v)
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.count - i) else { throw .malformed("a length-delimited field runs past the end") }
                value = .lengthDelimited(Array(bytes[i..<(i + Int(length))]))
                i += Int(length)
            case 5:
                guard i + 4 <= bytes.count else { throw .malformed("a fixed32 field runs past the end") }
                var v: UInt32 = 0
                for k in 0..<4 { v |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
                i += 4
                value = .fixed32(v)
            default:
                throw .malformed("wire type \(key & 7) of field \(number) is not supported (groups are not allowed in settings)")
            }
            fields.append(WireField(number: UInt32(number), value: value))
        }
        return fields
    }

    /// Encodes fields in the given order.
    public static func encode(_ fields: [WireField]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.count * 8)
        for field in fields {
            append(field, to: &out)
        }
        return out
    }

    static func append(_ field: WireField, to out: inout [UInt8]) {
        let wireType: UInt64
        switch field.value {
        case .varint: wireType = 0
        case .fixed64: wireType = 1
        case .lengthDelimited: wireType = 2
        case .fixed32: wireType = 5
        }
        appendVarint(UInt64(field.number) << 3 | wireType, to: &out)
        switch field.value {
        case .varint(let v): appendVarint(v, to: &out)
        case .fixed64(let v): for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
        case .fixed32(let v): for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
        case .lengthDelimited(let b):
            appendVarint(UInt64(b.count), to: &out)
            out.append(contentsOf: b)
        }
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
