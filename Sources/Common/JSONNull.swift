/// JSON `null` inside the `[String: Any]` trees `JSON` writes and parses (an absent optional is
/// written as `null` too).
package struct JSONNull: Sendable, Hashable {
    package init() {}
}
