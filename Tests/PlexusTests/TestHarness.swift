@testable import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

/// What the test service saw, for assertions.
final class Observations: Sendable {
    let cancelledCalls = Locked(0)
    let bytesReceived = Locked(0)
    let requestMetadata = Locked<[Metadata]>([])
}

struct SomeError: Error, CustomStringConvertible {
    var description: String { "something broke in the handler" }
}

/// A service whose behaviour the request's `text` selects.
struct ControlledService: Plexus_Test_V1_TestServiceProtocol {
    let observations: Observations

    func unary(request: Plexus_Test_V1_Scalars, context: ServerContext) async throws -> Plexus_Test_V1_Scalars {
        observations.requestMetadata.withLock { $0.append(context.requestMetadata) }
        switch request.text {
        case "throw":
            throw SomeError()
        case "sleep":
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                observations.cancelledCalls.withLock { $0 += 1 }
                throw error
            }
            return request
        case "big-trailers":
            var trailers = Metadata()
            trailers.add("x-big", String(repeating: "t", count: Int(request.i32)))
            context.setTrailers(trailers)
            return request
        case "big":
            var response = request
            response.data = [UInt8](repeating: 7, count: Int(request.i32))
            return response
        default:
            return request
        }
    }

    func serverStream(request: Plexus_Test_V1_Repeated, response: ResponseWriter<Plexus_Test_V1_Scalars>, context: ServerContext) async throws {
        for value in request.i32 {
            var message = Plexus_Test_V1_Scalars()
            message.i32 = value
            try await response.write(message)
        }
    }

    func clientStream(requests: RequestStream<Plexus_Test_V1_Scalars>, context: ServerContext) async throws -> Plexus_Test_V1_Repeated {
        var result = Plexus_Test_V1_Repeated()
        var count: Int32 = 0
        for try await request in requests {
            observations.bytesReceived.withLock { $0 += request.data.count }
            if request.text == "slow" { try await Task.sleep(for: .milliseconds(2)) }
            count += 1
        }
        result.i32 = [count]
        return result
    }

    func bidi(requests: RequestStream<Plexus_Test_V1_Scalars>, response: ResponseWriter<Plexus_Test_V1_Scalars>, context: ServerContext) async throws {
        for try await request in requests { try await response.write(request) }
    }
}

/// Starts a server with the controlled service and gives each test a channel to it.
class ServerTestCase: XCTestCase {
    var server: PlexusServer!
    var channel: PlexusChannel!
    let observations = Observations()

    func configuration() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        return configuration
    }

    override func setUp() async throws {
        server = PlexusServer(configuration: configuration())
        server.register(ControlledService(observations: observations))
        try await server.start()
        channel = PlexusChannel(host: "127.0.0.1", port: server.port)
    }

    override func tearDown() async throws {
        await channel.close()
        await server.shutdown(gracePeriod: .milliseconds(200))
    }

    var client: Plexus_Test_V1_TestServiceClient { Plexus_Test_V1_TestServiceClient(channel: channel) }


    func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now > deadline { return XCTFail("condition not met in time") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func expectRPCError(_ code: Status.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            XCTFail("expected \(code), the call succeeded", file: file, line: line)
        } catch let error as RPCError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected RPCError \(code), got \(error)", file: file, line: line)
        }
        return nil
    }
}

extension ServerTestCase {
    /// A raw TCP peer that records what it receives.
    func rawPeer(port: Int) async throws -> (TCPConnection, Locked<[UInt8]>, EventLoop) {
        let loop = EventLoop()
        let received = Locked<[UInt8]>([])
        let tcp = try await TCPConnection.connect(on: loop, host: "127.0.0.1", port: port)
        loop.execute {
            tcp.onRead = { bytes in received.withLock { $0 += bytes.copiedBytes() } }
            tcp.startReading()
        }
        return (tcp, received, loop)
    }

    func frames(_ bytes: [UInt8]) throws -> [FrameHeader] {
        var decoder = FrameDecoder(maxHeaderSize: 1 << 20, maxPayloadSize: 1 << 24)
        var headers: [FrameHeader] = []
        try bytes.withUnsafeBytes { raw in
            try decoder.feed(raw) { event in
                if case .frame(let header, _) = event { headers.append(header) }
            }
        }
        return headers
    }
}

func makeScalars(_ text: String, i32: Int32 = 0) -> Plexus_Test_V1_Scalars {
    var m = Plexus_Test_V1_Scalars()
    m.text = text
    m.i32 = i32
    return m
}
