import Foundation
import XCTest

/// Runs protoc with the built protoc-gen-plexus-swift on small .proto files.
final class PluginTests: XCTestCase {
    var plugin: String {
        // The test bundle sits in the build's products directory, beside the plugin
        // (`swift build --build-tests` builds every product).
        let bundle = Bundle(for: PluginTests.self).bundleURL
        for directory in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("protoc-gen-plexus-swift").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return bundle.appendingPathComponent("protoc-gen-plexus-swift").path
    }

    func generate(_ proto: String, name: String = "t.proto") throws -> (status: Int32, output: String, files: [String: String]) {
        guard FileManager.default.isExecutableFile(atPath: plugin) else {
            XCTFail("protoc-gen-plexus-swift not built at \(plugin); run `swift build --build-tests` first")
            return (-1, "", [:])
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-plugin-\(UUID().uuidString)")
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try proto.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/protoc")
        process.arguments = ["-I\(dir.path)", "-I/usr/include", "--plugin=protoc-gen-plexus-swift=\(plugin)",
                             "--plexus-swift_out=\(out.path)", name]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        var files: [String: String] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? [] {
            files[file] = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
        }
        return (process.terminationStatus, output, files)
    }

    func testProto3OptionalIsRefusedWithAClearError() throws {
        let result = try generate("""
            syntax = "proto3";
            package a.v1;
            message M { optional int32 x = 1; }
            """)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("a.v1.M.x"), result.output)
        XCTAssertTrue(result.output.contains("protoc-c 1.4.1 rejects"), result.output)
        XCTAssertTrue(result.output.contains("wrapper"), result.output)
    }

    func testNameClashIsRefused() throws {
        let result = try generate("""
            syntax = "proto2";
            package a.v1;
            message M { optional int32 foo_bar = 1; optional int32 fooBar = 2; }
            """)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("fooBar"), result.output)
        XCTAssertTrue(result.output.contains("rename one of them"), result.output)
    }

    func testServiceStubsAndDescriptors() throws {
        let result = try generate("""
            syntax = "proto3";
            package demo.v1;
            message Req { string q = 1; }
            message Res { string a = 1; }
            service Search {
              rpc Find(Req) returns (Res);
              rpc Watch(Req) returns (stream Res);
              rpc Upload(stream Req) returns (Res);
              rpc Chat(stream Req) returns (stream Res);
            }
            """)
        XCTAssertEqual(result.status, 0, result.output)
        let swift = try XCTUnwrap(result.files["t.pb.swift"])
        XCTAssertTrue(swift.contains("public enum Demo_V1_Search {"))
        XCTAssertTrue(swift.contains("MethodDescriptor(service: \"demo.v1.Search\", method: \"Find\", kind: .unary)"))
        XCTAssertTrue(swift.contains("kind: .serverStreaming"))
        XCTAssertTrue(swift.contains("kind: .clientStreaming"))
        XCTAssertTrue(swift.contains("kind: .bidirectionalStreaming"))
        XCTAssertTrue(swift.contains("public protocol Demo_V1_SearchProtocol: PlexusService"))
        XCTAssertTrue(swift.contains("public struct Demo_V1_SearchClient: Sendable"))
        XCTAssertTrue(swift.contains("import Plexus"))
    }

    func testUnknownParameterIsRefused() throws {
        guard FileManager.default.isExecutableFile(atPath: plugin) else { return XCTFail("plugin not built at \(plugin)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-plugin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "syntax = \"proto3\"; message M {}".write(to: dir.appendingPathComponent("p.proto"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/protoc")
        process.arguments = ["-I\(dir.path)", "--plugin=protoc-gen-plexus-swift=\(plugin)", "--plexus-swift_out=colour=blue:\(dir.path)", "p.proto"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(output.contains("bad plugin parameter: colour=blue"), output)
    }
}
