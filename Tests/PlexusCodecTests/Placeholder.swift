import XCTest

final class PlaceholderPlexusCodecTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
