import Foundation
import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

final class CallTests: ServerTestCase {
    func testManyConcurrentCallsAreMatchedByStreamID() async throws {
        let client = self.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<500 {
                group.addTask {
                    let response = try await client.unary(makeScalars("echo \(i)", i32: Int32(i)))
                    XCTAssertEqual(response.i32, Int32(i))
                    XCTAssertEqual(response.text, "echo \(i)")
                }
            }
            try await group.waitForAll()
        }
    }

    func testAllFourCallKinds() async throws {
        let client = self.client
        var request = Plexus_Test_V1_Repeated()
        request.i32 = [5, 6, 7]
        let streamed = try await client.serverStream(request) { responses in
            var values: [Int32] = []
            for try await response in responses { values.append(response.i32) }
            return values
        }
        XCTAssertEqual(streamed, [5, 6, 7])
        let counted = try await client.clientStream { writer in
            for i in 0..<10 { try await writer.write(makeScalars("x", i32: Int32(i))) }
        }
        XCTAssertEqual(counted.i32, [10])
        let echoed = try await client.bidi { writer, responses in
            var values: [String] = []
            for word in ["a", "b", "c"] {
                try await writer.write(makeScalars(word))
            }
            await writer.finish()
            for try await response in responses { values.append(response.text) }
            return values
        }
        XCTAssertEqual(echoed, ["a", "b", "c"])
    }

    func testRequestMetadataReachesTheHandler() async throws {
        var metadata = Metadata()
        metadata.add("x-user", "ada")
        metadata.add("x-token-bin", binary: [0, 1, 2, 255])
        _ = try await client.unary(makeScalars("echo"), options: CallOptions(metadata: metadata))
        let seen = observations.requestMetadata.withLock { $0.last }
        XCTAssertEqual(seen?["x-user"], "ada")
        XCTAssertEqual(seen?[binary: "x-token-bin"], [0, 1, 2, 255])
    }

    func testThrowingHandlerEndsOnlyItsCallAndTheServerKeepsServing() async throws {
        let error = await expectRPCError(.unknown) { _ = try await self.client.unary(makeScalars("throw")) }
        XCTAssertEqual(error?.message, "something broke in the handler")
        let response = try await client.unary(makeScalars("still here"))
        XCTAssertEqual(response.text, "still here")
    }

    func testDeadlineCancelsTheHandlerAndTheClientGetsDeadlineExceeded() async throws {
        let start = ContinuousClock.now
        _ = await expectRPCError(.deadlineExceeded) {
            _ = try await self.client.unary(makeScalars("sleep"), options: CallOptions(timeout: .milliseconds(100)))
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        try await waitUntil { self.observations.cancelledCalls.withLock { $0 } == 1 }
    }

    func testCancellingTheClientTaskCancelsTheHandler() async throws {
        let client = self.client
        let task = Task { try await client.unary(makeScalars("sleep")) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("the cancelled call succeeded")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .cancelled)
        }
        try await waitUntil { self.observations.cancelledCalls.withLock { $0 } == 1 }
        // The connection is still good.
        _ = try await client.unary(makeScalars("after cancel"))
    }

    func testDroppedConnectionCancelsCallsOnBothSides() async throws {
        let client = self.client
        let task = Task { try await client.unary(makeScalars("sleep")) }
        try await Task.sleep(for: .milliseconds(100))
        await server.shutdown(gracePeriod: .zero)
        do {
            _ = try await task.value
            XCTFail("call survived the server going away")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unavailable)
        }
        try await waitUntil { self.observations.cancelledCalls.withLock { $0 } == 1 }
    }

    func testUnknownMethodAndServiceAreUnimplemented() async throws {
        let method = MethodDescriptor(service: "plexus.test.v1.TestService", method: "Nope", kind: .unary)
        let error = await expectRPCError(.unimplemented) {
            _ = try await self.channel.unary(method, request: makeScalars("x"), responseType: Plexus_Test_V1_Scalars.self)
        }
        XCTAssertTrue(error?.message.contains("unknown method") == true)
        let other = MethodDescriptor(service: "nobody.Service", method: "Call", kind: .unary)
        let serviceError = await expectRPCError(.unimplemented) {
            _ = try await self.channel.unary(other, request: makeScalars("x"), responseType: Plexus_Test_V1_Scalars.self)
        }
        XCTAssertTrue(serviceError?.message.contains("unknown service") == true)
    }

    func testOversizeMessagesFailOnlyTheirCall() async throws {
        var big = makeScalars("echo")
        big.data = [UInt8](repeating: 1, count: 5 * 1024 * 1024)
        let error = await expectRPCError(.resourceExhausted) { _ = try await self.client.unary(big) }
        XCTAssertTrue(error?.message.contains("exceeds the server's limit") == true, "\(String(describing: error))")
        // A response over the client's limit.
        _ = await expectRPCError(.resourceExhausted) { _ = try await self.client.unary(makeScalars("big", i32: 5 * 1024 * 1024)) }
        let ok = try await client.unary(makeScalars("fine"))
        XCTAssertEqual(ok.text, "fine")
    }

    func testAStreamedRequestOverTheServersLimitIsNotSentAndFailsItsCall() async throws {
        let client = self.client
        _ = try await client.unary(makeScalars("warm up"))  // the server's HELLO (limits) has arrived
        var big = makeScalars("x")
        big.data = [UInt8](repeating: 1, count: 5 * 1024 * 1024)
        let error = await expectRPCError(.resourceExhausted) {
            _ = try await client.clientStream { writer in
                try await writer.write(makeScalars("small"))
                try await writer.write(big)
                XCTFail("the write of an over-limit message returned")
            }
        }
        XCTAssertTrue(error?.message.contains("exceeds the server's limit") == true, "\(String(describing: error))")
        XCTAssertEqual(observations.bytesReceived.withLock { $0 }, 0, "only the small message reached the handler")
        let ok = try await client.unary(makeScalars("fine"))
        XCTAssertEqual(ok.text, "fine")
    }

    func testACallsOwnResponseLimitFailsOnlyThatCall() async throws {
        let small = CallOptions(maxResponseMessageSize: 100)
        let error = await expectRPCError(.resourceExhausted) {
            _ = try await self.client.unary(makeScalars("big", i32: 1000), options: small)
        }
        XCTAssertTrue(error?.message.contains("maxResponseMessageSize") == true, "\(String(describing: error))")
        let fits = try await client.unary(makeScalars("big", i32: 50), options: small)
        XCTAssertEqual(fits.data.count, 50)
        let unlimited = try await client.unary(makeScalars("big", i32: 1000))
        XCTAssertEqual(unlimited.data.count, 1000)
    }

    func testFlowControlBoundsServerMemoryUnderASlowReader() async throws {
        let before = residentBytes()
        let chunk = [UInt8](repeating: 9, count: 64 * 1024)
        // 256 MiB by default; PLEXUS_FLOW_TEST_MIB=1024 runs the full 1 GiB.
        let mebibytes = ProcessInfo.processInfo.environment["PLEXUS_FLOW_TEST_MIB"].flatMap { Int($0) } ?? 256
        let total = mebibytes * 1024 * 1024
        let response = try await client.clientStream { writer in
            var message = makeScalars("slow")
            message.data = chunk
            for i in 0..<(total / chunk.count) {
                message.text = i % 64 == 0 ? "slow" : "fast"
                try await writer.write(message)
            }
        }
        XCTAssertEqual(response.i32, [Int32(total / chunk.count)])
        XCTAssertEqual(observations.bytesReceived.withLock { $0 }, total)
        let growth = residentBytes() - before
        XCTAssertLessThan(growth, 64 * 1024 * 1024, "RSS grew by \(growth / 1024 / 1024) MiB while streaming \(mebibytes) MiB")
    }

    func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0, resident = 0
        withUnsafeMutablePointer(to: &size) { s in
            withUnsafeMutablePointer(to: &resident) { r in
                _ = withVaList([s, r]) { vfscanf(file, "%ld %ld", $0) }
            }
        }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
