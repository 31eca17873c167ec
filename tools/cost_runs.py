"""What a pipeline run costs, counted from a dataset stack's template along the success path
of its state machine, and how many runs a month its schedule starts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from tools.cost_prices import ASSUMED, DAYS, GB, HOURS, Line
from tools.cost_types import by_type
from tools.templates import Props, Template, pipeline_definition, with_template


def success_path(definition: Mapping[str, Any]) -> tuple[list[str], int]:
    """The states a successful execution enters, and how many polls it makes. At a choice
    that tests for READY (a crawler) or SUCCEEDED (a job run), it keeps polling until the
    assumed crawl or job time has passed; at any other choice, success is its default."""
    states, name = definition["States"], definition["StartAt"]
    path: list[str] = []
    polls: Counter[str] = Counter()
    wait = 0.0
    while len(path) < 10_000:
        state, kind = states[name], states[name]["Type"]
        path.append(name)
        if kind in ("Map", "Parallel", "Fail") or "SecondsPath" in state:
            raise ValueError(f"{name}: a {kind} state on the success path cannot be counted")
        if kind == "Succeed" or state.get("End"):
            return path, sum(polls.values())
        wait = float(state["Seconds"]) if kind == "Wait" else wait
        finished = next((c for c in state.get("Choices", [])
                         if c.get("StringEquals") in ("READY", "SUCCEEDED")), None)  # fmt: skip
        if kind != "Choice":
            name = state["Next"]
        elif finished is None:
            name = state["Default"]
        elif not wait:
            raise ValueError(f"{name}: a poll with no Wait state before it")
        else:
            polls[name] += 1
            took = ASSUMED[
                "crawl_minutes" if finished["StringEquals"] == "READY" else "job_minutes"
            ]
            done = polls[name] >= math.ceil(took * 60 / wait)
            name = finished["Next"] if done else state["Default"]
    raise ValueError("the success path does not end")


def run_lines(template: Template, templates: Sequence[Template]) -> list[Line]:
    """One successful run of a dataset's pipeline, from the dataset stack's template (and the
    other templates, for the ingest function)."""
    of, a = by_type([template]), ASSUMED
    definition = pipeline_definition(template)
    path, polls = success_path(definition)
    states = definition["States"]
    waits = ", ".join(sorted({f"{s['Seconds']} s" for s in states.values() if "Seconds" in s}))
    lines = [Line("Step Functions state transitions", f"{len(path)} states on the success path "
                  f"of the definition, with {polls} polls ({waits} apart)", len(path),
                  "sfn_transition")]  # fmt: skip
    for crawler in of["AWS::Glue::Crawler"]:
        lines.append(Line(f"Glue crawler {crawler['Name']}", f"{a['crawler_dpus']:.0f} DPUs "
                          f"(assumed) x the 10-minute minimum (a crawl of about "
                          f"{a['crawl_minutes']:.0f} min)", a["crawler_dpus"]
                          * max(a["crawl_minutes"], 10) / 60, "glue_dpu_hour"))  # fmt: skip
    # The jobs a run starts (the erasure job is started by hand, per request, not by runs).
    started = {states[s].get("Parameters", {}).get("JobName") for s in path
               if states[s].get("Resource", "").endswith(":glue:startJobRun")}  # fmt: skip
    jobs = [j for j in of["AWS::Glue::Job"] if j["Name"] in started]
    for job in jobs:
        scales = job.get("DefaultArguments", {}).get("--enable-auto-scaling") == "true"
        workers = min(job["NumberOfWorkers"], a["job_min_workers"]) if scales else job[
            "NumberOfWorkers"]  # fmt: skip
        size = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}[job["WorkerType"]]
        flex = job.get("ExecutionClass") == "FLEX"
        minutes = max(a["job_minutes"], 10 if job["GlueVersion"] in ("0.9", "1.0") else 1)
        lines.append(Line(f"Glue job {job['Name']}", f"Glue {job['GlueVersion']} "
                          f"{'Flex' if flex else 'standard'}, {workers} x {job['WorkerType']} "
                          f"({workers * size:g} DPU) x {minutes:.0f} min",
                          workers * size * minutes / 60,
                          "glue_flex_dpu_hour" if flex else "glue_dpu_hour"))  # fmt: skip
    lines += _ingest_lines(of, templates)
    events = sum(states[s].get("Resource", "").endswith(":events:putEvents") for s in path)
    metrics = a["curation_metrics"] * sum(
        "--dq_ruleset" in j.get("DefaultArguments", {}) for j in jobs
    )
    log_kb = (
        a["data_events_per_run"] * a["event_kb"]
        + len(path) * a["execution_log_kb_per_state"]
        + a["job_log_mb"] * 1024 * len(jobs)
    )
    queries = len(of["AWS::Athena::NamedQuery"])
    return [
        *lines,
        Line("KMS requests", "assumed", a["kms_requests_per_run"], "kms_request"),
        Line("CloudTrail S3 data events", "object reads and writes (assumed)",
             a["data_events_per_run"], "cloudtrail_data_event"),
        Line("CloudWatch Logs ingestion", f"the trail's data events, the execution log ("
             f"{len(path)} states), {a['job_log_mb']:.0f} MB a job run", log_kb / 1024**2,
             "logs_ingested"),
        Line("CloudWatch custom metrics", f"{metrics:.0f} of the curation job, for the hour "
             "they get data", metrics / HOURS, "custom_metric"),
        Line("S3 PUT, COPY and LIST requests", "assumed", a["s3_writes_per_run"],
             "s3_write_request"),
        Line("S3 GET requests", "assumed", a["s3_reads_per_run"], "s3_read_request"),
        Line("Athena queries", f"each of the dataset's {queries} saved queries once, at the "
             "10 MB minimum", queries * 10, "athena_scanned"),
        Line("EventBridge custom events", "PutEvents on the success path", events,
             "eventbridge_custom_event"),
        Line("EventBridge Scheduler invocations", "the schedule's start",
             len(of["AWS::Scheduler::Schedule"]), "scheduler_invocation"),
    ]  # fmt: skip


def _ingest_lines(of: Mapping[str, list[Props]], templates: Sequence[Template]) -> list[Line]:
    if of["AWS::KinesisFirehose::DeliveryStream"]:
        records = ASSUMED["firehose_records_per_run"]
        return [Line("Firehose ingestion", f"{records:,.0f} records (assumed), each billed as "
                     "5 KB", records * 5 * 1024 / GB, "firehose_ingested")]  # fmt: skip
    (function,) = _ingest_functions(templates)
    memory, arm = function.get("MemorySize", 128), function.get("Architectures") == ["arm64"]
    return [
        Line("Lambda ingest requests", "the run's file", 1, "lambda_request"),
        Line("Lambda ingest compute", f"{memory} MB, {'arm64' if arm else 'x86'}, "
             f"{ASSUMED['ingest_seconds']:.0f} s (assumed)",
             memory / 1024 * ASSUMED["ingest_seconds"],
             "lambda_arm_gb_second" if arm else "lambda_x86_gb_second"),
    ]  # fmt: skip


def _ingest_functions(templates: Sequence[Template]) -> list[Props]:
    """The functions that EventBridge rules on S3 'Object Created' events invoke."""
    found = []
    for template, rule in with_template(templates, "AWS::Events::Rule"):
        if "Object Created" in rule.get("EventPattern", {}).get("detail-type", []):
            for target in rule.get("Targets", []):
                arn = target["Arn"]
                target_id = arn.get("Fn::GetAtt", [""])[0] if isinstance(arn, dict) else ""
                resource = template["Resources"].get(target_id, {})
                if resource.get("Type") == "AWS::Lambda::Function":
                    found.append(resource["Properties"])
    return found


def runs_per_month(expression: str) -> float:
    """How often an EventBridge Scheduler expression fires in a month: rate(...) or cron(...)."""
    if rate := re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression):
        return HOURS * 60 / (int(rate[1]) * {"minute": 1, "hour": 60, "day": 1440}[rate[2]])
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    if not cron:
        raise ValueError(f"{expression}: expected rate(...) or cron(...) of six fields")
    minute, hour, dom, month, dow, _ = cron.groups()
    every = ("*", "?")
    days = (DAYS if dom in every and dow in every
            else _count(dow, 1, 7) * DAYS / 7 if dom in every else _count(dom, 1, 31))  # fmt: skip
    return _count(minute, 0, 59) * _count(hour, 0, 23) * days * _count(month, 1, 12) / 12


_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAMES = {name: i + 1 for names in (_DAYS, _MONTHS) for i, name in enumerate(names)}


def _count(field: str, low: int, high: int) -> int:
    """How many values a cron field takes: *, ?, lists, ranges, steps and names."""
    values: set[int] = set()
    for part in field.upper().split(","):
        span, _, step = part.partition("/")
        if not re.fullmatch(r"\*|\?|(\d+|[A-Z]{3})(-(\d+|[A-Z]{3}))?", span):
            raise ValueError(f"cron field {field!r}: L, W and # are not modelled")
        bounds = [] if span in ("*", "?") else [_NAMES.get(v) or int(v) for v in span.split("-")]
        start, end = (bounds[0], bounds[-1]) if bounds else (low, high)
        end = high if step and len(bounds) == 1 else end  # 5/10: from 5 on
        values.update(range(start, end + 1, int(step or 1)))
    return len(values)
