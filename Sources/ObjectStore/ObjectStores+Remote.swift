extension ObjectStores {
    /// Remote schemes: `s3://` (`S3ObjectStore`), `gs://` (`GCSObjectStore`) and `http(s)://`
    /// (`HTTPObjectStore`, read-only), each configured from `environment`. Returns nil for a
    /// scheme it does not know.
    static func openRemote(_ uri: String, environment: [String: String]) throws -> (any ObjectStore)? {
        if uri.hasPrefix("s3://") { return try S3ObjectStore(uri: uri, environment: environment) }
        if uri.hasPrefix("gs://") { return try GCSObjectStore(uri: uri, environment: environment) }
        if uri.hasPrefix("https://") || uri.hasPrefix("http://") {
            return try HTTPObjectStore(root: uri, configuration: try TransportConfiguration(environment: environment))
        }
        return nil
    }
}
