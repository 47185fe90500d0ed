import Plexus
import PlexusInterop
import PlexusLoop
import XCTest

/// Every interop case, Swift client against the Swift server, over real TCP on loopback.
final class InteropTests: XCTestCase {
    static let server = Locked<PlexusServer?>(nil)

    func startServer() async throws -> PlexusServer {
        if let server = Self.server.withLock({ $0 }) { return server }
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = PlexusServer(configuration: configuration)
        server.register(TestServiceImpl())
        try await server.start()
        Self.server.withLock { $0 = server }
        return server
    }

    func run(_ testCase: InteropCase) async throws {
        let server = try await startServer()
        let channel = PlexusChannel(host: "127.0.0.1", port: server.port)
        try await testCase.run(on: channel)
        await channel.close()
    }

    func testEmptyUnary() async throws { try await run(.emptyUnary) }
    func testLargeUnary() async throws { try await run(.largeUnary) }
    func testClientStreaming() async throws { try await run(.clientStreaming) }
    func testServerStreaming() async throws { try await run(.serverStreaming) }
    func testPingPong() async throws { try await run(.pingPong) }
    func testEmptyStream() async throws { try await run(.emptyStream) }
    func testTimeoutOnSleepingServer() async throws { try await run(.timeoutOnSleepingServer) }
    func testCancelAfterBegin() async throws { try await run(.cancelAfterBegin) }
    func testCancelAfterFirstResponse() async throws { try await run(.cancelAfterFirstResponse) }
    func testCustomMetadata() async throws { try await run(.customMetadata) }
    func testStatusCodeAndMessage() async throws { try await run(.statusCodeAndMessage) }
    func testSpecialStatusMessage() async throws { try await run(.specialStatusMessage) }
    func testUnimplementedMethod() async throws { try await run(.unimplementedMethod) }
    func testUnimplementedService() async throws { try await run(.unimplementedService) }
}
