import PlexusCodec
import PlexusTestProto
import XCTest

final class MalformedInputTests: XCTestCase {
    func assertMalformed<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try M(serializedBytes: bytes), file: file, line: line) { error in
            XCTAssertTrue(error is CodecError, "\(error)", file: file, line: line)
        }
    }

    func testTruncatedVarint() {
        assertMalformed(Plexus_Test_V1_Scalars.self, [0x08, 0xff])
    }

    func testLengthPastTheEnd() {
        assertMalformed(Plexus_Test_V1_Scalars.self, [0x72, 0x10, 0x61])
    }

    func testTruncatedFixed() {
        assertMalformed(Plexus_Test_V1_Scalars.self, [0x3d, 0x01, 0x02])
    }

    func testWrongWireTypeForKnownField() {
        // field 1 (int32) sent as length-delimited
        assertMalformed(Plexus_Test_V1_Scalars.self, [0x0a, 0x01, 0x00])
    }

    func testInvalidUTF8InString() {
        XCTAssertThrowsError(try Plexus_Test_V1_Scalars(serializedBytes: [0x72, 0x02, 0xc3, 0x28])) { error in
            XCTAssertEqual(error as? CodecError, .invalidUTF8(type: "plexus.test.v1.Scalars", field: "text"))
            XCTAssertTrue("\(error)".contains("bytes field"))
        }
    }

    func testNestingPastTheLimit() {
        // Tree { left: Tree { left: ... } } 200 levels deep.
        var bytes: [UInt8] = []
        for _ in 0..<200 {
            var next: [UInt8] = [0x12]
            var length = bytes.count
            while length >= 0x80 {
                next.append(UInt8(length & 0x7f) | 0x80)
                length >>= 7
            }
            next.append(UInt8(length))
            bytes = next + bytes
        }
        XCTAssertThrowsError(try Plexus_Test_V1_Tree(serializedBytes: bytes)) { error in
            XCTAssertEqual(error as? CodecError, .nestingTooDeep(type: "plexus.test.v1.Tree", limit: 100))
        }
        // 50 levels is fine.
        XCTAssertNoThrow(try Plexus_Test_V1_Tree(serializedBytes: Fixtures_tree(depth: 50)))
    }

    func testNestingThroughAMessageThatContainsARecursiveOne() {
        // WellKnown.value (Value) -> list_value (ListValue) -> values (Value) -> ...
        var value: [UInt8] = []
        for _ in 0..<150 {
            // Value.list_value = 6, ListValue.values = 1
            let list = [UInt8(0x0a)] + varint(value.count) + value
            value = [UInt8(0x32)] + varint(list.count) + list
        }
        let bytes = [UInt8(0x32)] + varint(value.count) + value
        XCTAssertThrowsError(try Plexus_Test_V1_WellKnown(serializedBytes: bytes)) { error in
            XCTAssertEqual(error as? CodecError, .nestingTooDeep(type: "plexus.test.v1.WellKnown", limit: 100))
        }
    }

    func testGarbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        var seed: UInt64 = 0x1234_5678
        for round in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let count = Int(seed >> 58)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? Plexus_Test_V1_Repeated(serializedBytes: bytes)
            _ = try? Plexus_Test_V1_Maps(serializedBytes: bytes)
            _ = try? Plexus_Test_V1_WellKnown(serializedBytes: bytes)
            _ = round
        }
        // Mutations of a valid message.
        let valid = Fixtures.wellKnown.serializedBytes()
        for i in 0..<valid.count {
            var mutated = valid
            mutated[i] ^= 0xff
            _ = try? Plexus_Test_V1_WellKnown(serializedBytes: mutated)
            _ = try? Plexus_Test_V1_WellKnown(serializedBytes: Array(valid[0..<i]))
        }
    }

    func varint(_ value: Int) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }
}

private func Fixtures_tree(depth: Int) -> [UInt8] {
    var t = Plexus_Test_V1_Tree()
    for _ in 0..<depth {
        var parent = Plexus_Test_V1_Tree()
        parent.left = t
        t = parent
    }
    return t.serializedBytes()
}
