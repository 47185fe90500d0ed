/// Renders a message as a Swift struct bridged to its protoc-c descriptor.
struct MessageRenderer {
    let table: TypeTable
    let file: FileDescriptor
    let options: GeneratorOptions

    var access: String { options.visibility }

    func render(_ message: MessageDescriptor, swiftName: String, into out: inout CodeWriter) throws(GeneratorError) {
        let plans = try plan(message, swiftName: swiftName)
        let localName = swiftName.split(separator: ".").last.map(String.init) ?? swiftName
        out.line("/// `\(message.fullName)`")
        try out.block("\(access) struct \(localName): CBridgedMessage") { (out: inout CodeWriter) throws(GeneratorError) in
            out.line("\(access) static let protoMessageName = \(Literal.string(message.fullName))")
            out.line()
            try renderStorage(message, plans: plans, into: &out)
            out.line("\(access) var unknownFields = UnknownFields()")
            out.line()
            out.line("\(access) init() {}")
            out.line()
            // Nested enums and messages.
            for e in message.enums {
                EnumRenderer(access: access).render(e, localName: Naming.typeName(e.name), into: &out)
                out.line()
            }
            for nested in message.nested where !nested.isMapEntry {
                try render(nested, swiftName: swiftName + "." + Naming.typeName(nested.name), into: &out)
                out.line()
            }
            try renderOneofEnums(message, plans: plans, into: &out)
            renderBridge(message, swiftName: swiftName, plans: plans, into: &out)
        }
    }

    // MARK: Planning

    func plan(_ message: MessageDescriptor, swiftName: String) throws(GeneratorError) -> [FieldPlan] {
        let sorted = message.fields.sorted { $0.number < $1.number }
        var plans: [FieldPlan] = []
        var usedNames: [String: String] = [:]
        for field in message.fields {
            guard let index = sorted.firstIndex(where: { $0.number == field.number }) else { continue }
            let plan = try planField(field, index: index, owner: message)
            if let first = usedNames[plan.name] {
                throw GeneratorError.nameClash(file: file.name, scope: message.fullName, name: plan.name, first: first, second: field.name)
            }
            usedNames[plan.name] = field.name
            plans.append(plan)
        }
        return plans
    }

    func planField(_ field: FieldDescriptor, index: Int, owner: MessageDescriptor) throws(GeneratorError) -> FieldPlan {
        let name = Naming.propertyName(field.name)
        var typeSwiftName: String?
        let valueType: String
        if field.type == .message || field.type == .enum {
            guard let resolved = table.swiftName(field.typeName) else {
                throw GeneratorError.unknownType(file: file.name, name: field.typeName)
            }
            typeSwiftName = resolved
            valueType = resolved
        } else {
            valueType = FieldPlan.scalarType(field.type) ?? "Never"
        }
        let shape: FieldPlan.Shape
        if field.type == .message, let entry = table.message(field.typeName), entry.isMapEntry, field.label == .repeated {
            let entrySorted = entry.fields.sorted { $0.number < $1.number }
            guard entrySorted.count == 2 else {
                throw GeneratorError.unsupported(file: file.name, what: "map entry \(entry.fullName) does not have a key and a value")
            }
            let key = try planField(entrySorted[0], index: 0, owner: entry)
            let value = try planField(entrySorted[1], index: 1, owner: entry)
            shape = .map(key: key, value: value)
        } else if field.label == .repeated {
            shape = .repeated
        } else if let oneof = field.oneofIndex {
            shape = .oneofMember(oneof: oneof)
        } else if field.type == .message {
            shape = .message(boxed: table.isRecursive(owner: owner.fullName, target: field.typeName))
        } else if file.syntax == .proto2 && !owner.isMapEntry {
            shape = .tracked(required: field.label == .required)
        } else {
            shape = .plain
        }
        return FieldPlan(field: field, index: index, name: name, valueType: valueType, shape: shape, typeSwiftName: typeSwiftName)
    }

    // MARK: Storage

    func renderStorage(_ message: MessageDescriptor, plans: [FieldPlan], into out: inout CodeWriter) throws(GeneratorError) {
        var renderedOneofs: Set<Int> = []
        for plan in plans {
            switch plan.shape {
            case .plain:
                out.line("\(access) var \(plan.escapedName): \(plan.valueType) = \(plan.zeroValue)")
            case .tracked:
                let defaultValue = try defaultLiteral(plan)
                let storage = "_\(plan.name)"
                let upper = plan.name.prefix(1).uppercased() + plan.name.dropFirst()
                out.line("\(access) var \(plan.escapedName): \(plan.valueType) {")
                out.line("    get { \(storage) ?? \(defaultValue) }")
                out.line("    set { \(storage) = newValue }")
                out.line("}")
                out.line("/// Whether `\(plan.field.name)` was set.")
                out.line("\(access) var has\(upper): Bool { \(storage) != nil }")
                out.line("/// Resets `\(plan.field.name)` to unset (its default).")
                out.line("\(access) mutating func clear\(upper)() { \(storage) = nil }")
                out.line("private var \(storage): \(plan.valueType)? = nil")
            case .message(let boxed):
                if boxed {
                    out.line("\(access) var \(plan.escapedName): \(plan.valueType)? {")
                    out.line("    get { _\(plan.name)?.value }")
                    out.line("    set { _\(plan.name) = newValue.map { ProtoBox($0) } }")
                    out.line("}")
                    out.line("private var _\(plan.name): ProtoBox<\(plan.valueType)>? = nil")
                } else {
                    out.line("\(access) var \(plan.escapedName): \(plan.valueType)? = nil")
                }
            case .repeated:
                out.line("\(access) var \(plan.escapedName): [\(plan.valueType)] = []")
            case .map(let key, let value):
                out.line("\(access) var \(plan.escapedName): [\(key.valueType): \(value.valueType)] = [:]")
            case .oneofMember(let oneof):
                guard !renderedOneofs.contains(oneof) else { continue }
                renderedOneofs.insert(oneof)
                let oneofName = message.oneofs[oneof]
                out.line("\(access) var \(Naming.escaped(Naming.propertyName(oneofName))): \(Naming.typeName(Naming.upperCamel(oneofName)))? = nil")
            }
        }
    }

    func defaultLiteral(_ plan: FieldPlan) throws(GeneratorError) -> String {
        guard let text = plan.field.defaultValue else {
            // proto2: an enum's default is its first value.
            if plan.field.type == .enum, case .enumType(let e, _, _)? = table.entries[plan.field.typeName], let first = e.values.first {
                return ".\(Naming.escaped(Naming.enumCaseName(first.name, enumName: e.name)))"
            }
            return plan.zeroValue
        }
        switch plan.field.type {
        case .string: return Literal.string(text)
        case .bytes: return "[" + Literal.cUnescape(text).map(String.init).joined(separator: ", ") + "]"
        case .bool: return text == "true" ? "true" : "false"
        case .enum:
            guard case .enumType(let e, _, _)? = table.entries[plan.field.typeName],
                  e.values.contains(where: { $0.name == text }) else { return plan.zeroValue }
            return ".\(Naming.escaped(Naming.enumCaseName(text, enumName: e.name)))"
        case .float, .double:
            switch text {
            case "inf": return "\(plan.valueType).infinity"
            case "-inf": return "-\(plan.valueType).infinity"
            case "nan": return "\(plan.valueType).nan"
            default: return text
            }
        default: return text
        }
    }

    // MARK: Oneofs

    /// The fields of oneof number `oneof`, in declaration order.
    static func members(ofOneof oneof: Int, in plans: [FieldPlan]) -> [FieldPlan] {
        plans.filter { if case .oneofMember(let o) = $0.shape { return o == oneof } else { return false } }
    }

    func renderOneofEnums(_ message: MessageDescriptor, plans: [FieldPlan], into out: inout CodeWriter) throws(GeneratorError) {
        for (i, oneofName) in message.oneofs.enumerated() {
            let members = Self.members(ofOneof: i, in: plans)
            guard !members.isEmpty else { continue }
            let recursive = members.contains { $0.field.type == .message && table.isRecursive(owner: message.fullName, target: $0.field.typeName) }
            out.line("/// The members of oneof `\(oneofName)`.")
            try out.block("\(access) \(recursive ? "indirect " : "")enum \(Naming.typeName(Naming.upperCamel(oneofName))): Sendable, Hashable") { (out: inout CodeWriter) throws(GeneratorError) in
                for member in members {
                    out.line("case \(member.escapedName)(\(member.valueType))")
                }
            }
            out.line()
        }
    }

    // MARK: Bridge

    func renderBridge(_ message: MessageDescriptor, swiftName: String, plans: [FieldPlan], into out: inout CodeWriter) {
        out.line("\(access) static var _cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { \(Naming.cAccessor(message.fullName))() }")
        if table.needsDepthCheck.contains(message.fullName) {
            out.line("\(access) static var _cNeedsDepthCheck: Bool { true }")
        }
        out.line()
        out.line("\(access) init(_cReader r: CMessageReader) throws(CodecError) {")
        out.indent()
        var doneOneofs: Set<Int> = []
        for plan in plans {
            switch plan.shape {
            case .plain:
                out.line("self.\(plan.name) = \(plan.readExpression("r"))")
            case .tracked(let required):
                if required {
                    // protobuf-c refuses to unpack a message that lacks a required field.
                    out.line("self._\(plan.name) = \(plan.readExpression("r"))")
                } else {
                    out.line("if r.has(\(plan.index)) { self._\(plan.name) = \(plan.readExpression("r")) }")
                }
            case .message:
                out.line("self.\(plan.name) = \(plan.readExpression("r"))")
            case .repeated:
                out.line("self.\(plan.name) = \(plan.readRepeatedExpression("r"))")
            case .map(let key, let value):
                let valueRead = value.field.type == .message ? "(\(value.readExpression("e"))) ?? \(value.valueType)()" : value.readExpression("e")
                out.line("self.\(plan.name) = try r.map(\(plan.index)) { (e: CMessageReader) throws(CodecError) in (\(key.readExpression("e")), \(valueRead)) }")
            case .oneofMember(let oneof):
                guard !doneOneofs.contains(oneof) else { continue }
                doneOneofs.insert(oneof)
                let members = Self.members(ofOneof: oneof, in: plans)
                let property = Naming.propertyName(message.oneofs[oneof])
                out.line("switch r.oneofCase(\(plan.index)) {")
                for member in members {
                    if member.field.type == .message {
                        out.line("case \(member.field.number): self.\(property) = .\(member.escapedName)((\(member.readExpression("r"))) ?? \(member.valueType)())")
                    } else {
                        out.line("case \(member.field.number): self.\(property) = .\(member.escapedName)(\(member.readExpression("r")))")
                    }
                }
                out.line("default: self.\(property) = nil")
                out.line("}")
            }
        }
        out.line("self.unknownFields = r.unknownFields()")
        out.outdent()
        out.line("}")
        out.line()
        out.line("\(access) func _cFill(_ w: inout CMessageWriter) {")
        out.indent()
        doneOneofs = []
        for plan in plans {
            let v = "self.\(plan.escapedName)"
            switch plan.shape {
            case .plain:
                out.line("if \(plan.nonDefaultCondition(v)) { \(plan.writeStatement("w", v)) }")
            case .tracked(let required):
                if required {
                    // Required fields have no `has_` member in protoc-c's struct.
                    out.line("\(plan.writeStatement("w", v))")
                } else {
                    out.line("if let value = self._\(plan.name) {")
                    out.line("    \(plan.writeStatement("w", "value"))")
                    if plan.usesHasFlag { out.line("    w.setHas(\(plan.index))") }
                    out.line("}")
                }
            case .message:
                out.line("if let value = \(v) { \(plan.writeStatement("w", "value")) }")
            case .repeated:
                out.line("\(plan.writeRepeatedStatement("w", v))")
            case .map(let key, let value):
                out.line("w.setMap(\(plan.index), \(v)) { e, key, value in")
                out.line("    \(key.writeStatement("e", "key"))")
                out.line("    \(value.writeStatement("e", "value"))")
                if file.syntax == .proto2 {
                    if key.usesHasFlag { out.line("    e.setHas(0)") }
                    if value.usesHasFlag { out.line("    e.setHas(1)") }
                }
                out.line("}")
            case .oneofMember(let oneof):
                guard !doneOneofs.contains(oneof) else { continue }
                doneOneofs.insert(oneof)
                let members = Self.members(ofOneof: oneof, in: plans)
                let property = Naming.escaped(Naming.propertyName(message.oneofs[oneof]))
                out.line("switch self.\(property) {")
                for member in members {
                    out.line("case .\(member.escapedName)(let value): w.setOneofCase(\(member.index)); \(member.writeStatement("w", "value"))")
                }
                out.line("case nil: break")
                out.line("}")
            }
        }
        out.line("w.setUnknownFields(self.unknownFields)")
        out.outdent()
        out.line("}")
    }
}
