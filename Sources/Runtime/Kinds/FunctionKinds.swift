import Functions

/// The function kinds built into the runtime: one literal table. (`detect`, `darknet-yolo` and
/// `lstm-regressor` are typed functions on the public API, `functions/detect` and
/// `functions/stock`, registered by `mscr` like a user's.)
package enum FunctionKinds {
    /// The built-in kinds; the test kind only when asked for.
    package static func all(includeTest: Bool) -> [any HostedKind] {
        var kinds: [any HostedKind] = [TensorKind(ONNXTensorKind())]
        if includeTest { kinds.append(TestKind()) }
        return kinds
    }
}
