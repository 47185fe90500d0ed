import PlexusCodec

/// A service a server can host; generated `…Protocol`s conform to it.
public protocol PlexusService: Sendable {
    static var serviceDescriptor: ServiceDescriptor { get }
    func registerMethods(with router: inout MethodRouter)
}

/// Maps full method paths to handlers.
public struct MethodRouter: Sendable {
    /// A type-erased handler: runs one call on a stream.
    struct Handler: Sendable {
        let method: MethodDescriptor
        let run: @Sendable (ServerStream) async -> Void
    }

    private(set) var handlers: [String: Handler] = [:]
    private(set) var services: Set<String> = []

    public init() {}

    func handler(for path: String) -> Handler? { handlers[path] }

    func hasService(of path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.count == 2 && services.contains(String(parts[0]))
    }

    /// Registers every method of `service`.
    public mutating func register(_ service: some PlexusService) {
        services.insert(type(of: service).serviceDescriptor.name)
        service.registerMethods(with: &self)
    }

    public mutating func registerUnary<Req: ProtoMessage, Res: ProtoMessage>(
        _ method: MethodDescriptor, request: Req.Type, response: Res.Type,
        handler: @escaping @Sendable (Req, ServerContext) async throws -> Res
    ) {
        services.insert(method.service)
        handlers[method.fullPath] = Handler(method: method) { stream in
            await stream.run { () async throws -> Res? in
                let request: Req
                if let ready: Req = try stream.readyRequest() { request = ready } else { request = try await stream.singleRequest() }
                return try await handler(request, stream.context)
            }
        }
    }

    public mutating func registerServerStreaming<Req: ProtoMessage, Res: ProtoMessage>(
        _ method: MethodDescriptor, request: Req.Type, response: Res.Type,
        handler: @escaping @Sendable (Req, ResponseWriter<Res>, ServerContext) async throws -> Void
    ) {
        services.insert(method.service)
        handlers[method.fullPath] = Handler(method: method) { stream in
            await stream.run { () async throws -> Res? in
                let request: Req
                if let ready: Req = try stream.readyRequest() { request = ready } else { request = try await stream.singleRequest() }
                try await handler(request, ResponseWriter(stream: stream), stream.context)
                return nil
            }
        }
    }

    public mutating func registerClientStreaming<Req: ProtoMessage, Res: ProtoMessage>(
        _ method: MethodDescriptor, request: Req.Type, response: Res.Type,
        handler: @escaping @Sendable (RequestStream<Req>, ServerContext) async throws -> Res
    ) {
        services.insert(method.service)
        handlers[method.fullPath] = Handler(method: method) { stream in
            await stream.run { () async throws -> Res? in
                try await handler(RequestStream(stream: stream), stream.context)
            }
        }
    }

    public mutating func registerBidirectionalStreaming<Req: ProtoMessage, Res: ProtoMessage>(
        _ method: MethodDescriptor, request: Req.Type, response: Res.Type,
        handler: @escaping @Sendable (RequestStream<Req>, ResponseWriter<Res>, ServerContext) async throws -> Void
    ) {
        services.insert(method.service)
        handlers[method.fullPath] = Handler(method: method) { stream in
            await stream.run { () async throws -> Res? in
                try await handler(RequestStream(stream: stream), ResponseWriter(stream: stream), stream.context)
                return nil
            }
        }
    }
}

/// The request messages of a client-streaming or bidirectional call.
public struct RequestStream<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    let stream: ServerStream

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: ServerStream

        public mutating func next() async throws -> Message? {
            let payload: [UInt8]
            if let ready = stream.readyPayload() {
                payload = ready  // no suspension point when the message is already here
            } else {
                guard let next = try await stream.nextPayload() else { return nil }
                payload = next
            }
            do {
                return try Message(serializedBytes: payload)
            } catch {
                throw RPCError(code: .invalidArgument, message: "request is not a valid \(Message.protoMessageName): \(error)")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: stream) }
}

/// Sends response messages of a server-streaming or bidirectional call. `write` suspends
/// while the client's flow-control window is exhausted.
public struct ResponseWriter<Message: ProtoMessage>: Sendable {
    let stream: ServerStream

    /// Sends one message.
    public func write(_ message: Message) async throws {
        if try stream.trySendNow(message) { return }
        try await stream.send(message)
    }
}
