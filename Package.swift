// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Plexus",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Plexus", targets: ["Plexus"]),
        .library(name: "PlexusCodec", targets: ["PlexusCodec"]),
        .library(name: "PlexusProto", targets: ["PlexusProto"]),
        .library(name: "PlexusLoop", targets: ["PlexusLoop"]),
        .library(name: "CPlexusProto", targets: ["CPlexusProto"]),
        .library(name: "PlexusGraph", targets: ["PlexusGraph"]),
        .executable(name: "plexus", targets: ["plexus"]),
        .executable(name: "protoc-gen-plexus-swift", targets: ["protoc-gen-plexus-swift"]),
        .executable(name: "plexus-codegen", targets: ["plexus-codegen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: System libraries
        .systemLibrary(
            name: "CUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        // protoc-c output for proto/ and the google/protobuf files Plexus uses (generated, committed).
        .target(
            name: "CPlexusProto",
            dependencies: ["CProtobufC"],
            path: "Sources/CPlexusProto"
        ),

        // MARK: Runtime
        .target(
            name: "PlexusCodec",
            dependencies: ["CProtobufC"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlexusProto",
            dependencies: ["PlexusCodec", "CPlexusProto"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlexusLoop",
            dependencies: [
                "CUV",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Plexus",
            dependencies: [
                "PlexusLoop", "PlexusCodec", "PlexusProto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: swiftSettings
        ),

        // The graph server and its client: processes, discovery, pub/sub, settings, topology,
        // profiling, process control.
        .target(
            name: "PlexusGraph",
            dependencies: [
                "Plexus", "PlexusLoop", "PlexusCodec", "PlexusProto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line: `plexus graph serve`, `plexus ps`, `plexus topology`, ...
        .executableTarget(
            name: "plexus",
            dependencies: [
                "PlexusGraph", "Plexus", "PlexusProto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "PlexusInterop",
            dependencies: ["Plexus", "PlexusProto", "PlexusCodec"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "plexus-interop-server",
            dependencies: ["PlexusInterop", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "plexus-interop-client",
            dependencies: ["PlexusInterop", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (the raw libuv C baseline and the Plexus benchmark driver)
        .executableTarget(
            name: "plexus-echo-baseline",
            dependencies: ["CUV"],
            path: "Sources/plexus-echo-baseline"
        ),
        .executableTarget(
            name: "plexus-bench",
            dependencies: ["PlexusInterop", "Plexus", "PlexusProto"],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "plexus-graph-bench",
            dependencies: ["PlexusGraph", "Plexus", "PlexusProto"],
            swiftSettings: swiftSettings
        ),

        // MARK: Code generator
        .target(
            name: "PlexusCodegen",
            dependencies: ["CPlexusProto", "CProtobufC"],
            path: "codegen/Sources/PlexusCodegen",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "protoc-gen-plexus-swift",
            dependencies: ["PlexusCodegen"],
            path: "codegen/Sources/protoc-gen-plexus-swift",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "plexus-codegen",
            dependencies: [
                "PlexusCodegen",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "codegen/Sources/plexus-codegen",
            swiftSettings: swiftSettings
        ),

        // MARK: Examples
        .executableTarget(
            name: "plexus-codec-demo",
            dependencies: ["PlexusCodec", "PlexusProto"],
            path: "Examples/CodecDemo",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "plexus-graph-peer",
            dependencies: [
                "PlexusGraph", "PlexusProto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/GraphPeer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "plexus-demo-client",
            dependencies: ["Plexus", "PlexusInterop", "PlexusProto"],
            path: "Examples/DemoClient",
            swiftSettings: swiftSettings
        ),

        // MARK: Test fixtures (a .proto exercising every feature, generated and committed)
        .target(
            name: "CPlexusTestProto",
            dependencies: ["CPlexusProto"],
            path: "Tests/Fixtures/CPlexusTestProto"
        ),
        .target(
            name: "PlexusTestProto",
            dependencies: ["PlexusCodec", "PlexusProto", "Plexus", "CPlexusTestProto"],
            path: "Tests/Fixtures/PlexusTestProto",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "PlexusCodecTests",
            dependencies: ["PlexusCodec", "PlexusProto", "PlexusTestProto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlexusCodegenTests",
            dependencies: ["PlexusCodegen"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlexusTests",
            dependencies: ["Plexus", "PlexusLoop", "PlexusInterop", "PlexusProto", "PlexusTestProto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlexusGraphTests",
            dependencies: ["PlexusGraph", "Plexus", "PlexusProto", "PlexusTestProto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlexusLoopTests",
            dependencies: ["PlexusLoop"],
            swiftSettings: swiftSettings
        ),
    ]
)
