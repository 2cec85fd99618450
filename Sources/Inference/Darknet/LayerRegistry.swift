/// The layer registry: every cfg section we understand, in one literal table. A section not
/// in the table is an error naming its line; a key that neither the layer reads nor the entry
/// lists as training-only gets one warning.
package enum LayerRegistry {
    package typealias Parse = @Sendable (inout CfgSection, LayerContext) throws -> any DarknetLayer

    package struct Entry: Sendable {
        package let parse: Parse
        /// Keys that only matter for training; read silently and ignored.
        package let trainingKeys: Set<String>
    }

    package static let entries: [String: Entry] = [
        "convolutional": Entry(
            parse: { try ConvolutionalLayer(section: &$0, context: $1) }, trainingKeys: convTraining),
        "conv": Entry(parse: { try ConvolutionalLayer(section: &$0, context: $1) }, trainingKeys: convTraining),
        "maxpool": Entry(parse: { try MaxPoolLayer(section: &$0, context: $1) }, trainingKeys: []),
        "max": Entry(parse: { try MaxPoolLayer(section: &$0, context: $1) }, trainingKeys: []),
        "route": Entry(parse: { try RouteLayer(section: &$0, context: $1) }, trainingKeys: ["stopbackward"]),
        "shortcut": Entry(
            parse: { try ShortcutLayer(section: &$0, context: $1) }, trainingKeys: ["weights_normalization"]),
        "upsample": Entry(parse: { try UpsampleLayer(section: &$0, context: $1) }, trainingKeys: []),
        "dropout": Entry(
            parse: { try DropoutLayer(section: &$0, context: $1) },
            trainingKeys: ["dropblock", "dropblock_size_rel", "dropblock_size_abs"]),
        "yolo": Entry(
            parse: { try YoloLayer(section: &$0, context: $1) },
            trainingKeys: [
                "jitter", "ignore_thresh", "truth_thresh", "random", "iou_thresh", "cls_normalizer",
                "iou_normalizer", "obj_normalizer", "iou_loss", "max_delta", "counters_per_class",
                "label_smooth_eps", "resize", "objectness_smooth", "focal_loss", "max", "map",
                "track_history_size", "sim_thresh", "dets_for_track", "dets_for_show", "track_ciou_norm",
                "embedding_layer", "show_details",
            ]),
    ]

    /// Section names that are the network header rather than a layer.
    package static let networkSections: Set<String> = ["net", "network"]

    /// `[net]` keys that only matter for training.
    package static let networkTrainingKeys: Set<String> = [
        "batch", "subdivisions", "momentum", "decay", "angle", "saturation", "exposure", "hue",
        "learning_rate", "burn_in", "max_batches", "policy", "steps", "scales", "step", "gamma", "power",
        "mosaic", "mixup", "cutmix", "blur", "flip", "gaussian_noise", "jitter", "aspect", "max_crop",
        "min_crop", "label_smooth_eps", "track", "time_steps", "augment_speed", "sequential_subdivisions",
        "try_fix_nan", "loss_scale", "dynamic_minibatch", "optimized_memory", "workspace_size_limit_MB",
        "adam", "B1", "B2", "eps", "max_chart_loss", "mosaic_bound", "contrastive", "unsupervised",
        "use_cuda_graph", "ema_alpha", "letter_box_train", "inputs", "burn_in_decay", "seed",
    ]

    private static let convTraining: Set<String> = [
        "stopbackward", "train_only_bn", "share_index", "assisted_excitation",
    ]
}
