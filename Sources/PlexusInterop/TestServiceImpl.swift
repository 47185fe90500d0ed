import Plexus
import PlexusProto

/// The interop test server's implementation of `plexus.testing.v1.TestService`, with the
/// behaviour gRPC's interop suite expects (echoed metadata, requested statuses and sizes).
public struct TestServiceImpl: Plexus_Testing_V1_TestServiceProtocol {
    public init() {}

    static let initialMetadataKey = "x-grpc-test-echo-initial"
    static let trailingMetadataKey = "x-grpc-test-echo-trailing-bin"

    /// Echoes the interop metadata keys back as response headers and trailers.
    func echoMetadata(_ context: ServerContext) {
        if let initial = context.requestMetadata[Self.initialMetadataKey] {
            var headers = Metadata()
            headers.add(Self.initialMetadataKey, initial)
            context.setResponseHeaders(headers)
        }
        if let trailing = context.requestMetadata[binary: Self.trailingMetadataKey] {
            var trailers = Metadata()
            trailers.add(Self.trailingMetadataKey, binary: trailing)
            context.setTrailers(trailers)
        }
    }

    func check(_ status: Plexus_Testing_V1_EchoStatus?) throws {
        guard let status, status.code != 0 else { return }
        throw RPCError(code: Status.Code(rawValue: status.code), message: status.message)
    }

    static func payload(_ size: Int32) -> Plexus_Testing_V1_Payload {
        var payload = Plexus_Testing_V1_Payload()
        payload.body = [UInt8](repeating: 0, count: Int(max(0, size)))
        return payload
    }

    public func emptyCall(request: Plexus_Testing_V1_Empty, context: ServerContext) async throws -> Plexus_Testing_V1_Empty {
        echoMetadata(context)
        return Plexus_Testing_V1_Empty()
    }

    public func unaryCall(request: Plexus_Testing_V1_SimpleRequest, context: ServerContext) async throws -> Plexus_Testing_V1_SimpleResponse {
        echoMetadata(context)
        try check(request.responseStatus)
        var response = Plexus_Testing_V1_SimpleResponse()
        response.payload = Self.payload(request.responseSize)
        return response
    }

    public func streamingOutputCall(request: Plexus_Testing_V1_StreamingOutputCallRequest, response: ResponseWriter<Plexus_Testing_V1_StreamingOutputCallResponse>, context: ServerContext) async throws {
        echoMetadata(context)
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs))) }
            var message = Plexus_Testing_V1_StreamingOutputCallResponse()
            message.payload = Self.payload(parameters.size)
            try await response.write(message)
        }
        try check(request.responseStatus)
    }

    public func streamingInputCall(requests: RequestStream<Plexus_Testing_V1_StreamingInputCallRequest>, context: ServerContext) async throws -> Plexus_Testing_V1_StreamingInputCallResponse {
        echoMetadata(context)
        var total: Int32 = 0
        for try await request in requests {
            total += Int32(request.payload?.body.count ?? 0)
        }
        var response = Plexus_Testing_V1_StreamingInputCallResponse()
        response.aggregatedPayloadSize = total
        return response
    }

    public func fullDuplexCall(requests: RequestStream<Plexus_Testing_V1_StreamingOutputCallRequest>, response: ResponseWriter<Plexus_Testing_V1_StreamingOutputCallResponse>, context: ServerContext) async throws {
        echoMetadata(context)
        for try await request in requests {
            try check(request.responseStatus)
            for parameters in request.responseParameters {
                if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs))) }
                var message = Plexus_Testing_V1_StreamingOutputCallResponse()
                message.payload = Self.payload(parameters.size)
                try await response.write(message)
            }
        }
    }

    public func unimplementedCall(request: Plexus_Testing_V1_Empty, context: ServerContext) async throws -> Plexus_Testing_V1_Empty {
        throw RPCError(code: .unimplemented, message: "UnimplementedCall is not implemented (on purpose)")
    }
}
