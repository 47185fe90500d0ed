/// The generator's own view of protoc's descriptors: plain Swift values translated once from
/// the C structures protobuf-c decoded, so rendering never touches C.

/// A .proto file.
public struct FileDescriptor: Sendable {
    public var name: String
    public var package: String
    public var syntax: Syntax
    public var dependencies: [String]
    public var messages: [MessageDescriptor]
    public var enums: [EnumDescriptor]
    public var services: [ServiceDescriptor]

    /// The .proto syntax.
    public enum Syntax: String, Sendable { case proto2, proto3 }
}

/// A message type.
public struct MessageDescriptor: Sendable {
    /// Fully qualified name without leading dot, e.g. `plexus.test.v1.Outer.Inner`.
    public var fullName: String
    public var name: String
    /// Fields in declaration order.
    public var fields: [FieldDescriptor]
    public var oneofs: [String]
    public var nested: [MessageDescriptor]
    public var enums: [EnumDescriptor]
    public var isMapEntry: Bool
}

/// A field of a message.
public struct FieldDescriptor: Sendable {
    public var name: String
    public var number: Int32
    public var label: Label
    public var type: FieldType
    /// Fully qualified type name (no leading dot) for messages and enums.
    public var typeName: String
    public var defaultValue: String?
    public var oneofIndex: Int?
    public var isProto3Optional: Bool
    public var settings: FieldSettingsOption?

    /// Cardinality.
    public enum Label: Int32, Sendable { case optional = 1, required = 2, repeated = 3 }
}

/// Protobuf field types, with descriptor.proto's numbers.
public enum FieldType: Int32, Sendable {
    case double = 1, float = 2, int64 = 3, uint64 = 4, int32 = 5, fixed64 = 6, fixed32 = 7, bool = 8
    case string = 9, group = 10, message = 11, bytes = 12, uint32 = 13, `enum` = 14
    case sfixed32 = 15, sfixed64 = 16, sint32 = 17, sint64 = 18
}

/// An enum type.
public struct EnumDescriptor: Sendable {
    public var fullName: String
    public var name: String
    public var values: [(name: String, number: Int32)]
}

/// A service.
public struct ServiceDescriptor: Sendable {
    public var fullName: String
    public var name: String
    public var methods: [MethodDescriptor]
}

/// A method of a service.
public struct MethodDescriptor: Sendable {
    public var name: String
    public var inputType: String
    public var outputType: String
    public var clientStreaming: Bool
    public var serverStreaming: Bool
}

/// The `(plexus.settings.v1.field)` option on a field.
public struct FieldSettingsOption: Sendable {
    public var description: String
    public var units: String
    public var min: Double?
    public var max: Double?
    public var step: Double?
    public var choices: [String]
    /// WidgetHint number.
    public var widget: Int32
    public var readOnly: Bool
}
