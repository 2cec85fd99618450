import Testing

@testable import ONNX

@Suite struct ONNXModelInfoTests {
    @Test("Ultralytics' names dict becomes class names in key order")
    func names() {
        #expect(
            ONNXModelInfo.classNames(fromNames: "{0: 'person', 1: 'bicycle', 2: 'car'}") == [
                "person", "bicycle", "car",
            ])
        #expect(ONNXModelInfo.classNames(fromNames: "{1: 'b', 0: 'a'}") == ["a", "b"])
        #expect(
            ONNXModelInfo.classNames(fromNames: #"{0: "traffic light", 1: 'it\'s, odd'}"#) == [
                "traffic light", "it's, odd",
            ])
        #expect(ONNXModelInfo.classNames(fromNames: "{}") == [])
    }

    @Test(
        "anything else is not taken for class names",
        arguments: [
            "", "[0, 1]", "{0: 'a', 2: 'c'}", "{0: 'a', 0: 'b'}", "{0: a}", "{0: 'a'", "{'x': 'a'}",
            "{0: 'a',, 1: 'b'}",
        ])
    func notNames(_ text: String) {
        #expect(ONNXModelInfo.classNames(fromNames: text) == nil)
    }
}
