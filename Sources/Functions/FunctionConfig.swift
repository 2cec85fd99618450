import FoundationEssentials

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
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Limits()
            maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
            maxPixels = try c.decodeIfPresent(Int.self, forKey: .maxPixels) ?? d.maxPixels
            concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? d.concurrency
        }
    }

    package var name: String
    /// The function kind: `darknet-yolo`, `lstm-regressor`, or a test kind.
    package var kind: String
    /// Model name in the repository.
    package var model: String
    /// `"latest"` or a version number.
    package var version: String
    /// Kind-specific numeric parameters (threshold, nms, …).
    package var params: [String: Double]
    package var limits: Limits

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

    enum CodingKeys: String, CodingKey { case name, kind, model, version, params, limits }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(String.self, forKey: .kind)
        model = try c.decode(String.self, forKey: .model)
        if let s = try? c.decodeIfPresent(String.self, forKey: .version) {
            version = s
        } else if let n = try? c.decodeIfPresent(Int.self, forKey: .version) {
            version = String(n)
        } else {
            version = "latest"
        }
        params = try c.decodeIfPresent([String: Double].self, forKey: .params) ?? [:]
        limits = try c.decodeIfPresent(Limits.self, forKey: .limits) ?? Limits()
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
                let config = try JSONDecoder().decode(FunctionConfig.self, from: data)
                configs.append(config)
            } catch {
                throw FunctionError(.invalidInput, "\(path) is not a valid function config: \(error)")
            }
        }
        return configs
    }
}
