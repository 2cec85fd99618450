import Functions
import MSCRFunctions

/// The function host of the runtime: its kinds load ``HostedFunction``s.
package typealias RuntimeHost = FunctionHost<any HostedFunction>

/// A loaded function as the runtime serves it: the host hands it to each call with the call's
/// ``FunctionCall`` (deadline, cold start, version); it answers `POST /functions/<name>` and,
/// when it has a tensor interface, the V2 protocol (REST and gRPC). Immutable and shared by every
/// call; `answer` is blocking CPU work the host runs on its pool.
package protocol HostedFunction: Sendable {
    /// Bytes the loaded model holds, when it knows better than its kind's estimate.
    var memoryBytes: Int? { get }
    /// The answer to one `POST /functions/<name>` request.
    func answer(_ request: FunctionRequest, call: FunctionCall) throws -> FunctionResponse
    /// The tensor interface (V2), or nil when the function has none.
    var tensors: (any TensorFunction)? { get }
}

extension HostedFunction {
    package var memoryBytes: Int? { nil }
    package var tensors: (any TensorFunction)? { nil }
}

/// What a function reported while answering a call (``FunctionContext/record(_:)``), with the
/// function and the model version that made it: the runtime's observers (the retraining monitor)
/// get every one.
package struct FunctionObservation: Sendable, Equatable {
    /// The function's name (function.json).
    package var function: String
    /// The model's name in the repository.
    package var model: String
    /// The model version that answered.
    package var version: Int
    /// What the function recorded.
    package var record: ForecastRecord
}

/// A kind of the runtime: loads ``HostedFunction``s, and can have what its functions record sent
/// to an observer.
package protocol HostedKind: FunctionKind where Loaded == any HostedFunction {
    /// This kind with what its functions record sent to `observer`; a kind whose functions record
    /// nothing returns itself.
    func observed(by observer: @escaping @Sendable (FunctionObservation) -> Void) -> any HostedKind
}

extension HostedKind {
    /// Itself: its functions record nothing.
    package func observed(by observer: @escaping @Sendable (FunctionObservation) -> Void) -> any HostedKind {
        self
    }

    /// What the loaded function says it holds.
    package func memoryBytes(of loaded: any HostedFunction) -> Int? { loaded.memoryBytes }

    /// This kind as the host takes it.
    package var hosted: any FunctionKind<any HostedFunction> { self }
}
