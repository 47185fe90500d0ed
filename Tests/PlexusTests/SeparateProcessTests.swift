import Foundation
import Plexus
import PlexusInterop
import PlexusProto
import XCTest

struct SetupError: Error, CustomStringConvertible {
    let description: String
}

/// Server and client in separate processes: the `plexus-interop-server` and
/// `plexus-interop-client` executables built beside this test bundle.
final class SeparateProcessTests: XCTestCase {
    /// The directory holding the test bundle and the package's executables.
    var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    func executable(_ name: String) throws -> URL {
        let url = binDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw SetupError(description: "\(name) is not built in \(binDirectory.path); run `swift build --build-tests` first")
        }
        return url
    }

    /// A running interop server process; stopping it closes its stdin.
    struct ServerProcess {
        let process: Process
        let stdin: Pipe
        let port: Int

        func stop() {
            try? stdin.fileHandleForWriting.close()
            process.waitUntilExit()
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func startServer(port: Int = 0) throws -> ServerProcess {
        let process = Process()
        process.executableURL = try executable("plexus-interop-server")
        process.arguments = ["--port", "\(port)"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // The first line is `listening <port>`.
        var line: [UInt8] = []
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            guard let first = byte.first else { break }
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening "), let port = Int(text.dropFirst("listening ".count)) else {
            process.terminate()
            throw SetupError(description: "plexus-interop-server did not report its port (got '\(text)')")
        }
        return ServerProcess(process: process, stdin: stdin, port: port)
    }

    func testEveryInteropCaseBetweenTwoProcesses() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = Process()
        client.executableURL = try executable("plexus-interop-client")
        client.arguments = ["--port", "\(server.port)", "--test_case=all"]
        let output = Pipe()
        client.standardOutput = output
        try client.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        client.waitUntilExit()
        XCTAssertEqual(client.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("\(InteropCase.allCases.count) passed, 0 failed"), text)
    }

    func testOneCaseByName() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = Process()
        client.executableURL = try executable("plexus-interop-client")
        client.arguments = ["--port", "\(server.port)", "--test_case=large_unary"]
        let output = Pipe()
        client.standardOutput = output
        try client.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        client.waitUntilExit()
        XCTAssertEqual(client.terminationStatus, 0, text)
        XCTAssertEqual(text, "ok large_unary\n1 passed, 0 failed\n")
    }

    /// A server process that dies mid-call: the in-process client's call ends with UNAVAILABLE
    /// promptly (no hang), and the channel reconnects to a new server on the same port.
    func testAKilledServerProcessFailsCallsInFlightAndTheChannelRecovers() async throws {
        let server = try startServer()
        let channel = PlexusChannel(host: "127.0.0.1", port: server.port)
        let client = Plexus_Testing_V1_TestServiceClient(channel: channel)
        _ = try await client.emptyCall(Plexus_Testing_V1_Empty())
        var request = Plexus_Testing_V1_StreamingOutputCallRequest()
        var slow = Plexus_Testing_V1_ResponseParameters()
        slow.size = 1
        slow.intervalUs = 30_000_000
        request.responseParameters = [slow]
        let call = Task {
            try await client.streamingOutputCall(request) { responses in
                for try await _ in responses {}
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let killedAt = ContinuousClock.now
        server.kill()
        do {
            try await call.value
            XCTFail("the call survived its server process")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unavailable, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - killedAt, .seconds(2))
        // Fail fast while nobody listens.
        _ = try? await client.emptyCall(Plexus_Testing_V1_Empty())
        let started = ContinuousClock.now
        do {
            _ = try await client.emptyCall(Plexus_Testing_V1_Empty())
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unavailable)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
        // A new server process on the same port: the channel reconnects (backoff) by itself.
        let restarted = try startServer(port: server.port)
        defer { restarted.stop() }
        var answered = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !answered && ContinuousClock.now < deadline {
            if (try? await client.emptyCall(Plexus_Testing_V1_Empty())) != nil { answered = true }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertTrue(answered, "the channel reconnected to the restarted server")
        await channel.close()
    }
}
