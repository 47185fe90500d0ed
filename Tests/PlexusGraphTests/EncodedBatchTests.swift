@testable import PlexusGraph
import PlexusCodec
import PlexusProto
import XCTest

final class EncodedBatchTests: XCTestCase {
    func messages() -> [Plexus_Graph_V1_TopicMessage] {
        (0..<5).map { i in
            var m = Plexus_Graph_V1_TopicMessage()
            m.sequence = UInt64(i + 1) << (i * 9)
            m.publishUnixNanos = 1_700_000_000_000_000_000 + UInt64(i)
            m.payload = [UInt8](repeating: UInt8(i), count: i * 70)
            return m
        }
    }

    func testBytesAreTheGeneratedTopicBatchEncoding() throws {
        var generated = Plexus_Graph_V1_TopicBatch()
        generated.messages = messages()
        generated.dropped = 300
        let encoded = EncodedBatch(messages: messages(), dropped: 300)
        XCTAssertEqual(encoded.bytes, generated.serializedBytes())
        XCTAssertEqual(try Plexus_Graph_V1_TopicBatch(serializedBytes: encoded.bytes), generated)
    }

    func testReadingVisitsEveryMessageInPlace() throws {
        var generated = Plexus_Graph_V1_TopicBatch()
        generated.messages = messages()
        generated.dropped = 7
        let batch = try EncodedBatch(serializedBytes: generated.serializedBytes())
        var seen: [(UInt64, [UInt8])] = []
        let dropped = try batch.forEachMessage { nanos, payload in seen.append((nanos, Array(payload))) }
        XCTAssertEqual(dropped, 7)
        XCTAssertEqual(seen.map(\.0), messages().map(\.publishUnixNanos))
        XCTAssertEqual(seen.map(\.1), messages().map(\.payload))
    }

    func testMalformedBatchesThrowInsteadOfReadingPastTheEnd() {
        let good = EncodedBatch(messages: messages(), dropped: 1).bytes
        var cases: [[UInt8]] = [[0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x0A, 0x05, 0x08], [0x0F]]
        for cut in stride(from: 1, to: good.count, by: 37) { cases.append(Array(good.prefix(cut))) }
        for bytes in cases {
            let batch = EncodedBatch(messages: [], dropped: 0)
            var b = batch
            b.bytes = bytes
            XCTAssertThrowsError(try b.forEachMessage { _, _ in }, "\(bytes.prefix(12))")
        }
    }
}
