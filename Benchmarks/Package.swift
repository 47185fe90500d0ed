// swift-tools-version:6.0
// Benchmarks live in their own package so that swift-protobuf (used only as a comparison
// baseline) never becomes a dependency of Plexus itself. This package is also the worked
// example of a user package with its own generated code:
//   swift run --package-path .. plexus-codegen --proto-path proto --swift-out Sources/BenchProto \
//       --c-out Sources/CBenchProto --c-module CBenchProto --imports PlexusProto plexus/bench/v1/bench.proto
import PackageDescription

let package = Package(
    name: "PlexusBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Plexus", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        .target(
            name: "CBenchProto",
            dependencies: [.product(name: "CPlexusProto", package: "Plexus")]
        ),
        .target(
            name: "BenchProto",
            dependencies: [
                "CBenchProto",
                .product(name: "PlexusCodec", package: "Plexus"),
                .product(name: "PlexusProto", package: "Plexus"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "plexus-codec-bench",
            dependencies: [
                "BenchProto",
                .product(name: "PlexusCodec", package: "Plexus"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
