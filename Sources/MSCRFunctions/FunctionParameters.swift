package import Functions

/// A function's settings from its `function.json`: the numbers under `params` and the
/// `limits`, read with typed accessors that apply a default and reject a bad value with a
/// message naming the key.
///
/// ```json
/// { "name": "count-people", "kind": "count-people", "model": "yolo-fastest-1.1",
///   "params": { "threshold": 0.4 }, "limits": { "concurrency": 2 } }
/// ```
public struct FunctionParameters: Sendable {
    package let config: FunctionConfig

    package init(_ config: FunctionConfig) {
        self.config = config
    }

    /// Creates parameters without a `function.json` (to call a function or load a model in a
    /// unit test). Limits not given keep the runtime's defaults.
    public init(
        function: String, model: String, params: [String: Double] = [:], maxPixels: Int? = nil, concurrency: Int? = nil
    ) {
        var limits = FunctionConfig.Limits()
        if let maxPixels { limits.maxPixels = maxPixels }
        if let concurrency { limits.concurrency = concurrency }
        self.init(FunctionConfig(name: function, kind: function, model: model, params: params, limits: limits))
    }

    /// The function's name (`name` in `function.json`, the last segment of its URL).
    public var functionName: String { config.name }
    /// The model's name in the repository (`model`).
    public var modelName: String { config.model }
    /// Every number under `params`.
    public var values: [String: Double] { config.params }
    /// Largest decoded image in pixels (`limits.maxPixels`); 0 means the function takes no images.
    public var maxPixels: Int { config.limits.maxPixels }
    /// Largest request body in bytes (`limits.maxBodyBytes`).
    public var maxBodyBytes: Int { config.limits.maxBodyBytes }
    /// Requests of this function running at once (`limits.concurrency`).
    public var concurrency: Int { config.limits.concurrency }

    /// `params.<key>`, or `default` when absent; throws when the value is outside `range`.
    public func double(_ key: String, default fallback: Double, in range: ClosedRange<Double>? = nil) throws -> Double {
        guard let value = config.params[key] else { return fallback }
        if let range, !range.contains(value) {
            throw FunctionFailure.invalidInput(
                "\"params.\(key)\" must be a number in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    /// `params.<key>` as a `Float`, or `default` when absent; throws when outside `range`.
    public func float(_ key: String, default fallback: Float, in range: ClosedRange<Float>? = nil) throws -> Float {
        guard let value = config.params[key] else { return fallback }
        let narrow = Float(value)
        if let range, !range.contains(narrow) {
            throw FunctionFailure.invalidInput(
                "\"params.\(key)\" must be a number in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return narrow
    }

    /// `params.<key>` as an integer, or `default` when absent; throws when the number has a
    /// fraction or is outside `range`.
    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        guard let value = config.params[key] else { return fallback }
        guard value.isFinite, value.rounded() == value, abs(value) < 9e15 else {
            throw FunctionFailure.invalidInput("\"params.\(key)\" must be a whole number, got \(value)")
        }
        let n = Int(value)
        if let range, !range.contains(n) {
            throw FunctionFailure.invalidInput(
                "\"params.\(key)\" must be an integer in \(range.lowerBound)...\(range.upperBound), got \(n)")
        }
        return n
    }

    /// `params.<key>` as a flag (`0` or `1`: `params` holds numbers), or `default` when absent.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = config.params[key] else { return fallback }
        guard value == 0 || value == 1 else {
            throw FunctionFailure.invalidInput("\"params.\(key)\" must be 0 (off) or 1 (on), got \(value)")
        }
        return value == 1
    }

    /// Throws when `params` has a key not in `allowed` (a misspelt key is then an error at
    /// start instead of a silently ignored setting).
    public func allowOnly(_ allowed: [String]) throws {
        for key in config.params.keys.sorted() where !allowed.contains(key) {
            throw FunctionFailure.invalidInput(
                "\"params.\(key)\" is not a known parameter (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }
}
