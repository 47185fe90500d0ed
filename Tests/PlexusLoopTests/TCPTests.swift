import PlexusLoop
import Synchronization
import XCTest

/// Real sockets on 127.0.0.1.
final class TCPTests: XCTestCase {
    /// An echo server on `loop`; returns the listener.
    func echoServer(on loops: [EventLoop]) async throws -> TCPListener {
        try await TCPListener.listen(host: "127.0.0.1", port: 0, on: loops) { connection in
            connection.onRead = { bytes in connection.write(bytes) }
            connection.startReading()
        }
    }

    func testListenerOnPortZeroReportsARealPort() async throws {
        let loop = EventLoop()
        let listener = try await echoServer(on: [loop])
        XCTAssertGreaterThan(listener.port, 0)
        listener.close()
        await loop.shutdown()
    }

    func testEchoOfManyCoalescedWritesAndALargeTransfer() async throws {
        let group = EventLoopGroup(loopCount: 2)
        let listener = try await echoServer(on: group.loops)
        let clientLoop = EventLoop()
        let connection = try await TCPConnection.connect(on: clientLoop, host: "127.0.0.1", port: listener.port)
        let total = 8 * 1024 * 1024 + 1000 * 7
        let received = Locked<[UInt8]>([])
        let done = expectation(description: "all bytes echoed")
        clientLoop.execute {
            connection.onRead = { bytes in
                let count = received.withLock { $0.append(contentsOf: bytes); return $0.count }
                if count == total { done.fulfill() }
            }
            connection.startReading()
            // 1000 small writes in one loop iteration are coalesced into one socket write.
            for i in 0..<1000 { connection.write([UInt8](repeating: UInt8(i % 251), count: 7)) }
            connection.write((0..<(8 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        }
        await fulfillment(of: [done], timeout: 30)
        let bytes = received.withLock { $0 }
        XCTAssertEqual(bytes.count, total)
        XCTAssertEqual(Array(bytes[0..<7]), [UInt8](repeating: 0, count: 7))
        XCTAssertEqual(bytes[7000 + 12345], UInt8(truncatingIfNeeded: 12345 &* 7))
        let closed = expectation(description: "closed")
        clientLoop.execute {
            connection.onClose = { error in XCTAssertNil(error); closed.fulfill() }
            connection.closeGracefully()
        }
        await fulfillment(of: [closed], timeout: 5)
        listener.close()
        await clientLoop.shutdown()
        await group.shutdown()
    }

    func testPeerCloseIsReportedOnce() async throws {
        let loop = EventLoop()
        let closes = Locked(0)
        let serverSawClose = expectation(description: "server saw EOF")
        let listener = try await TCPListener.listen(host: "127.0.0.1", port: 0, on: [loop]) { connection in
            connection.onClose = { error in
                XCTAssertEqual(error, .endOfFile)
                closes.withLock { $0 += 1 }
                serverSawClose.fulfill()
            }
            connection.startReading()
        }
        let connection = try await TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.port)
        loop.execute { connection.close(); connection.close() }
        await fulfillment(of: [serverSawClose], timeout: 5)
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(closes.withLock { $0 }, 1)
        await loop.shutdown()
    }

    func testPauseAndResumeReadingAndDrainedCallback() async throws {
        let loop = EventLoop()
        let serverConnection = Locked<TCPConnection?>(nil)
        let accepted = expectation(description: "accepted")
        let received = Locked(0)
        let listener = try await TCPListener.listen(host: "127.0.0.1", port: 0, on: [loop]) { connection in
            connection.onRead = { bytes in received.withLock { $0 += bytes.count } }
            serverConnection.withLock { $0 = connection }
            accepted.fulfill()
        }
        let client = try await TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.port)
        await fulfillment(of: [accepted], timeout: 5)
        let drained = expectation(description: "drained")
        let pendingAfterWrite = Locked(0)
        loop.execute {
            client.highWaterMark = 1 << 20
            client.lowWaterMark = 1 << 16
            client.onDrained = { drained.fulfill() }
            client.write([UInt8](repeating: 1, count: 32 << 20))
            pendingAfterWrite.withLock { $0 = client.pendingWriteBytes }
            XCTAssertFalse(client.isWritable)
        }
        // The server is not reading: the client's output stays buffered.
        try await waitUntil { pendingAfterWrite.withLock { $0 } > 0 }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(pendingAfterWrite.withLock { $0 }, 32 << 20)
        let stillPending = try await loop.submit { client.pendingWriteBytes }
        XCTAssertGreaterThan(stillPending, 1 << 20)
        XCTAssertEqual(received.withLock { $0 }, 0)
        loop.execute { serverConnection.withLock { $0 }?.startReading() }
        await fulfillment(of: [drained], timeout: 30)
        loop.execute {
            let server = serverConnection.withLock { $0 }
            server?.pauseReading()
            server?.resumeReading()
        }
        try await waitUntil { received.withLock { $0 } == 32 << 20 }
        await loop.shutdown()
    }

    func testConnectToAClosedPortIsATypedError() async throws {
        let loop = EventLoop()
        let listener = try await echoServer(on: [loop])
        let port = listener.port
        listener.close()
        try await Task.sleep(for: .milliseconds(20))
        do {
            _ = try await TCPConnection.connect(on: loop, host: "127.0.0.1", port: port)
            XCTFail("connect succeeded")
        } catch let error as LoopError {
            XCTAssertEqual(error, .connectionRefused(host: "127.0.0.1", port: port))
            XCTAssertTrue(error.description.contains("is the server running"))
        }
        await loop.shutdown()
    }

    func testBindingAPortInUseIsATypedError() async throws {
        let loop = EventLoop()
        let listener = try await echoServer(on: [loop])
        do {
            _ = try await TCPListener.listen(host: "127.0.0.1", port: listener.port, on: [loop]) { _ in }
            XCTFail("second bind succeeded")
        } catch let error as LoopError {
            XCTAssertEqual(error, .addressInUse(host: "127.0.0.1", port: listener.port))
            XCTAssertTrue(error.description.contains("port 0"))
        }
        do {
            _ = try await TCPListener.listen(host: "not-an-address", port: 0, on: [loop]) { _ in }
            XCTFail("bad host accepted")
        } catch let error as LoopError {
            XCTAssertEqual(error, .invalidAddress("not-an-address"))
        }
        await loop.shutdown()
    }

    func testShutdownClosesOpenConnections() async throws {
        let loop = EventLoop()
        let serverLoop = EventLoop()
        let listener = try await echoServer(on: [serverLoop])
        var connections: [TCPConnection] = []
        for _ in 0..<20 {
            connections.append(try await TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.port))
        }
        let closed = Locked(0)
        for connection in connections {
            loop.execute {
                connection.onClose = { _ in closed.withLock { $0 += 1 } }
                connection.startReading()
            }
        }
        await loop.shutdown()
        XCTAssertEqual(closed.withLock { $0 }, 20)
        await serverLoop.shutdown()
    }

    func waitUntil(timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now > deadline { return XCTFail("condition not met in time") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
