import FoundationEssentials

/// `<model>/aliases/<name>.json`: a name (`stable`) that points at a committed version, with the
/// versions it pointed at before, newest last, so a rollback can step back. Unlike a version, an
/// alias is rewritten in place; a function follows it with `"version": "stable"`.
package struct ModelAlias: Codable, Sendable, Equatable {
    package var alias: String
    package var version: Int
    /// Earlier targets, oldest first.
    package var history: [Int]
    /// ISO 8601, UTC.
    package var updated: String

    package init(alias: String, version: Int, history: [Int] = [], updated: String = Manifest.timestamp()) {
        self.alias = alias
        self.version = version
        self.history = history
        self.updated = updated
    }

    /// The alias the `pin` and `rollback` commands write.
    package static let stable = "stable"

    /// Whether `version` (a function.json value) names an alias rather than `latest` or a number.
    package static func isAlias(_ version: String) -> Bool {
        !version.isEmpty && version != "latest" && Int(version) == nil
    }

    static func key(model: String, alias: String) -> String { "\(model)/aliases/\(alias).json" }

    static func decode(_ bytes: [UInt8], origin: String) throws -> ModelAlias {
        do {
            return try JSONDecoder().decode(ModelAlias.self, from: Data(bytes))
        } catch {
            throw ObjectStoreError(.malformed, "\(origin) is not a valid alias: \(error)")
        }
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }
}

extension ModelRepository {
    /// The alias `alias` of `model`, or nil when it was never written.
    package func alias(_ alias: String, of model: String) throws -> ModelAlias? {
        try ObjectKey.validateSegment(model, what: "model name")
        try ObjectKey.validateSegment(alias, what: "alias")
        let key = ModelAlias.key(model: model, alias: alias)
        let bytes: [UInt8]
        do {
            bytes = try store.read(key)
        } catch let error as ObjectStoreError where error.code == .notFound {
            return nil
        }
        return try ModelAlias.decode(bytes, origin: "\(store.uri)/\(key)")
    }

    /// Points `alias` of `model` at committed `version`, keeping where it pointed before.
    @discardableResult
    package func pin(model: String, version: Int, alias: String = ModelAlias.stable) throws -> ModelAlias {
        guard try versions(of: model).contains(version) else {
            throw ObjectStoreError(.notFound, "model '\(model)' version \(version) is not committed in \(store.uri)")
        }
        var next = ModelAlias(alias: alias, version: version)
        if let current = try self.alias(alias, of: model) {
            next.history = current.history
            if current.version != version { next.history.append(current.version) }
        }
        try store.put(
            ModelAlias.key(model: model, alias: alias), bytes: next.encoded(), contentType: "application/json")
        return next
    }

    /// Points `alias` back at the version it pointed at before its last pin; with no history,
    /// at the highest committed version below the current one.
    @discardableResult
    package func rollback(model: String, alias: String = ModelAlias.stable) throws -> ModelAlias {
        guard let current = try self.alias(alias, of: model) else {
            throw ObjectStoreError(
                .notFound,
                "model '\(model)' has no '\(alias)' alias in \(store.uri); pin a version first (mscr models pin)")
        }
        var next = current
        if let previous = next.history.popLast() {
            next.version = previous
        } else if let lower = try versions(of: model).last(where: { $0 < current.version }) {
            next.version = lower
        } else {
            throw ObjectStoreError(
                .notFound, "model '\(model)' has no version before \(current.version) to roll '\(alias)' back to")
        }
        next.updated = Manifest.timestamp()
        try store.put(
            ModelAlias.key(model: model, alias: alias), bytes: next.encoded(), contentType: "application/json")
        return next
    }

    /// The committed version `version` names: `latest`, a number, or an alias.
    package func versionNumber(model: String, version: String) throws -> Int {
        if version == "latest" || version.isEmpty { return try latestVersion(of: model) }
        if let v = Int(version) {
            guard v > 0 else {
                throw ObjectStoreError(
                    .invalidKey, "version must be a positive integer, 'latest' or an alias, not '\(version)'")
            }
            return v
        }
        guard let alias = try alias(version, of: model) else {
            throw ObjectStoreError(.notFound, "model '\(model)' has no '\(version)' alias in \(store.uri)")
        }
        return alias.version
    }
}
