import PlexusProto

extension SchemaCodec {
    /// The exact scalar type of a field: its proto_type, or one derived from the coarse type.
    static func scalarType(_ f: Plexus_Settings_V1_SettingsFieldMetadata) -> String {
        if !f.protoType.isEmpty { return f.protoType }
        switch f.fieldType {
        case .bool: return "bool"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .float: return "float"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .enum: return "enum"
        default: return "message"
        }
    }

    static func enumName(_ f: Plexus_Settings_V1_SettingsFieldMetadata, _ n: Int32) -> String? {
        f.enumValues.first { $0.number == n }?.name
    }

    /// Decodes the wire values of one field (the last one wins for singular fields; repeated
    /// fields accept packed and unpacked elements).
    static func decodeField(_ f: Plexus_Settings_V1_SettingsFieldMetadata, _ values: [WireValue]) throws(SettingsError) -> SettingsValue {
        let type = scalarType(f)
        var elements: [SettingsValue] = []
        for w in values {
            if case .lengthDelimited(let bytes) = w, isPackable(type) {
                if f.repeated {
                    elements.append(contentsOf: try unpack(bytes, f, type))
                    continue
                }
                throw .typeMismatch(field: f.name, expected: type, got: "a length-delimited value")
            }
            elements.append(try decodeScalar(w, f, type))
        }
        if f.repeated { return .list(elements) }
        return elements.last ?? defaultValue(f, type)
    }

    static func isPackable(_ type: String) -> Bool {
        !["string", "bytes", "message"].contains(type)
    }

    static func defaultValue(_ f: Plexus_Settings_V1_SettingsFieldMetadata, _ type: String) -> SettingsValue {
        switch type {
        case "bool": return .bool(false)
        case "int32", "int64", "sint32", "sint64", "sfixed32", "sfixed64": return .int(0)
        case "uint32", "uint64", "fixed32", "fixed64": return .uint(0)
        case "float", "double": return .double(0)
        case "string": return .string("")
        case "bytes": return .bytes([])
        case "enum": return .enumValue(number: 0, name: enumName(f, 0))
        default: return .message([])
        }
    }

    static func unpack(_ bytes: [UInt8], _ f: Plexus_Settings_V1_SettingsFieldMetadata, _ type: String) throws(SettingsError) -> [SettingsValue] {
        // Re-read the packed run as a sequence of fields with a synthetic key per element.
        var out: [SettingsValue] = []
        var i = 0
        while i < bytes.count {
            switch type {
            case "double", "fixed64", "sfixed64":
                guard i + 8 <= bytes.count else { throw .malformed("packed field '\(f.name)' is truncated") }
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
                i += 8
                out.append(try decodeScalar(.fixed64(v), f, type))
            case "float", "fixed32", "sfixed32":
                guard i + 4 <= bytes.count else { throw .malformed("packed field '\(f.name)' is truncated") }
                var v: UInt32 = 0
                for k in 0..<4 { v |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
                i += 4
                out.append(try decodeScalar(.fixed32(v), f, type))
            default:
                var v: UInt64 = 0
                var shift: UInt64 = 0
                while true {
                    guard i < bytes.count, shift < 64 else { throw .malformed("packed field '\(f.name)' has a bad varint") }
                    let b = bytes[i]
                    i += 1
                    v |= UInt64(b & 0x7f) << shift
                    if b < 0x80 { break }
                    shift += 7
                }
                out.append(try decodeScalar(.varint(v), f, type))
            }
        }
        return out
    }

    static func decodeScalar(_ w: WireValue, _ f: Plexus_Settings_V1_SettingsFieldMetadata, _ type: String) throws(SettingsError) -> SettingsValue {
        switch (type, w) {
        case ("bool", .varint(let v)): return .bool(v != 0)
        case ("int32", .varint(let v)): return .int(Int64(Int32(truncatingIfNeeded: v)))
        case ("int64", .varint(let v)): return .int(Int64(bitPattern: v))
        case ("sint32", .varint(let v)), ("sint64", .varint(let v)):
            return .int(Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))))
        case ("uint32", .varint(let v)): return .uint(UInt64(UInt32(truncatingIfNeeded: v)))
        case ("uint64", .varint(let v)): return .uint(v)
        case ("enum", .varint(let v)):
            let n = Int32(truncatingIfNeeded: v)
            return .enumValue(number: n, name: enumName(f, n))
        case ("fixed64", .fixed64(let v)): return .uint(v)
        case ("sfixed64", .fixed64(let v)): return .int(Int64(bitPattern: v))
        case ("double", .fixed64(let v)): return .double(Double(bitPattern: v))
        case ("fixed32", .fixed32(let v)): return .uint(UInt64(v))
        case ("sfixed32", .fixed32(let v)): return .int(Int64(Int32(bitPattern: v)))
        case ("float", .fixed32(let v)): return .double(Double(Float(bitPattern: v)))
        case ("string", .lengthDelimited(let b)):
            guard let s = String(validating: b, as: UTF8.self) else {
                throw .typeMismatch(field: f.name, expected: "UTF-8 text", got: "invalid UTF-8")
            }
            return .string(s)
        case ("bytes", .lengthDelimited(let b)): return .bytes(b)
        case ("message", .lengthDelimited(let b)): return .message(b)
        default:
            throw .typeMismatch(field: f.name, expected: type, got: "wire value \(w)")
        }
    }

    /// Converts an API FieldValue to the field's type, checking integer ranges.
    static func convert(_ value: Plexus_Settings_V1_FieldValue, for f: Plexus_Settings_V1_SettingsFieldMetadata) throws(SettingsError) -> SettingsValue {
        let type = scalarType(f)
        guard let kind = value.kind else { throw .typeMismatch(field: f.name, expected: type, got: "no value") }
        if f.repeated {
            guard case .list(let list) = kind else { throw .typeMismatch(field: f.name, expected: "a list of \(type)", got: "one value") }
            var single = f
            single.repeated = false
            var items: [SettingsValue] = []
            for item in list.values { items.append(try convert(item, for: single)) }
            return .list(items)
        }
        func int(_ lo: Int64, _ hi: Int64) throws(SettingsError) -> SettingsValue {
            let v: Int64
            switch kind {
            case .intValue(let i): v = i
            case .uintValue(let u) where u <= UInt64(Int64.max): v = Int64(u)
            case .doubleValue(let d) where d.rounded() == d && d >= -9.2e18 && d <= 9.2e18: v = Int64(d)
            default: throw .typeMismatch(field: f.name, expected: "an integer (\(type))", got: describe(kind))
            }
            guard v >= lo && v <= hi else { throw .outOfRange(field: f.name, value: String(v), rule: "\(type) range \(lo)...\(hi)") }
            return .int(v)
        }
        func uint(_ hi: UInt64) throws(SettingsError) -> SettingsValue {
            let v: UInt64
            switch kind {
            case .uintValue(let u): v = u
            case .intValue(let i) where i >= 0: v = UInt64(i)
            case .doubleValue(let d) where d.rounded() == d && d >= 0 && d <= 1.8e19: v = UInt64(d)
            default: throw .typeMismatch(field: f.name, expected: "an unsigned integer (\(type))", got: describe(kind))
            }
            guard v <= hi else { throw .outOfRange(field: f.name, value: String(v), rule: "\(type) range 0...\(hi)") }
            return .uint(v)
        }
        switch type {
        case "bool":
            guard case .boolValue(let b) = kind else { throw .typeMismatch(field: f.name, expected: "a bool", got: describe(kind)) }
            return .bool(b)
        case "int32", "sint32", "sfixed32": return try int(Int64(Int32.min), Int64(Int32.max))
        case "int64", "sint64", "sfixed64": return try int(Int64.min, Int64.max)
        case "uint32", "fixed32": return try uint(UInt64(UInt32.max))
        case "uint64", "fixed64": return try uint(UInt64.max)
        case "float", "double":
            switch kind {
            case .doubleValue(let d): return .double(type == "float" ? Double(Float(d)) : d)
            case .intValue(let i): return .double(Double(i))
            case .uintValue(let u): return .double(Double(u))
            default: throw .typeMismatch(field: f.name, expected: "a number", got: describe(kind))
            }
        case "string":
            guard case .stringValue(let s) = kind else { throw .typeMismatch(field: f.name, expected: "a string", got: describe(kind)) }
            return .string(s)
        case "bytes":
            guard case .bytesValue(let b) = kind else { throw .typeMismatch(field: f.name, expected: "bytes", got: describe(kind)) }
            return .bytes(b)
        case "enum":
            switch kind {
            case .enumName(let name):
                guard let v = f.enumValues.first(where: { $0.name == name }) else {
                    throw .notAChoice(field: f.name, value: name, choices: f.enumValues.map(\.name))
                }
                return .enumValue(number: v.number, name: v.name)
            case .intValue(let i):
                guard let n = Int32(exactly: i) else { throw .outOfRange(field: f.name, value: String(i), rule: "enum number range") }
                if !f.enumValues.isEmpty && enumName(f, n) == nil {
                    throw .notAChoice(field: f.name, value: String(i), choices: f.enumValues.map { "\($0.name)=\($0.number)" })
                }
                return .enumValue(number: n, name: enumName(f, n))
            default: throw .typeMismatch(field: f.name, expected: "an enum name or number", got: describe(kind))
            }
        default:
            guard case .messageValue(let m) = kind else { throw .typeMismatch(field: f.name, expected: "an encoded message", got: describe(kind)) }
            _ = try WireFields.parse(m)
            return .message(m)
        }
    }

    static func describe(_ kind: Plexus_Settings_V1_FieldValue.Kind) -> String {
        switch kind {
        case .boolValue: return "a bool"
        case .intValue: return "an integer"
        case .uintValue: return "an unsigned integer"
        case .doubleValue: return "a number"
        case .stringValue: return "a string"
        case .bytesValue: return "bytes"
        case .enumName: return "an enum name"
        case .messageValue: return "a message"
        case .list: return "a list"
        }
    }

    /// Bounds, choices and enum membership.
    static func check(_ f: Plexus_Settings_V1_SettingsFieldMetadata, _ value: SettingsValue) throws(SettingsError) {
        if case .list(let items) = value {
            for item in items { try check(f, item) }
            return
        }
        if let x = value.numeric {
            if x.isNaN && (f.min != nil || f.max != nil) {
                throw .outOfRange(field: f.name, value: "NaN", rule: "a bounded field must be a number")
            }
            if let min = f.min?.value, x < min { throw .outOfRange(field: f.name, value: value.description, rule: "min \(min)") }
            if let max = f.max?.value, x > max { throw .outOfRange(field: f.name, value: value.description, rule: "max \(max)") }
        }
        if !f.choices.isEmpty {
            let text: String
            switch value {
            case .string(let s): text = s
            case .enumValue(let n, let name): text = name ?? String(n)
            default: text = value.description
            }
            if !f.choices.contains(text) { throw .notAChoice(field: f.name, value: text, choices: f.choices) }
        }
    }

    /// The wire fields that encode `value` for the field (nothing for a proto3 default scalar).
    static func encodeField(_ f: Plexus_Settings_V1_SettingsFieldMetadata, _ value: SettingsValue) -> [WireField] {
        let type = scalarType(f)
        if case .list(let items) = value {
            return items.flatMap { encodeScalar(f.number, type, $0) }
        }
        return encodeScalar(f.number, type, value)
    }

    static func encodeScalar(_ number: UInt32, _ type: String, _ value: SettingsValue) -> [WireField] {
        let w: WireValue
        switch (type, value) {
        case ("bool", .bool(let b)): w = .varint(b ? 1 : 0)
        case ("int32", .int(let i)), ("int64", .int(let i)): w = .varint(UInt64(bitPattern: i))
        case ("sint32", .int(let i)), ("sint64", .int(let i)): w = .varint(UInt64(bitPattern: (i << 1) ^ (i >> 63)))
        case ("uint32", .uint(let u)), ("uint64", .uint(let u)): w = .varint(u)
        case ("fixed64", .uint(let u)): w = .fixed64(u)
        case ("sfixed64", .int(let i)): w = .fixed64(UInt64(bitPattern: i))
        case ("fixed32", .uint(let u)): w = .fixed32(UInt32(truncatingIfNeeded: u))
        case ("sfixed32", .int(let i)): w = .fixed32(UInt32(bitPattern: Int32(truncatingIfNeeded: i)))
        case ("double", .double(let d)): w = .fixed64(d.bitPattern)
        case ("float", .double(let d)): w = .fixed32(Float(d).bitPattern)
        case ("enum", .enumValue(let n, _)): w = .varint(UInt64(bitPattern: Int64(n)))
        case ("string", .string(let s)): w = .lengthDelimited(Array(s.utf8))
        case ("bytes", .bytes(let b)): w = .lengthDelimited(b)
        case (_, .message(let m)): w = .lengthDelimited(m)
        default: return []
        }
        return [WireField(number: number, value: w)]
    }
}
