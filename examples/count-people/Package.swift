// swift-tools-version:6.1
import PackageDescription

/// A user's own function on mscr: counts the people in a photo with the detection model.
let package = Package(
    name: "count-people",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "count-people", targets: ["CountPeopleServer"])
    ],
    dependencies: [
        // Your package would use `.package(url: "https://github.com/<owner>/mscr.git", from: "…")`.
        .package(name: "mscr", path: "../..")
    ],
    targets: [
        // The function: only the public API, no HTTP.
        .target(name: "CountPeople", dependencies: [.product(name: "MSCRFunctions", package: "mscr")]),
        // The server: `mscr serve` with CountPeople registered.
        .executableTarget(
            name: "CountPeopleServer",
            dependencies: ["CountPeople", .product(name: "MSCRMain", package: "mscr")]
        ),
        .testTarget(
            name: "CountPeopleTests",
            dependencies: ["CountPeople", .product(name: "MSCRTesting", package: "mscr")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
