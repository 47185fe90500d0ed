import CUV

/// A failure of the event loop or a socket, with libuv's error name and what to do about it.
public enum LoopError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The address is already bound by another socket.
    case addressInUse(host: String, port: Int)
    /// Nothing listens at the address.
    case connectionRefused(host: String, port: Int)
    /// The host string is not a numeric IPv4/IPv6 address or `localhost`.
    case invalidAddress(String)
    /// Connecting took longer than allowed.
    case connectTimeout(host: String, port: Int)
    /// The peer closed the connection.
    case endOfFile
    /// The loop is shutting down or has shut down.
    case loopClosed
    /// Any other libuv error: the operation, libuv's error name and message.
    case uv(operation: String, name: String, message: String)

    /// Wraps a negative libuv status code.
    public init(operation: String, code: Int32) {
        let name = uv_err_name(code).map { String(cString: $0) } ?? "\(code)"
        let message = uv_strerror(code).map { String(cString: $0) } ?? ""
        self = .uv(operation: operation, name: name, message: message)
    }

    public var description: String {
        switch self {
        case .addressInUse(let host, let port):
            return "\(host):\(port) is already in use; pick another port, or port 0 for an OS-assigned one"
        case .connectionRefused(let host, let port):
            return "connection to \(host):\(port) refused: is the server running and listening there?"
        case .invalidAddress(let host):
            return "'\(host)' is not a numeric IPv4 or IPv6 address (or localhost)"
        case .connectTimeout(let host, let port):
            return "connecting to \(host):\(port) timed out; check the address and that the peer is up"
        case .endOfFile:
            return "the peer closed the connection"
        case .loopClosed:
            return "the event loop has shut down; create a new one"
        case .uv(let operation, let name, let message):
            return "\(operation) failed: \(name) (\(message))"
        }
    }
}
