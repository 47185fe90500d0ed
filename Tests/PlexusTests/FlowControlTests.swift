import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

/// A small window, many small messages: credit must be counted in payload bytes on both sides,
/// or the sender's window drains faster than the receiver refills it and the stream stalls.
final class FlowControlTests: ServerTestCase {
    override func configuration() -> ServerConfiguration {
        var configuration = super.configuration()
        configuration.initialWindow = 4096
        return configuration
    }

    func testManySmallMessagesWithASmallWindowFromTheLoopExecutor() async throws {
        let client = self.client
        let count = 20_000
        let response = try await Task(executorPreference: channel.eventLoop) {
            try await client.clientStream { writer in
                var message = makeScalars("x")
                message.data = [1, 2, 3, 4, 5, 6, 7, 8]
                for _ in 0..<count { try await writer.write(message) }
            }
        }.value
        XCTAssertEqual(response.i32, [Int32(count)])
    }
}

/// A server announcing a window above the 1 MiB default: a stream the client opened before the
/// server's HELLO arrived (the first call of a fresh channel) counted from 1 MiB and must move
/// to the announced window when the HELLO comes, or both sides wait for each other forever
/// (the server grants credit back only after half of its 8 MiB is consumed).
final class LargeWindowTests: ServerTestCase {
    override func configuration() -> ServerConfiguration {
        var configuration = super.configuration()
        configuration.initialWindow = 8 << 20
        return configuration
    }

    func testAStreamOpenedBeforeTheServersHelloUsesTheAnnouncedWindow() async throws {
        var options = CallOptions()
        options.timeout = .seconds(20)
        let count = 192  // 12 MiB in 64 KiB messages: past the default window and half the announced one
        let response = try await client.clientStream(options: options) { writer in
            var message = makeScalars("x")
            message.data = [UInt8](repeating: 7, count: 64 << 10)
            for _ in 0..<count { try await writer.write(message) }
        }
        XCTAssertEqual(response.i32, [Int32(count)])
    }
}
