import Common
import FoundationEssentials
import Functions
import Hummingbird

extension MSCRServer {
    /// `POST /admin/functions/{name}/reload` behind `Authorization: Bearer $MSCR_ADMIN_TOKEN`.
    /// Without a configured token the admin routes do not exist (404).
    func addAdminRoutes(to router: Router<BasicRequestContext>) {
        guard let token = configuration.adminToken else { return }
        let host = self.host
        router.post("/admin/functions/:name/reload") { request, context -> Response in
            try AdminAuth.check(request, token: token)
            let name = context.parameters.get("name") ?? ""
            let outcome = try await host.reload(name)
            switch outcome {
            case .unchanged(let v):
                return try HTTPBody.json(["function": name.json, "changed": false, "version": v.json])
            case .swapped(let from, let to):
                context.logger.notice(
                    "model swapped", metadata: ["function": "\(name)", "from": "\(from ?? 0)", "to": "\(to)"])
                return try HTTPBody.json([
                    "function": name.json, "changed": true, "from": from.json, "version": to.json,
                ])
            }
        }
    }
}

/// Bearer-token check in constant time.
enum AdminAuth {
    static func check(_ request: Request, token: String) throws {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        let presented = header.hasPrefix(prefix) ? String(header.dropFirst(prefix.count)) : ""
        guard constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
            throw APIError(
                status: .unauthorized, code: "unauthorized",
                message: "admin endpoints need Authorization: Bearer <MSCR_ADMIN_TOKEN>")
        }
    }

    /// Compares without an early exit, so timing does not leak how much of the token matched.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0 && a.count == b.count
    }
}
