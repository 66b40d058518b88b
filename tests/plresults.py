# SPDX-License-Identifier: MIT
"""Reads a punchlab results file (docs/results.md) into one dict, as format
version 1 had it: the envelope, with "trials" the list of every trial.
Version 2 keeps the trials in RUN.trials.ndjson (or .gz) beside RUN.json;
this reads them in and checks the header and the count. For tests and
benchmarks: punchlab's own readers stream instead."""
import gzip
import json
import os


def trials_path(path, res):
    p = os.path.join(os.path.dirname(path), res["trials_file"])
    return p if os.path.exists(p) or not os.path.exists(p + ".gz") else p + ".gz"


def read_trials(path):
    """The header and the trials of a trials file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", "%s: the last line is not whole" % path
    header = json.loads(lines[0])
    assert header["format"] == "punchlab-trials", header
    return header, [json.loads(line) for line in lines[1:-1]]


def load(path):
    with open(path) as f:
        res = json.load(f)
    if res["version"] >= 2:
        _, trials = read_trials(trials_path(path, res))
        assert len(trials) == res["trials_count"], (len(trials), res["trials_count"])
        res["trials"] = trials
    return res


def validate(path, schema_path):
    """Validates RUN.json, its trials header and every trial against the
    schema (docs/results.schema.json); returns the run as load() does."""
    import jsonschema
    with open(schema_path) as f:
        schema = json.load(f)
    with open(path) as f:
        jsonschema.validate(json.load(f), schema)
    res = load(path)
    if res["version"] >= 2:
        header, _ = read_trials(trials_path(path, res))
        defs = {"definitions": schema["definitions"]}
        jsonschema.validate(header, dict(defs, **{"$ref": "#/definitions/trials_header"}))
        for t in res["trials"]:
            jsonschema.validate(t, dict(defs, **{"$ref": "#/definitions/trial"}))
    return res
