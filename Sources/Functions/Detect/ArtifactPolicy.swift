import Synchronization

/// Whether loads use a version's compiled artifact, read once at start from `MSCR_ARTIFACT`
/// (`on`, the default, or `off`) and `MSCR_ARTIFACT_WARMUP` (`0`, the default, or `1`: run the
/// warm-up forward a source load runs even on a mapped network).
package struct ArtifactPolicy: Sendable, Equatable {
    package var useArtifact = true
    package var warmUp = false

    package init(useArtifact: Bool = true, warmUp: Bool = false) {
        self.useArtifact = useArtifact
        self.warmUp = warmUp
    }

    /// Reads the two variables; a value other than the ones allowed is an error naming it.
    package static func fromEnvironment(_ env: [String: String]) throws(FunctionError) -> ArtifactPolicy {
        var policy = ArtifactPolicy()
        if let raw = env["MSCR_ARTIFACT"], !raw.isEmpty {
            guard raw == "on" || raw == "off" else {
                throw FunctionError(.invalidInput, "MSCR_ARTIFACT=\(raw) is not on or off")
            }
            policy.useArtifact = raw == "on"
        }
        if let raw = env["MSCR_ARTIFACT_WARMUP"], !raw.isEmpty {
            guard raw == "0" || raw == "1" else {
                throw FunctionError(.invalidInput, "MSCR_ARTIFACT_WARMUP=\(raw) is not 0 or 1")
            }
            policy.warmUp = raw == "1"
        }
        return policy
    }

    /// The policy of this process: set once by the server's configuration at start (as the
    /// kernel instruction set is), read by every load.
    package static var current: ArtifactPolicy {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
    private static let stored = Mutex(ArtifactPolicy())
}
