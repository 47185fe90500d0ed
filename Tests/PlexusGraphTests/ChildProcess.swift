import Foundation
import XCTest

/// A child process whose stdout lines the test can wait for.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = Data()

    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.partial.append(data)
            while let nl = self.partial.firstIndex(of: UInt8(ascii: "\n")) {
                self.lines.append(String(decoding: self.partial[self.partial.startIndex..<nl], as: UTF8.self))
                self.partial.removeSubrange(self.partial.startIndex...nl)
            }
            self.lock.unlock()
        }
        try process.run()
    }

    var output: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// Waits for a line satisfying `match`; returns it.
    @discardableResult
    func waitForLine(timeout: Duration = .seconds(20), _ match: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output.first(where: match) { return line }
            if !process.isRunning, let line = output.first(where: match) { return line }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw SetupFailure("timed out waiting for a line from \(process.executableURL?.lastPathComponent ?? "?"); got \(output.suffix(5))")
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Kills the process and waits (at most 10 s) for Foundation to see it exit. Not
    /// `waitUntilExit()`: that spins the calling thread's run loop with no bound, and a test's
    /// teardown must not be able to stall the whole run.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { usleep(5_000) }
        if process.isRunning {
            FileHandle.standardError.write(Data("warning: \(process.executableURL?.lastPathComponent ?? "?") (pid \(process.processIdentifier)) not seen to exit 10 s after SIGKILL\n".utf8))
        }
    }

    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { throw SetupFailure("process did not exit in time") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Executables built beside the test bundle.
enum Binaries {
    static var directory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    static func url(_ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw SetupFailure("\(name) is not built in \(directory.path); run `swift build --build-tests` first")
        }
        return url
    }

    /// Starts `plexus graph serve` and returns it with its address.
    static func graphServer(port: Int = 0, extra: [String] = []) async throws -> (ChildProcess, String) {
        let child = try ChildProcess(try url("plexus"), ["graph", "serve", "--port", String(port)] + extra)
        let line = try await child.waitForLine { $0.hasPrefix("listening on ") }
        return (child, String(line.dropFirst("listening on ".count)))
    }

    static func peer(_ arguments: [String], graph: String) throws -> ChildProcess {
        try ChildProcess(try url("plexus-graph-peer"), arguments, environment: ["PLEXUS_GRAPH_ADDRESS": graph])
    }
}
