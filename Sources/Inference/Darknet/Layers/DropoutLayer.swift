/// `[dropout]`: the identity at inference.
package struct DropoutLayer: DarknetLayer {
    package var type: String { "dropout" }
    package let outputShape: FeatureShape
    package let inputs: [Int]

    package init(section: inout CfgSection, context: LayerContext) throws {
        _ = try section.float("probability", default: 0.5)
        outputShape = context.inputShape
        inputs = [context.index - 1]
    }

    package var isIdentity: Bool { true }
    package func forward(_ io: LayerIO) {}
}
