import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

/// A server whose stream limit is above the default the client assumes before HELLO arrives.
final class StreamQueueTests: ServerTestCase {
    override func configuration() -> ServerConfiguration {
        var configuration = super.configuration()
        configuration.maxConcurrentStreams = 1000
        return configuration
    }

    /// Calls made before the server's HELLO are queued beyond the default limit (100); the
    /// HELLO's higher limit releases them at once, and later calls queue behind them so OPENs
    /// stay in stream-id order (an out-of-order OPEN is a connection error).
    func testTheServersHelloReleasesQueuedCallsAndOpensStayInOrder() async throws {
        let client = self.client
        let observations = self.observations
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    do {
                        _ = try await client.unary(makeScalars("sleep"))
                    } catch let error as RPCError where error.code == .cancelled {}
                }
            }
            try await waitUntil(timeout: .seconds(5)) { observations.requestMetadata.withLock { $0.count } == 200 }
            XCTAssertEqual(observations.requestMetadata.withLock { $0.count }, 200, "every call reached the server")
            // The connection survived: a call made now (higher id) is answered.
            let reply = try await client.unary(makeScalars("after"))
            XCTAssertEqual(reply.text, "after")
            group.cancelAll()
            try await group.waitForAll()
        }
        try await waitUntil { observations.cancelledCalls.withLock { $0 } == 200 }
    }
}
