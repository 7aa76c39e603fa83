# The vendor's after_script snippet that exlogare replaces, verbatim from the vendor docs (quoted in the design notes) but for
# the URL, which points at the bench's local receiver ($EXLOGARE_URL). Run with bash, in the
# directory holding build.log.
    if [ "$CI_JOB_STATUS" = "failed" ]; then
      curl -fsS -X POST "$EXLOGARE_URL/api/ingest/log" \
        -H "Authorization: Bearer $EXLOGARE_TOKEN" -H "Content-Type: application/json" \
        -d "$(jq -n --arg pid "$CI_PIPELINE_ID" --arg jid "$CI_JOB_ID" --arg jn "$CI_JOB_NAME" \
              --arg br "$CI_COMMIT_REF_NAME" --arg sha "$CI_COMMIT_SHA" --arg url "$CI_PIPELINE_URL" \
              --arg log "$(cat build.log)" \
              '{provider:"gitlab_ci", project:"$CI_PROJECT_PATH", pipeline_id:$pid, job_id:$jid,
                job_name:$jn, status:"failed", branch:$br, commit_sha:$sha, pipeline_url:$url, log:$log}')"
    fi
