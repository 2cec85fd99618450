/// The state of a function as `GET /functions` reports it.
package enum FunctionState: String, Sendable {
    case cold, loading, warm, failed
}

/// One row of `GET /functions`.
package struct FunctionStatus: Sendable {
    package var name: String
    package var kind: String
    package var model: String
    package var state: FunctionState
    /// The version serving now (nil while cold).
    package var version: Int?
    /// The alias the function follows (`"version": "stable"` in function.json), if any.
    package var follows: String?
    /// The load that produced the serving version.
    package var load: LoadReport?
    /// Requests routed to this function.
    package var requests: Int
    /// Successful loads so far (cold start and swaps).
    package var loads: Int
    /// Times the memory budget sent this function back to cold to make room for another.
    package var evictions: Int = 0
    /// Why the last load or reload failed, if it did.
    package var error: String?
}

/// What a reload did.
package enum ReloadOutcome: Sendable, Equatable {
    /// Already serving the newest version.
    case unchanged(version: Int)
    /// Swapped from one version to another (from is nil when the function was cold).
    case swapped(from: Int?, to: Int)
}
