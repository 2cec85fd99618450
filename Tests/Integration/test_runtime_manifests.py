"""The deploy manifests under runtime/ are valid for their platforms, and the container contract
they promise (port, probe paths, environment names) is the one `mscr serve` keeps: the probe
paths are fetched from the real binary and every environment name is one the server reads."""
import copy
import json
import os
import pathlib
import re
import subprocess
import urllib.request

import kubernetes_validate
import pytest
import yaml

from conftest import ROOT, free_port, mscr_binary

RUNTIME = ROOT / "runtime"
K8S_VERSION = "1.30.0"
PORT = 8080
# Fields Knative Serving accepts in a container (its ContainerMask); anything else is rejected.
KNATIVE_CONTAINER_FIELDS = {
    "name", "args", "command", "env", "workingDir", "envFrom", "image", "imagePullPolicy",
    "livenessProbe", "ports", "readinessProbe", "startupProbe", "resources", "securityContext",
    "terminationMessagePath", "terminationMessagePolicy", "volumeMounts",
}
# Knative fields of a revision spec that a Kubernetes PodSpec does not have.
KNATIVE_REVISION_FIELDS = {"containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds",
                           "idleTimeoutSeconds"}
# Read by the Lambda Web Adapter, not by mscr.
ADAPTER_ENV = {"AWS_LWA_PORT", "AWS_LWA_READINESS_CHECK_PATH", "AWS_LWA_READINESS_CHECK_PROTOCOL"}


def load_all(relative):
    return [d for d in yaml.safe_load_all((RUNTIME / relative).read_text()) if d]


def load_one(relative):
    docs = load_all(relative)
    assert len(docs) == 1, relative
    return docs[0]


def cloud_run_service():
    return load_one("cloudrun/service.yaml")


def knative_service():
    return load_one("knative/service.yaml")


def cronjob():
    return load_one("knative/retrain-cronjob.yaml")


def cloud_run_job():
    return load_one("cloudrun/retrain-job.yaml")


def ecs_task():
    return json.loads((RUNTIME / "ecs/task-definition.json").read_text())


def lambda_function():
    return json.loads((RUNTIME / "lambda/function.json").read_text())


def only_container(spec):
    assert len(spec["containers"]) == 1
    return spec["containers"][0]


def dockerfile_env(path):
    """Names set by ENV instructions of the last stage (the image), continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    last_stage = re.split(r"^FROM ", text, flags=re.M)[-1]
    names = set()
    for line in last_stage.splitlines():
        if line.strip().startswith("ENV "):
            names |= set(re.findall(r"([A-Z][A-Z0-9_]*)=", line))
    return names


def server_env_names():
    """Every upper-case string literal in the configuration reader and the object stores."""
    files = [ROOT / "Sources/Runtime/RuntimeConfiguration.swift",
             *sorted((ROOT / "Sources/ObjectStore").rglob("*.swift"))]
    names = set()
    for f in files:
        names |= set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', f.read_text()))
    return names


def as_pod(spec, extra_fields=()):
    """The Pod that Knative (or Cloud Run) makes of a revision spec: its own fields dropped, and
    probe ports defaulted to the container port, as Knative's defaulting does."""
    pod_spec = copy.deepcopy({k: v for k, v in spec.items() if k not in KNATIVE_REVISION_FIELDS | set(extra_fields)})
    for c in pod_spec["containers"]:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in c and "httpGet" in c[probe]:
                c[probe]["httpGet"].setdefault("port", c["ports"][0]["containerPort"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "check"}, "spec": pod_spec}


# --- validity -------------------------------------------------------------------------------

@pytest.mark.parametrize("relative", ["knative/retrain-cronjob.yaml", "knative/object-store-secret.yaml"])
def test_kubernetes_kinds_validate_strictly(relative):
    for doc in load_all(relative):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("which", ["knative", "cloudrun"])
def test_service_pod_specs_are_valid_kubernetes_and_knative(which):
    svc = knative_service() if which == "knative" else cloud_run_service()
    assert svc["apiVersion"] == "serving.knative.dev/v1" and svc["kind"] == "Service"
    spec = svc["spec"]["template"]["spec"]
    kubernetes_validate.validate(as_pod(spec), K8S_VERSION, strict=True)
    container = only_container(spec)
    assert set(container) <= KNATIVE_CONTAINER_FIELDS, set(container) - KNATIVE_CONTAINER_FIELDS
    assert [p["containerPort"] for p in container["ports"]] == [PORT]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if probe in container:
            # Knative and Cloud Run probe the serving port only.
            assert container[probe]["httpGet"].get("port", PORT) == PORT
            assert container[probe]["timeoutSeconds"] <= container[probe]["periodSeconds"]
    assert 0 < spec["containerConcurrency"] <= 1000
    assert 0 < spec["timeoutSeconds"] <= 3600


def test_cloud_run_job_task_is_a_valid_pod_spec():
    job = cloud_run_job()
    assert job["apiVersion"] == "run.googleapis.com/v1" and job["kind"] == "Job"
    task = job["spec"]["template"]["spec"]["template"]["spec"]
    kubernetes_validate.validate(as_pod(task, ["maxRetries"]), K8S_VERSION, strict=True)
    assert int(task["timeoutSeconds"]) > 0 and task["maxRetries"] >= 0


# --- platform fields ------------------------------------------------------------------------

def env_map(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_cloud_run_service_fields():
    svc = cloud_run_service()
    annotations = svc["spec"]["template"]["metadata"]["annotations"]
    assert annotations["run.googleapis.com/startup-cpu-boost"] == "true"
    lo, hi = int(annotations["autoscaling.knative.dev/minScale"]), int(annotations["autoscaling.knative.dev/maxScale"])
    assert 0 <= lo <= hi and hi > 0
    spec = svc["spec"]["template"]["spec"]
    c = only_container(spec)
    assert c["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert set(c["resources"]["limits"]) == {"cpu", "memory"}
    env = env_map(c)
    # mscr's own limit matches the platform's, its deadline fits inside the platform's, and it
    # drains within the 10 s Cloud Run allows after SIGTERM.
    assert int(env["MSCR_CONCURRENCY"]) == spec["containerConcurrency"]
    assert float(env["MSCR_REQUEST_TIMEOUT"]) < spec["timeoutSeconds"]
    assert float(env["MSCR_SHUTDOWN_GRACE"]) < 10
    assert env["MSCR_MODEL_REPOSITORY"].startswith("gs://")
    secret = next(e for e in c["env"] if e["name"] == "MSCR_ADMIN_TOKEN")["valueFrom"]["secretKeyRef"]
    assert secret["key"] == "latest"


# Settings that make mscr work between requests: the version poller, the retraining observer's
# trigger and in-process retraining.
BACKGROUND_WORK = ("MSCR_VERSION_POLL", "MSCR_RETRAIN_THRESHOLD", "MSCR_RETRAIN_DATA", "MSCR_RETRAIN_URL")


def test_cloud_run_keeps_cpu_allocated_whenever_background_work_is_on():
    """Under request-based billing Cloud Run throttles the CPU between requests, so a poller or
    an in-process retrain would crawl; the service turns throttling off exactly when such work
    is configured (runtime/README.md, "Background work")."""
    svc = cloud_run_service()
    annotations = svc["spec"]["template"]["metadata"]["annotations"]
    env = env_map(only_container(svc["spec"]["template"]["spec"]))
    background = [name for name in BACKGROUND_WORK if env.get(name) not in (None, "", "0")]
    assert background, "the service polls for new versions; this test guards that choice"
    assert annotations.get("run.googleapis.com/cpu-throttling") == "false", background
    readme = (RUNTIME / "README.md").read_text()
    assert "cpu-throttling" in readme and "Background work" in readme


def test_knative_service_fields():
    svc = knative_service()
    annotations = svc["spec"]["template"]["metadata"]["annotations"]
    lo = int(annotations["autoscaling.knative.dev/min-scale"])
    hi = int(annotations["autoscaling.knative.dev/max-scale"])
    assert 0 <= lo <= hi and hi > 0
    spec = svc["spec"]["template"]["spec"]
    assert int(annotations["autoscaling.knative.dev/target"]) <= spec["containerConcurrency"]
    c = only_container(spec)
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["securityContext"]["runAsNonRoot"] is True
    env = env_map(c)
    assert int(env["MSCR_CONCURRENCY"]) == spec["containerConcurrency"]
    assert float(env["MSCR_REQUEST_TIMEOUT"]) < spec["timeoutSeconds"]


def retrain_args():
    """(Cloud Run job args, CronJob args)."""
    run_args = only_container(cloud_run_job()["spec"]["template"]["spec"]["template"]["spec"])["args"]
    cron_args = only_container(cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"])["args"]
    return run_args, cron_args


def test_retrain_jobs_run_weekly_on_monday_noon():
    assert cronjob()["spec"]["schedule"] == "0 12 * * 1"
    script = RUNTIME / "cloudrun/retrain-schedule.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert 'SCHEDULE="0 12 * * 1"' in text
    job_name = cloud_run_job()["metadata"]["name"]
    assert f'JOB="${{JOB:-{job_name}}}"' in text and "/jobs/$JOB:run" in text


@pytest.mark.parametrize("which", [0, 1], ids=["cloudrun-job", "cronjob"])
def test_retrain_args_are_options_the_cli_has(which):
    args = retrain_args()[which]
    assert args[:2] == ["retrain", "stock"]
    flags = [a for a in args if a.startswith("--")]
    assert {"--data", "--repository"} <= set(flags)
    help_text = subprocess.run([mscr_binary(), *args[:2], "--help"], capture_output=True, text=True,
                               timeout=30)
    assert help_text.returncode == 0, help_text.stderr
    for flag in flags:
        assert flag in help_text.stdout, f"`mscr retrain stock` has no {flag}"
    # The values parse too: with the URIs swapped for a missing local file, the command gets past
    # argument parsing and fails on the data (ArgumentParser exits 64 on a usage error).
    local = [a if "://" not in a else "/nonexistent/mscr-manifest-check" for a in args]
    run = subprocess.run([mscr_binary(), *local], capture_output=True, text=True, timeout=60)
    assert run.returncode not in (0, 64), run.stderr


def test_ecs_task_definition_fields():
    task = ecs_task()
    assert task["networkMode"] == "awsvpc" and task["requiresCompatibilities"] == ["FARGATE"]
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    # A valid Fargate size: 2 vCPU takes 4-16 GB.
    assert task["cpu"] == "2048" and 4096 <= int(task["memory"]) <= 16384
    assert task["taskRoleArn"].startswith("arn:aws:iam::") and ":role/" in task["taskRoleArn"]
    assert task["executionRoleArn"].startswith("arn:aws:iam::")
    assert len(task["containerDefinitions"]) == 1
    c = task["containerDefinitions"][0]
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert [p["containerPort"] for p in c["portMappings"]] == [int(env["PORT"])] == [PORT]
    assert "/healthz" in c["healthCheck"]["command"][-1]
    assert float(env["MSCR_SHUTDOWN_GRACE"]) < c["stopTimeout"] <= 120
    assert env["MSCR_MODEL_REPOSITORY"].startswith("s3://")
    policy = json.loads((RUNTIME / "ecs/task-role-policy.json").read_text())
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert "s3:GetObject" in actions


def test_ecs_task_uses_its_task_role_and_carries_no_aws_keys():
    # mscr gets S3 credentials from the ECS container endpoint (the task role); keys in the
    # environment would win over the role, so none may be set, by value or from a secret.
    task = ecs_task()
    assert task["taskRoleArn"].endswith(":role/mscr-task")
    c = task["containerDefinitions"][0]
    keys = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    named = {e["name"] for e in c["environment"] + c.get("secrets", [])}
    assert not keys & named
    text = (RUNTIME / "ecs/task-definition.json").read_text()
    assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{12,}", text), "an access key id is written in the task definition"
    # Nor the variables that would pick another provider ahead of the container endpoint.
    assert not {"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} & named


def test_lambda_path_fields():
    fn = lambda_function()
    assert fn["PackageType"] == "Image" and fn["Architectures"] == ["x86_64"]
    variables = fn["Environment"]["Variables"]
    # Lambda sets these itself and refuses functions that set them.
    assert not {"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(variables)
    assert float(variables["MSCR_REQUEST_TIMEOUT"]) < fn["Timeout"]
    dockerfile = (RUNTIME / "lambda/Dockerfile").read_text()
    assert "/opt/extensions/lambda-adapter" in dockerfile
    assert "AWS_LWA_READINESS_CHECK_PATH=/readyz" in dockerfile
    assert "AWS_LWA_PORT=8080" in dockerfile and "PORT=8080" in dockerfile


def test_dockerfile_shape():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)\s+AS\s+(\S+)", text, re.M)
    names = [s[1] for s in stages]
    assert names[-1] == "runtime" and {"build", "prebuilt", "runtime-root"} <= set(names)
    base = dict((n, b) for b, n in stages)
    # The image is the files runtime-root (bookworm-slim + the libraries) gathers, on scratch.
    assert base["runtime-root"].startswith("debian:${DEBIAN_RELEASE}-slim") and base["runtime"] == "scratch"
    assert "COPY --from=runtime-root /rootfs/ /" in text
    assert "--static-swift-stdlib" in text and "swift package resolve" in text
    assert re.search(r"^EXPOSE 8080$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)[-1]
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0"
    assert 'ENTRYPOINT ["/app/mscr"]' in text and 'CMD ["serve"]' in text
    # The context is an allow-list: everything out (.build*, .venv, models), then the sources in.
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]
    assert patterns[0] == "*"
    assert {"!Package.swift", "!Sources/", "!functions/"} <= set(patterns)
    assert not any(".build" in p for p in patterns if p.startswith("!"))


def test_baked_stage_and_manifests_match_the_plain_ones():
    """runtime-baked is runtime plus one model version; the -baked manifests are the plain ones
    with the baked image, the image's own repository, and no object-store settings."""
    text = (ROOT / "Dockerfile").read_text()
    stages = {m.group(1): m.group(2) for m in re.finditer(r"^FROM scratch AS (\S+)\n(.*?)(?=^# ---|\Z)", text,
                                                          re.M | re.S)}
    settings = lambda stage: [ln for ln in stages[stage].splitlines()
                              if re.match(r"(ENV|EXPOSE|USER|WORKDIR|ENTRYPOINT|CMD)|\s+[A-Z_]+=", ln)]
    assert settings("runtime-baked") == settings("runtime")
    assert "COPY --from=model-repo ${BAKED_MODEL}/${BAKED_VERSION}/ /app/models/" in stages["runtime-baked"]
    for plain, baked in [(cloud_run_service(), load_one("cloudrun/service-baked.yaml")),
                         (knative_service(), load_one("knative/service-baked.yaml"))]:
        a, b = only_container(plain["spec"]["template"]["spec"]), only_container(baked["spec"]["template"]["spec"])
        assert b["image"] == a["image"] + "-baked"
        env = {e["name"]: e.get("value") for e in b["env"]}
        assert env["MSCR_MODEL_REPOSITORY"] == "/app/models"
        assert not {"MSCR_VERSION_POLL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & set(env)
        assert b["resources"] == a["resources"] and b["ports"] == a["ports"]
        kubernetes_validate.validate(as_pod(baked["spec"]["template"]["spec"]), K8S_VERSION, strict=True)
    task = json.loads((RUNTIME / "ecs/task-definition-baked.json").read_text())
    c, p = task["containerDefinitions"][0], ecs_task()["containerDefinitions"][0]
    assert c["image"].endswith(":${TAG}-baked") and c["healthCheck"] == p["healthCheck"]
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert env["MSCR_MODEL_REPOSITORY"] == "/app/models" and "MSCR_VERSION_POLL" not in env


def test_build_context_holds_every_folder_the_package_builds_from():
    """A target in a new top-level folder (or a plugin) must reach the image's build stage: the
    folder is in .dockerignore's allow-list and copied. Test targets are not (their folders are
    made empty from the manifest), so editing a test never rebuilds the image."""
    manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                                         capture_output=True, text=True).stdout)
    default = {"plugin": "Plugins"}
    folders = set()
    for target in manifest["targets"]:
        if target["type"] == "test":
            continue
        path = target.get("path") or f"{default.get(target['type'], 'Sources')}/{target['name']}"
        folders.add(pathlib.PurePosixPath(path).parts[0])
    assert "Sources" in folders and "Plugins" in folders
    allowed = {p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()
               if p.startswith("!")}
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in sorted(folders):
        assert "!" + folder in allowed, f"{folder}/ is not in .dockerignore's allow-list"
        assert re.search(rf"^COPY {folder} \./{folder}$", dockerfile, re.M), f"the Dockerfile does not COPY {folder}"
    assert 'select(.type == "test")' in dockerfile and "mkdir -p" in dockerfile


# --- the contract, against the real server --------------------------------------------------

def manifest_env_names():
    names = {}

    def add(source, container):
        for e in container.get("env", []):
            names.setdefault(e["name"], set()).add(source)

    add("cloudrun/service.yaml", only_container(cloud_run_service()["spec"]["template"]["spec"]))
    add("cloudrun/retrain-job.yaml", only_container(cloud_run_job()["spec"]["template"]["spec"]["template"]["spec"]))
    add("knative/service.yaml", only_container(knative_service()["spec"]["template"]["spec"]))
    add("knative/retrain-cronjob.yaml", only_container(cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    c = ecs_task()["containerDefinitions"][0]
    for e in c["environment"] + c.get("secrets", []):
        names.setdefault(e["name"], set()).add("ecs/task-definition.json")
    for n in lambda_function()["Environment"]["Variables"]:
        names.setdefault(n, set()).add("lambda/function.json")
    for n in dockerfile_env(RUNTIME / "lambda/Dockerfile") - ADAPTER_ENV:
        names.setdefault(n, set()).add("lambda/Dockerfile")
    for n in dockerfile_env(ROOT / "Dockerfile"):
        names.setdefault(n, set()).add("Dockerfile")
    return names


def test_every_environment_name_is_one_the_server_reads():
    read = server_env_names()
    assert {"PORT", "MSCR_MODEL_REPOSITORY", "MSCR_CONCURRENCY"} <= read  # the reader was found
    unread = {n: sorted(s) for n, s in manifest_env_names().items() if n not in read}
    assert not unread, f"set by manifests but never read by mscr: {unread}"


def probe_paths():
    paths = set()
    for svc in (cloud_run_service(), knative_service()):
        c = only_container(svc["spec"]["template"]["spec"])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in c:
                paths.add(c[probe]["httpGet"]["path"])
    paths.add(re.search(r"AWS_LWA_READINESS_CHECK_PATH=(\S+)", (RUNTIME / "lambda/Dockerfile").read_text()).group(1))
    return paths


def test_probe_paths_answer_200_on_the_real_server(start_server, mscr_test_function):
    paths = probe_paths()
    assert paths == {"/readyz", "/healthz"}
    server = start_server(mscr_test_function)
    for path in sorted(paths):
        with urllib.request.urlopen(server.url + path, timeout=5) as r:
            assert r.status == 200, path
    # The ECS health check command (the image has no shell: the binary checks), run with the
    # container's PORT, as ECS would run it inside the container.
    command = ecs_task()["containerDefinitions"][0]["healthCheck"]["command"]
    assert command[:3] == ["CMD", "/app/mscr", "health"]
    env = {**os.environ, "PORT": str(server.port)}
    assert subprocess.run([mscr_binary(), *command[2:]], env=env, timeout=10).returncode == 0
    bad = [a.replace("/healthz", "/no-such-path") for a in command[2:]]
    assert subprocess.run([mscr_binary(), *bad], env=env, timeout=10, capture_output=True).returncode == 1
    stopped = {**env, "PORT": str(free_port())}
    assert subprocess.run([mscr_binary(), *command[2:]], env=stopped, timeout=10, capture_output=True).returncode == 1
