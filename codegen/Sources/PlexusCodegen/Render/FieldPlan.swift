/// Everything the renderer needs to know about one field, derived once.
struct FieldPlan {
    indirect enum Shape {
        /// proto3 implicit presence: a plain stored value.
        case plain
        /// proto2 optional/required scalar, string, bytes or enum: presence tracked.
        case tracked(required: Bool)
        /// A singular message field (always Optional); boxed when it closes a cycle.
        case message(boxed: Bool)
        case repeated
        case map(key: FieldPlan, value: FieldPlan)
        case oneofMember(oneof: Int)
    }

    let field: FieldDescriptor
    /// Index in protoc-c's descriptor (fields ordered by number).
    let index: Int
    let name: String
    /// The Swift type of one value (element type for repeated).
    let valueType: String
    let shape: Shape
    /// For enums and messages: the Swift type name.
    let typeSwiftName: String?

    var escapedName: String { Naming.escaped(name) }

    /// The zero value of one element.
    var zeroValue: String {
        switch field.type {
        case .bool: return "false"
        case .string: return "\"\""
        case .bytes: return "[]"
        case .enum: return "\(valueType)(rawValue: 0)"
        case .message: return "\(valueType)()"
        case .float, .double: return "0"
        default: return "0"
        }
    }

    /// Swift type for a scalar kind.
    static func scalarType(_ type: FieldType) -> String? {
        switch type {
        case .double: return "Double"
        case .float: return "Float"
        case .int64, .sint64, .sfixed64: return "Int64"
        case .uint64, .fixed64: return "UInt64"
        case .int32, .sint32, .sfixed32: return "Int32"
        case .uint32, .fixed32: return "UInt32"
        case .bool: return "Bool"
        case .string: return "String"
        case .bytes: return "[UInt8]"
        default: return nil
        }
    }

    /// The expression reading one value at `index` from reader `r`.
    func readExpression(_ r: String) -> String {
        switch field.type {
        case .bool: return "\(r).bool(\(index))"
        case .string: return "try \(r).string(\(index))"
        case .bytes: return "\(r).bytes(\(index))"
        case .enum: return "\(valueType)(rawValue: \(r).scalar(\(index), as: Int32.self))"
        case .message: return "try \(r).message(\(index), \(valueType).self)"
        default: return "\(r).scalar(\(index), as: \(valueType).self)"
        }
    }

    /// The expression reading a repeated field.
    func readRepeatedExpression(_ r: String) -> String {
        switch field.type {
        case .bool: return "\(r).repeatedBool(\(index))"
        case .string: return "try \(r).repeatedString(\(index))"
        case .bytes: return "\(r).repeatedBytes(\(index))"
        case .enum: return "\(r).repeated(\(index), as: Int32.self).map { \(valueType)(rawValue: $0) }"
        case .message: return "try \(r).repeatedMessage(\(index), \(valueType).self)"
        default: return "\(r).repeated(\(index), as: \(valueType).self)"
        }
    }

    /// The statement writing value `v` with writer `w`.
    func writeStatement(_ w: String, _ v: String) -> String {
        switch field.type {
        case .bool: return "\(w).setBool(\(index), \(v))"
        case .string: return "\(w).setString(\(index), \(v))"
        case .bytes: return "\(w).setBytes(\(index), \(v))"
        case .enum: return "\(w).setScalar(\(index), \(v).rawValue)"
        case .message: return "\(w).setMessage(\(index), \(v))"
        default: return "\(w).setScalar(\(index), \(v))"
        }
    }

    func writeRepeatedStatement(_ w: String, _ v: String) -> String {
        switch field.type {
        case .bool: return "\(w).setRepeatedBool(\(index), \(v))"
        case .string: return "\(w).setRepeatedString(\(index), \(v))"
        case .bytes: return "\(w).setRepeatedBytes(\(index), \(v))"
        case .enum: return "\(w).setRepeated(\(index), \(v).map(\\.rawValue))"
        case .message: return "\(w).setRepeatedMessage(\(index), \(v))"
        default: return "\(w).setRepeated(\(index), \(v))"
        }
    }

    /// The condition under which a proto3 implicit-presence value is written (protobuf-c
    /// skips zero values itself; checking first avoids copying empty strings and bytes).
    func nonDefaultCondition(_ v: String) -> String {
        switch field.type {
        case .bool: return v
        case .string, .bytes: return "!\(v).isEmpty"
        case .enum: return "\(v).rawValue != 0"
        case .float, .double: return "\(v) != 0"
        default: return "\(v) != 0"
        }
    }

    /// Whether protobuf-c tracks presence with a `has_` flag (proto2 optional scalars and bytes).
    var usesHasFlag: Bool {
        field.type != .string && field.type != .message
    }
}
