import Common
import FoundationEssentials
import Functions
import Hummingbird

extension MSCRServer {
    /// `POST /functions/{name}/feedback`: observed truth (stock: actual closes) for the
    /// retraining observer.
    func addFeedbackRoutes(to router: Router<BasicRequestContext>) {
        let monitor = self.monitor
        let host = self.host
        let bodyTimeout = configuration.bodyTimeout
        router.post("/functions/:name/feedback") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard host.config(name) != nil else {
                throw FunctionError(.notFound, "no function named '\(name)'")
            }
            guard let observer = monitor.byFunction[name] else {
                throw FunctionError(.notFound, "function '\(name)' takes no feedback")
            }
            let body = try await HTTPBody.collect(request, limit: 1 << 20, timeout: bodyTimeout)
            let points = try StockFeedback.parse(body)
            let result = observer.recordFeedback(points)
            let snap = observer.snapshot()
            return try HTTPBody.json([
                "matched": result.matched.json, "unmatched": result.unmatched.json,
                "fired": (result.fired != nil).json,
                "rolling_rmse": snap.serving?.rollingRMSE.json ?? .null,
                "version": snap.servingVersion.json,
            ])
        }
    }
}
