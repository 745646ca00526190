"""LOG-BUCKET's Object Lock comparison: a default retention written in years is drift from the declared days, and
the finding says so in words (it once read "1y days")."""

from __future__ import annotations

from pathlib import Path

from moto_foundation import LiveFoundation, finding, run_verify

from docustack.verify.framework import DRIFT


def test_a_retention_in_years_is_drift_and_reads_as_years(live_foundation: LiveFoundation, project_dir: Path) -> None:
    bucket = live_foundation.settings.log_archive_bucket_name(live_foundation.account_ids["log-archive"])
    live_foundation.member("log-archive").client("s3").put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}},
        },
    )
    report = run_verify(live_foundation, project_dir)
    lock = finding(report, "LOG-BUCKET", f"bucket:{bucket}/ObjectLock")
    assert lock.status == DRIFT
    assert lock.expected == "Enabled, default retention COMPLIANCE 365 days"
    assert lock.actual == "Enabled, default retention COMPLIANCE 1 years"
