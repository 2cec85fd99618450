import FoundationEssentials

/// `<model>/<version>/manifest.json`: written last, its presence commits the version.
package struct Manifest: Codable, Sendable, Equatable {
    /// One file of the version: its exact size and sha256 (lowercase hex).
    package struct File: Codable, Sendable, Equatable {
        package var size: Int
        package var sha256: String
        /// For large files (compiled artifacts): the sha256 of every `chunkSize` bytes, so the
        /// file can be verified on all cores at once (`ChunkDigests`). Absent for other files.
        package var chunkSize: Int?
        package var chunks: [String]?
        package init(size: Int, sha256: String, chunkSize: Int? = nil, chunks: [String]? = nil) {
            self.size = size
            self.sha256 = sha256
            self.chunkSize = chunkSize
            self.chunks = chunks
        }
    }

    /// `darknet-yolo` or `lstm-regressor`.
    package var format: String
    package var version: Int
    /// ISO 8601, UTC.
    package var created: String
    package var files: [String: File]
    package var metrics: [String: Double]?
    package var parent: Int?
    package var source: String?

    package init(
        format: String, version: Int, created: String, files: [String: File],
        metrics: [String: Double]? = nil, parent: Int? = nil, source: String? = nil
    ) {
        self.format = format
        self.version = version
        self.created = created
        self.files = files
        self.metrics = metrics
        self.parent = parent
        self.source = source
    }

    package static func decode(_ bytes: [UInt8], origin: String) throws -> Manifest {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw ObjectStoreError(.malformed, "\(origin) is not a valid manifest: \(error)")
        }
    }

    package func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding a value of plain fields cannot fail.
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Now, as the manifest's `created` string.
    package static func timestamp(_ date: Date = Date()) -> String {
        date.ISO8601Format()
    }
}
