"""Load-test an mscr service with Locust (https://locust.io), for people who already use it.
`mscr load` does the same without Python.

    pip install locust
    locust -f locustfile.py --headless -u 10 -r 10 -H http://127.0.0.1:8080 --run-time 2m
    MSCR_TOTAL=1000 locust -f locustfile.py --headless -u 10 -r 10 -H https://SERVICE.a.run.app --tags stock

Tasks: `detect` (POST /functions/detect with a JPEG) and `stock` (POST /functions/stock with CSV
rows), tagged so `--tags detect` or `--tags stock` picks one. Environment:
  MSCR_TOTAL   stop after this many requests in all (the original experiment: 10 users, 1000)
  MSCR_IMAGE   image for detect (default ../shared/data/images/dog.jpg next to the repository)
  MSCR_CSV     rows for stock (default Sources/Runtime/Web/sample-goog.csv, oldest first)
  MSCR_ORDER   newest-first if MSCR_CSV is newest first (like goog-daily.csv)
  MSCR_TOKEN   sent as `Authorization: Bearer …` (Cloud Run services that need authentication)
  THINK_S      seconds each user waits between requests (default 0)
Non-2xx answers count as failures, named by the JSON error code; each answer's Server-Timing
`infer` and `cold` are reported as extra request types ("server infer", "server cold").
"""
import os
import pathlib

from locust import HttpUser, constant, events, tag, task
from locust.exception import StopUser

HERE = pathlib.Path(__file__).resolve().parent
IMAGE = pathlib.Path(os.environ.get("MSCR_IMAGE", HERE.parent / "shared/data/images/dog.jpg")).read_bytes()
CSV = pathlib.Path(os.environ.get("MSCR_CSV", HERE / "Sources/Runtime/Web/sample-goog.csv")).read_bytes()
ORDER = os.environ.get("MSCR_ORDER", "oldest-first")
TOKEN = os.environ.get("MSCR_TOKEN")
IMAGE_TYPE = "image/png" if IMAGE.startswith(b"\x89PNG") else "image/jpeg"
TOTAL = int(os.environ.get("MSCR_TOTAL", "0"))
counts = {"issued": 0, "done": 0}


def server_timing(header):
    """{"cold": 12.3, "infer": 4.5, …} from `cold;dur=12.3, infer;dur=4.5`."""
    out = {}
    for part in (header or "").split(","):
        name, *params = [p.strip() for p in part.split(";")]
        for p in params:
            if p.startswith("dur="):
                try:
                    out[name] = float(p[4:])
                except ValueError:
                    pass
    return out


class MscrUser(HttpUser):
    wait_time = constant(float(os.environ.get("THINK_S", "0")))

    def call(self, function, body, content_type, params=None):
        if TOTAL and counts["issued"] >= TOTAL:
            raise StopUser()
        counts["issued"] += 1
        try:
            self.send(function, body, content_type, params)
        finally:
            counts["done"] += 1
            if TOTAL and counts["done"] >= TOTAL:
                self.environment.runner.quit()

    def send(self, function, body, content_type, params):
        headers = {"Content-Type": content_type}
        if TOKEN:
            headers["Authorization"] = f"Bearer {TOKEN}"
        with self.client.post(f"/functions/{function}", data=body, headers=headers, params=params,
                              name=f"/functions/{function}", catch_response=True) as response:
            if not response.ok:
                try:
                    error = response.json()["error"]
                    response.failure(f"HTTP {response.status_code} {error['code']}: {error['message']}")
                except (ValueError, KeyError, TypeError):
                    response.failure(f"HTTP {response.status_code}")
                return
            timing = server_timing(response.headers.get("Server-Timing"))
            for metric in ("infer", "cold"):
                if metric in timing:
                    events.request.fire(request_type="server", name=f"{function} {metric}",
                                        response_time=timing[metric], response_length=0, exception=None,
                                        context={})

    @tag("detect")
    @task
    def detect(self):
        self.call("detect", IMAGE, IMAGE_TYPE)

    @tag("stock")
    @task
    def stock(self):
        self.call("stock", CSV, "text/csv", params={"order": ORDER} if ORDER == "newest-first" else None)
