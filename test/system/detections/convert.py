#!/usr/bin/env python3
"""Converts the Sigma rules of detections/sigma with pySigma, for each output profile, into what users install.

  detections/generated/queries.json                      every rule, profile and backend: the query, or why none
  detections/generated/<profile>/opensearch-monitors.json  OpenSearch alerting monitors (detection rules)
  detections/generated/<profile>/kibana-rules.ndjson       Elastic Security rules: Lucene, and ES|QL for correlations
  splunk/TA-jumpcloud-directory-insights/default/savedsearches.conf   Splunk saved searches, both profiles

Run by `npm run detections` (test/system/detections/make.ts) with the pinned pySigma set of
test/system/detections/requirements.txt; `--check` writes nothing and fails when a committed output differs.
A rule that needs a field a profile does not carry is refused by that profile's pipeline: queries.json keeps the
pipeline's reason. A correlation a backend cannot express is converted in a documented weaker form, or not at all.
"""
import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import yaml
from sigma.data import mitre_attack

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
# pySigma reads ATT&CK names from MITRE's STIX data: a subset of it ships here (no download in the build).
mitre_attack.set_cache_dir(tempfile.mkdtemp(prefix="pysigma-attack-"))
mitre_attack.set_url(str(HERE / "enterprise-attack-subset.json"))

from sigma.backends.elasticsearch import ESQLBackend, LuceneBackend  # noqa: E402
from sigma.backends.opensearch import OpensearchLuceneBackend  # noqa: E402
from sigma.backends.splunk import SplunkBackend  # noqa: E402
from sigma.collection import SigmaCollection  # noqa: E402
from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType  # noqa: E402
from sigma.exceptions import SigmaError  # noqa: E402
from sigma.processing.pipeline import ProcessingPipeline  # noqa: E402

from savedsearches import saved_searches  # noqa: E402

RULES = REPO / "detections" / "sigma"
PIPELINES = REPO / "detections" / "pipelines"
GENERATED = REPO / "detections" / "generated"
SAVEDSEARCHES = REPO / "splunk" / "TA-jumpcloud-directory-insights" / "default" / "savedsearches.conf"
INDEX = "logs-jumpcloud.directory_insights-*"
PROFILES = {
    "jumpcloud_ecs": ["jumpcloud_ecs_limits.yml", "jumpcloud_ecs.yml"],
    "jumpcloud_elastic": ["jumpcloud_elastic.yml"],
}
# Queries OpenSearch cannot run as written (test/system/detections/opensearch.test.ts proves each still fails there): no
# monitor is made of them. query_string on a flat_object field (jumpcloud.event.changes) matches a value by prefix
# only: a leading wildcard (contains) finds nothing on OpenSearch 2.19.
OPENSEARCH_GAPS = {
    ("jumpcloud_command_suspicious_content", "jumpcloud_elastic"):
        "OpenSearch's query_string finds no value containing a string in jumpcloud.event.changes (a flat_object "
        "field: prefix matches only); Elasticsearch's flattened field serves the Lucene form (kibana-rules.ndjson)",
}
# How often the scheduled forms run and how far back they look, for detection rules (correlations: their
# timespan). DI events are indexed up to minutes late: the window ends 5 minutes before the run.
EVENT_INTERVAL_MIN = 15
LATE_MIN = 5


def pipeline(*names):
    out = None
    for name in names:
        p = ProcessingPipeline.from_yaml((PIPELINES / name).read_text())
        out = p if out is None else out + p
    return out


def load_rules():
    """Every rule file: its name, text, first document (the rule itself) and the pySigma collection."""
    out = []
    for path in sorted(RULES.glob("*.yml")):
        text = path.read_text()
        first = next(yaml.safe_load_all(text))
        out.append({"name": path.stem, "text": text, "meta": first})
    return out


def collection(rule):
    c = SigmaCollection.from_yaml(rule["text"])
    c.resolve_rule_references()
    return c


def main_rule(rule, col):
    return next(r for r in col.rules if str(r.id) == rule["meta"]["id"])


def refusal(rule, profile):
    """Why the profile's pipeline refuses the rule (a field it does not carry), or None."""
    p = pipeline(*PROFILES[profile])
    for r in collection(rule).rules:
        try:
            p.apply(copy.deepcopy(r))
        except SigmaError as e:
            return str(e).split(" (while ")[0]
    return None


def variants(rule):
    """The collections to try, best first, each with a note on what it leaves out (None: the rule itself)."""
    yield collection(rule), None
    col = collection(rule)
    top = main_rule(rule, col)
    if not isinstance(top, SigmaCorrelationRule):
        return
    chained = [r.rule for r in top.rules if isinstance(r.rule, SigmaCorrelationRule)]
    if top.type == SigmaCorrelationType.TEMPORAL_ORDERED and not chained:
        top.type = SigmaCorrelationType.TEMPORAL
        yield col, "order not checked: this backend has no ordered correlation, so the search also fires when " \
                   "the events come in the other order"
    elif chained:
        col = collection(rule)
        top = main_rule(rule, col)
        first = next(r.rule for r in top.rules if isinstance(r.rule, SigmaCorrelationRule))
        step = first.title
        for attr in ("title", "level", "description", "falsepositives", "tags", "references", "author", "date"):
            setattr(first, attr, getattr(top, attr))
        first.id = top.id
        rest = [r for r in col.rules if r is not top]
        yield SigmaCollection(rest), f'first step only: "{step}" is checked, not what must follow it (this ' \
                                     "backend cannot chain correlations)"


def convert(backend, rule, fmt="default"):
    """(queries, note) of the first variant the backend converts, or (None, reason)."""
    reason = None
    for col, note in variants(rule):
        try:
            out = backend.convert(col, fmt)
        except (SigmaError, NotImplementedError) as e:
            # pySigma says "not supported by backend" with either, depending on where it finds out.
            reason = reason or str(e).split(" (while ")[0]
            continue
        return out, note
    return None, reason


def backends(profile):
    base = PROFILES[profile]
    esql_index = ProcessingPipeline.from_dict({"name": "index", "priority": 200, "transformations": [
        {"type": "set_state", "key": "index", "val": INDEX}]})
    return {
        "opensearch_lucene": lambda: OpensearchLuceneBackend(pipeline(*base), index_names=[INDEX]),
        "lucene": lambda: LuceneBackend(pipeline(*base), index_names=[INDEX],
                                        schedule_interval=EVENT_INTERVAL_MIN, schedule_interval_unit="m"),
        "esql": lambda: ESQLBackend(pipeline(*base) + esql_index),
        "splunk": lambda: SplunkBackend(pipeline(*base, "splunk_json_arrays.yml")),
    }


def timespan_min(rule):
    """The correlation's timespan in minutes, or None for a detection rule."""
    span = (rule["meta"].get("correlation") or {}).get("timespan")
    if span is None:
        return None
    units = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}
    return int(float(span[:-1]) * units[span[-1]])


def profile_name(field, profile):
    """A raw field's name in the profile, by the pipeline's name and prefix mappings (in their order)."""
    for name in PROFILES[profile]:
        for t in yaml.safe_load((PIPELINES / name).read_text())["transformations"]:
            if t["type"] == "field_name_mapping" and field in t["mapping"]:
                field = t["mapping"][field]
            elif t["type"] == "field_name_prefix_mapping":
                prefix = next((p for p in t["mapping"] if field.startswith(p)), None)
                field = field if prefix is None else t["mapping"][prefix] + field[len(prefix):]
    return field


def group_by(rule, profile):
    """The correlation's group-by fields as the profile names them (for alert suppression), [] for none."""
    fields = (rule["meta"].get("correlation") or {}).get("group-by") or []
    return [profile_name(f, profile) for f in fields]


def kibana_rule(doc, rule, note):
    """An Elastic Security rule as pySigma writes it, shipped disabled, on the data stream, under this license."""
    span = timespan_min(rule)
    every = span or EVENT_INTERVAL_MIN
    doc.update({"enabled": False, "license": "Apache-2.0", "interval": f"{every}m",
                "from": f"now-{(2 * span if span else every) + LATE_MIN}m", "to": f"now-{LATE_MIN}m"})
    if note:
        doc["note"] = f"Converted from Sigma in a weaker form: {note}."
    return doc


def monitor(doc):
    """An OpenSearch monitor as pySigma writes it, shipped disabled, reading only the last run's window."""
    doc["enabled"] = False
    doc["schedule"] = {"period": {"interval": EVENT_INTERVAL_MIN, "unit": "MINUTES"}}
    window = {"gte": f"{{{{period_end}}}}||-{EVENT_INTERVAL_MIN + LATE_MIN}m",
              "lt": f"{{{{period_end}}}}||-{LATE_MIN}m", "format": "epoch_millis"}
    doc["inputs"][0]["search"]["query"]["query"]["bool"]["filter"] = [{"range": {"@timestamp": window}}]
    return doc


def convert_profile(rule, profile):
    """What each backend makes of the rule in this profile: {backend: {query, note} | {unavailable}}."""
    out = {}
    made = {}
    correlation = "correlation" in rule["meta"]
    for name, make in backends(profile).items():
        if correlation and name in ("opensearch_lucene", "lucene"):
            out[name] = {"unavailable": "a correlation: this backend converts single-event rules only"}
            continue
        if (rule["name"], profile) in OPENSEARCH_GAPS and name == "opensearch_lucene":
            out[name] = {"unavailable": OPENSEARCH_GAPS[(rule["name"], profile)]}
            continue
        if not correlation and name == "esql":
            out[name] = {"unavailable": "a single-event rule: its Lucene form serves Elastic (kibana-rules.ndjson)"}
            continue
        queries, note = convert(make(), rule)
        if queries is None:
            out[name] = {"unavailable": note}
            continue
        out[name] = {"query": queries[0], **({"note": note} if note else {})}
        fmt = {"opensearch_lucene": "monitor_rule", "lucene": "siem_rule_ndjson", "esql": "siem_rule_ndjson"}
        if name in fmt:
            made[name] = convert(make(), rule, fmt[name])[0][0]
    return out, made


def convert_all(rules):
    manifest = []
    monitors = {p: [] for p in PROFILES}
    kibana = {p: [] for p in PROFILES}
    for rule in rules:
        m = rule["meta"]
        entry = {"name": rule["name"], "id": m["id"], "title": m["title"], "level": m["level"],
                 "correlation": (m.get("correlation") or {}).get("type"), "timespan_min": timespan_min(rule),
                 "profiles": {"raw": {"applies": True}}}
        for profile in PROFILES:
            why = refusal(rule, profile)
            if why:
                entry["profiles"][profile] = {"applies": False, "reason": why}
                continue
            queries, made = convert_profile(rule, profile)
            entry["profiles"][profile] = {"applies": True, "group_by": group_by(rule, profile), **queries}
            if "opensearch_lucene" in made:
                monitors[profile].append(monitor(made["opensearch_lucene"]))
            for name in ("lucene", "esql"):
                if name in made:
                    kibana[profile].append(kibana_rule(made[name], rule, queries[name].get("note")))
        manifest.append(entry)
    return manifest, monitors, kibana


def outputs(rules):
    """Every generated file: path → text."""
    manifest, monitors, kibana = convert_all(rules)
    files = {GENERATED / "queries.json": json.dumps({"rules": manifest}, indent=2, ensure_ascii=False) + "\n"}
    for profile in PROFILES:
        files[GENERATED / profile / "opensearch-monitors.json"] = \
            json.dumps(monitors[profile], indent=2, ensure_ascii=False) + "\n"
        files[GENERATED / profile / "kibana-rules.ndjson"] = \
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kibana[profile])
    files[SAVEDSEARCHES] = saved_searches(manifest, list(PROFILES), EVENT_INTERVAL_MIN, LATE_MIN)
    return files


def stale(files):
    """Generated files that differ from the committed ones, and committed ones no longer generated."""
    out = [str(p.relative_to(REPO)) for p, text in files.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in GENERATED.rglob("*") if p.is_file() and p not in files]
    return out + [f"{p.relative_to(REPO)} (no longer generated)" for p in extra]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a committed output is stale")
    args = ap.parse_args()
    files = outputs(load_rules())
    if args.check:
        bad = stale(files)
        for path in bad:
            print(f"stale: {path}", file=sys.stderr)
        if bad:
            print("run `npm run detections` and commit the result", file=sys.stderr)
        return 1 if bad else 0
    for extra in [p for p in GENERATED.rglob("*") if p.is_file() and p not in files]:
        extra.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} files ({sum(len(t) for t in files.values())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
