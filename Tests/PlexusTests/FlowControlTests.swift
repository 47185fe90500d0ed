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
