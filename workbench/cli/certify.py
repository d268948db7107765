"""``workbench certify``: randomized smoothing (Cohen et al. 2019) — the certified L2 radius of
each image, or PREDICT with abstention."""
from __future__ import annotations

import argparse

from workbench.cli.options import (
    add_data_arguments, add_json_argument, add_model_arguments, add_params_argument, add_seed_argument, floats,
    load_data_from_args, load_model_from_args,
)
from workbench.cli.output import EXIT_OK, emit

NAME = "certify"


def add_parser(sub) -> argparse.ArgumentParser:
    certify = sub.add_parser(NAME, help="randomized smoothing: certified L2 radius per image (Cohen et al. 2019)")
    add_model_arguments(certify)
    add_data_arguments(certify)
    add_params_argument(certify, help="a smoothing parameter (sigma, n0, n, alpha, batch_size); repeat for several. "
                        "sigma defaults to the model card's training noise")
    certify.add_argument("--radii", default="0,0.25,0.5,0.75,1", metavar="R,R,…",
                         help="radii at which to report certified accuracy")
    certify.add_argument("--predict", action="store_true", help="run PREDICT (with abstention) instead of CERTIFY")
    add_seed_argument(certify, "random seed of the noise (default 0)")
    add_json_argument(certify)
    return certify


def run(args: argparse.Namespace) -> int:
    from workbench.core.events import CertifyResult
    from workbench.core.params import as_dict, build, parse_assignments
    from workbench.defenses.smoothing import Smoothing, SmoothingParams

    model = load_model_from_args(args)
    data = load_data_from_args(args, model)
    values = parse_assignments(args.param)
    if "sigma" not in values and "noise_sigma" in model.card:
        values["sigma"] = model.card["noise_sigma"]
    params = build(SmoothingParams, values)
    radii = floats(args.radii, "--radii")
    smoothing = Smoothing(model, params, seed=args.seed)
    run = smoothing.predict if args.predict else smoothing.certify
    result = None
    for event in args.progress.track(run(data.images, data.labels)):
        if isinstance(event, CertifyResult):
            result = event
    found = result.summary(radii, certified=not args.predict)
    certified, median = found["certified_accuracy"], found["median_radius"]
    summary = {
        "model": model.model_id,
        "data": data.source,
        "images": len(data),
        **as_dict(params),
        "mode": "predict" if args.predict else "certify",
        "abstained": found["abstained"],
        "accuracy": round(found["accuracy"], 6),
        "certified_accuracy": None if certified is None else {f"{r:g}": round(v, 6) for r, v in certified.items()},
        "median_radius": None if median is None else round(median, 6),
        "seconds": round(found["seconds"], 3),
        "samples_per_second": round(len(data) * ((params.n0 if not args.predict else 0) + params.n) / max(result.seconds, 1e-9)),
    }
    lines = [f"{summary['mode']}: {model.model_id}, σ = {params.sigma:g}, n = {params.n}, α = {params.alpha:g}, "
             f"{len(data)} images, {summary['abstained']} abstained, accuracy {summary['accuracy'] * 100:.1f} %"]
    for radius, value in (summary["certified_accuracy"] or {}).items():
        lines.append(f"  certified accuracy at radius {radius}: {value * 100:.1f} %")
    emit(summary, args.json, "\n".join(lines))
    return EXIT_OK
