/// Request headers, response headers or trailers: an ordered multimap of lowercase keys to
/// text or binary values. Keys ending in `-bin` carry binary values (gRPC's convention).
public struct Metadata: Sendable, Hashable, Sequence, CustomStringConvertible {
    /// One value.
    public enum Value: Sendable, Hashable {
        case text(String)
        case binary([UInt8])
    }

    /// The entries in order.
    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}

    /// Metadata with the given text entries, in order.
    public init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { add(key, value) }
    }

    /// Appends a text value.
    public mutating func add(_ key: String, _ value: String) {
        entries.append((key.lowercased(), .text(value)))
    }

    /// Appends a binary value (the key should end in `-bin`).
    public mutating func add(_ key: String, binary: [UInt8]) {
        entries.append((key.lowercased(), .binary(binary)))
    }

    mutating func append(_ key: String, _ value: Value) {
        entries.append((key, value))
    }

    /// Replaces every value of `key` with one text value.
    public mutating func replace(_ key: String, _ value: String) {
        let key = key.lowercased()
        entries.removeAll { $0.key == key }
        entries.append((key, .text(value)))
    }

    /// The first text value of `key`.
    public subscript(_ key: String) -> String? {
        let key = key.lowercased()
        for entry in entries where entry.key == key {
            if case .text(let text) = entry.value { return text }
        }
        return nil
    }

    /// The first binary value of `key`.
    public subscript(binary key: String) -> [UInt8]? {
        let key = key.lowercased()
        for entry in entries where entry.key == key {
            if case .binary(let bytes) = entry.value { return bytes }
        }
        return nil
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: Value)> {
        entries.makeIterator()
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.count == rhs.entries.count && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    public var description: String {
        "[" + entries.map { entry in
            switch entry.value {
            case .text(let text): return "\(entry.key): \(text)"
            case .binary(let bytes): return "\(entry.key): <\(bytes.count) bytes>"
            }
        }.joined(separator: ", ") + "]"
    }
}
