import Plexus
import PlexusProto

/// gRPC's interop test cases (doc/interop-test-descriptions.md), run by a Swift client
/// against any server implementing `plexus.testing.v1.TestService`.
public enum InteropCase: String, CaseIterable, Sendable {
    case emptyUnary = "empty_unary"
    case largeUnary = "large_unary"
    case clientStreaming = "client_streaming"
    case serverStreaming = "server_streaming"
    case pingPong = "ping_pong"
    case emptyStream = "empty_stream"
    case timeoutOnSleepingServer = "timeout_on_sleeping_server"
    case cancelAfterBegin = "cancel_after_begin"
    case cancelAfterFirstResponse = "cancel_after_first_response"
    case customMetadata = "custom_metadata"
    case statusCodeAndMessage = "status_code_and_message"
    case specialStatusMessage = "special_status_message"
    case unimplementedMethod = "unimplemented_method"
    case unimplementedService = "unimplemented_service"
}

/// A failed interop expectation.
public struct InteropFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw InteropFailure(message()) }
}

extension InteropCase {
    typealias Client = Plexus_Testing_V1_TestServiceClient
    typealias OutputRequest = Plexus_Testing_V1_StreamingOutputCallRequest

    static func payload(_ size: Int) -> Plexus_Testing_V1_Payload {
        var p = Plexus_Testing_V1_Payload()
        p.body = [UInt8](repeating: 0, count: size)
        return p
    }

    static func outputRequest(_ sizes: [Int32], payload: Int = 0) -> OutputRequest {
        var request = OutputRequest()
        request.responseParameters = sizes.map { size in
            var p = Plexus_Testing_V1_ResponseParameters()
            p.size = size
            return p
        }
        if payload > 0 { request.payload = Self.payload(payload) }
        return request
    }

    /// Runs the case; throws ``InteropFailure`` (or the call's error) when it fails.
    public func run(on channel: PlexusChannel) async throws {
        let client = Client(channel: channel)
        switch self {
        case .emptyUnary:
            let response = try await client.emptyCall(Plexus_Testing_V1_Empty())
            try expect(response == Plexus_Testing_V1_Empty(), "empty_unary: response not empty")

        case .largeUnary:
            var request = Plexus_Testing_V1_SimpleRequest()
            request.responseSize = 314_159
            request.payload = Self.payload(271_828)
            let response = try await client.unaryCall(request)
            try expect(response.payload?.body.count == 314_159, "large_unary: payload of \(response.payload?.body.count ?? -1) bytes")

        case .clientStreaming:
            let response = try await client.streamingInputCall { writer in
                for size in [27_182, 8, 1828, 45_904] {
                    var request = Plexus_Testing_V1_StreamingInputCallRequest()
                    request.payload = Self.payload(size)
                    try await writer.write(request)
                }
            }
            try expect(response.aggregatedPayloadSize == 74_922, "client_streaming: aggregated \(response.aggregatedPayloadSize)")

        case .serverStreaming:
            let sizes: [Int32] = [31_415, 9, 2653, 58_979]
            let received = try await client.streamingOutputCall(Self.outputRequest(sizes)) { responses in
                var sizes: [Int32] = []
                for try await response in responses { sizes.append(Int32(response.payload?.body.count ?? 0)) }
                return sizes
            }
            try expect(received == sizes, "server_streaming: got sizes \(received)")

        case .pingPong:
            let requestSizes = [27_182, 8, 1828, 45_904]
            let responseSizes: [Int32] = [31_415, 9, 2653, 58_979]
            try await client.fullDuplexCall { writer, responses in
                var iterator = responses.makeAsyncIterator()
                for (requestSize, responseSize) in zip(requestSizes, responseSizes) {
                    try await writer.write(Self.outputRequest([responseSize], payload: requestSize))
                    let response = try await iterator.next()
                    try expect(response?.payload?.body.count == Int(responseSize), "ping_pong: response of \(response?.payload?.body.count ?? -1) bytes, wanted \(responseSize)")
                }
                await writer.finish()
                let end = try await iterator.next()
                try expect(end == nil, "ping_pong: extra response after half-close")
            }

        case .emptyStream:
            try await client.fullDuplexCall { writer, responses in
                await writer.finish()
                var count = 0
                for try await _ in responses { count += 1 }
                try expect(count == 0, "empty_stream: got \(count) responses")
            }

        case .timeoutOnSleepingServer:
            do {
                try await client.fullDuplexCall(options: CallOptions(timeout: .milliseconds(1))) { writer, responses in
                    try await writer.write(Self.outputRequest([31_415], payload: 27_182))
                    for try await _ in responses {}
                }
                // Finishing within 1 ms is allowed only if the server also met the deadline.
                throw InteropFailure("timeout_on_sleeping_server: the call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .deadlineExceeded, "timeout_on_sleeping_server: got \(error)")
            }

        case .cancelAfterBegin:
            let task = Task {
                try await client.streamingInputCall { writer in
                    try await Task.sleep(for: .seconds(10))
                    _ = writer
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            do {
                _ = try await task.value
                throw InteropFailure("cancel_after_begin: the call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .cancelled, "cancel_after_begin: got \(error)")
            } catch is CancellationError {
                // The body's sleep was cancelled first; the call was abandoned with CANCEL.
            }

        case .cancelAfterFirstResponse:
            let task = Task {
                try await client.fullDuplexCall { writer, responses in
                    try await writer.write(Self.outputRequest([31_415], payload: 27_182))
                    var iterator = responses.makeAsyncIterator()
                    _ = try await iterator.next()
                    withUnsafeCurrentTask { $0?.cancel() }
                    _ = try await iterator.next()
                }
            }
            do {
                try await task.value
                throw InteropFailure("cancel_after_first_response: the call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .cancelled, "cancel_after_first_response: got \(error)")
            }

        case .customMetadata:
            var metadata = Metadata()
            metadata.add("x-grpc-test-echo-initial", "test_initial_metadata_value")
            metadata.add("x-grpc-test-echo-trailing-bin", binary: [0xab, 0xab, 0xab])
            var request = Plexus_Testing_V1_SimpleRequest()
            request.responseSize = 314_159
            request.payload = Self.payload(271_828)
            let response = try await channel.unary(Plexus_Testing_V1_TestService.Method.unaryCall, request: request,
                                                   responseType: Plexus_Testing_V1_SimpleResponse.self, options: CallOptions(metadata: metadata))
            try expect(response.headers["x-grpc-test-echo-initial"] == "test_initial_metadata_value", "custom_metadata: headers \(response.headers)")
            try expect(response.trailers[binary: "x-grpc-test-echo-trailing-bin"] == [0xab, 0xab, 0xab], "custom_metadata: trailers \(response.trailers)")
            let (headers, trailers) = try await channel.bidirectionalStreaming(
                Plexus_Testing_V1_TestService.Method.fullDuplexCall, requestType: OutputRequest.self,
                responseType: Plexus_Testing_V1_StreamingOutputCallResponse.self, options: CallOptions(metadata: metadata)
            ) { writer, responses in
                try await writer.write(Self.outputRequest([314_159], payload: 271_828))
                await writer.finish()
                for try await _ in responses {}
                return (try await responses.headers, try await responses.trailers)
            }
            try expect(headers["x-grpc-test-echo-initial"] == "test_initial_metadata_value", "custom_metadata (stream): headers \(headers)")
            try expect(trailers[binary: "x-grpc-test-echo-trailing-bin"] == [0xab, 0xab, 0xab], "custom_metadata (stream): trailers \(trailers)")

        case .statusCodeAndMessage:
            var status = Plexus_Testing_V1_EchoStatus()
            status.code = 2
            status.message = "test status message"
            var request = Plexus_Testing_V1_SimpleRequest()
            request.responseStatus = status
            do {
                _ = try await client.unaryCall(request)
                throw InteropFailure("status_code_and_message: unary call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .unknown && error.message == "test status message", "status_code_and_message: got \(error)")
            }
            var streaming = OutputRequest()
            streaming.responseStatus = status
            do {
                try await client.fullDuplexCall { writer, responses in
                    try await writer.write(streaming)
                    await writer.finish()
                    for try await _ in responses {}
                }
                throw InteropFailure("status_code_and_message: streaming call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .unknown && error.message == "test status message", "status_code_and_message (stream): got \(error)")
            }

        case .specialStatusMessage:
            let text = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
            var status = Plexus_Testing_V1_EchoStatus()
            status.code = 2
            status.message = text
            var request = Plexus_Testing_V1_SimpleRequest()
            request.responseStatus = status
            do {
                _ = try await client.unaryCall(request)
                throw InteropFailure("special_status_message: call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .unknown && error.message == text, "special_status_message: got \(error)")
            }

        case .unimplementedMethod:
            do {
                _ = try await client.unimplementedCall(Plexus_Testing_V1_Empty())
                throw InteropFailure("unimplemented_method: call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .unimplemented, "unimplemented_method: got \(error)")
            }

        case .unimplementedService:
            do {
                _ = try await Plexus_Testing_V1_UnimplementedServiceClient(channel: channel).unimplementedCall(Plexus_Testing_V1_Empty())
                throw InteropFailure("unimplemented_service: call succeeded")
            } catch let error as RPCError {
                try expect(error.code == .unimplemented, "unimplemented_service: got \(error)")
            }
        }
    }
}
