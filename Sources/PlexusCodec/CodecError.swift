/// Why a message could not be decoded.
///
/// Decoding never crashes on bad input: every failure surfaces as one of these cases, naming
/// the message type so the caller can tell which call or stream carried the bad bytes.
public enum CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes are not a valid protobuf encoding of the type: truncated data, a length that
    /// points past the end, a wrong wire type for a known field, or a missing required field.
    case malformed(type: String)
    /// A string field holds bytes that are not valid UTF-8.
    case invalidUTF8(type: String, field: String)
    /// Messages are nested deeper than the decoder allows.
    case nestingTooDeep(type: String, limit: Int)

    public var description: String {
        switch self {
        case .malformed(let type):
            return "could not decode \(type): the bytes are not a valid protobuf encoding of it "
                + "(truncated data, a length past the end, a wrong wire type or a missing required field); "
                + "check that sender and receiver use the same message type"
        case .invalidUTF8(let type, let field):
            return "could not decode \(type): string field '\(field)' is not valid UTF-8; "
                + "send binary data in a bytes field instead"
        case .nestingTooDeep(let type, let limit):
            return "could not decode \(type): messages are nested more than \(limit) levels deep; "
                + "flatten the data or raise the limit"
        }
    }
}
