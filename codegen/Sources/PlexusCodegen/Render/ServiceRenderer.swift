/// Renders a service: its descriptor, the protocol a server implements and a typed client.
/// The code targets the request-plane API of the `Plexus` module.
struct ServiceRenderer {
    let table: TypeTable
    let file: FileDescriptor
    let access: String

    func render(_ service: ServiceDescriptor, into out: inout CodeWriter) throws(GeneratorError) {
        let base = Naming.typeName(service.name, topLevelPrefix: Naming.packagePrefix(file.package))
        struct Method {
            let descriptor: MethodDescriptor
            let swiftName: String
            let input: String
            let output: String
            var kind: String {
                switch (descriptor.clientStreaming, descriptor.serverStreaming) {
                case (false, false): return "unary"
                case (false, true): return "serverStreaming"
                case (true, false): return "clientStreaming"
                case (true, true): return "bidirectionalStreaming"
                }
            }
        }
        var methods: [Method] = []
        for m in service.methods {
            guard let input = table.swiftName(m.inputType) else { throw GeneratorError.unknownType(file: file.name, name: m.inputType) }
            guard let output = table.swiftName(m.outputType) else { throw GeneratorError.unknownType(file: file.name, name: m.outputType) }
            methods.append(Method(descriptor: m, swiftName: Naming.escaped(Naming.lowerCamel(m.name)), input: input, output: output))
        }
        let path = Literal.string(service.fullName)

        out.line("/// Service `\(service.fullName)`: its descriptor and method descriptors.")
        out.line("\(access) enum \(base) {")
        out.indent()
        out.line("/// Every method with its full path and streaming kind.")
        out.line("\(access) static let descriptor = ServiceDescriptor(name: \(path), methods: [\(methods.map { "Method.\($0.swiftName)" }.joined(separator: ", "))])")
        out.line()
        out.line("/// One descriptor per method.")
        out.line("\(access) enum Method {")
        for m in methods {
            out.line("    /// `/\(service.fullName)/\(m.descriptor.name)`")
            out.line("    \(access) static let \(m.swiftName) = MethodDescriptor(service: \(path), method: \(Literal.string(m.descriptor.name)), kind: .\(m.kind))")
        }
        out.line("}")
        out.outdent()
        out.line("}")
        out.line()

        out.line("/// What a server implements for `\(service.fullName)`; register it on a `PlexusServer`.")
        out.line("\(access) protocol \(base)Protocol: PlexusService {")
        out.indent()
        for m in methods {
            out.line("/// `\(m.descriptor.name)`")
            switch m.kind {
            case "unary":
                out.line("func \(m.swiftName)(request: \(m.input), context: ServerContext) async throws -> \(m.output)")
            case "serverStreaming":
                out.line("func \(m.swiftName)(request: \(m.input), response: ResponseWriter<\(m.output)>, context: ServerContext) async throws")
            case "clientStreaming":
                out.line("func \(m.swiftName)(requests: RequestStream<\(m.input)>, context: ServerContext) async throws -> \(m.output)")
            default:
                out.line("func \(m.swiftName)(requests: RequestStream<\(m.input)>, response: ResponseWriter<\(m.output)>, context: ServerContext) async throws")
            }
        }
        out.outdent()
        out.line("}")
        out.line()
        out.line("extension \(base)Protocol {")
        out.indent()
        out.line("\(access) static var serviceDescriptor: ServiceDescriptor { \(base).descriptor }")
        out.line()
        out.line("\(access) func registerMethods(with router: inout MethodRouter) {")
        out.indent()
        for m in methods {
            let d = "\(base).Method.\(m.swiftName)"
            switch m.kind {
            case "unary":
                out.line("router.registerUnary(\(d), request: \(m.input).self, response: \(m.output).self) { request, context in")
                out.line("    try await self.\(m.swiftName)(request: request, context: context)")
            case "serverStreaming":
                out.line("router.registerServerStreaming(\(d), request: \(m.input).self, response: \(m.output).self) { request, response, context in")
                out.line("    try await self.\(m.swiftName)(request: request, response: response, context: context)")
            case "clientStreaming":
                out.line("router.registerClientStreaming(\(d), request: \(m.input).self, response: \(m.output).self) { requests, context in")
                out.line("    try await self.\(m.swiftName)(requests: requests, context: context)")
            default:
                out.line("router.registerBidirectionalStreaming(\(d), request: \(m.input).self, response: \(m.output).self) { requests, response, context in")
                out.line("    try await self.\(m.swiftName)(requests: requests, response: response, context: context)")
            }
            out.line("}")
        }
        out.outdent()
        out.line("}")
        out.outdent()
        out.line("}")
        out.line()

        out.line("/// A typed client for `\(service.fullName)`.")
        out.line("\(access) struct \(base)Client: Sendable {")
        out.indent()
        out.line("\(access) let channel: PlexusChannel")
        out.line()
        out.line("\(access) init(channel: PlexusChannel) {")
        out.line("    self.channel = channel")
        out.line("}")
        for m in methods {
            let d = "\(base).Method.\(m.swiftName)"
            out.line()
            out.line("/// Calls `\(m.descriptor.name)`.")
            switch m.kind {
            case "unary":
                out.line("\(access) func \(m.swiftName)(_ request: \(m.input), options: CallOptions = .defaults) async throws -> \(m.output) {")
                out.line("    try await channel.unary(\(d), request: request, responseType: \(m.output).self, options: options).message")
            case "serverStreaming":
                out.line("\(access) func \(m.swiftName)<R>(_ request: \(m.input), options: CallOptions = .defaults, body: (ResponseStream<\(m.output)>) async throws -> R) async throws -> R {")
                out.line("    try await channel.serverStreaming(\(d), request: request, responseType: \(m.output).self, options: options, body: body)")
            case "clientStreaming":
                out.line("\(access) func \(m.swiftName)(options: CallOptions = .defaults, body: (RequestWriter<\(m.input)>) async throws -> Void) async throws -> \(m.output) {")
                out.line("    try await channel.clientStreaming(\(d), requestType: \(m.input).self, responseType: \(m.output).self, options: options, body: body).message")
            default:
                out.line("\(access) func \(m.swiftName)<R>(options: CallOptions = .defaults, body: (RequestWriter<\(m.input)>, ResponseStream<\(m.output)>) async throws -> R) async throws -> R {")
                out.line("    try await channel.bidirectionalStreaming(\(d), requestType: \(m.input).self, responseType: \(m.output).self, options: options, body: body)")
            }
            out.line("}")
        }
        out.outdent()
        out.line("}")
    }
}
