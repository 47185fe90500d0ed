// plexus-codec-demo: encodes a process-control request with Plexus's generated types, and
// decodes the response a Python peer wrote with Google's protobuf runtime.
//   plexus-codec-demo encode FILE   write a ProcessControlRequest to FILE
//   plexus-codec-demo decode FILE   read a ProcessControlResponse from FILE
import Foundation
import PlexusCodec
import PlexusProto

let arguments = CommandLine.arguments
guard arguments.count == 3, ["encode", "decode"].contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: plexus-codec-demo encode|decode FILE\n".utf8))
    exit(2)
}
let path = arguments[2]

if arguments[1] == "encode" {
    var update = Plexus_Control_V1_UpdateSettingFieldRequest()
    update.fieldPath = "filter.cutoff_hz"
    var value = Plexus_Settings_V1_FieldValue()
    value.kind = .doubleValue(42.5)
    update.value = value
    var request = Plexus_Control_V1_ProcessControlRequest()
    request.requestId = 7
    request.unit = "pipeline/filter"
    request.timeout = Google_Protobuf_Duration(.seconds(2))
    request.operation = .updateSettingField(update)
    let bytes = request.serializedBytes()
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    print("swift  → wrote ProcessControlRequest (\(bytes.count) bytes): request_id=\(request.requestId) unit=\(request.unit) update \(update.fieldPath) = 42.5")
} else {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(1)
    }
    do {
        let response = try Plexus_Control_V1_ProcessControlResponse(serializedBytes: [UInt8](data))
        var summary = "request_id=\(response.requestId) unit=\(response.unit) error=\(response.errorCode.protoName ?? "\(response.errorCode.rawValue)")"
        if case .updateSettingField(let result)? = response.result {
            summary += " settings=\(result.settings.count) bytes"
        }
        print("swift  ← decoded ProcessControlResponse (\(data.count) bytes): \(summary)")
    } catch {
        FileHandle.standardError.write(Data("decode failed: \(error)\n".utf8))
        exit(1)
    }
}
