import PlexusProto

/// Decodes, validates and patches settings messages through their schema
/// (`plexus.settings.v1.SettingsSchema`), without the generated type: the graph server checks
/// every update with it, owners apply field updates with it, the CLI prints values with it.
public struct SchemaCodec: Sendable {
    public let schema: Plexus_Settings_V1_SettingsSchema
    private let byNumber: [UInt32: Plexus_Settings_V1_SettingsFieldMetadata]
    private let byName: [String: Plexus_Settings_V1_SettingsFieldMetadata]

    public init(schema: Plexus_Settings_V1_SettingsSchema) {
        self.schema = schema
        var n: [UInt32: Plexus_Settings_V1_SettingsFieldMetadata] = [:]
        var m: [String: Plexus_Settings_V1_SettingsFieldMetadata] = [:]
        for f in schema.fields {
            n[f.number] = f
            m[f.name] = f
        }
        byNumber = n
        byName = m
    }

    /// The field named by a path. Only top-level fields are settings fields; a dotted path into a
    /// message field is refused with a message saying so.
    public func field(at path: String) throws(SettingsError) -> Plexus_Settings_V1_SettingsFieldMetadata {
        if let f = byName[path] { return f }
        if let dot = path.firstIndex(of: "."), byName[String(path[..<dot])] != nil {
            throw .unsupportedPath(path: path, reason: "nested message fields are updated whole: set '\(path[..<dot])' with an encoded message")
        }
        throw .unknownField(path: path, known: schema.fields.map(\.name))
    }

    /// Every schema field with its current value (defaults for absent fields).
    public func decode(_ bytes: [UInt8]) throws(SettingsError) -> [(field: Plexus_Settings_V1_SettingsFieldMetadata, value: SettingsValue)] {
        let wire = try WireFields.parse(bytes)
        var grouped: [UInt32: [WireValue]] = [:]
        for w in wire { grouped[w.number, default: []].append(w.value) }
        var result: [(Plexus_Settings_V1_SettingsFieldMetadata, SettingsValue)] = []
        for f in schema.fields {
            result.append((f, try Self.decodeField(f, grouped[f.number] ?? [])))
        }
        return result
    }

    /// The value of one field in an encoded message.
    public func value(of field: Plexus_Settings_V1_SettingsFieldMetadata, in bytes: [UInt8]) throws(SettingsError) -> SettingsValue {
        let values = try WireFields.parse(bytes).filter { $0.number == field.number }.map(\.value)
        return try Self.decodeField(field, values)
    }

    /// Checks a whole encoded settings message: well-formed, every known field of the right wire
    /// type and within its rules, read-only fields unchanged from `current` (when given).
    public func validate(_ bytes: [UInt8], current: [UInt8]? = nil) throws(SettingsError) {
        let wire = try WireFields.parse(bytes)
        var grouped: [UInt32: [WireValue]] = [:]
        for w in wire { grouped[w.number, default: []].append(w.value) }
        for (number, values) in grouped {
            guard let f = byNumber[number] else {
                throw .unknownField(path: "#\(number)", known: schema.fields.map(\.name))
            }
            let value = try Self.decodeField(f, values)
            try Self.check(f, value)
        }
        if let current {
            for f in schema.fields where f.readOnly {
                let old = try value(of: f, in: current)
                let new = try Self.decodeField(f, grouped[f.number] ?? [])
                if old != new { throw .readOnly(field: f.name) }
            }
        }
    }

    /// Converts and checks a FieldValue for the field at `path`; read-only fields are refused.
    public func checkedValue(_ value: Plexus_Settings_V1_FieldValue, at path: String) throws(SettingsError)
        -> (field: Plexus_Settings_V1_SettingsFieldMetadata, value: SettingsValue) {
        let f = try field(at: path)
        if f.readOnly { throw .readOnly(field: f.name) }
        let v = try Self.convert(value, for: f)
        try Self.check(f, v)
        return (f, v)
    }

    /// `bytes` with the field at `path` replaced by `value` (checked first).
    public func patch(_ bytes: [UInt8], path: String, value: Plexus_Settings_V1_FieldValue) throws(SettingsError) -> [UInt8] {
        let (f, v) = try checkedValue(value, at: path)
        var wire = try WireFields.parse(bytes).filter { $0.number != f.number }
        wire.append(contentsOf: Self.encodeField(f, v))
        return WireFields.encode(wire)
    }
}
