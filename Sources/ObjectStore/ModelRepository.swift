import FoundationEssentials

/// The versioned model repository of DESIGN.md on top of any `ObjectStore`:
/// `<model>/<version>/manifest.json` (written last) and `<model>/<version>/<files>`.
///
/// `cache` (optional, `MSCR_CACHE_DIR`) keeps verified copies of remote files on local disk;
/// `open(_:environment:)` configures both from the environment.
package struct ModelRepository: Sendable {
    package let store: any ObjectStore
    package let cache: ModelCache?

    package init(store: any ObjectStore, cache: ModelCache? = nil) {
        self.store = store
        self.cache = cache
    }

    /// The repository at `uri` (`file://`, a path, `s3://`, `gs://`, `http(s)://`), with the
    /// cache of `MSCR_CACHE_DIR` for remote stores (a local directory needs no cache).
    package static func open(
        _ uri: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ModelRepository {
        let store = try ObjectStores.open(uri, environment: environment)
        let local = store is FileObjectStore || store is MemoryObjectStore
        return ModelRepository(store: store, cache: local ? nil : try ModelCache.fromEnvironment(environment))
    }

    /// The names of all models that have at least one committed version.
    package func models() throws -> [String] {
        var names = Set<String>()
        for key in try store.list(prefix: "") {
            let parts = key.split(separator: "/")
            if parts.count == 3, parts[2] == "manifest.json", Int(parts[1]) != nil { names.insert(String(parts[0])) }
        }
        return names.sorted()
    }

    /// Committed versions of `model` (those whose manifest exists), ascending.
    package func versions(of model: String) throws -> [Int] {
        try ObjectKey.validateSegment(model, what: "model name")
        var versions: [Int] = []
        for key in try store.list(prefix: model + "/") {
            let parts = key.split(separator: "/")
            guard parts.count == 3, parts[0] == model, parts[2] == "manifest.json",
                let v = Int(parts[1]), v > 0
            else { continue }
            versions.append(v)
        }
        return versions.sorted()
    }

    /// The highest committed version of `model`.
    package func latestVersion(of model: String) throws -> Int {
        guard let v = try versions(of: model).last else {
            throw ObjectStoreError(.notFound, "model '\(model)' has no committed version in \(store.uri)")
        }
        return v
    }

    /// Resolves `"latest"`, a version number or an alias (`stable`) to a committed version and
    /// reads its manifest.
    package func resolve(model: String, version: String) throws -> ModelVersion {
        try ObjectKey.validateSegment(model, what: "model name")
        let number = try versionNumber(model: model, version: version)
        let key = "\(model)/\(number)/manifest.json"
        let bytes: [UInt8]
        do {
            bytes = try store.read(key)
        } catch let error as ObjectStoreError where error.code == .notFound {
            throw ObjectStoreError(.notFound, "model '\(model)' version \(number) is not committed in \(store.uri)")
        }
        let manifest = try Manifest.decode(bytes, origin: "\(store.uri)/\(key)")
        guard manifest.version == number else {
            throw ObjectStoreError(
                .malformed,
                "\(store.uri)/\(key) says version \(manifest.version), but it is stored as version \(number)")
        }
        for name in manifest.files.keys {
            try ObjectKey.validateSegment(name, what: "file name in \(store.uri)/\(key)")
        }
        return ModelVersion(store: store, model: model, version: number, manifest: manifest, cache: cache)
    }

    /// Publishes a new version: every file first, the manifest last. Refuses to overwrite a
    /// committed version (two publishers racing for the same number are not detected: the
    /// stores have no compare-and-swap here). `version` nil means latest + 1. `progress` is
    /// called with each file's name and size before it is uploaded.
    @discardableResult
    package func publish(
        model: String, version: Int? = nil, format: String, files: [String: [UInt8]],
        metrics: [String: Double]? = nil, parent: Int? = nil, source: String? = nil, chunked: Set<String> = [],
        progress: ((String, Int) -> Void)? = nil
    ) throws -> Manifest {
        try ObjectKey.validateSegment(model, what: "model name")
        for name in files.keys { try ObjectKey.validateSegment(name, what: "file name") }
        guard !files.isEmpty else { throw ObjectStoreError(.invalidKey, "a model version needs at least one file") }
        guard !files.keys.contains("manifest.json") else {
            throw ObjectStoreError(.invalidKey, "a model may not contain its own manifest.json")
        }
        let existing = try versions(of: model)
        let number = version ?? ((existing.last ?? 0) + 1)
        guard number > 0 else { throw ObjectStoreError(.invalidKey, "version must be positive") }
        if try existing.contains(number) || (store.stat("\(model)/\(number)/manifest.json")) != nil {
            throw ObjectStoreError(
                .alreadyExists,
                "model '\(model)' version \(number) already exists in \(store.uri); publish never overwrites")
        }
        var entries: [String: Manifest.File] = [:]
        for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
            progress?(name, bytes.count)
            try store.put("\(model)/\(number)/\(name)", bytes: bytes, contentType: "application/octet-stream")
            entries[name] = Self.entry(bytes, chunked: chunked.contains(name))
        }
        let manifest = Manifest(
            format: format, version: number, created: Manifest.timestamp(), files: entries,
            metrics: metrics, parent: parent, source: source)
        try store.put("\(model)/\(number)/manifest.json", bytes: manifest.encoded(), contentType: "application/json")
        return manifest
    }

    /// The manifest entry of `bytes`: size, sha256 and, when `chunked`, chunk digests.
    package static func entry(_ bytes: [UInt8], chunked: Bool) -> Manifest.File {
        var file = Manifest.File(size: bytes.count, sha256: SHA256Digest.hex(of: bytes))
        if chunked {
            file.chunkSize = ChunkDigests.defaultChunkSize
            file.chunks = bytes.withUnsafeBytes { ChunkDigests.compute($0) }
        }
        return file
    }

    /// Adds file `name` to committed version `version` of `model` (`mscr compile`): the file
    /// is uploaded first, under a name no manifest lists yet, so no reader sees it; then the
    /// manifest is replaced, in one put, by the same manifest listing it too. A reader sees the
    /// old manifest or the new one, and both name only complete files that never change. The
    /// manifest is read again just before it is replaced and must be unchanged (the stores have
    /// no compare-and-swap, so two writers racing inside that window are not detected). A file
    /// the manifest already lists is never replaced: identical bytes are a no-op, others an error.
    @discardableResult
    package func addFile(
        model: String, version: Int, name: String, bytes: [UInt8], chunked: Bool = false
    ) throws -> Manifest {
        try ObjectKey.validateSegment(name, what: "file name")
        guard name != "manifest.json" else {
            throw ObjectStoreError(.invalidKey, "a model may not contain its own manifest.json")
        }
        let before = try resolve(model: model, version: String(version)).manifest
        let entry = Self.entry(bytes, chunked: chunked)
        if let existing = before.files[name] {
            guard existing.sha256 == entry.sha256, existing.size == entry.size else {
                throw ObjectStoreError(
                    .alreadyExists,
                    "model '\(model)' version \(version) already has a different \(name); a version's files never change, publish a new version"
                )
            }
            return before
        }
        try store.put("\(model)/\(version)/\(name)", bytes: bytes, contentType: "application/octet-stream")
        var after = before
        after.files[name] = entry
        let current = try resolve(model: model, version: String(version)).manifest
        guard current == before else {
            throw ObjectStoreError(
                .alreadyExists,
                "model '\(model)' version \(version)'s manifest changed while \(name) was uploaded; run the command again"
            )
        }
        try store.put("\(model)/\(version)/manifest.json", bytes: after.encoded(), contentType: "application/json")
        return after
    }
}
