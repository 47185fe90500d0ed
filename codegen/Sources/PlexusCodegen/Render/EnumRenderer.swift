/// Renders an open protobuf enum.
struct EnumRenderer {
    let access: String

    func render(_ e: EnumDescriptor, localName: String, into out: inout CodeWriter) {
        // Aliases (allow_alias) share a number: the first name is the case, later ones are statics.
        var seenNumbers: Set<Int32> = []
        var cases: [(name: String, proto: String, number: Int32)] = []
        var aliases: [(name: String, target: String)] = []
        for value in e.values {
            let name = Naming.enumCaseName(value.name, enumName: e.name)
            if seenNumbers.contains(value.number) {
                if let target = cases.first(where: { $0.number == value.number }) { aliases.append((name, target.name)) }
            } else {
                seenNumbers.insert(value.number)
                cases.append((name, value.name, value.number))
            }
        }
        out.line("/// `\(e.fullName)`")
        out.line("\(access) enum \(localName): ProtoEnum {")
        out.indent()
        for c in cases {
            out.line("/// `\(c.proto)` = \(c.number)")
            out.line("case \(Naming.escaped(c.name))")
        }
        out.line("/// A value this version of the schema does not name.")
        out.line("case UNRECOGNIZED(Int32)")
        out.line()
        for alias in aliases {
            out.line("\(access) static let \(Naming.escaped(alias.name)) = \(localName).\(Naming.escaped(alias.target))")
        }
        out.line("\(access) static let knownCases: [\(localName)] = [\(cases.map { ".\(Naming.escaped($0.name))" }.joined(separator: ", "))]")
        out.line()
        out.line("\(access) init() { self.init(rawValue: 0) }")
        out.line()
        out.line("\(access) init(rawValue: Int32) {")
        out.line("    switch rawValue {")
        for c in cases { out.line("    case \(c.number): self = .\(Naming.escaped(c.name))") }
        out.line("    default: self = .UNRECOGNIZED(rawValue)")
        out.line("    }")
        out.line("}")
        out.line()
        out.line("\(access) var rawValue: Int32 {")
        out.line("    switch self {")
        for c in cases { out.line("    case .\(Naming.escaped(c.name)): return \(c.number)") }
        out.line("    case .UNRECOGNIZED(let value): return value")
        out.line("    }")
        out.line("}")
        out.line()
        out.line("\(access) var protoName: String? {")
        out.line("    switch self {")
        for c in cases { out.line("    case .\(Naming.escaped(c.name)): return \(Literal.string(c.proto))") }
        out.line("    case .UNRECOGNIZED: return nil")
        out.line("    }")
        out.line("}")
        out.outdent()
        out.line("}")
    }
}
