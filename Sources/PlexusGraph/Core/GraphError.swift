import Plexus
import PlexusProto

/// Errors of the graph server and its clients; the messages say what to do.
public enum GraphError: Error, Sendable, CustomStringConvertible {
    case badAddress(String, String)
    case notRegistered
    case typeMismatch(topic: String, expected: String, got: String)
    case routing(code: Plexus_Rpc_V1_RoutingCode, unit: String, message: String)
    case settings(SettingsError)
    case closed
    case messageTooLarge(topic: String, size: Int, limit: Int)

    var reason: String {
        if case .badAddress(_, let why) = self { return why }
        return description
    }

    public var description: String {
        switch self {
        case .badAddress(let text, let why):
            return "graph address '\(text)' is not valid: \(why) (use host:port, e.g. 127.0.0.1:\(GraphAddress.defaultPort))"
        case .notRegistered:
            return "this process is not registered with the graph server yet; wait for GraphClient.connect to return"
        case .typeMismatch(let topic, let expected, let got):
            return "topic '\(topic)' carries \(expected), not \(got)"
        case .routing(let code, let unit, let message):
            return "routing to unit '\(unit)' failed (\(code.protoName ?? String(code.rawValue))): \(message)"
        case .settings(let e):
            return e.description
        case .closed:
            return "the graph client is closed"
        case .messageTooLarge(let topic, let size, let limit):
            return "a \(size)-byte message on topic '\(topic)' exceeds the pub/sub limit of \(limit) bytes; split it"
        }
    }
}
