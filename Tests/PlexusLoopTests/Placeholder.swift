import XCTest

final class PlaceholderPlexusLoopTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
