"""Background jobs as Slingr reports them: {jobLink, jobId} references and pollable job objects."""

from __future__ import annotations

from typing import Any

from multidict import MultiMapping

from connectors.slingr.emulator.auth import Session, user_id, user_name
from connectors.slingr.emulator.errors import SlingrError
from connectors.slingr.emulator.query import bad
from connectors.slingr.emulator.store import RecordStore

__all__ = ["RESULTS_CAP", "Jobs"]

RESULTS_CAP = 1000  # a job's per-record result map keeps at most 1,000 entries [SD-API]
_CONTROL = {  # action -> (allowed from, new status)
    "stop": ({"PENDING", "RUNNING"}, "STOPPING"),
    "forceStop": ({"STOPPING", "RUNNING", "PENDING"}, "STOPPED"),
    "cancel": ({"STOPPED"}, "CANCELED"),
    "resume": ({"STOPPED"}, "RUNNING"),
}


class Jobs:
    """Jobs run at once in the emulator (they are FINISHED when first polled)."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def run(self, session: Session, job_type: str, label: str, results: Any,
            records: int = 0, data: dict[str, Any] | None = None,
            has_errors: bool = False) -> dict[str, str]:
        if isinstance(results, dict) and len(results) > RESULTS_CAP:
            results = dict(list(results.items())[:RESULTS_CAP])
        now = self.store.clock()
        job_id = self.store.new_id()
        self.store.jobs[job_id] = {
            "id": job_id, "label": label, "type": job_type,
            "runBy": {"id": user_id(session.email), "fullName": user_name(session.email)},
            "parentJob": None, "rootJob": None, "createDate": now, "startDate": now,
            "endDate": now, "status": "FINISHED", "hasErrors": has_errors, "progress": 100,
            "recordsCount": records, "recordsProcessed": records, "childrenJobsCount": 0,
            "childrenJobsProcessed": 0, "stoppable": True, "lowPriority": False,
            "data": data or {}, "results": results,
            "logs": [{"timestamp": now, "level": "INFO", "message": "Starting processing"},
                     {"timestamp": now, "level": "INFO", "message": "Process completed"}],
        }
        return {"jobLink": f"/api/status/jobs/{job_id}", "jobId": job_id}

    def get(self, job_id: str) -> dict[str, Any]:
        job = self.store.jobs.get(job_id)
        if job is None:
            raise SlingrError(404, "notFound", f"Job [{job_id}] not found")
        return {k: v for k, v in job.items() if k != "logs"}

    def logs(self, job_id: str) -> dict[str, Any]:
        self.get(job_id)
        logs = self.store.jobs[job_id]["logs"]
        return {"total": len(logs), "items": logs}

    def control(self, job_id: str, action: str) -> dict[str, Any]:
        job = self.store.jobs.get(job_id)
        if job is None:
            raise SlingrError(404, "notFound", f"Job [{job_id}] not found")
        allowed, status = _CONTROL[action]
        if job["status"] not in allowed:
            raise bad(f"Job [{job_id}] cannot {action} from status [{job['status']}]")
        job["status"] = status
        return self.get(job_id)

    def list(self, params: MultiMapping[str]) -> dict[str, Any]:
        jobs = sorted(self.store.jobs.values(), key=lambda j: j["id"], reverse=True)
        for key in ("type", "status"):
            if key in params:
                wanted = set(params[key].split(","))
                jobs = [j for j in jobs if j[key] in wanted]
        if "hasErrors" in params:
            jobs = [j for j in jobs if j["hasErrors"] == (params["hasErrors"] == "true")]
        size = params.get("_size", "20")
        if not size.isdigit() or int(size) < 1:
            raise bad(f"Invalid size [{size}]")
        offset = params.get("_offset")
        if offset:
            jobs_after = [j for j in jobs if j["id"] < offset]
        else:
            jobs_after = jobs
        page = jobs_after[:min(int(size), 1000)]
        return {"total": len(jobs), "offset": page[-1]["id"] if page else None,
                "items": [self.get(j["id"]) for j in page]}
