// plexus-codegen: one command that runs protoc with protoc-c and protoc-gen-plexus-swift and
// writes both halves of the generated code where a SwiftPM package wants them:
//   Swift sources (flat) into --swift-out, protoc-c's .c files into --c-out and its headers
//   (plus the descriptor accessor headers) into --c-out/include.
import ArgumentParser
import Foundation

@main
struct PlexusCodegen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plexus-codegen",
        abstract: "Generate Swift types, service stubs and protobuf-c code from .proto files.",
        discussion: """
        Example:
          swift run plexus-codegen --proto-path proto --swift-out Sources/MyProto \\
              --c-out Sources/CMyProto --c-module CMyProto --imports PlexusProto my/v1/api.proto
        """)

    @Option(name: .customLong("proto-path"), help: "A directory to search for imports (repeatable). /usr/include is always added for google/protobuf.")
    var protoPaths: [String] = []

    @Option(name: .customLong("swift-out"), help: "Directory for the generated Swift sources.")
    var swiftOut: String

    @Option(name: .customLong("c-out"), help: "Directory of the C target for protoc-c's output (headers go to <c-out>/include). Not needed with --services-only.")
    var cOut: String = ""

    func validate() throws {
        if cOut.isEmpty && !servicesOnly { throw ValidationError("--c-out is required (except with --services-only)") }
    }

    @Option(name: .customLong("c-module"), help: "Name of the C target (module) that holds --c-out.")
    var cModule = "CPlexusProto"

    @Option(name: .customLong("imports"), help: "Swift modules defining types of imported .proto files, e.g. PlexusProto (repeatable).")
    var imports: [String] = []

    @Flag(name: .customLong("no-services"), help: "Do not generate service protocols and clients.")
    var noServices = false

    @Flag(name: .customLong("services-only"), help: "Generate only service code (messages come from --imports modules); writes no C.")
    var servicesOnly = false

    @Flag(name: .customLong("internal"), help: "Generate internal instead of public declarations.")
    var internalVisibility = false

    @Flag(name: .customLong("clean"), help: "Delete previously generated files in the output directories first.")
    var clean = false

    @Option(name: .customLong("plugin"), help: "Path of protoc-gen-plexus-swift (default: next to this program).")
    var plugin: String?

    @Argument(help: "The .proto files, relative to a --proto-path.")
    var files: [String]

    func run() throws {
        let protoc = try Self.find("protoc", package: "protobuf-compiler")
        let protocGenC = try Self.find("protoc-gen-c", package: "protobuf-c-compiler")
        let pluginPath = plugin ?? Self.siblingExecutable("protoc-gen-plexus-swift")
        guard FileManager.default.isExecutableFile(atPath: pluginPath) else {
            throw ValidationError("protoc-gen-plexus-swift not found at \(pluginPath); build it with `swift build --product protoc-gen-plexus-swift` or pass --plugin")
        }
        let fm = FileManager.default
        let temp = fm.temporaryDirectory.appendingPathComponent("plexus-codegen-\(getpid())")
        let tempSwift = temp.appendingPathComponent("swift").path
        let tempC = temp.appendingPathComponent("c").path
        try fm.createDirectory(atPath: tempSwift, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: tempC, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: temp) }

        var swiftOptions = ["c_module=\(cModule)"]
        if !imports.isEmpty { swiftOptions.append("imports=" + imports.joined(separator: "+")) }
        if noServices { swiftOptions.append("services=false") }
        if servicesOnly { swiftOptions.append("messages=false") }
        if internalVisibility { swiftOptions.append("visibility=internal") }

        var arguments = protoPaths.map { "-I\($0)" } + ["-I/usr/include"]
        arguments += [
            "--plugin=protoc-gen-plexus-swift=\(pluginPath)",
            "--plexus-swift_out=\(swiftOptions.joined(separator: ",")):\(tempSwift)",
            "--plugin=protoc-gen-plexus-c=\(pluginPath)",
            "--plexus-c_out=mode=c:\(tempC)",
            "--plugin=protoc-gen-c=\(protocGenC)",
            "--c_out=\(tempC)",
        ]
        arguments += files
        let process = Process()
        process.executableURL = URL(fileURLWithPath: protoc)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ExitCode(process.terminationStatus)
        }

        if clean {
            try Self.removeGenerated(in: swiftOut, suffixes: [".pb.swift"])
            if !servicesOnly { try Self.removeGenerated(in: cOut, suffixes: [".pb-c.c", ".pb-c.h", ".plexus.h"]) }
        }
        // Swift: flat into --swift-out.
        try fm.createDirectory(atPath: swiftOut, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: tempSwift) {
            try Self.replace(from: "\(tempSwift)/\(name)", to: "\(swiftOut)/\(name)")
        }
        if servicesOnly { return }
        // C: sources keep their relative paths, headers go under include/.
        let enumerator = fm.enumerator(atPath: tempC)
        while let relative = enumerator?.nextObject() as? String {
            let source = "\(tempC)/\(relative)"
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let destination = relative.hasSuffix(".h") ? "\(cOut)/include/\(relative)" : "\(cOut)/\(relative)"
            try fm.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Self.replace(from: source, to: destination)
        }
    }

    static func replace(from source: String, to destination: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: destination) { try fm.removeItem(atPath: destination) }
        try fm.copyItem(atPath: source, toPath: destination)
    }

    static func removeGenerated(in directory: String, suffixes: [String]) throws {
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(atPath: directory) else { return }
        while let relative = enumerator.nextObject() as? String {
            if suffixes.contains(where: { relative.hasSuffix($0) }) {
                try fm.removeItem(atPath: "\(directory)/\(relative)")
            }
        }
    }

    static func find(_ program: String, package: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ValidationError("\(program) is not installed: run `apt-get install -y \(package)` (Debian/Ubuntu)")
    }

    static func siblingExecutable(_ name: String) -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
    }
}
