/// A frame that breaks the protocol. The connection that sent it is closed with GOAWAY.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformedHeader(String)
    case headerTooLarge(size: Int, limit: Int)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .malformedHeader(let why): return "malformed frame header: \(why)"
        case .headerTooLarge(let size, let limit): return "frame header of \(size) bytes exceeds the limit of \(limit) bytes"
        case .protocolViolation(let why): return "protocol violation: \(why)"
        }
    }
}
