#!/usr/bin/env bash
# Cloud Scheduler: run the retrain job (runtime/cloudrun/retrain-job.yaml) every Monday at 12:00,
# as the original did. Scheduler calls the Cloud Run Admin API's jobs.run with an OAuth token of
# a service account that may run the job (roles/run.invoker on it).
#
#   PROJECT_ID=my-project REGION=europe-west1 runtime/cloudrun/retrain-schedule.sh
set -euo pipefail
: "${PROJECT_ID:?set PROJECT_ID}" "${REGION:?set REGION}"
JOB="${JOB:-mscr-retrain-stock}"
SCHEDULE="0 12 * * 1"
TIME_ZONE="${TIME_ZONE:-Etc/UTC}"
INVOKER="mscr-scheduler@${PROJECT_ID}.iam.gserviceaccount.com"

gcloud iam service-accounts describe "$INVOKER" --project "$PROJECT_ID" >/dev/null 2>&1 \
  || gcloud iam service-accounts create mscr-scheduler --project "$PROJECT_ID" \
       --display-name "Runs mscr retrain on schedule"
gcloud run jobs add-iam-policy-binding "$JOB" --project "$PROJECT_ID" --region "$REGION" \
  --member "serviceAccount:$INVOKER" --role roles/run.invoker >/dev/null

gcloud scheduler jobs create http "$JOB-weekly" \
  --project "$PROJECT_ID" --location "$REGION" \
  --schedule "$SCHEDULE" --time-zone "$TIME_ZONE" \
  --uri "https://run.googleapis.com/v2/projects/$PROJECT_ID/locations/$REGION/jobs/$JOB:run" \
  --http-method POST \
  --oauth-service-account-email "$INVOKER" \
  --oauth-token-scope https://www.googleapis.com/auth/cloud-platform \
  --attempt-deadline 30s \
  --description "mscr retrain stock, weekly"

echo "scheduled $JOB: '$SCHEDULE' ($TIME_ZONE). Run it now: gcloud run jobs execute $JOB --region $REGION"
