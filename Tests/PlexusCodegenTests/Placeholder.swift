import XCTest

final class PlaceholderPlexusCodegenTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
