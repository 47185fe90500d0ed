/// Renders static settings-schema metadata for messages whose fields carry
/// `(plexus.settings.v1.field)` options.
struct SettingsRenderer {
    let table: TypeTable
    let access: String

    static func hasSettings(_ message: MessageDescriptor) -> Bool {
        message.fields.contains { $0.settings != nil }
    }

    func render(_ message: MessageDescriptor, swiftName: String, syntax: FileDescriptor.Syntax, into out: inout CodeWriter) {
        out.line("extension \(swiftName): SettingsSchemaProviding {")
        out.indent()
        out.line("/// Field metadata from the .proto options (description, units, bounds, choices, widget).")
        out.line("\(access) static let settingsSchema: Plexus_Settings_V1_SettingsSchema = {")
        out.indent()
        out.line("var schema = Plexus_Settings_V1_SettingsSchema()")
        out.line("schema.typeName = \(Literal.string(message.fullName))")
        for field in message.fields {
            out.line("do {")
            out.indent()
            out.line("var f = Plexus_Settings_V1_SettingsFieldMetadata()")
            out.line("f.name = \(Literal.string(field.name))")
            out.line("f.number = \(field.number)")
            out.line("f.fieldType = .\(fieldTypeCase(field.type))")
            if !field.typeName.isEmpty { out.line("f.typeName = \(Literal.string(field.typeName))") }
            if let scalar = protoTypeName(field.type) { out.line("f.protoType = \(Literal.string(scalar))") }
            if field.type == .enum, case .enumType(let e, _, _)? = table.entries[field.typeName] {
                for value in e.values {
                    out.line("f.enumValues.append(Plexus_Settings_V1_EnumValueName(name: \(Literal.string(value.name)), number: \(value.number)))")
                }
            }
            if field.label == .repeated { out.line("f.repeated = true") }
            if field.label == .required { out.line("f.required = true") }
            if let d = defaultText(field, syntax: syntax) { out.line("f.defaultValue = \(Literal.string(d))") }
            if let s = field.settings {
                if !s.description.isEmpty { out.line("f.description = \(Literal.string(s.description))") }
                if !s.units.isEmpty { out.line("f.units = \(Literal.string(s.units))") }
                if let v = s.min { out.line("f.min = Plexus_Settings_V1_Bound(value: \(v))") }
                if let v = s.max { out.line("f.max = Plexus_Settings_V1_Bound(value: \(v))") }
                if let v = s.step { out.line("f.step = Plexus_Settings_V1_Bound(value: \(v))") }
                if !s.choices.isEmpty { out.line("f.choices = [\(s.choices.map(Literal.string).joined(separator: ", "))]") }
                if s.widget != 0 { out.line("f.widget = Plexus_Settings_V1_WidgetHint(rawValue: \(s.widget))") }
                if s.readOnly { out.line("f.readOnly = true") }
            }
            out.line("schema.fields.append(f)")
            out.outdent()
            out.line("}")
        }
        out.line("return schema")
        out.outdent()
        out.line("}()")
        out.outdent()
        out.line("}")
    }

    func defaultText(_ field: FieldDescriptor, syntax: FileDescriptor.Syntax) -> String? {
        if let d = field.defaultValue { return d }
        return nil
    }

    /// The scalar type's proto name; nil for enums, messages and groups.
    func protoTypeName(_ type: FieldType) -> String? {
        switch type {
        case .double: return "double"
        case .float: return "float"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .int32: return "int32"
        case .fixed64: return "fixed64"
        case .fixed32: return "fixed32"
        case .bool: return "bool"
        case .string: return "string"
        case .bytes: return "bytes"
        case .uint32: return "uint32"
        case .sfixed32: return "sfixed32"
        case .sfixed64: return "sfixed64"
        case .sint32: return "sint32"
        case .sint64: return "sint64"
        case .enum, .message, .group: return nil
        }
    }

    func fieldTypeCase(_ type: FieldType) -> String {
        switch type {
        case .bool: return "bool"
        case .int32, .sint32, .sfixed32: return "int32"
        case .int64, .sint64, .sfixed64: return "int64"
        case .uint32, .fixed32: return "uint32"
        case .uint64, .fixed64: return "uint64"
        case .float: return "float"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .enum: return "enum"
        case .message, .group: return "message"
        }
    }
}
