import Foundation
@testable import Plexus
import PlexusLoop
import PlexusProto
import PlexusTestProto
import XCTest

/// Connection-level behaviour: malformed peers, limits, shutdown, keepalive, reconnects.
final class ConnectionTests: ServerTestCase {
    func testMalformedFrameClosesOnlyThatConnectionWithGoAway() async throws {
        _ = try await client.unary(makeScalars("warm up"))
        let (tcp, received, loop) = try await rawPeer(port: server.port)
        let closed = expectation(description: "server closed the bad connection")
        loop.execute {
            tcp.onClose = { _ in closed.fulfill() }
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()
            FrameCodec.append(hello, into: &out)
            out += [0, 0, 0, 4, 0, 0, 0, 0, 0x08, 0xff, 0xff, 0xff]  // a truncated varint in the header
            tcp.write(out)
        }
        await fulfillment(of: [closed], timeout: 10)
        let goAway = try frames(received.withLock { $0 }).first { $0.kind == .goAway }
        XCTAssertEqual(goAway?.goAway?.code, .internal)
        XCTAssertTrue(goAway?.goAway?.reason.contains("malformed frame header") == true, "\(String(describing: goAway))")
        // The well-behaved connection is untouched.
        let response = try await client.unary(makeScalars("still fine"))
        XCTAssertEqual(response.text, "still fine")
        await loop.shutdown()
    }

    func testServerEnforcesItsStreamLimit() async throws {
        let (tcp, received, loop) = try await rawPeer(port: server.port)
        loop.execute {
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()
            FrameCodec.append(hello, into: &out)
            // 101 sleeping calls; the server's limit is 100.
            for i in 0..<101 {
                var open = FrameHeader(kind: .open, streamID: UInt32(2 * i + 1), flags: [.message, .endStream])
                open.method = Plexus_Test_V1_TestService.Method.unary.fullPath
                FrameCodec.append(open, into: &out) { makeScalars("sleep").serialize(appendingTo: &$0) }
            }
            tcp.write(out)
        }
        try await waitUntil {
            (try? self.frames(received.withLock { $0 }).contains { $0.kind == .close }) == true
        }
        let close = try frames(received.withLock { $0 }).first { $0.kind == .close }
        XCTAssertEqual(close?.streamID, 201)
        XCTAssertEqual(close?.status?.code, .resourceExhausted)
        await loop.shutdown()
    }

    func testAClientSendingPastItsCreditFailsOnlyThatCall() async throws {
        let (tcp, received, loop) = try await rawPeer(port: server.port)
        loop.execute {
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()
            FrameCodec.append(hello, into: &out)
            // A unary call whose handler takes its request and sleeps, then 6 MiB more that the
            // client had no credit for (1 MiB window + 4 MiB for one overdrawing message).
            var open = FrameHeader(kind: .open, streamID: 1, flags: .message)
            open.method = Plexus_Test_V1_TestService.Method.unary.fullPath
            FrameCodec.append(open, into: &out) { makeScalars("sleep").serialize(appendingTo: &$0) }
            var frame: [UInt8] = []
            FrameCodec.append(FrameHeader(kind: .message, streamID: 1, flags: .message), into: &frame) {
                $0.append(contentsOf: repeatElement(1, count: 64 * 1024))
            }
            for _ in 0..<96 { out.append(contentsOf: frame) }
            tcp.write(out)
        }
        try await waitUntil {
            (try? self.frames(received.withLock { $0 }).contains { $0.kind == .close }) == true
        }
        let close = try frames(received.withLock { $0 }).first { $0.kind == .close }
        XCTAssertEqual(close?.streamID, 1)
        XCTAssertEqual(close?.status?.code, .resourceExhausted)
        XCTAssertTrue(close?.status?.message.contains("flow control") == true, "\(String(describing: close?.status))")
        try await waitUntil { self.observations.cancelledCalls.withLock { $0 } == 1 }
        // The connection itself lives on.
        XCTAssertFalse(try frames(received.withLock { $0 }).contains { $0.kind == .goAway })
        _ = try await client.unary(makeScalars("others are fine"))
        await loop.shutdown()
    }

    func testAClientThatDisappearsGetsItsHandlersCancelled() async throws {
        let (tcp, _, loop) = try await rawPeer(port: server.port)
        loop.execute {
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()
            FrameCodec.append(hello, into: &out)
            for id in [UInt32(1), 3, 5] {
                var open = FrameHeader(kind: .open, streamID: id, flags: [.message, .endStream])
                open.method = Plexus_Test_V1_TestService.Method.unary.fullPath
                FrameCodec.append(open, into: &out) { makeScalars("sleep").serialize(appendingTo: &$0) }
            }
            tcp.write(out)
        }
        try await waitUntil { self.observations.requestMetadata.withLock { $0.count } == 3 }
        let connections = server.connectionCount
        loop.execute { tcp.close() }  // the peer vanishes without CANCEL or GOAWAY
        try await waitUntil { self.observations.cancelledCalls.withLock { $0 } == 3 }
        try await waitUntil { self.server.connectionCount == connections - 1 }
        await loop.shutdown()
    }

    func testGracefulShutdownLetsInFlightCallsFinishAndRefusesNewOnes() async throws {
        let client = self.client
        // A call in flight: a client stream the test keeps open while the server shuts down.
        let inFlight = Task {
            try await client.clientStream { writer in
                try await writer.write(makeScalars("a"))
                try await Task.sleep(for: .milliseconds(300))
                try await writer.write(makeScalars("b"))
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let server: PlexusServer = self.server
        let shutdown = Task { await server.shutdown(gracePeriod: .seconds(5)) }
        let result = try await inFlight.value
        XCTAssertEqual(result.i32, [2], "the in-flight call completed during the grace period")
        await shutdown.value
        _ = await expectRPCError(.unavailable) { _ = try await client.unary(makeScalars("late")) }
    }

    func testReconnectsWithBackoffAfterTheServerComesBack() async throws {
        let port = server.port
        _ = try await client.unary(makeScalars("before"))
        await server.shutdown(gracePeriod: .zero)
        // While disconnected calls fail fast.
        let start = ContinuousClock.now
        _ = await expectRPCError(.unavailable) { _ = try await self.client.unary(makeScalars("down")) }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        var configuration = ServerConfiguration()
        configuration.port = port
        server = PlexusServer(configuration: configuration)
        server.register(ControlledService(observations: observations))
        try await server.start()
        var answered = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !answered && ContinuousClock.now < deadline {
            if (try? await client.unary(makeScalars("after"))) != nil { answered = true }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertTrue(answered, "the channel reconnected")
    }

    func testKeepaliveDetectsAPeerThatStoppedAnswering() async throws {
        // A "server" that accepts and then says nothing at all.
        let loop = EventLoop()
        let accepted = Locked<[TCPConnection]>([])
        let silent = try await TCPListener.listen(host: "127.0.0.1", port: 0, on: [loop]) { tcp in
            accepted.withLock { $0.append(tcp) }
        }
        var configuration = ClientConfiguration()
        configuration.keepaliveInterval = .milliseconds(100)
        configuration.keepaliveTimeout = .milliseconds(100)
        let channel = PlexusChannel(host: "127.0.0.1", port: silent.port, configuration: configuration)
        let start = ContinuousClock.now
        _ = await expectRPCError(.unavailable) {
            _ = try await Plexus_Test_V1_TestServiceClient(channel: channel).unary(makeScalars("hello?"))
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        await channel.close()
        await loop.shutdown()
    }

    /// A server that ignores the client's max_message_size: the client fails that call with
    /// RESOURCE_EXHAUSTED, skips the payload, and the connection keeps working.
    func testAnOversizeResponseFromAMisbehavingServerFailsOnlyItsCall() async throws {
        let loop = EventLoop()
        let listener = try await TCPListener.listen(host: "127.0.0.1", port: 0, on: [loop]) { tcp in
            var decoder = FrameDecoder(maxHeaderSize: 1 << 20, maxPayloadSize: 1 << 24)
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()
            FrameCodec.append(hello, into: &out)
            tcp.write(out)
            tcp.onRead = { bytes in
                var reply: [UInt8] = []
                try? decoder.feed(bytes) { event in
                    guard case .frame(let header, _) = event, header.kind == .open else { return }
                    var close = FrameHeader(kind: .close, streamID: header.streamID, flags: [.message, .endStream])
                    close.status = Status(code: .ok)
                    // The first call gets 2 MiB (over the client's 1 MiB), the next a small one.
                    let size = header.streamID == 1 ? 2 * 1024 * 1024 : 3
                    FrameCodec.append(close, into: &reply) { out in
                        var m = makeScalars("reply")
                        m.data = [UInt8](repeating: 5, count: size)
                        m.serialize(appendingTo: &out)
                    }
                }
                tcp.write(reply)
            }
            tcp.startReading()
        }
        var configuration = ClientConfiguration()
        configuration.maxMessageSize = 1024 * 1024
        let channel = PlexusChannel(host: "127.0.0.1", port: listener.port, configuration: configuration)
        let client = Plexus_Test_V1_TestServiceClient(channel: channel)
        let error = await expectRPCError(.resourceExhausted) { _ = try await client.unary(makeScalars("first")) }
        XCTAssertTrue(error?.message.contains("exceeds the client's limit") == true, "\(String(describing: error))")
        let second = try await client.unary(makeScalars("second"))
        XCTAssertEqual(second.data.count, 3)
        await channel.close()
        await loop.shutdown()
    }

    /// A server that ignores the client's credit: the client fails that call instead of
    /// buffering without bound.
    func testAServerSendingPastItsCreditFailsTheCall() async throws {
        let loop = EventLoop()
        let listener = try await TCPListener.listen(host: "127.0.0.1", port: 0, on: [loop]) { tcp in
            var decoder = FrameDecoder(maxHeaderSize: 1 << 20, maxPayloadSize: 1 << 24)
            var out: [UInt8] = []
            var hello = FrameHeader(kind: .hello)
            hello.hello = Hello()
            FrameCodec.append(hello, into: &out)
            tcp.write(out)
            tcp.onRead = { bytes in
                var reply: [UInt8] = []
                try? decoder.feed(bytes) { event in
                    guard case .frame(let header, _) = event, header.kind == .open else { return }
                    // 7 MiB at once; the client granted 1 MiB (+ 4 MiB for one overdraw).
                    var m = makeScalars("flood")
                    m.data = [UInt8](repeating: 5, count: 64 * 1024)
                    var frame: [UInt8] = []
                    FrameCodec.append(FrameHeader(kind: .message, streamID: header.streamID, flags: .message), into: &frame) {
                        m.serialize(appendingTo: &$0)
                    }
                    reply.reserveCapacity(112 * frame.count)
                    for _ in 0..<112 { reply.append(contentsOf: frame) }
                }
                tcp.write(reply)
            }
            tcp.startReading()
        }
        let channel = PlexusChannel(host: "127.0.0.1", port: listener.port)
        let client = Plexus_Test_V1_TestServiceClient(channel: channel)
        var request = Plexus_Test_V1_Repeated()
        request.i32 = [1]
        let error = await expectRPCError(.resourceExhausted) {
            try await client.serverStream(request) { responses in
                try await Task.sleep(for: .milliseconds(300))  // a slow reader: no credit granted yet
                for try await _ in responses {}
            }
        }
        XCTAssertTrue(error?.message.contains("flow control violated") == true, "\(String(describing: error))")
        await channel.close()
        await loop.shutdown()
    }

    func testConfigurationFromEnvironment() throws {
        let c = try ServerConfiguration.fromEnvironment(["PLEXUS_TCP_HOST": "0.0.0.0", "PLEXUS_TCP_PORT": "7000", "PLEXUS_MAX_MESSAGE_SIZE": "1024"])
        XCTAssertEqual(c.host, "0.0.0.0")
        XCTAssertEqual(c.port, 7000)
        XCTAssertEqual(c.maxMessageSize, 1024)
        XCTAssertEqual(try ServerConfiguration.fromEnvironment([:]).port, 0)
        XCTAssertThrowsError(try ServerConfiguration.fromEnvironment(["PLEXUS_TCP_PORT": "70000"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "PLEXUS_TCP_PORT")
            XCTAssertTrue("\(error)".contains("an integer from 0 to 65535"))
        }
        let more = try ServerConfiguration.fromEnvironment(["PLEXUS_GRACE_PERIOD_MS": "250", "PLEXUS_AUTH_TOKEN": "t"])
        XCTAssertEqual(more.gracePeriod, .milliseconds(250))
        XCTAssertEqual(more.authToken, "t")
        XCTAssertEqual(try ClientConfiguration.fromEnvironment(["PLEXUS_AUTH_TOKEN": "t"]).authToken, "t")
        XCTAssertThrowsError(try ServerConfiguration.fromEnvironment(["PLEXUS_GRACE_PERIOD_MS": "soon"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "PLEXUS_GRACE_PERIOD_MS")
            XCTAssertTrue("\(error)".contains("milliseconds"), "\(error)")
        }
        XCTAssertThrowsError(try ServerConfiguration.fromEnvironment(["PLEXUS_TCP_HOST": "my host"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "PLEXUS_TCP_HOST")
        }
    }
}

final class SharedServerTests: XCTestCase {
    func testTheSharedServerIsStartedOnceAndServesEveryRegisteredService() async throws {
        // A bad variable fails the first use with an error naming it; fixing it lets a later use succeed.
        setenv("PLEXUS_TCP_PORT", "not-a-port", 1)
        do {
            _ = try await PlexusServer.shared()
            XCTFail("a bad PLEXUS_TCP_PORT was accepted")
        } catch let error as ConfigurationError {
            XCTAssertEqual(error.variable, "PLEXUS_TCP_PORT")
        }
        unsetenv("PLEXUS_TCP_PORT")
        // Concurrent first users share one server, each seeing the real port.
        let servers = try await withThrowingTaskGroup(of: PlexusServer.self) { group in
            for _ in 0..<8 { group.addTask { try await PlexusServer.shared() } }
            var all: [PlexusServer] = []
            for try await server in group { all.append(server) }
            return all
        }
        XCTAssertTrue(servers.allSatisfy { $0 === servers[0] && $0.port > 0 })
        let first = try await PlexusServer.shared()
        let second = try await PlexusServer.shared()
        XCTAssertTrue(first === second && first === servers[0])
        XCTAssertGreaterThan(first.port, 0, "PLEXUS_TCP_PORT defaults to 0 and the real port is readable")
        first.register(ControlledService(observations: Observations()))
        let channel = PlexusChannel(host: "127.0.0.1", port: first.port)
        let reply = try await Plexus_Test_V1_TestServiceClient(channel: channel).unary(makeScalars("shared"))
        XCTAssertEqual(reply.text, "shared")
        await channel.close()
    }
}
