import Foundation
import XCTest

/// The `plexus` command line against a graph server and a member, all separate processes.
final class CLITests: XCTestCase {
    /// Runs `plexus ARGS` to completion; returns (exit status, stdout, stderr).
    func plexus(_ arguments: [String], graph: String?) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = try Binaries.url("plexus")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["PLEXUS_GRAPH_ADDRESS"] = graph
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testPsTopologySettingsGetSetAndWatch() async throws {
        let (server, address) = try await Binaries.graphServer()
        defer { server.stop() }
        let owner = try Binaries.peer(["own", "--unit", "filter"], graph: address)
        defer { owner.stop() }
        try await owner.waitForLine { $0 == "ready" }

        let (psStatus, ps, _) = try plexus(["ps"], graph: address)
        XCTAssertEqual(psStatus, 0)
        XCTAssertTrue(ps.contains("swift-owner") && ps.contains("filter") && ps.contains("swift"), ps)

        let (_, topology, _) = try plexus(["topology"], graph: address)
        XCTAssertTrue(topology.contains("PROCESSES") && topology.contains("swift-owner"), topology)

        let (getStatus, get, _) = try plexus(["settings", "get", "filter"], graph: address)
        XCTAssertEqual(getStatus, 0)
        XCTAssertTrue(get.contains("cutoff_hz") && get.contains("10.0") && get.contains("max 1000.0") && get.contains("read-only"), get)

        let (setStatus, set, _) = try plexus(["settings", "set", "filter", "order", "4"], graph: "\(address)")
        XCTAssertEqual(setStatus, 0, set)
        XCTAssertTrue(set.contains("committed at seq 2"), set)
        try await owner.waitForLine { $0 == "applied order=4" }

        let (badStatus, _, badError) = try plexus(["settings", "set", "filter", "order", "9"], graph: address)
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badError.contains("INVALID_ARGUMENT") && badError.contains("max 8.0"), badError)

        let (typeStatus, _, typeError) = try plexus(["settings", "set", "filter", "enabled", "maybe"], graph: address)
        XCTAssertNotEqual(typeStatus, 0)
        XCTAssertTrue(typeError.contains("bool"), typeError)

        let (watchStatus, watch, _) = try plexus(["settings", "watch", "--count", "2"], graph: address)
        XCTAssertEqual(watchStatus, 0)
        XCTAssertTrue(watch.contains("[1] filter DECLARED") && watch.contains("[2] filter UPDATED order"), watch)

        let (profileStatus, _, _) = try plexus(["profile"], graph: address)
        XCTAssertEqual(profileStatus, 0)
    }

    func testNoGraphServerIsOneClearLine() throws {
        let (status, _, error) = try plexus(["ps"], graph: "127.0.0.1:1")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(error.contains("no graph server at 127.0.0.1:1") && error.contains("plexus graph serve"), error)
        let (badStatus, _, badError) = try plexus(["ps", "--graph", "nonsense:port"], graph: nil)
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badError.contains("not valid"), badError)
    }
}
