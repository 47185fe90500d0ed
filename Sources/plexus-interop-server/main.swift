// plexus-interop-server: serves plexus.testing.v1.TestService for the interop clients.
//   plexus-interop-server [--host 127.0.0.1] [--port 0]
// Prints `listening <port>` once ready; stops on SIGTERM/SIGINT or when stdin closes.
import ArgumentParser
import Plexus
import PlexusInterop
#if canImport(Glibc)
import Glibc
#endif

@main
struct InteropServer: AsyncParsableCommand {
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 = OS-assigned, printed at start).") var port = 0

    func run() async throws {
        var configuration = try ServerConfiguration.fromEnvironment()
        configuration.host = host
        configuration.port = port
        let server = PlexusServer(configuration: configuration)
        server.register(TestServiceImpl())
        try await server.start()
        print("listening \(server.port)")
        fflush(nil)
        // Run until stdin closes (the parent test or script ends) or a signal arrives.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let box = Unmanaged.passRetained(ContinuationBox(continuation)).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                let box = Unmanaged<ContinuationBox>.fromOpaque(argument).takeRetainedValue()
                var buffer = [UInt8](repeating: 0, count: 256)
                while read(0, &buffer, buffer.count) > 0 {}
                box.continuation.resume()
                return nil
            }, box)
        }
        await server.shutdown(gracePeriod: .seconds(1))
    }
}

final class ContinuationBox: @unchecked Sendable {  // resumed exactly once, from the stdin thread
    let continuation: CheckedContinuation<Void, Never>
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
}
