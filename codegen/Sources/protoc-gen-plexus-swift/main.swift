// protoc-gen-plexus-swift: the protoc plugin that turns .proto files into Swift types and
// service stubs bridged to protoc-c's C code. protoc runs it; it reads a CodeGeneratorRequest
// on stdin and writes a CodeGeneratorResponse on stdout.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PlexusCodegen

var input: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 65536)
while true {
    let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if n <= 0 { break }
    input.append(contentsOf: chunk[0..<n])
}
let output = PluginIO.run(request: input)
var written = 0
while written < output.count {
    let n = output.withUnsafeBytes { write(1, $0.baseAddress.map { $0 + written }, output.count - written) }
    if n <= 0 { exit(1) }
    written += n
}
