// The codec benchmark: Plexus (protobuf-c through generated Swift) beside apple/swift-protobuf
// on the same messages in the same run. Release build only:
//   swift run -c release --package-path Benchmarks plexus-codec-bench
import BenchProto
import Foundation
import PlexusCodec
import SwiftProtobuf

@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// Runs `body` `iterations` times per trial and returns the best trial's ns per operation.
func measure(iterations: Int, trials: Int = 7, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<trials {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { try body() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        best = min(best, elapsed / Double(iterations))
    }
    return best
}

func row(_ name: String, plexus: Double, swiftProtobuf: Double) {
    let ratio = swiftProtobuf / plexus
    print(String(format: "%-28@ %12.1f %16.1f %10.2fx", name as NSString, plexus, swiftProtobuf, ratio))
}

// MARK: Small (about 64 bytes)

var small = Plexus_Bench_V1_Small()
small.id = 123_456
small.timestamp = 1_732_000_000_123_456
small.value = 3.14159265358979
small.flag = true
small.name = "sensor/accelerometer/x-axis/calibrated"
small.seq = 987_654

var spSmall = SPSmall()
spSmall.id = small.id
spSmall.timestamp = small.timestamp
spSmall.value = small.value
spSmall.flag = small.flag
spSmall.name = small.name
spSmall.seq = small.seq

let smallBytes = small.serializedBytes()
let spSmallBytes: [UInt8] = try spSmall.serializedBytes()
precondition(smallBytes == spSmallBytes, "the two encoders disagree on the small message")
let smallCheck = try Plexus_Bench_V1_Small(serializedBytes: spSmallBytes)
precondition(smallCheck == small)

print("Plexus codec benchmark (release build), ns per operation, best of 7 trials")
print("small message: \(smallBytes.count) bytes on the wire; blob: 1 MiB bytes field")
print(String(format: "%-28@ %12@ %16@ %10@", "case" as NSString, "plexus" as NSString, "swift-protobuf" as NSString, "speedup" as NSString))

let n = 200_000
// PLEXUS_BENCH_PROFILE=encode|decode spins on one Plexus case (for perf record) and exits.
if let mode = ProcessInfo.processInfo.environment["PLEXUS_BENCH_PROFILE"] {
    for _ in 0..<5_000_000 {
        if mode == "encode" { blackHole(small.serializedBytes()) } else { blackHole(try Plexus_Bench_V1_Small(serializedBytes: smallBytes)) }
    }
    exit(0)
}
let smallEncode = measure(iterations: n) { blackHole(small.serializedBytes()) }
let spSmallEncode = try measure(iterations: n) { blackHole(try spSmall.serializedBytes() as [UInt8]) }
row("small encode", plexus: smallEncode, swiftProtobuf: spSmallEncode)
let smallDecode = try measure(iterations: n) { blackHole(try Plexus_Bench_V1_Small(serializedBytes: smallBytes)) }
let spSmallDecode = try measure(iterations: n) { blackHole(try SPSmall(serializedBytes: smallBytes)) }
row("small decode", plexus: smallDecode, swiftProtobuf: spSmallDecode)

// MARK: Blob (1 MiB bytes field)

let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761) }
var blob = Plexus_Bench_V1_Blob()
blob.name = "frame"
blob.data = payload
var spBlob = SPBlob()
spBlob.name = "frame"
spBlob.data = Data(payload)
let blobBytes = blob.serializedBytes()
let spBlobBytes: [UInt8] = try spBlob.serializedBytes()
precondition(blobBytes == spBlobBytes)

let m = 300
let blobEncode = measure(iterations: m) { blackHole(blob.serializedBytes()) }
let spBlobEncode = try measure(iterations: m) { blackHole(try spBlob.serializedBytes() as [UInt8]) }
row("1 MiB bytes encode", plexus: blobEncode, swiftProtobuf: spBlobEncode)
let blobDecode = try measure(iterations: m) { blackHole(try Plexus_Bench_V1_Blob(serializedBytes: blobBytes)) }
let spBlobDecode = try measure(iterations: m) { blackHole(try SPBlob(serializedBytes: blobBytes)) }
row("1 MiB bytes decode", plexus: blobDecode, swiftProtobuf: spBlobDecode)

// One memcpy of 1 MiB into freshly allocated memory, the yardstick for the large field.
let memcpyNs = measure(iterations: m) {
    let copy = [UInt8](unsafeUninitializedCapacity: payload.count) { buffer, count in
        payload.withUnsafeBytes { source in
            if let base = source.baseAddress, let destination = buffer.baseAddress {
                memcpy(destination, base, source.count)
            }
        }
        count = payload.count
    }
    blackHole(copy)
}
print(String(format: "1 MiB memcpy (fresh buffer)  %12.1f ns", memcpyNs))
print(String(format: "1 MiB encode = %.2f memcpy, decode = %.2f memcpy (goal: <= 2)", blobEncode / memcpyNs, blobDecode / memcpyNs))
