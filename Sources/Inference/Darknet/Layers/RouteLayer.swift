import InferenceKernels

/// `[route]`: concatenates earlier layers' outputs along channels; with `groups`/`group_id`
/// it takes only group `group_id` of each input's channels.
package struct RouteLayer: DarknetLayer {
    package var type: String { "route" }
    package let outputShape: FeatureShape
    package let inputs: [Int]
    package let inputShapes: [FeatureShape]
    package let groups: Int
    package let groupID: Int

    package init(section: inout CfgSection, context: LayerContext) throws {
        guard let references = try section.intList("layers"), !references.isEmpty else {
            throw section.error("missing required key 'layers'")
        }
        inputs = try references.map { try context.resolve($0, in: section, key: "layers") }
        inputShapes = inputs.map { context.shape(of: $0) }
        groups = try section.int("groups", default: 1)
        groupID = try section.int("group_id", default: 0)
        guard groups > 0, groupID >= 0, groupID < groups else {
            throw section.error("groups must be positive and 0 <= group_id < groups")
        }
        let first = inputShapes[0]
        var channels = 0
        for (i, shape) in zip(inputs, inputShapes) {
            guard shape.height == first.height, shape.width == first.width else {
                throw section.error(
                    "layer \(i) is \(shape) but layer \(inputs[0]) is \(first): routed layers must have the same height and width"
                )
            }
            guard shape.channels % groups == 0 else {
                throw section.error("groups=\(groups) does not divide the \(shape.channels) channels of layer \(i)")
            }
            channels += shape.channels / groups
        }
        outputShape = FeatureShape(channels: channels, height: first.height, width: first.width)
    }

    package var isIdentity: Bool { inputs.count == 1 && groups == 1 }

    package func forward(_ io: LayerIO) {
        if isIdentity { return }
        var dst = io.output
        for (i, shape) in zip(inputs, inputShapes) {
            let part = shape.channels / groups * shape.spatial
            Elementwise.copy(io.buffer(i) + groupID * part, into: dst, count: part)
            dst += part
        }
    }
}
