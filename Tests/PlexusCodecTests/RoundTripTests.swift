import PlexusCodec
import PlexusProto
import PlexusTestProto
import XCTest

final class RoundTripTests: XCTestCase {
    func roundTrip<M: ProtoMessage>(_ message: M, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = message.serializedBytes()
        XCTAssertEqual(bytes.count, message.serializedSize, file: file, line: line)
        let decoded = try M(serializedBytes: bytes)
        XCTAssertEqual(decoded, message, file: file, line: line)
        XCTAssertEqual(decoded.serializedBytes(), bytes, "re-encoding changed the bytes", file: file, line: line)
    }

    func testScalarsRoundTrip() throws { try roundTrip(Fixtures.scalars) }
    func testRepeatedRoundTrip() throws { try roundTrip(Fixtures.repeated) }
    func testMapsRoundTrip() throws { try roundTrip(Fixtures.maps) }
    func testOneofsRoundTrip() throws { try roundTrip(Fixtures.oneofs) }
    func testNestedAndReservedNamesRoundTrip() throws { try roundTrip(Fixtures.outer) }
    func testRecursiveTreeRoundTrips() throws { try roundTrip(Fixtures.tree(depth: 4)) }
    func testWellKnownTypesRoundTrip() throws { try roundTrip(Fixtures.wellKnown) }
    func testProto2RoundTrip() throws { try roundTrip(Fixtures.proto2) }
    func testEmptyMessagesRoundTrip() throws {
        try roundTrip(Plexus_Test_V1_Empty())
        try roundTrip(Plexus_Test_V1_Scalars())
    }

    func testDefaultsEncodeToNothing() {
        XCTAssertEqual(Plexus_Test_V1_Scalars().serializedBytes(), [])
        XCTAssertEqual(Plexus_Test_V1_Empty().serializedBytes(), [])
    }

    func testKnownEncoding() {
        var m = Plexus_Test_V1_Scalars()
        m.i32 = -1
        // field 1, varint, ten bytes for a negative int32
        XCTAssertEqual(m.serializedBytes(), [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        m = Plexus_Test_V1_Scalars()
        m.s32 = -1
        XCTAssertEqual(m.serializedBytes(), [0x28, 0x01])
        m = Plexus_Test_V1_Scalars()
        m.text = "hi"
        XCTAssertEqual(m.serializedBytes(), [0x72, 0x02, 0x68, 0x69])
    }

    func testOpenEnumKeepsUnknownValues() throws {
        var m = Plexus_Test_V1_Scalars()
        m.color = .UNRECOGNIZED(1234)
        let decoded = try Plexus_Test_V1_Scalars(serializedBytes: m.serializedBytes())
        XCTAssertEqual(decoded.color, .UNRECOGNIZED(1234))
        XCTAssertEqual(decoded.color.rawValue, 1234)
        XCTAssertEqual(Plexus_Test_V1_Color(rawValue: -3), .blue)
        XCTAssertEqual(Plexus_Test_V1_Color.blue.protoName, "BLUE")
    }

    func testUnknownFieldsSurviveDecodeEncode() throws {
        var bytes = Fixtures.scalars.serializedBytes()
        let extra: [UInt8] = [
            0xf8, 0x06, 0x96, 0x01,  // field 111 varint 150
            0xfd, 0x06, 1, 2, 3, 4,  // field 111 fixed32
            0x81, 0x07, 1, 2, 3, 4, 5, 6, 7, 8,  // field 112 fixed64
            0x8a, 0x07, 0x03, 0x61, 0x62, 0x63,  // field 113 "abc"
        ]
        bytes += extra
        let decoded = try Plexus_Test_V1_Scalars(serializedBytes: bytes)
        XCTAssertEqual(decoded.unknownFields.fields.count, 4)
        XCTAssertEqual(decoded.unknownFields.fields.map(\.number), [111, 111, 112, 113])
        XCTAssertEqual(decoded.serializedBytes(), bytes)
    }

    func testProto2PresenceAndDefaults() throws {
        let empty = Plexus_Test_V1_Proto2()
        XCTAssertEqual(empty.name, "unnamed")
        XCTAssertEqual(empty.big, -42)
        XCTAssertEqual(empty.ratio, 2.5)
        XCTAssertTrue(empty.enabled)
        XCTAssertEqual(empty.kind, .importedOne)
        XCTAssertEqual(empty.blob, [0x61, 0x62, 0x01])
        XCTAssertEqual(empty.scale, 1.5)
        XCTAssertFalse(empty.hasName)

        var m = Fixtures.proto2
        XCTAssertTrue(m.hasBig, "explicitly set to 0, so present")
        let decoded = try Plexus_Test_V1_Proto2(serializedBytes: m.serializedBytes())
        XCTAssertTrue(decoded.hasBig)
        XCTAssertEqual(decoded.big, 0)
        XCTAssertFalse(decoded.hasName)
        XCTAssertEqual(decoded.name, "unnamed")
        m.name = "unnamed"
        let withDefault = try Plexus_Test_V1_Proto2(serializedBytes: m.serializedBytes())
        XCTAssertTrue(withDefault.hasName, "a value equal to the default is still present")
        m.clearName()
        XCTAssertFalse(m.hasName)
    }

    func testRequiredFieldMissingIsAnError() {
        // An empty buffer lacks the required `id`.
        XCTAssertThrowsError(try Plexus_Test_V1_Proto2(serializedBytes: [UInt8]())) { error in
            XCTAssertEqual(error as? CodecError, .malformed(type: "plexus.test.v1.Proto2"))
        }
    }

    func testLargeBytesField() throws {
        var m = Plexus_Test_V1_Scalars()
        m.data = (0..<(1 << 20) + 7).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let decoded = try Plexus_Test_V1_Scalars(serializedBytes: m.serializedBytes())
        XCTAssertEqual(decoded.data, m.data)
    }

    func testAnyPackUnpack() throws {
        let any = Google_Protobuf_Any(packing: Fixtures.scalars)
        XCTAssertEqual(any.typeUrl, "type.googleapis.com/plexus.test.v1.Scalars")
        XCTAssertEqual(try any.unpack(Plexus_Test_V1_Scalars.self), Fixtures.scalars)
        XCTAssertNil(try any.unpack(Plexus_Test_V1_Maps.self))
    }

    func testSettingsSchemaFromOptions() {
        let schema = Plexus_Test_V1_FilterSettings.settingsSchema
        XCTAssertEqual(schema.typeName, "plexus.test.v1.FilterSettings")
        XCTAssertEqual(schema.fields.map(\.name), ["cutoff_hz", "order", "window", "enabled", "device"])
        let cutoff = schema.fields[0]
        XCTAssertEqual(cutoff.description, "Low-pass cutoff frequency")
        XCTAssertEqual(cutoff.units, "Hz")
        XCTAssertEqual(cutoff.min?.value, 0.1)
        XCTAssertEqual(cutoff.max?.value, 500)
        XCTAssertEqual(cutoff.step?.value, 0.1)
        XCTAssertEqual(cutoff.widget, .slider)
        XCTAssertEqual(cutoff.fieldType, .double)
        XCTAssertEqual(schema.fields[2].choices, ["hann", "hamming", "blackman"])
        XCTAssertEqual(schema.fields[2].widget, .select)
        XCTAssertEqual(schema.fields[3].widget, .checkbox)
        XCTAssertTrue(schema.fields[4].readOnly)
        XCTAssertEqual(schema.fields[1].min?.value, 1)
        XCTAssertEqual(schema.fields[1].widget, .intInput)
    }
}
