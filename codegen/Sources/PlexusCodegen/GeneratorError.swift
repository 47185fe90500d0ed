/// Why code generation failed; each message names the file and says what to change.
public enum GeneratorError: Error, Sendable, CustomStringConvertible {
    case proto3Optional(file: String, field: String)
    case unsupported(file: String, what: String)
    case nameClash(file: String, scope: String, name: String, first: String, second: String)
    case unknownType(file: String, name: String)
    case badParameter(String)
    case badRequest(String)

    public var description: String {
        switch self {
        case .proto3Optional(let file, let field):
            return "\(file): field \(field) is a proto3 `optional` field, which protoc-c 1.4.1 rejects. "
                + "Use a wrapper type (google.protobuf.Int32Value, StringValue, ...) or a one-member oneof instead"
        case .unsupported(let file, let what):
            return "\(file): \(what)"
        case .nameClash(let file, let scope, let name, let first, let second):
            return "\(file): in \(scope), '\(first)' and '\(second)' both become the Swift name '\(name)'; rename one of them"
        case .unknownType(let file, let name):
            return "\(file): type \(name) is not defined in this file or its imports"
        case .badParameter(let text):
            return "bad plugin parameter: \(text). Accepted: c_module=NAME, imports=A+B, visibility=public|internal, services=true|false, messages=true|false, mode=swift|c"
        case .badRequest(let text):
            return "could not read protoc's CodeGeneratorRequest: \(text)"
        }
    }
}
