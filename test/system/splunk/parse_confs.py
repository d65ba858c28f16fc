"""Reads every .conf and .meta file of a Splunk app with addonfactory-splunk-conf-parser-lib (Splunk's reader of
add-on .conf files) and prints them as JSON: {"default/props.conf": {stanza: {key: value}}}. Exits 1 naming the
file when one does not parse, or has a setting outside any stanza. Used by test/system/splunk/conf-parse.test.ts.

Usage: python3 test/system/splunk/parse_confs.py <app directory>
"""
import json
import re
import sys
from pathlib import Path

from addonfactory_splunk_conf_parser_lib import TABConfigParser


# A .meta file's global stanza is "[]"; the reader's section pattern needs a name: it reads it under this one.
GLOBAL = "__global__"


def read(path: Path) -> dict:
    parser = TABConfigParser()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".meta":
        text = re.sub(r"^\[\]", f"[{GLOBAL}]", text, flags=re.M)
    parser.read_string(text, source=str(path))
    if parser.fields_outside_stanza:
        raise ValueError(f"settings outside any stanza: {parser.fields_outside_stanza}")
    # The reader keeps a continued line's backslash before the newline; Splunk does not: drop it.
    return {
        ("" if stanza == GLOBAL else stanza): {key: re.sub(r"\s*\\\n", "\n", value) for key, value in settings.items()}
        for stanza, settings in parser.item_dict().items()
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    app = Path(sys.argv[1])
    files = sorted(p for sub in ("default", "metadata") for p in (app / sub).glob("*")
                   if p.suffix in (".conf", ".meta"))
    if not files:
        print(f"{app}: no default/*.conf or metadata/*.meta", file=sys.stderr)
        return 1
    out = {}
    for path in files:
        rel = path.relative_to(app).as_posix()
        try:
            out[rel] = read(path)
        except Exception as err:  # every parse error names its file
            print(f"{rel}: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
