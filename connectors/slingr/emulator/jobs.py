"""Background jobs as Slingr reports them: {jobLink, jobId} references and pollable job objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
    """Jobs run at once in the emulator (they are FINISHED when first polled).

    Each job reads the clock for createDate, its id, startDate, a "Cleaning up" log line and
    endDate, in that order, so a test can pin the docs' literal dates and ids."""

    def __init__(self, store: RecordStore,
                 people: Callable[[str], tuple[str, str]] | None = None) -> None:
        self.store = store
        self.people = people or (lambda email: (user_id(email), user_name(email)))

    def start(self, session: Session, job_type: str, label: str,
              data: dict[str, Any] | None = None, *, low_priority: bool = False) -> dict[str, Any]:
        """A RUNNING job, its id taken before the work it reports on."""
        created = self.store.clock()
        job_id = self.store.new_id()
        started = self.store.clock()
        uid, name = self.people(session.email)
        job: dict[str, Any] = {
            "id": job_id, "label": label, "type": job_type,
            "runBy": {"id": uid, "fullName": name},
            "parentJob": None, "rootJob": None, "createDate": created, "startDate": started,
            "endDate": None, "status": "RUNNING", "hasErrors": False, "progress": 0,
            "recordsCount": 0, "recordsProcessed": 0, "childrenJobsCount": 0,
            "childrenJobsProcessed": 0, "stoppable": True, "lowPriority": low_priority,
            "data": data or {}, "results": None,
            "logs": [{"timestamp": started, "level": "INFO", "message": "Starting processing"}],
        }
        self.store.jobs[job_id] = job
        return job

    def finish(self, job: dict[str, Any], results: Any, *, records: int = 0,
               has_errors: bool = False, errors: Iterable[str] = ()) -> dict[str, str]:
        """Mark the job FINISHED with its results; `errors` become ERROR log lines."""
        if isinstance(results, dict) and len(results) > RESULTS_CAP:
            results = dict(list(results.items())[:RESULTS_CAP])
        cleanup = self.store.clock()
        logs = job["logs"]
        logs.extend({"timestamp": cleanup, "level": "ERROR", "message": e} for e in errors)
        logs.append({"timestamp": cleanup, "level": "INFO", "message": "Cleaning up"})
        ended = self.store.clock()
        logs.append({"timestamp": ended, "level": "INFO", "message": "Process completed"})
        job.update({"endDate": ended, "status": "FINISHED", "hasErrors": has_errors,
                    "progress": 100, "recordsCount": records, "recordsProcessed": records,
                    "results": results})
        return {"jobLink": f"/api/status/jobs/{job['id']}", "jobId": job["id"]}

    def run(self, session: Session, job_type: str, label: str, results: Any,
            records: int = 0, data: dict[str, Any] | None = None,
            has_errors: bool = False) -> dict[str, str]:
        """A job for work already done (deletes, actions): its {jobLink, jobId} reference."""
        job = self.start(session, job_type, label, data)
        return self.finish(job, results, records=records, has_errors=has_errors)

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
