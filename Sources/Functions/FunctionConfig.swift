import FoundationEssentials
import ObjectStore

/// `functions/<name>/function.json` (DESIGN.md).
package struct FunctionConfig: Codable, Sendable, Equatable {
    package struct Limits: Codable, Sendable, Equatable {
        /// Largest request body accepted (413 past it).
        package var maxBodyBytes: Int
        /// Largest decoded image (checked from the header, before allocating).
        package var maxPixels: Int
        /// Requests of this function running at once.
        package var concurrency: Int

        package init(maxBodyBytes: Int = 10 << 20, maxPixels: Int = 40_000_000, concurrency: Int = 4) {
            self.maxBodyBytes = maxBodyBytes
            self.maxPixels = maxPixels
            self.concurrency = concurrency
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try FunctionConfig.rejectUnknownKeys(
                c, allowed: ["maxBodyBytes", "maxPixels", "concurrency"], in: "limits.")
            func integer(_ key: String, _ fallback: Int, min: Int) throws -> Int {
                guard c.contains(AnyKey(key)) else { return fallback }
                guard let n = try? c.decode(Int.self, forKey: AnyKey(key)), n >= min else {
                    throw ConfigError(key: "limits." + key, message: "must be an integer >= \(min)")
                }
                return n
            }
            let d = Limits()
            maxBodyBytes = try integer("maxBodyBytes", d.maxBodyBytes, min: 1)
            // 0: the function takes no images.
            maxPixels = try integer("maxPixels", d.maxPixels, min: 0)
            concurrency = try integer("concurrency", d.concurrency, min: 1)
        }
    }

    package var name: String
    /// The function kind: `darknet-yolo`, `lstm-regressor`, or a test kind.
    package var kind: String
    /// Model name in the repository.
    package var model: String
    /// `"latest"`, a version number, or an alias of the repository (`"stable"`).
    package var version: String
    /// Kind-specific numeric parameters (threshold, nms, …).
    package var params: [String: Double]
    package var limits: Limits
    /// The file this config was read from (for errors); not part of the file.
    package var source: String?

    package init(
        name: String, kind: String, model: String, version: String = "latest",
        params: [String: Double] = [:], limits: Limits = Limits()
    ) {
        self.name = name
        self.kind = kind
        self.model = model
        self.version = version
        self.params = params
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, kind, model, version, params, limits }

    /// Decodes strictly: an unknown key, a missing one or a value of the wrong type is an error
    /// naming the key and what is allowed (`loadAll` adds the file).
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try Self.rejectUnknownKeys(c, allowed: CodingKeys.allCases.map(\.rawValue), in: "")
        func text(_ key: CodingKeys, _ what: String) throws -> String {
            guard let value = try? c.decodeIfPresent(String.self, forKey: AnyKey(key.rawValue)) else {
                throw ConfigError(key: key.rawValue, message: "must be \(what)")
            }
            guard !value.isEmpty else { throw ConfigError(key: key.rawValue, message: "is required: \(what)") }
            return value
        }
        name = try text(.name, "a non-empty string")
        kind = try text(.kind, "a non-empty string naming a registered kind")
        model = try text(.model, "the model's name in the repository")
        let versionKey = AnyKey(CodingKeys.version.rawValue)
        if !c.contains(versionKey) {
            version = "latest"
        } else if let n = try? c.decode(Int.self, forKey: versionKey), n > 0 {
            version = String(n)
        } else if let s = try? c.decode(String.self, forKey: versionKey),
            s == "latest" || (Int(s) ?? 0) > 0
                || (Int(s) == nil && (try? ObjectKey.validateSegment(s, what: "alias")) != nil)
        {
            version = s
        } else {
            throw ConfigError(
                key: "version",
                message:
                    "must be \"latest\", a positive version number or an alias such as \"stable\" (letters, digits, '-', '_', '.')"
            )
        }
        let paramsKey = AnyKey(CodingKeys.params.rawValue)
        if c.contains(paramsKey) {
            guard let p = try? c.decode([String: Double].self, forKey: paramsKey) else {
                throw ConfigError(key: "params", message: "must be an object of numbers, e.g. {\"threshold\": 0.25}")
            }
            params = p
        } else {
            params = [:]
        }
        let limitsKey = AnyKey(CodingKeys.limits.rawValue)
        limits = c.contains(limitsKey) ? try c.decode(Limits.self, forKey: limitsKey) : Limits()
    }

    /// A key of a JSON object, for strict decoding.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A bad key of function.json: `key` is its path (`limits.concurrency`).
    struct ConfigError: Error, CustomStringConvertible {
        var key: String
        var message: String
        var description: String { "\"\(key)\" \(message)" }
    }

    static func rejectUnknownKeys(_ c: KeyedDecodingContainer<AnyKey>, allowed: [String], in prefix: String) throws {
        for key in c.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigError(
                key: prefix + key.stringValue,
                message: "is not a known key (allowed: \(allowed.joined(separator: ", ")))")
        }
    }

    /// Reads every `<dir>/<name>/function.json`, sorted by name.
    package static func loadAll(from directory: String) throws -> [FunctionConfig] {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: directory) else {
            throw FunctionError(.notFound, "functions folder '\(directory)' does not exist (set MSCR_FUNCTIONS)")
        }
        var configs: [FunctionConfig] = []
        for entry in entries.sorted() {
            let path = directory + "/" + entry + "/function.json"
            guard fm.fileExists(atPath: path) else { continue }
            guard let data = fm.contents(atPath: path) else {
                throw FunctionError(.internal, "cannot read \(path)")
            }
            do {
                var config = try JSONDecoder().decode(FunctionConfig.self, from: data)
                config.source = path
                configs.append(config)
            } catch let error as ConfigError {
                throw FunctionError(.invalidInput, "\(path): \(error)")
            } catch {
                throw FunctionError(.invalidInput, "\(path) is not a valid function config (a JSON object): \(error)")
            }
        }
        return configs
    }
}
