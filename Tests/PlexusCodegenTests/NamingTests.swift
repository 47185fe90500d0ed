@testable import PlexusCodegen
import XCTest

final class NamingTests: XCTestCase {
    func testProtocCNamesMirrorProtobufC() {
        // Expected values are what protoc-c 1.4.1 emits (c_helpers.cc FullNameToLower).
        XCTAssertEqual(Naming.cLowerName("plexus.wire.v1.FrameHeader"), "plexus__wire__v1__frame_header")
        XCTAssertEqual(Naming.cLowerName("plexus.test.v1.Outer.Inner.Deepest"), "plexus__test__v1__outer__inner__deepest")
        XCTAssertEqual(Naming.cLowerName("a.HTTPServer"), "a__httpserver")
        XCTAssertEqual(Naming.cLowerName("a.Foo_Bar"), "a__foo__bar")
        XCTAssertEqual(Naming.cLowerName("a.Maps.StringToStringEntry"), "a__maps__string_to_string_entry")
        XCTAssertEqual(Naming.cDescriptorSymbol("google.protobuf.Any"), "google__protobuf__any__descriptor")
    }

    func testSwiftNames() {
        XCTAssertEqual(Naming.packagePrefix("plexus.wire.v1"), "Plexus_Wire_V1_")
        XCTAssertEqual(Naming.propertyName("some_snake_case_name"), "someSnakeCaseName")
        XCTAssertEqual(Naming.propertyName("self"), "self_p")
        XCTAssertEqual(Naming.propertyName("unknown_fields"), "unknownFields_p")
        XCTAssertEqual(Naming.escaped("class"), "`class`")
        XCTAssertEqual(Naming.enumCaseName("COLOR_UNSPECIFIED", enumName: "Color"), "unspecified")
        XCTAssertEqual(Naming.enumCaseName("HALF_CLOSE", enumName: "FrameKind"), "halfClose")
        XCTAssertEqual(Naming.enumCaseName("FIELD_TYPE_INT32", enumName: "FieldType"), "int32")
        XCTAssertEqual(Naming.typeName("Any"), "AnyMessage")
        XCTAssertEqual(Naming.typeName("Any", topLevelPrefix: "Google_Protobuf_"), "Google_Protobuf_Any")
    }

    func testBytesDefaultUnescaping() {
        XCTAssertEqual(Literal.cUnescape("ab\\001"), [0x61, 0x62, 0x01])
        XCTAssertEqual(Literal.cUnescape("\\x41\\n\\\\"), [0x41, 0x0a, 0x5c])
    }
}
