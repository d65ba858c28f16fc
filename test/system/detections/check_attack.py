#!/usr/bin/env python3
"""The rules' ATT&CK tags against MITRE's own data: pySigma's attacktag validator (every attack.* tag is a tactic
or a technique of ATT&CK) and SigmaHQ's technique-without-tactic validator (each technique comes with one of its
tactics). `sigma check` cannot run them here (they download ATT&CK); they run on the subset of ATT&CK v18.1 that
test/system/detections ships (enterprise-attack-subset.json, from MITRE's STIX data). A tag outside the subset fails:
add its objects to the subset from MITRE's data, not by hand.
Prints one line per issue and a closing count; exits 1 on any issue.
"""
import sys
import tempfile
from pathlib import Path

from sigma.data import mitre_attack

HERE = Path(__file__).resolve().parent
mitre_attack.set_cache_dir(tempfile.mkdtemp(prefix="pysigma-attack-"))
mitre_attack.set_url(str(HERE / "enterprise-attack-subset.json"))

from sigma.collection import SigmaCollection  # noqa: E402
from sigma.validation import SigmaValidator  # noqa: E402
from sigma.validators.core.tags import ATTACKTagValidator  # noqa: E402
from sigma.validators.sigmahq.tags import SigmahqTagsTechniquesWithoutTacticsValidator  # noqa: E402


def main():
    rules = SigmaCollection.load_ruleset([str(HERE.parents[2] / "detections" / "sigma")])
    validator = SigmaValidator([ATTACKTagValidator, SigmahqTagsTechniquesWithoutTacticsValidator])
    issues = validator.validate_rules(rules)
    for issue in issues:
        print(f"{type(issue).__name__}: {issue.description} ({', '.join(str(r.source) for r in issue.rules)})")
    print(f"{len(rules.rules)} rules, {len(issues)} ATT&CK tag issues")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
