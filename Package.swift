// swift-tools-version:6.1
import PackageDescription

/// Code is compiled for AVX2 + FMA (every x86 machine Cloud Run uses has them); see README.
let engineFlags: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"])
]
/// Only the hot loops (`InferenceKernels`: GEMM panels, Winograd, im2col, activations) run without
/// bounds and overflow checks; everything that reads outside bytes keeps them.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])
]

let package = Package(
    name: "mscr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mscr", targets: ["mscr"]),
        // The public function API (issue 16): see docs/writing-a-function.md.
        .library(name: "MSCRFunctions", targets: ["MSCRFunctions"]),
        .library(name: "MSCRMain", targets: ["MSCRMain"]),
        .library(name: "MSCRTesting", targets: ["MSCRTesting"]),
    ],
    dependencies: [
        // No default traits: "FullFoundation" and "ConfigurationSupport" (swift-configuration) bring
        // all of Foundation and ICU into the binary.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // No default traits: "BinaryDelimitedStreams" is the one file importing full Foundation.
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        // Traces (issue 20): the Tracing API for every layer; Runtime has its own OTLP/HTTP-protobuf
        // exporter (Sources/Runtime/Tracing), see docs/design.md "Traces".
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    ],
    targets: [
        // C shims
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto"),
        .target(
            name: "CImageCodecs",
            cSettings: [.unsafeFlags(["-O2", "-I/usr/include/libpng16"])],
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),

        // Libraries, in dependency order. `Common`: JSON, number and path text without Foundation
        // (only FoundationEssentials is linked: full Foundation brings ICU, 40 MB of the binary).
        .target(name: "Common"),
        .target(name: "CCPUFeatures"),
        // The GEMM register blocks for AVX-512 CPUs, chosen at run time (`KernelISA`).
        .target(
            name: "InferenceAVX512Kernels",
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "skylake-avx512"])]
        ),
        .target(
            name: "InferenceKernels",
            dependencies: ["CBLAS", "CCPUFeatures", "Common", "InferenceAVX512Kernels"],
            swiftSettings: kernelFlags
        ),
        .target(
            name: "Inference",
            dependencies: ["InferenceKernels", "Common"],
            swiftSettings: engineFlags
        ),
        // ONNX models: parsed with swift-protobuf, imported onto the Inference kernels. Reads
        // untrusted bytes, so it keeps the normal checks.
        .target(
            name: "ONNX",
            dependencies: [
                "Common", "Inference", "InferenceKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: engineFlags
        ),
        .target(
            name: "ObjectStore",
            dependencies: [
                "CCurl", "CCrypto", "Common",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Functions",
            dependencies: [
                "Common", "Inference", "ONNX", "ObjectStore", "CImageCodecs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "Retraining",
            dependencies: [
                "Common", "Functions", "ObjectStore", "Inference",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Runtime",
            dependencies: [
                "Common", "Functions", "Retraining", "ObjectStore", "Inference", "MSCRFunctions",
                .product(name: "Hummingbird", package: "hummingbird"),
                // h2c on the same port (REST and gRPC V2 over HTTP/2 cleartext): NIO's HTTP/2
                // (HummingbirdHTTP2 would bring TLS, BoringSSL, for nothing and fixes NIO's limits).
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                // gRPC calls are answered on the stream's HTTP/2 frames (GRPCStreamHandler).
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOHTTPTypesHTTP2", package: "swift-nio-extras"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["Web", "GRPC/Protos"],
            plugins: ["EmbedWeb"]
        ),
        // The public function API (issue 16): typed functions (no HTTP), the serve entry point,
        // and the socket-less test harness a user's package builds on.
        .target(
            name: "MSCRFunctions",
            dependencies: ["Functions", "Inference", "ObjectStore", .product(name: "Logging", package: "swift-log")]
        ),
        // The detect function (kinds `detect`, `darknet-yolo`) on the public API only; its
        // function.json stays beside the sources (functions/detect).
        .target(name: "Detect", dependencies: ["MSCRFunctions"], path: "functions/detect/Sources/Detect"),
        // The stock function (kind `lstm-regressor`) on the public API only (functions/stock).
        .target(name: "Stock", dependencies: ["MSCRFunctions"], path: "functions/stock/Sources/Stock"),
        .target(
            name: "MSCRMain",
            dependencies: [
                "MSCRFunctions", "Runtime", "Functions", "InferenceKernels", "Detect", "Stock",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "MSCRTesting",
            dependencies: [
                "MSCRFunctions", "Runtime", "Functions", "ObjectStore", "Common",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Build-time: the web client and openapi.json compiled into Runtime (no resource bundle).
        .executableTarget(name: "mscr-embed"),
        .plugin(name: "EmbedWeb", capability: .buildTool(), dependencies: ["mscr-embed"]),
        // The parsers that read outside bytes, as fuzz targets (scripts/fuzz.sh) and their replay.
        .target(name: "FuzzTargets", dependencies: ["Runtime", "Functions", "Inference"]),
        .executableTarget(name: "mscr-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(
            name: "mscr",
            dependencies: [
                "Common", "Runtime", "Functions", "Retraining", "ObjectStore", "Inference", "InferenceKernels", "ONNX",
                "MSCRMain", "Detect", "Stock", "MSCRFunctions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Tests: one target per library, plus end-to-end tests of the binary
        .testTarget(name: "CommonTests", dependencies: ["Common"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "InferenceKernels"], exclude: ["Reference"]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Inference", "InferenceKernels"]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore"]),
        .testTarget(name: "FunctionsTests", dependencies: ["Functions", "Inference", "ONNX", "ObjectStore"]),
        .testTarget(name: "RetrainingTests", dependencies: ["Retraining", "Functions", "ObjectStore", "Inference"]),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtime", "Functions", "ObjectStore", "MSCRFunctions", "MSCRTesting", "Detect", "Stock",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                "Inference",
            ]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["ObjectStore", "mscr"]),
        .testTarget(
            name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "Functions", "Inference"], exclude: ["Regressions"]),
    ],
    swiftLanguageModes: [.v6]
)
