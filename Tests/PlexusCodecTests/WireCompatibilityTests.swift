import Foundation
import PlexusCodec
import PlexusProto
import PlexusTestProto
import XCTest

/// Byte-level compatibility with Google's protobuf (Python, upb), both directions:
/// Python encodes a corpus, Swift decodes and re-encodes it to identical bytes; Python then
/// decodes Swift's bytes (and Swift-built messages) and checks values and bytes.
final class WireCompatibilityTests: XCTestCase {
    /// Every message type the corpus may name.
    static let registry: [String: any ProtoMessage.Type] = {
        let types: [any ProtoMessage.Type] = [
            Plexus_Test_V1_Scalars.self, Plexus_Test_V1_Repeated.self, Plexus_Test_V1_Maps.self,
            Plexus_Test_V1_Oneofs.self, Plexus_Test_V1_Outer.self, Plexus_Test_V1_Tree.self,
            Plexus_Test_V1_WellKnown.self, Plexus_Test_V1_FilterSettings.self, Plexus_Test_V1_Empty.self,
            Plexus_Test_V1_Proto2.self, Plexus_Test_V1_ImportedMessage.self,
            Plexus_Wire_V1_FrameHeader.self, Plexus_Rpc_V1_Status.self,
            Plexus_Control_V1_ProcessControlRequest.self, Plexus_Control_V1_ProcessControlResponse.self,
            Google_Protobuf_Struct.self, Google_Protobuf_Value.self, Google_Protobuf_Any.self,
        ]
        return Dictionary(uniqueKeysWithValues: types.map { ($0.protoMessageName, $0) })
    }()

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var python: String? {
        let venv = repositoryRoot.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let python = Self.python else {
            throw XCTSkip("no .venv; `make test` creates it (Scripts/python-venv.sh)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.repositoryRoot.appendingPathComponent("Tests/Interop/wire_corpus.py").path] + arguments
        process.currentDirectoryURL = Self.repositoryRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Lines `<case> TAB <type>` (and `TAB value` for cases compared by value, not bytes).
    func manifest(_ file: URL) throws -> [(name: String, type: String, valueOnly: Bool)] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t").map(String.init)
            return parts.count >= 2 ? (parts[0], parts[1], parts.count > 2 && parts[2] == "value") : nil
        }
    }

    func sameValue<M: ProtoMessage>(_ type: M.Type, _ a: [UInt8], _ b: [UInt8]) throws -> Bool {
        try M(serializedBytes: a) == M(serializedBytes: b)
    }

    func reencode<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> [UInt8] {
        try M(serializedBytes: bytes).serializedBytes()
    }

    func testPythonCorpusDecodesAndReencodesIdentically() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let encoded = try run(["encode", dir.path])
        XCTAssertEqual(encoded.status, 0, encoded.output)
        let cases = try manifest(dir.appendingPathComponent("manifest.tsv"))
        XCTAssertGreaterThan(cases.count, 20, "the corpus should be substantial")
        for (name, typeName, valueOnly) in cases {
            guard let type = Self.registry[typeName] else {
                XCTFail("case \(name): type \(typeName) is not in the Swift registry")
                continue
            }
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent("\(name).bin")))
            do {
                let again = try reencode(type, bytes)
                if valueOnly {
                    XCTAssertTrue(try sameValue(type, again, bytes), "case \(name) (\(typeName)): values differ")
                } else {
                    XCTAssertEqual(again, bytes, "case \(name) (\(typeName)): Swift's re-encoding differs from Python's bytes")
                }
                try Data(again).write(to: dir.appendingPathComponent("\(name).swift.bin"))
            } catch {
                XCTFail("case \(name) (\(typeName)): \(error)")
            }
        }
        // Swift-built messages, constructed independently from Python's corpus.
        for (name, message) in SwiftCorpus.cases {
            try Data(message.serializedBytes()).write(to: dir.appendingPathComponent("\(name).swift.bin"))
        }
        let checked = try run(["check", dir.path])
        XCTAssertEqual(checked.status, 0, checked.output)
        XCTAssertTrue(checked.output.contains(" passed, 0 failed"), checked.output)
    }

    func testPythonMalformedInputsThrowTypedErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try run(["malformed", dir.path])
        XCTAssertEqual(result.status, 0, result.output)
        let cases = try manifest(dir.appendingPathComponent("malformed.tsv"))
        XCTAssertFalse(cases.isEmpty)
        for (name, typeName, _) in cases {
            guard let type = Self.registry[typeName] else {
                XCTFail("malformed case \(name): type \(typeName) unknown")
                continue
            }
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent("\(name).bin")))
            XCTAssertThrowsError(try reencode(type, bytes), "malformed case \(name) was accepted") { error in
                XCTAssertTrue(error is CodecError, "case \(name): \(error)")
            }
        }
    }
}

/// The Swift-built messages Python checks; each mirrors the Python corpus case of the same name
/// (Tests/Interop/wire_corpus.py, SWIFT_CASES).
enum SwiftCorpus {
    static var cases: [(String, any ProtoMessage)] {
        [
            ("swift_scalars", Fixtures.scalars),
            ("swift_repeated", Fixtures.repeated),
            ("swift_maps", Fixtures.maps),
            ("swift_oneofs", Fixtures.oneofs),
            ("swift_outer", Fixtures.outer),
            ("swift_tree", Fixtures.tree(depth: 4)),
            ("swift_well_known", Fixtures.wellKnown),
            ("swift_proto2", Fixtures.proto2),
        ]
    }
}
