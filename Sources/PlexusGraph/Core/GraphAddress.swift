import Foundation

/// Where the graph server listens: `host:port`. Processes and tools find it through
/// `PLEXUS_GRAPH_ADDRESS`, defaulting to 127.0.0.1:25979.
public struct GraphAddress: Sendable, Hashable, CustomStringConvertible {
    /// The default port of the graph server (documented in README and docs/GRAPH.md).
    public static let defaultPort = 25979
    /// The environment variable that names the graph server's address.
    public static let environmentVariable = "PLEXUS_GRAPH_ADDRESS"

    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = GraphAddress.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `:port` or `host` (default port).
    public init(parsing text: String) throws(GraphError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .badAddress(text, "it is empty") }
        if let colon = trimmed.lastIndex(of: ":") {
            let hostPart = String(trimmed[..<colon])
            guard let port = Int(trimmed[trimmed.index(after: colon)...]), (0...65535).contains(port) else {
                throw .badAddress(text, "the port must be a number from 0 to 65535")
            }
            self.init(host: hostPart.isEmpty ? "127.0.0.1" : hostPart, port: port)
        } else {
            self.init(host: trimmed, port: GraphAddress.defaultPort)
        }
    }

    /// The address from `PLEXUS_GRAPH_ADDRESS`, or the default.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(GraphError) -> GraphAddress {
        guard let text = environment[environmentVariable], !text.isEmpty else { return GraphAddress() }
        do {
            return try GraphAddress(parsing: text)
        } catch {
            throw .badAddress("\(environmentVariable)=\(text)", error.reason)
        }
    }

    public var description: String { "\(host):\(port)" }
}
