/// Why a JSON text was refused: what, and at which byte offset.
package struct JSONError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package let offset: Int

    package init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }

    package var description: String { "\(message) at byte \(offset)" }
}
