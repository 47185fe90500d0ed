import PlexusCodec
import PlexusLoop

/// The response messages of a server-streaming or bidirectional call. Iterating throws
/// ``RPCError`` when the call ends with a status other than OK.
public struct ResponseStream<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    let call: ClientCall

    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: ClientCall
        var buffered: [[UInt8]] = []
        var index = 0
        var ended = false

        public mutating func next() async throws -> Message? {
            if index == buffered.count {
                if ended { return nil }
                let call = self.call
                buffered = try await withUnsafeThrowingContinuation { continuation in
                    call.loop.execute { call.takePayloads(continuation) }
                }
                index = 0
                if buffered.isEmpty {
                    ended = true
                    return nil
                }
            }
            let payload = buffered[index]
            index += 1
            do {
                return try Message(serializedBytes: payload)
            } catch {
                throw RPCError(code: .internal, message: "response is not a valid \(Message.protoMessageName): \(error)")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(call: call) }

    /// The response headers (waits for the first server frame).
    public var headers: Metadata {
        get async throws {
            let call = self.call
            return try await withUnsafeThrowingContinuation { continuation in
                call.loop.execute { call.waitForHeaders(continuation) }
            }
        }
    }

    /// The trailers (empty until the call has ended).
    public var trailers: Metadata {
        get async throws {
            let call = self.call
            return try await call.loop.submit { call.trailers }
        }
    }
}

/// Sends the request messages of a client-streaming or bidirectional call. `write` suspends
/// while the server's flow-control window is exhausted.
public struct RequestWriter<Message: ProtoMessage>: Sendable {
    let call: ClientCall

    /// Sends one message.
    public func write(_ message: Message) async throws {
        let call = self.call
        // On the loop (a task preferring it as executor) with credit: write without a hop.
        if call.loop.inEventLoop, try call.trySendNow({ message.serialize(appendingTo: &$0) }) { return }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            call.loop.execute { call.send({ message.serialize(appendingTo: &$0) }, continuation) }
        }
    }

    /// Sends `message` at once when called on the channel's event loop (a task preferring it as
    /// executor, or loop code), the stream has credit and the socket has room; otherwise
    /// returns false without sending (then use ``write(_:)``). Never suspends. Throws when the
    /// write ended the call (a message over the server's limit).
    public func tryWrite(_ message: Message) throws -> Bool {
        let call = self.call
        guard call.loop.inEventLoop else { return false }
        return try call.trySendNow({ message.serialize(appendingTo: &$0) })
    }

    /// Tells the server no more messages follow (also done when the call's body returns).
    public func finish() async {
        let call = self.call
        _ = try? await call.loop.submit { call.halfClose() }
    }
}

