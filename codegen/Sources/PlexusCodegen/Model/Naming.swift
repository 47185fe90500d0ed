/// Name conventions: protobuf names to Swift names, and protoc-c's C names mirrored exactly.
public enum Naming {
    /// Swift keywords and names that would clash with members every message has.
    static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
        "init", "inout", "internal", "let", "open", "operator", "private", "precedencegroup",
        "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var",
        "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough",
        "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while",
        "as", "false", "is", "nil", "super", "throws", "true", "try", "_", "any", "some",
        "await", "async", "consume", "copy", "discard", "each", "borrowing", "consuming",
    ]
    /// Names that cannot be used even with backticks, or that clash with generated members.
    static let reservedMembers: Set<String> = [
        "self", "Self", "Type", "Protocol", "unknownFields", "serializedBytes", "serializedSize",
        "hashValue", "protoMessageName", "init", "settingsSchema",
    ]
    static let reservedTypeNames: Set<String> = [
        "Type", "Protocol", "Self", "Any", "String", "Int", "Bool", "Double", "Float", "Array",
        "Dictionary", "Optional", "Error", "Sendable", "Hashable", "Equatable",
    ]

    /// `foo_bar_baz` → `fooBarBaz`.
    static func lowerCamel(_ name: String) -> String {
        var result = ""
        var upperNext = false
        for (i, ch) in name.enumerated() {
            if ch == "_" {
                upperNext = !result.isEmpty
                continue
            }
            if upperNext {
                result += ch.uppercased()
                upperNext = false
            } else if i == 0 || result.isEmpty {
                result += ch.lowercased()
            } else {
                result.append(ch)
            }
        }
        return result.isEmpty ? "_" : result
    }

    /// `foo_bar` → `FooBar`.
    static func upperCamel(_ name: String) -> String {
        let lower = lowerCamel(name)
        return lower.prefix(1).uppercased() + lower.dropFirst()
    }

    /// A Swift property name for a field (`self` → `self_p`, keywords in backticks).
    public static func propertyName(_ fieldName: String) -> String {
        let name = lowerCamel(fieldName)
        if reservedMembers.contains(name) { return name + "_p" }
        return name
    }

    /// The name as written in Swift source (backticks around keywords).
    public static func escaped(_ identifier: String) -> String {
        swiftKeywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// The Swift prefix for a package: `plexus.wire.v1` → `Plexus_Wire_V1_`.
    public static func packagePrefix(_ package: String) -> String {
        guard !package.isEmpty else { return "" }
        return package.split(separator: ".").map { upperCamel(String($0)) }.joined(separator: "_") + "_"
    }

    /// A type's own (unqualified) Swift name.
    static func typeName(_ protoName: String, topLevelPrefix: String? = nil) -> String {
        let name = upperCamel(protoName)
        // Keep the proto's own capitalisation where it is already UpperCamel.
        let kept = protoName.first?.isUppercase == true && !protoName.contains("_") ? protoName : name
        if let prefix = topLevelPrefix, !prefix.isEmpty { return prefix + kept }
        return reservedTypeNames.contains(kept) ? kept + "Message" : kept
    }

    /// An enum case name: strip the enum's SCREAMING_SNAKE prefix, then lowerCamel.
    static func enumCaseName(_ valueName: String, enumName: String) -> String {
        let prefix = screamingSnake(enumName) + "_"
        var stripped = valueName
        if valueName.hasPrefix(prefix), valueName.count > prefix.count {
            let rest = String(valueName.dropFirst(prefix.count))
            if let first = rest.first, !first.isNumber { stripped = rest }
        }
        var name = lowerCamel(stripped.lowercased())
        if name.first?.isNumber == true { name = "_" + name }
        if reservedMembers.contains(name) || name == "UNRECOGNIZED" || name == "rawValue" || name == "allCases" || name == "knownCases" {
            name += "_"
        }
        return name
    }

    /// `FooBar` → `FOO_BAR`.
    static func screamingSnake(_ name: String) -> String {
        var result = ""
        var previousLower = false
        for ch in name {
            if ch.isUppercase && previousLower { result += "_" }
            result += ch.uppercased()
            previousLower = ch.isLowercase || ch.isNumber
        }
        return result
    }

    // MARK: protoc-c names (mirrors protobuf-c 1.4.1 protoc-c/c_helpers.cc)

    /// protoc-c's `CamelToLower`.
    static func cCamelToLower(_ name: String) -> String {
        var result = ""
        var wasUpper = true
        for ch in name.unicodeScalars {
            let isUpper = ch.properties.isUppercase && ch.isASCII
            if isUpper {
                if !wasUpper { result += "_" }
                result += String(ch).lowercased()
            } else {
                result.unicodeScalars.append(ch)
            }
            wasUpper = isUpper
        }
        return result
    }

    /// protoc-c's `FullNameToLower`: `plexus.test.v1.Outer.Inner` → `plexus__test__v1__outer__inner`.
    public static func cLowerName(_ fullName: String) -> String {
        fullName.split(separator: ".").filter { !$0.isEmpty }.map { cCamelToLower(String($0)) }.joined(separator: "__")
    }

    /// The symbol of a message's protoc-c descriptor.
    public static func cDescriptorSymbol(_ fullName: String) -> String {
        cLowerName(fullName) + "__descriptor"
    }

    /// The accessor function the plugin emits for a descriptor.
    public static func cAccessor(_ fullName: String) -> String {
        "plexus_descriptor__" + cLowerName(fullName)
    }
}
