/// Why a settings value or update was refused. Every message names the field and the rule.
public enum SettingsError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case unknownField(path: String, known: [String])
    case typeMismatch(field: String, expected: String, got: String)
    case outOfRange(field: String, value: String, rule: String)
    case notAChoice(field: String, value: String, choices: [String])
    case readOnly(field: String)
    case unsupportedPath(path: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let why):
            return "settings value is not a valid protobuf message: \(why)"
        case .unknownField(let path, let known):
            return "field '\(path)' is not in the settings schema (fields: \(known.joined(separator: ", ")))"
        case .typeMismatch(let field, let expected, let got):
            return "field '\(field)' takes \(expected), not \(got)"
        case .outOfRange(let field, let value, let rule):
            return "field '\(field)': \(value) breaks the rule \(rule)"
        case .notAChoice(let field, let value, let choices):
            return "field '\(field)': '\(value)' is not one of the choices [\(choices.joined(separator: ", "))]"
        case .readOnly(let field):
            return "field '\(field)' is read-only; only its owner can change it"
        case .unsupportedPath(let path, let reason):
            return "field path '\(path)': \(reason)"
        }
    }
}
