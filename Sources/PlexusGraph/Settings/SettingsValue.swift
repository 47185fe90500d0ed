import Foundation
import PlexusProto

/// A settings field's value decoded through its schema metadata (no generated type needed).
public enum SettingsValue: Sendable, Hashable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case enumValue(number: Int32, name: String?)
    case message([UInt8])
    case list([SettingsValue])

    public var description: String {
        switch self {
        case .bool(let v): return v ? "true" : "false"
        case .int(let v): return String(v)
        case .uint(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let v): return "\"\(v)\""
        case .bytes(let v): return "<\(v.count) bytes>"
        case .enumValue(let n, let name): return name ?? String(n)
        case .message(let v): return "<message, \(v.count) bytes>"
        case .list(let vs): return "[" + vs.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The value as a number, for bound checks.
    var numeric: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .double(let v): return v
        case .enumValue(let n, _): return Double(n)
        default: return nil
        }
    }

    /// The value as the language-neutral FieldValue of the graph API.
    public var fieldValue: Plexus_Settings_V1_FieldValue {
        var v = Plexus_Settings_V1_FieldValue()
        switch self {
        case .bool(let b): v.kind = .boolValue(b)
        case .int(let i): v.kind = .intValue(i)
        case .uint(let u): v.kind = .uintValue(u)
        case .double(let d): v.kind = .doubleValue(d)
        case .string(let s): v.kind = .stringValue(s)
        case .bytes(let b): v.kind = .bytesValue(b)
        case .enumValue(let n, let name): v.kind = name.map { .enumName($0) } ?? .intValue(Int64(n))
        case .message(let m): v.kind = .messageValue(m)
        case .list(let items):
            var list = Plexus_Settings_V1_FieldValueList()
            list.values = items.map(\.fieldValue)
            v.kind = .list(list)
        }
        return v
    }
}

extension Plexus_Settings_V1_FieldValue {
    /// A FieldValue from a command-line or text form, read as the field's type.
    public init(parsing text: String, for field: Plexus_Settings_V1_SettingsFieldMetadata) throws(SettingsError) {
        self.init()
        let type = SchemaCodec.scalarType(field)
        switch type {
        case "bool":
            switch text.lowercased() {
            case "true", "1", "yes", "on": kind = .boolValue(true)
            case "false", "0", "no", "off": kind = .boolValue(false)
            default: throw .typeMismatch(field: field.name, expected: "a bool (true/false)", got: "'\(text)'")
            }
        case "int32", "int64", "sint32", "sint64", "sfixed32", "sfixed64":
            guard let v = Int64(text) else { throw .typeMismatch(field: field.name, expected: "an integer", got: "'\(text)'") }
            kind = .intValue(v)
        case "uint32", "uint64", "fixed32", "fixed64":
            guard let v = UInt64(text) else { throw .typeMismatch(field: field.name, expected: "an unsigned integer", got: "'\(text)'") }
            kind = .uintValue(v)
        case "float", "double":
            guard let v = Double(text) else { throw .typeMismatch(field: field.name, expected: "a number", got: "'\(text)'") }
            kind = .doubleValue(v)
        case "string": kind = .stringValue(text)
        case "bytes": kind = .bytesValue(Array(text.utf8))
        case "enum":
            if let n = Int64(text) { kind = .intValue(n) } else { kind = .enumName(text) }
        default:
            throw .typeMismatch(field: field.name, expected: "an encoded message", got: "text")
        }
    }
}
