// plexus-demo-client: calls the example TestService with the Swift client, one call of each
// kind, and prints what happens.   plexus-demo-client --port P
import Glibc
import Plexus
import PlexusInterop
import PlexusProto

let arguments = CommandLine.arguments
guard let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count, let port = Int(arguments[index + 1]) else {
    print("usage: plexus-demo-client --port P")
    exit(2)
}
let channel = PlexusChannel(host: "127.0.0.1", port: port)
let client = Plexus_Testing_V1_TestServiceClient(channel: channel)

func payload(_ size: Int) -> Plexus_Testing_V1_Payload {
    var p = Plexus_Testing_V1_Payload()
    p.body = [UInt8](repeating: 0, count: size)
    return p
}

do {
    var request = Plexus_Testing_V1_SimpleRequest()
    request.responseSize = 1000
    request.payload = payload(10)
    var metadata = Metadata()
    metadata.add("x-grpc-test-echo-initial", "hello from swift")
    let unary = try await channel.unary(Plexus_Testing_V1_TestService.Method.unaryCall, request: request,
                                        responseType: Plexus_Testing_V1_SimpleResponse.self, options: CallOptions(metadata: metadata))
    print("swift  unary            → \(unary.message.payload?.body.count ?? 0)-byte payload, header echoed: \(unary.headers["x-grpc-test-echo-initial"] ?? "-")")

    var streamRequest = Plexus_Testing_V1_StreamingOutputCallRequest()
    for size in [1, 10, 100] {
        var parameters = Plexus_Testing_V1_ResponseParameters()
        parameters.size = Int32(size)
        streamRequest.responseParameters.append(parameters)
    }
    let sizes = try await client.streamingOutputCall(streamRequest) { responses in
        var sizes: [Int] = []
        for try await response in responses { sizes.append(response.payload?.body.count ?? 0) }
        return sizes
    }
    print("swift  server streaming → responses of \(sizes) bytes")

    let total = try await client.streamingInputCall { writer in
        for size in [5, 50, 500] {
            var message = Plexus_Testing_V1_StreamingInputCallRequest()
            message.payload = payload(size)
            try await writer.write(message)
        }
    }
    print("swift  client streaming → server counted \(total.aggregatedPayloadSize) bytes")

    let echoed = try await client.fullDuplexCall { writer, responses in
        var got: [Int] = []
        var iterator = responses.makeAsyncIterator()
        for size in [7, 70] {
            var message = Plexus_Testing_V1_StreamingOutputCallRequest()
            var parameters = Plexus_Testing_V1_ResponseParameters()
            parameters.size = Int32(size)
            message.responseParameters = [parameters]
            try await writer.write(message)
            got.append(try await iterator.next()?.payload?.body.count ?? -1)
        }
        await writer.finish()
        return got
    }
    print("swift  bidirectional    → ping-pong answers of \(echoed) bytes")

    var failing = Plexus_Testing_V1_SimpleRequest()
    var status = Plexus_Testing_V1_EchoStatus()
    status.code = Status.Code.notFound.rawValue
    status.message = "no such key"
    failing.responseStatus = status
    do {
        _ = try await client.unaryCall(failing)
    } catch let error as RPCError {
        print("swift  error status     → \(error.code): \(error.message)")
    }
    do {
        _ = try await client.fullDuplexCall(options: CallOptions(timeout: .milliseconds(50))) { writer, responses in
            var slow = Plexus_Testing_V1_StreamingOutputCallRequest()
            var parameters = Plexus_Testing_V1_ResponseParameters()
            parameters.size = 1
            parameters.intervalUs = 1_000_000
            slow.responseParameters = [parameters]
            try await writer.write(slow)
            for try await _ in responses {}
        }
    } catch let error as RPCError {
        print("swift  deadline 50 ms   → \(error.code): \(error.message)")
    }
} catch {
    print("demo failed: \(error)")
    exit(1)
}
await channel.close()
