import CPlexusProto
import CProtobufC

/// protoc's plugin protocol: a CodeGeneratorRequest on stdin, a CodeGeneratorResponse on
/// stdout, both decoded and encoded with protobuf-c (no other protobuf runtime involved).
public enum PluginIO {
    /// Decodes the request, runs the generator and encodes the response. Errors are reported
    /// inside the response, as protoc expects.
    public static func run(request bytes: [UInt8]) -> [UInt8] {
        do throws(GeneratorError) {
            let (parameter, toGenerate, files) = try decode(bytes)
            let options = try GeneratorOptions(parameter: parameter)
            let generated = try Generator(options: options).generate(filesToGenerate: toGenerate, allFiles: files)
            return encode(files: generated, error: nil)
        } catch {
            return encode(files: [], error: error.description)
        }
    }

    static func decode(_ bytes: [UInt8]) throws(GeneratorError) -> (String, [String], [FileDescriptor]) {
        let raw = bytes.withUnsafeBufferPointer { buffer -> UnsafeMutablePointer<ProtobufCMessage>? in
            var empty: UInt8 = 0
            return protobuf_c_message_unpack(plexus_codegen_request_descriptor(), nil, buffer.count, buffer.baseAddress ?? UnsafePointer(&empty))
        }
        guard let raw else { throw GeneratorError.badRequest("the bytes on stdin are not a CodeGeneratorRequest (run this program through protoc)") }
        defer { protobuf_c_message_free_unpacked(raw, nil) }
        return try raw.withMemoryRebound(to: Google__Protobuf__Compiler__CodeGeneratorRequest.self, capacity: 1) { (request) throws(GeneratorError) -> (String, [String], [FileDescriptor]) in
            let r = request.pointee
            let parameter = DescriptorTranslator.string(r.parameter)
            let toGenerate = (0..<r.n_file_to_generate).compactMap { i in r.file_to_generate?[i].map { String(cString: $0) } }
            var files: [FileDescriptor] = []
            for proto in DescriptorTranslator.list(r.n_proto_file, r.proto_file) {
                files.append(try DescriptorTranslator.file(proto))
            }
            return (parameter, toGenerate, files)
        }
    }

    static func encode(files: [GeneratedFile], error: String?) -> [UInt8] {
        var allocations: [UnsafeMutableRawPointer] = []
        defer { allocations.forEach { $0.deallocate() } }
        func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
            let utf8 = Array(s.utf8CString)
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
            p.initialize(from: utf8, count: utf8.count)
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        let responseSize = plexus_codegen_response_descriptor().pointee.sizeof_message
        let fileSize = plexus_codegen_response_file_descriptor().pointee.sizeof_message
        let response = UnsafeMutableRawPointer.allocate(byteCount: responseSize, alignment: 16)
        allocations.append(response)
        protobuf_c_message_init(plexus_codegen_response_descriptor(), response)
        let list = UnsafeMutablePointer<UnsafeMutablePointer<Google__Protobuf__Compiler__CodeGeneratorResponse__File>?>.allocate(capacity: max(files.count, 1))
        allocations.append(UnsafeMutableRawPointer(list))
        for (i, file) in files.enumerated() {
            let f = UnsafeMutableRawPointer.allocate(byteCount: fileSize, alignment: 16)
            allocations.append(f)
            protobuf_c_message_init(plexus_codegen_response_file_descriptor(), f)
            let typed = f.assumingMemoryBound(to: Google__Protobuf__Compiler__CodeGeneratorResponse__File.self)
            typed.pointee.name = cString(file.name)
            typed.pointee.content = cString(file.content)
            list[i] = typed
        }
        let typed = response.assumingMemoryBound(to: Google__Protobuf__Compiler__CodeGeneratorResponse.self)
        typed.pointee.n_file = files.count
        typed.pointee.file = list
        if let error { typed.pointee.error = cString(error) }
        // Proto3 `optional` is recognised so the generator can explain why it is refused.
        typed.pointee.has_supported_features = 1
        typed.pointee.supported_features = 1
        let message = response.assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(message)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            guard let base = buffer.baseAddress else { count = 0; return }
            count = protobuf_c_message_pack(message, base)
        }
    }
}
