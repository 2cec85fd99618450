/// The function kinds built into the runtime: one literal table. (`detect` and `darknet-yolo`
/// are typed functions on the public API, `functions/detect`, registered by `mscr` like a
/// user's.)
package enum FunctionKinds {
    /// The built-in kinds; the test kind only when asked for. `onForecast` hears every stock
    /// forecast (the retraining observer).
    package static func all(
        includeTest: Bool, onForecast: (@Sendable (StockForecastEvent) -> Void)? = nil
    ) -> [any FunctionKind] {
        var kinds: [any FunctionKind] = [
            StockKind(onForecast: onForecast), ONNXTensorKind(),
        ]
        if includeTest { kinds.append(TestKind()) }
        return kinds
    }
}
