/// File path text, the parts of `NSString`'s path API we use, without Foundation.
package enum Path {
    /// The last component ("b" for "/a/b/", "/" for "/").
    package static func lastComponent(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let last = parts.last else { return path.hasPrefix("/") ? "/" : "" }
        return String(last)
    }

    /// Everything before the last component ("/a" for "/a/b", "" for "b", "/" for "/a").
    package static func deletingLastComponent(_ path: String) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { return path.hasPrefix("/") ? "/" : "" }
        parts.removeLast()
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : joined
    }

    /// `path` + "/" + `component`, with exactly one slash between them.
    package static func appending(_ path: String, _ component: String) -> String {
        guard !path.isEmpty else { return component }
        let head = path.hasSuffix("/") ? String(path.dropLast()) : path
        let tail = component.hasPrefix("/") ? String(component.dropFirst()) : component
        return head + "/" + tail
    }

    /// The extension of the last component, without the dot ("" when there is none).
    package static func pathExtension(_ path: String) -> String {
        let last = lastComponent(path)
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return "" }
        return String(last[last.index(after: dot)...])
    }

    /// `.` and `..` resolved, repeated and trailing slashes dropped ("/a/./b/../c/" → "/a/c").
    /// A relative path keeps its leading `..`.
    package static func standardized(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var out: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if let last = out.last, last != ".." { out.removeLast() } else if !absolute { out.append(part) }
            default: out.append(part)
            }
        }
        let joined = out.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
