import CPlexusProto
import CProtobufC

/// Translates protobuf-c's decoded descriptor structures into the generator's model.
enum DescriptorTranslator {
    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    static func list<T>(_ count: Int, _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) -> [UnsafeMutablePointer<T>] {
        guard count > 0, let pointer else { return [] }
        return (0..<count).compactMap { pointer[$0] }
    }

    static func file(_ proto: UnsafeMutablePointer<Google__Protobuf__FileDescriptorProto>) throws(GeneratorError) -> FileDescriptor {
        let p = proto.pointee
        let name = string(p.name)
        let package = string(p.package)
        let syntax: FileDescriptor.Syntax = string(p.syntax) == "proto3" ? .proto3 : .proto2
        let prefix = package.isEmpty ? "" : package + "."
        let dependencies = (0..<p.n_dependency).compactMap { i in p.dependency?[i].map { String(cString: $0) } }
        var messages: [MessageDescriptor] = []
        for m in list(p.n_message_type, p.message_type) {
            messages.append(try message(m, prefix: prefix, file: name))
        }
        let enums = list(p.n_enum_type, p.enum_type).map { enumType($0, prefix: prefix) }
        let services = list(p.n_service, p.service).map { service($0, prefix: prefix) }
        return FileDescriptor(name: name, package: package, syntax: syntax, dependencies: dependencies,
                              messages: messages, enums: enums, services: services)
    }

    static func message(_ proto: UnsafeMutablePointer<Google__Protobuf__DescriptorProto>, prefix: String, file: String) throws(GeneratorError) -> MessageDescriptor {
        let p = proto.pointee
        let name = string(p.name)
        let fullName = prefix + name
        var fields: [FieldDescriptor] = []
        for f in list(p.n_field, p.field) {
            fields.append(try field(f, message: fullName, file: file))
        }
        var nested: [MessageDescriptor] = []
        for m in list(p.n_nested_type, p.nested_type) {
            nested.append(try message(m, prefix: fullName + ".", file: file))
        }
        let enums = list(p.n_enum_type, p.enum_type).map { enumType($0, prefix: fullName + ".") }
        let oneofs = list(p.n_oneof_decl, p.oneof_decl).map { string($0.pointee.name) }
        let isMapEntry = p.options.map { $0.pointee.has_map_entry != 0 && $0.pointee.map_entry != 0 } ?? false
        return MessageDescriptor(fullName: fullName, name: name, fields: fields, oneofs: oneofs,
                                 nested: nested, enums: enums, isMapEntry: isMapEntry)
    }

    static func field(_ proto: UnsafeMutablePointer<Google__Protobuf__FieldDescriptorProto>, message: String, file: String) throws(GeneratorError) -> FieldDescriptor {
        let p = proto.pointee
        let name = string(p.name)
        if p.has_proto3_optional != 0 && p.proto3_optional != 0 {
            throw GeneratorError.proto3Optional(file: file, field: "\(message).\(name)")
        }
        guard let type = FieldType(rawValue: Int32(p.type.rawValue)), type != .group else {
            throw GeneratorError.unsupported(file: file, what: "field \(message).\(name) uses a proto2 group; use a nested message instead")
        }
        guard let label = FieldDescriptor.Label(rawValue: Int32(p.label.rawValue)) else {
            throw GeneratorError.unsupported(file: file, what: "field \(message).\(name) has an unknown label")
        }
        var typeName = string(p.type_name)
        if typeName.hasPrefix(".") { typeName.removeFirst() }
        let settings = p.options.flatMap { settingsOption($0) }
        return FieldDescriptor(
            name: name, number: p.number, label: label, type: type, typeName: typeName,
            defaultValue: p.default_value.map { String(cString: $0) },
            oneofIndex: p.has_oneof_index != 0 ? Int(p.oneof_index) : nil,
            isProto3Optional: false, settings: settings)
    }

    /// protoc-c ignores `extend`, so a custom option arrives as an unknown field of
    /// FieldOptions; decode it with the option message's own protoc-c descriptor.
    static func settingsOption(_ options: UnsafeMutablePointer<Google__Protobuf__FieldOptions>) -> FieldSettingsOption? {
        let base = options.pointee.base
        guard base.n_unknown_fields > 0, let unknown = base.unknown_fields else { return nil }
        for i in 0..<Int(base.n_unknown_fields) where unknown[i].tag == 50001 && unknown[i].wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED {
            guard let data = unknown[i].data else { continue }
            // The data starts with the length prefix; skip it.
            var offset = 0
            var length = 0
            var shift = 0
            while offset < unknown[i].len {
                let byte = Int(data[offset])
                offset += 1
                length |= (byte & 0x7f) << shift
                shift += 7
                if byte & 0x80 == 0 { break }
            }
            guard offset + length <= unknown[i].len,
                  let message = protobuf_c_message_unpack(plexus_codegen_field_settings_descriptor(), nil, length, data + offset)
            else { continue }
            defer { protobuf_c_message_free_unpacked(message, nil) }
            return message.withMemoryRebound(to: Plexus__Settings__V1__FieldSettings.self, capacity: 1) { s in
                let v = s.pointee
                return FieldSettingsOption(
                    description: string(v.description),
                    units: string(v.units),
                    min: v.min.map { $0.pointee.value },
                    max: v.max.map { $0.pointee.value },
                    step: v.step.map { $0.pointee.value },
                    choices: (0..<v.n_choices).compactMap { j in v.choices?[j].map { String(cString: $0) } },
                    widget: Int32(v.widget.rawValue),
                    readOnly: v.read_only != 0)
            }
        }
        return nil
    }

    static func enumType(_ proto: UnsafeMutablePointer<Google__Protobuf__EnumDescriptorProto>, prefix: String) -> EnumDescriptor {
        let p = proto.pointee
        let name = string(p.name)
        let values = list(p.n_value, p.value).map { (name: string($0.pointee.name), number: $0.pointee.number) }
        return EnumDescriptor(fullName: prefix + name, name: name, values: values)
    }

    static func service(_ proto: UnsafeMutablePointer<Google__Protobuf__ServiceDescriptorProto>, prefix: String) -> ServiceDescriptor {
        let p = proto.pointee
        let name = string(p.name)
        let methods = list(p.n_method, p.method).map { m in
            let v = m.pointee
            var input = string(v.input_type)
            var output = string(v.output_type)
            if input.hasPrefix(".") { input.removeFirst() }
            if output.hasPrefix(".") { output.removeFirst() }
            return MethodDescriptor(name: string(v.name), inputType: input, outputType: output,
                                    clientStreaming: v.has_client_streaming != 0 && v.client_streaming != 0,
                                    serverStreaming: v.has_server_streaming != 0 && v.server_streaming != 0)
        }
        return ServiceDescriptor(fullName: prefix + name, name: name, methods: methods)
    }
}
