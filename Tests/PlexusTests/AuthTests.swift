@testable import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

/// A server that requires an auth token in HELLO.
final class AuthTests: ServerTestCase {
    override func configuration() -> ServerConfiguration {
        var configuration = super.configuration()
        configuration.authToken = "s3cret"
        return configuration
    }

    func testAWrongTokenGetsGoAwayAndFramesBehindItAreNotProcessed() async throws {
        let (tcp, received, loop) = try await rawPeer(port: server.port)
        let closed = expectation(description: "server closed the unauthenticated connection")
        loop.execute {
            tcp.onClose = { _ in closed.fulfill() }
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()  // no token
            FrameCodec.append(hello, into: &out)
            // An OPEN in the same write (so in the same read on the server) must not run.
            var open = FrameHeader(kind: .open, streamID: 1, flags: [.message, .endStream])
            open.method = Plexus_Test_V1_TestService.Method.unary.fullPath
            FrameCodec.append(open, into: &out) { makeScalars("sneaky").serialize(appendingTo: &$0) }
            tcp.write(out)
        }
        await fulfillment(of: [closed], timeout: 10)
        let frames = try frames(received.withLock { $0 })
        let goAway = frames.first { $0.kind == .goAway }
        XCTAssertEqual(goAway?.goAway?.code, .unauthenticated)
        XCTAssertTrue(goAway?.goAway?.reason.contains("auth token") == true, "\(String(describing: goAway))")
        XCTAssertFalse(frames.contains { $0.kind == .close }, "the OPEN behind a rejected HELLO was answered")
        XCTAssertEqual(observations.requestMetadata.withLock { $0.count }, 0, "a handler ran for an unauthenticated peer")
        await loop.shutdown()
    }

    func testTheRightTokenIsServedAndAMissingOneIsUnavailableWithTheReason() async throws {
        var configuration = ClientConfiguration()
        configuration.authToken = "s3cret"
        let good = PlexusChannel(host: "127.0.0.1", port: server.port, configuration: configuration)
        let reply = try await Plexus_Test_V1_TestServiceClient(channel: good).unary(makeScalars("let me in"))
        XCTAssertEqual(reply.text, "let me in")
        await good.close()

        let error = await expectRPCError(.unavailable) { _ = try await self.client.unary(makeScalars("no token")) }
        XCTAssertTrue(error?.message.contains("auth token") == true, "\(String(describing: error))")
    }
}
