import Common
import FoundationEssentials

/// Makes a store from a URI. `file://` and `memory://` are built in here; the remote schemes
/// (`s3://`, `gs://`, `http(s)://`) register in `ObjectStores+Remote.swift`.
package enum ObjectStores {
    /// Opens the store at `uri`. A plain path is a local directory.
    package static func open(_ uri: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> any ObjectStore
    {
        if uri.hasPrefix("file://") {
            return FileObjectStore(root: String(uri.dropFirst("file://".count)))
        }
        if uri.hasPrefix("/") || uri.hasPrefix(".") {
            let absolute = uri.hasPrefix("/") ? uri : FileManager.default.currentDirectoryPath + "/" + uri
            return FileObjectStore(root: Path.standardized(absolute))
        }
        if uri.hasPrefix("memory://") {
            return MemoryObjectStore(name: String(uri.dropFirst("memory://".count)))
        }
        if let remote = try openRemote(uri, environment: environment) {
            return remote
        }
        throw ObjectStoreError(
            .invalidURI, "unsupported repository URI '\(uri)' (use file://, s3://, gs://, https:// or a path)")
    }
}
