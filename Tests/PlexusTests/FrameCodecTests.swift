@testable import Plexus
import PlexusLoop
import PlexusProto
import XCTest

final class FrameCodecTests: XCTestCase {
    func hex(_ text: String) -> [UInt8] {
        text.split(separator: " ").compactMap { UInt8($0, radix: 16) }
    }

    /// The worked example of docs/PROTOCOL.md §9.
    func testProtocolDocumentExampleBytes() {
        var hello = FrameHeader(kind: .hello)
        var h = Hello()
        h.maxMessageSize = 4_194_304
        h.initialWindow = 1_048_576
        h.agent = "py"
        hello.hello = h
        var out: [UInt8] = []
        FrameCodec.append(hello, into: &out)
        XCTAssertEqual(out, hex("00 00 00 13 00 00 00 00 08 01 5a 0f 08 01 10 80 80 80 02 20 80 80 40 3a 02 70 79"))

        var open = FrameHeader(kind: .open, streamID: 1, flags: [.message, .endStream])
        open.method = "/plexus.testing.v1.TestService/UnaryCall"
        open.timeoutMicros = 500_000
        out = []
        FrameCodec.append(open, into: &out) { $0 += [0x08, 0x03] }
        XCTAssertEqual(out, hex("00 00 00 34 00 00 00 02 08 02 10 01 18 03 22 28 2f 70 6c 65 78 75 73 2e 74 65 73 74 69 6e 67 2e 76 31 2e 54 65 73 74 53 65 72 76 69 63 65 2f 55 6e 61 72 79 43 61 6c 6c 30 a0 c2 1e 08 03"))

        var close = FrameHeader(kind: .close, streamID: 1, flags: [.message, .endStream])
        close.status = .ok
        out = []
        FrameCodec.append(close, into: &out) { $0 += [0x0a, 0x05, 0x0a, 0x03, 0, 0, 0] }
        XCTAssertEqual(out, hex("00 00 00 08 00 00 00 07 08 05 10 01 18 03 3a 00 0a 05 0a 03 00 00 00"))
    }

    /// The hand-written codec agrees with the generated (protobuf-c) FrameHeader both ways.
    func testHandWrittenCodecMatchesTheGeneratedType() throws {
        var header = FrameHeader(kind: .close, streamID: 99, flags: .endStream)
        header.headers.add("x-a", "1")
        header.headers.add("x-b-bin", binary: [0, 255])
        header.trailers.add("x-t", "")
        header.status = Status(code: .notFound, message: "nope ☺", details: [[0x0a, 0x01, 0x78]])  // Any{type_url: "x"}
        header.timeoutMicros = 123
        header.windowIncrement = 7
        header.pingData = UInt64.max
        header.goAway = GoAway(lastStreamID: 5, code: .unavailable, reason: "bye")
        var hello = Hello()
        hello.authToken = "t"
        header.hello = hello
        var bytes: [UInt8] = []
        FrameCodec.encodeHeader(header, into: &bytes)
        let generated = try Plexus_Wire_V1_FrameHeader(serializedBytes: bytes)
        XCTAssertEqual(generated.kind, .close)
        XCTAssertEqual(generated.streamId, 99)
        XCTAssertEqual(generated.headers.count, 2)
        XCTAssertEqual(generated.headers[1].value, .binary([0, 255]))
        XCTAssertEqual(generated.trailers.first?.value, .text(""))
        XCTAssertEqual(generated.status?.code, .notFound)
        XCTAssertEqual(generated.status?.message, "nope ☺")
        XCTAssertEqual(generated.goaway?.reason, "bye")
        XCTAssertEqual(generated.hello?.authToken, "t")
        XCTAssertEqual(generated.serializedBytes(), bytes, "protobuf-c re-encodes the same bytes")
        let decoded = try bytes.withUnsafeBytes { try FrameCodec.decodeHeader($0) }
        XCTAssertEqual(decoded, header)
    }

    func testDecoderSplitsFramesAcrossReadsAndRejectsBadHeaders() throws {
        var stream: [UInt8] = []
        for id in stride(from: UInt32(1), to: 20, by: 2) {
            FrameCodec.append(FrameHeader(kind: .message, streamID: id, flags: .message), into: &stream) { $0 += [1, 2, 3] }
        }
        var decoder = FrameDecoder(maxHeaderSize: 1024, maxPayloadSize: 1024)
        var ids: [UInt32] = []
        for byte in stream {
            try [byte].withUnsafeBytes { raw in
                try decoder.feed(raw) { event in
                    if case .frame(let header, let payload) = event {
                        ids.append(header.streamID)
                        XCTAssertEqual(payload.map { Array($0) }, [1, 2, 3])
                    }
                }
            }
        }
        XCTAssertEqual(ids, Array(stride(from: UInt32(1), to: 20, by: 2)))
        var garbage: [UInt8] = [0, 0, 0, 3, 0, 0, 0, 0, 0xff, 0xff, 0xff]
        XCTAssertThrowsError(try garbage.withUnsafeBytes { raw in try decoder.feed(raw) { _ in } })
        garbage = [0, 1, 0, 0, 0, 0, 0, 0]
        var small = FrameDecoder(maxHeaderSize: 1024, maxPayloadSize: 1024)
        XCTAssertThrowsError(try garbage.withUnsafeBytes { raw in try small.feed(raw) { _ in } }) { error in
            XCTAssertEqual(error as? FrameError, .headerTooLarge(size: 65536, limit: 1024))
        }
    }

    func testMessagePresenceIsTheFlagAlone() throws {
        // An empty message: FLAG_MESSAGE with zero payload bytes is a message.
        var bytes: [UInt8] = []
        FrameCodec.append(FrameHeader(kind: .message, streamID: 1, flags: .message), into: &bytes)
        FrameCodec.append(FrameHeader(kind: .halfClose, streamID: 1), into: &bytes)
        var decoder = FrameDecoder(maxHeaderSize: 1024, maxPayloadSize: 1024)
        var presence: [Bool] = []
        try bytes.withUnsafeBytes { raw in
            try decoder.feed(raw) { event in
                if case .frame(_, let payload) = event { presence.append(payload != nil) }
            }
        }
        XCTAssertEqual(presence, [true, false])
        // Payload bytes without the flag are a protocol violation (a connection error).
        var bad: [UInt8] = []
        FrameCodec.append(FrameHeader(kind: .message, streamID: 1), into: &bad) { $0 += [1, 2] }
        var strict = FrameDecoder(maxHeaderSize: 1024, maxPayloadSize: 1024)
        XCTAssertThrowsError(try bad.withUnsafeBytes { raw in try strict.feed(raw) { _ in } }) { error in
            XCTAssertTrue("\(error)".contains("without FLAG_MESSAGE"), "\(error)")
        }
    }
}
