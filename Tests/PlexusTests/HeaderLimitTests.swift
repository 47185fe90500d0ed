import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

/// Frame headers over the peer's max_header_size would cost the whole connection (the receiver
/// cannot tell which stream a header it refuses to parse belongs to), so senders check first
/// and fail only the call.
final class HeaderLimitTests: ServerTestCase {
    override func configuration() -> ServerConfiguration {
        var configuration = super.configuration()
        configuration.maxHeaderSize = 1024
        return configuration
    }

    func testRequestMetadataOverTheServersHeaderLimitFailsOnlyThatCall() async throws {
        let client = self.client
        _ = try await client.unary(makeScalars("warm up"))  // the server's HELLO has arrived
        let inFlight = Task {
            try await client.unary(makeScalars("sleep"), options: CallOptions(timeout: .milliseconds(500)))
        }
        try await Task.sleep(for: .milliseconds(50))
        var metadata = Metadata()
        metadata.add("x-huge", String(repeating: "m", count: 4000))
        let error = await expectRPCError(.resourceExhausted) {
            _ = try await client.unary(makeScalars("echo"), options: CallOptions(metadata: metadata))
        }
        XCTAssertTrue(error?.message.contains("max_header_size of 1024") == true, "\(String(describing: error))")
        // The connection survived: the call in flight ends by its deadline, not UNAVAILABLE.
        do {
            _ = try await inFlight.value
            XCTFail("the sleeping call returned")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .deadlineExceeded, "\(error)")
        }
        let after = try await client.unary(makeScalars("after"))
        XCTAssertEqual(after.text, "after")
    }

    func testTrailersOverTheClientsHeaderLimitFailOnlyThatCall() async throws {
        var configuration = ClientConfiguration()
        configuration.maxHeaderSize = 1024
        let channel = PlexusChannel(host: "127.0.0.1", port: server.port, configuration: configuration)
        let client = Plexus_Test_V1_TestServiceClient(channel: channel)
        let small = try await client.unary(makeScalars("big-trailers", i32: 10))
        XCTAssertEqual(small.text, "big-trailers")
        let error = await expectRPCError(.resourceExhausted) {
            _ = try await client.unary(makeScalars("big-trailers", i32: 4000))
        }
        XCTAssertTrue(error?.message.contains("max_header_size of 1024") == true, "\(String(describing: error))")
        let after = try await client.unary(makeScalars("after"))
        XCTAssertEqual(after.text, "after")
        XCTAssertEqual(server.connectionCount, 1, "the channel kept its one connection")
        await channel.close()
    }
}
