import PlexusCodec
import PlexusLoop

extension PlexusChannel {
    /// A unary call: one request, one response.
    public func unary<Req: ProtoMessage, Res: ProtoMessage>(
        _ method: MethodDescriptor, request: Req, responseType: Res.Type, options: CallOptions = .defaults
    ) async throws -> ClientResponse<Res> {
        let handle = CallHandle()
        let raw = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RawResponse, any Error>) in
                startCall(method, options: options, endStream: true, message: { request.serialize(appendingTo: &$0) },
                          handle: handle, continuation: continuation) { _ in }
            }
        } onCancel: {
            handle.cancel()
        }
        return try Self.single(raw, Res.self)
    }

    static func single<Res: ProtoMessage>(_ raw: RawResponse, _ type: Res.Type) throws -> ClientResponse<Res> {
        guard raw.status.code == .ok else { throw RPCError(status: raw.status, trailers: raw.trailers) }
        guard let payload = raw.payload else {
            throw RPCError(code: .internal, message: "the server ended the call with OK but sent no response message", metadata: raw.trailers)
        }
        do {
            return ClientResponse(message: try Res(serializedBytes: payload), headers: raw.headers, trailers: raw.trailers)
        } catch {
            throw RPCError(code: .internal, message: "response is not a valid \(Res.protoMessageName): \(error)", metadata: raw.trailers)
        }
    }

    private func start(_ method: MethodDescriptor, options: CallOptions, endStream: Bool,
                       message: (@Sendable (inout [UInt8]) -> Void)?, handle: CallHandle,
                       continuation: UnsafeContinuation<RawResponse, any Error>?) async throws -> ClientCall {
        try await withUnsafeThrowingContinuation { (started: UnsafeContinuation<ClientCall, any Error>) in
            startCall(method, options: options, endStream: endStream, message: message, handle: handle, continuation: continuation) { result in
                started.resume(with: result.mapError { $0 as any Error })
            }
        }
    }

    /// A server-streaming call: one request; `body` reads the responses.
    public func serverStreaming<Req: ProtoMessage, Res: ProtoMessage, R>(
        _ method: MethodDescriptor, request: Req, responseType: Res.Type, options: CallOptions = .defaults,
        body: (ResponseStream<Res>) async throws -> R
    ) async throws -> R {
        let handle = CallHandle()
        return try await withTaskCancellationHandler {
            let call = try await start(method, options: options, endStream: true, message: { request.serialize(appendingTo: &$0) },
                                       handle: handle, continuation: nil)
            defer { handle.cancel() }  // a body that stops early abandons the call
            return try await body(ResponseStream(call: call))
        } onCancel: {
            handle.cancel()
        }
    }

    /// A client-streaming call: `body` writes the requests; returns the one response.
    public func clientStreaming<Req: ProtoMessage, Res: ProtoMessage>(
        _ method: MethodDescriptor, requestType: Req.Type, responseType: Res.Type, options: CallOptions = .defaults,
        body: (RequestWriter<Req>) async throws -> Void
    ) async throws -> ClientResponse<Res> {
        let handle = CallHandle()
        return try await withTaskCancellationHandler {
            let call = try await start(method, options: options, endStream: false, message: nil, handle: handle, continuation: nil)
            let raw: RawResponse
            do {
                try await body(RequestWriter(call: call))
                raw = try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RawResponse, any Error>) in
                    call.loop.execute {
                        call.halfClose()
                        call.awaitResponse(continuation)
                    }
                }
            } catch {
                handle.cancel()
                throw error
            }
            return try Self.single(raw, Res.self)
        } onCancel: {
            handle.cancel()
        }
    }

    /// A bidirectional call: `body` writes requests and reads responses concurrently.
    public func bidirectionalStreaming<Req: ProtoMessage, Res: ProtoMessage, R>(
        _ method: MethodDescriptor, requestType: Req.Type, responseType: Res.Type, options: CallOptions = .defaults,
        body: (RequestWriter<Req>, ResponseStream<Res>) async throws -> R
    ) async throws -> R {
        let handle = CallHandle()
        return try await withTaskCancellationHandler {
            let call = try await start(method, options: options, endStream: false, message: nil, handle: handle, continuation: nil)
            defer { handle.cancel() }
            return try await body(RequestWriter(call: call), ResponseStream(call: call))
        } onCancel: {
            handle.cancel()
        }
    }
}

extension ClientCall {
    /// Resumes `continuation` with the final outcome (now if the call already ended).
    func awaitResponse(_ continuation: UnsafeContinuation<RawResponse, any Error>) {
        if let status = finalStatus {
            continuation.resume(returning: RawResponse(payload: takeLastPayload(), headers: headers, trailers: trailers, status: status))
        } else {
            responseContinuation = continuation
        }
    }
}
