/// Accumulates indented source text.
struct CodeWriter {
    private(set) var text = ""
    private var indentation = ""

    mutating func line(_ s: String = "") {
        if s.isEmpty {
            text += "\n"
        } else {
            text += indentation + s + "\n"
        }
    }

    mutating func block(_ opening: String, _ body: (inout CodeWriter) throws(GeneratorError) -> Void) throws(GeneratorError) {
        line(opening + " {")
        indent()
        try body(&self)
        outdent()
        line("}")
    }

    mutating func indent() { indentation += "    " }
    mutating func outdent() { indentation.removeLast(min(4, indentation.count)) }
}

/// Literal rendering helpers.
enum Literal {
    /// A Swift string literal for `s`.
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Bytes from protoc's C-escaped default value for a bytes field.
    static func cUnescape(_ s: String) -> [UInt8] {
        var bytes: [UInt8] = []
        let input = Array(s.utf8)
        var i = 0
        while i < input.count {
            let c = input[i]
            if c != UInt8(ascii: "\\") || i + 1 >= input.count {
                bytes.append(c)
                i += 1
                continue
            }
            let next = input[i + 1]
            switch next {
            case UInt8(ascii: "n"): bytes.append(10); i += 2
            case UInt8(ascii: "r"): bytes.append(13); i += 2
            case UInt8(ascii: "t"): bytes.append(9); i += 2
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): bytes.append(next); i += 2
            case UInt8(ascii: "x"):
                var j = i + 2
                var value = 0
                while j < input.count, j < i + 4, let d = hexValue(input[j]) { value = value * 16 + d; j += 1 }
                bytes.append(UInt8(truncatingIfNeeded: value))
                i = j
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var j = i + 1
                var value = 0
                while j < input.count, j < i + 4, input[j] >= UInt8(ascii: "0"), input[j] <= UInt8(ascii: "7") {
                    value = value * 8 + Int(input[j] - UInt8(ascii: "0"))
                    j += 1
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
                i = j
            default:
                bytes.append(next)
                i += 2
            }
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}
