import Functions
import MSCRFunctions

/// The host kinds of a list of ``InferenceFunction`` types, checked for clashes.
package enum TypedFunctionKinds {
    /// One ``TypedFunctionKind`` per type. Throws when two share a `kind`, or one takes the
    /// `kind` of a built-in function (`lstm-regressor`, `mscr-test`, …).
    package static func make(_ functions: [any InferenceFunction.Type]) throws -> [any HostedKind] {
        var seen = Set(FunctionKinds.all(includeTest: true).map(\.kind))
        var kinds: [any HostedKind] = []
        for function in functions {
            let kind = kindOf(function)
            guard !kind.kind.isEmpty, seen.insert(kind.kind).inserted else {
                throw FunctionError(
                    .invalidInput,
                    "\(function).kind '\(kind.kind)' is empty or already taken (by a built-in function or another "
                        + "registered one); give each function its own kind")
            }
            kinds.append(kind)
        }
        return kinds
    }

    /// The kind of one type: with the V2 protocol when it is a ``TensorHandler``.
    private static func kindOf<F: InferenceFunction>(_ type: F.Type) -> any HostedKind {
        if let tensors = type as? any TensorHandler.Type { return tensorKindOf(tensors) }
        return TypedFunctionKind(type)
    }

    private static func tensorKindOf<F: TensorHandler>(_ type: F.Type) -> any HostedKind {
        TypedFunctionKind(tensors: type)
    }
}
