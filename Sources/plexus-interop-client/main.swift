// plexus-interop-client: runs gRPC's interop cases against a TestService server.
//   plexus-interop-client --port P [--host 127.0.0.1] [--test_case=large_unary|all]
import ArgumentParser
import Plexus
import PlexusInterop

@main
struct InteropClient: AsyncParsableCommand {
    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(name: .customLong("test_case"), help: "A case name (e.g. large_unary) or `all`.") var testCase = "all"

    func run() async throws {
        let cases: [InteropCase]
        if testCase == "all" {
            cases = InteropCase.allCases
        } else if let one = InteropCase(rawValue: testCase) {
            cases = [one]
        } else {
            throw ValidationError("unknown test case '\(testCase)'; known: \(InteropCase.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let channel = PlexusChannel(host: host, port: port)
        var failed = 0
        for testCase in cases {
            do {
                try await testCase.run(on: channel)
                print("ok \(testCase.rawValue)")
            } catch {
                failed += 1
                print("FAIL \(testCase.rawValue): \(error)")
            }
        }
        await channel.close()
        print("\(cases.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
