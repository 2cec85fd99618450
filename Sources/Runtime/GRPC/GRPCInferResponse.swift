import FoundationEssentials
import Functions

/// The gRPC `ModelInferResponse` of an answer: the outputs the request asked for (all, in the
/// model's order, when it named none), each as `raw_output_contents` in the binary tensor data
/// encoding, as Triton answers.
enum GRPCInferResponse {
    static func message(model: String, request: V2InferRequest, answer: V2Service.InferAnswer) throws
        -> Inference_ModelInferResponse
    {
        var response = Inference_ModelInferResponse()
        response.modelName = model
        response.modelVersion = String(answer.version)
        if let id = request.id { response.id = id }
        for (tensor, _) in try V2InferResponse.select(answer.outputs, for: request) {
            var output = Inference_ModelInferResponse.InferOutputTensor()
            output.name = tensor.name
            output.datatype = tensor.datatype.rawValue
            output.shape = tensor.shape.map { Int64($0) }
            response.outputs.append(output)
            response.rawOutputContents.append(Data(V2TensorCoding.encodeBinary(tensor.data)))
        }
        return response
    }
}
