"""`assistant nlu ...`: train, parse, evaluate, validate and export the language model."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.cli.common import _app, _config, _emit, _texts
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def cmd_nlu_train(args: argparse.Namespace) -> int:
    with _app(args) as app:
        print(f"NLU engine '{app.engine_name}' is trained ({len(app.training_data().examples)} examples).")
    return 0


def cmd_nlu_parse(args: argparse.Namespace) -> int:
    app = _app(args)
    try:
        for text in _texts(args):
            parse = app.parse(text)
            if args.json:
                _emit(parse.to_rasa())
            else:
                ents = ", ".join(f"{e.entity}{'#' + e.role if e.role else ''}={e.value!r}" for e in parse.entities)
                print(f"{parse.intent.name} ({parse.intent.confidence:.2f}) {ents}".rstrip())
    finally:
        app.close()
    return 0


def cmd_nlu_evaluate(args: argparse.Namespace) -> int:
    from assistant.nlu.data import load_file
    from assistant.nlu.evaluate import evaluate

    if args.cross_validation:
        return cmd_nlu_cross_validate(args)
    if not args.data:
        raise AssistantError("nlu evaluate needs --data TEST.yml, or --cross-validation K")

    data = load_file(Path(args.data[0]))
    with _app(args) as app:
        report = evaluate(app.parse, data)
    if args.json:
        _emit({"engine": app.engine_name, "data": str(args.data[0]), **report.as_dict()})
    else:
        print(f"engine {app.engine_name} on {args.data[0]}")
        print(report.table())
    return 0


def _nlu_training_data(args: argparse.Namespace, check_regexes: bool = True):
    """The files given with --data, or the project's own: core data and every installed skill's nlu.yml."""
    from assistant.nlu import core_data_files
    from assistant.nlu.data import expand_paths, load_files
    from assistant.skills.registry import discover

    if args.data:
        return load_files(expand_paths([Path(p) for p in args.data]), check_regexes)
    config = _config(args)
    skills, _ = discover()
    files = core_data_files() + [s.nlu_file for s in skills if s.nlu_file] + list(config.nlu.extra_data)
    return load_files(files, check_regexes)


def cmd_nlu_validate(args: argparse.Namespace) -> int:
    from assistant.nlu.validate import domain_entities, validate

    data = _nlu_training_data(args, check_regexes=False)
    findings = validate(data, domain_entities(Path(args.domain)) if args.domain else None)
    for finding in findings:
        print(finding, file=sys.stderr if finding.severity == "error" else sys.stdout)
    errors = sum(f.severity == "error" for f in findings)
    print(
        f"{len(data.examples)} examples, {len(data.intents)} intents, {len(data.files)} file(s): "
        f"{errors} error(s), {len(findings) - errors} warning(s)"
    )
    return 1 if errors else 0


def cmd_nlu_cross_validate(args: argparse.Namespace) -> int:
    from assistant.nlu import create_engine
    from assistant.nlu.crossval import cross_validate
    from assistant.nlu.evaluate import write_reports

    config = _config(args)
    engine = args.engine or config.nlu.engine
    data = _nlu_training_data(args)
    result = cross_validate(
        data,
        lambda: create_engine(engine, config.nlu),
        args.cross_validation,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    written = write_reports(result.predictions, Path(args.report), engine) if args.report else []
    if args.json:
        _emit(
            {"engine": engine, "folds": result.folds, "train_seconds": result.train_seconds, **result.report.as_dict()}
        )
    else:
        print(f"engine {engine}, {result.folds}-fold cross-validation on {len(data.examples)} examples")
        print(result.report.table(per_intent=True))
        for path in written:
            print(f"wrote {path}")
    return 0


def cmd_nlu_export(args: argparse.Namespace) -> int:
    from assistant.nlu.rasa import export_project

    with _app(args) as app:
        export_project(app.training_data(), Path(args.dir), app.config.nlu.rasa.pipeline)
    print(f"Wrote a Rasa project to {args.dir}: run `rasa train nlu` and `rasa shell nlu` there.")
    return 0
