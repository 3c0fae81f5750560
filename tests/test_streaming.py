"""The batch stages in a streaming pipeline: TestStream on the BundleBasedDirectRunner, articles out of order and late.

Windows of two publication days with 24 hours of allowed lateness (the seed
articles are dated a day apart): window W1 holds 2022-07-07 and 07-08 and
closes at 2022-07-10T00:00Z; W2 holds 07-09 and 07-10.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import apache_beam as beam
import orjson
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from conftest import REFERENCE_DATE, SEEDS

from core.normalize import NormalizeConfig
from core.windowing import WindowConfig, event_timestamp, window_end, window_first_date
from pipeline.assemble import RunConfig
from pipeline.streaming import build_streaming_stages
from transforms.window import TOO_LATE

WINDOWS = WindowConfig(window_days=2, lateness_hours=24)
OTHER_STORY = (
    "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early "
    "January and improving prospects for the coming temporao, although normal humidity levels have not "
    "been restored, Comissaria Smith said in its weekly review. Arrivals of cocoa at the port of Ilheus "
    "rose to 1,500 bags from 900 bags the week before, and exporters expect the mid-crop to be larger."
)


def _at(day: str, hour: int) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC).timestamp())


def _seed_body(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text().split(" ", 3)[3]


def test_window_arithmetic():
    assert event_timestamp("2022-07-07", WINDOWS) == _at("2022-07-08", 0)
    assert window_end(event_timestamp("2022-07-07", WINDOWS), WINDOWS) == _at("2022-07-10", 0)
    assert window_end(event_timestamp("2022-07-08", WINDOWS), WINDOWS) == _at("2022-07-10", 0)
    assert window_end(event_timestamp("2022-07-09", WINDOWS), WINDOWS) == _at("2022-07-12", 0)
    assert window_first_date(_at("2022-07-08", 0), WINDOWS) == "2022-07-07"
    daily = WindowConfig()
    assert window_end(event_timestamp("2022-07-07", daily), daily) == _at("2022-07-09", 0)
    assert event_timestamp(None, daily) is None
    with pytest.raises(ValueError):
        WindowConfig(window_days=0)


@pytest.mark.slow
def test_out_of_order_and_late_articles_still_collapse_and_share_a_story(tmp_path: Path):
    seed0, seed2 = _seed_body("000"), _seed_body("002")
    words = seed0.split(" ")
    words[40] += "s"  # one word changed: a near copy
    files = {
        "a_seed2.txt": f" date 2022-07-08 {seed2}",
        "b_near_copy.txt": " date 2022-07-08 " + " ".join(words),
        "c_cocoa.txt": f" date 2022-07-09 {OTHER_STORY}",
        "d_seed0.txt": f" date 2022-07-07 {seed0}",
        "e_exact_copy.txt": f" date 2022-07-07 {seed0}",
        "f_too_late.txt": f" date 2022-07-07 {seed0} Updated with reaction.",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    def spec(name: str, day: str, hour: int):
        return TimestampedValue({"path": str(tmp_path / name), "base": str(tmp_path)}, _at(day, hour))

    stream = (
        TestStream()
        .advance_watermark_to(_at("2022-07-08", 6))
        .add_elements([spec("a_seed2.txt", "2022-07-08", 6)])  # W1 opens with the later-dated article
        .advance_watermark_to(_at("2022-07-08", 12))
        .add_elements([spec("b_near_copy.txt", "2022-07-08", 12)])  # a near copy before its original
        .advance_watermark_to(_at("2022-07-09", 10))
        .add_elements([spec("c_cocoa.txt", "2022-07-09", 10)])  # W2 starts while W1 is still open
        .advance_watermark_to(_at("2022-07-09", 18))
        # Late: the watermark is past the end of 07-07 and 07-08, but within the allowed lateness.
        .add_elements([spec("d_seed0.txt", "2022-07-09", 18), spec("e_exact_copy.txt", "2022-07-09", 20)])
        .advance_watermark_to(_at("2022-07-10", 6))  # past W1's end: W1 fires
        .add_elements([spec("f_too_late.txt", "2022-07-10", 6)])  # too late for W1: a dead letter
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True
    config = RunConfig(
        staging_dir=str(tmp_path / "unused"),
        max_article_bytes=2_000_000,
        normalize=NormalizeConfig(reference_date=REFERENCE_DATE),
    )
    with TestPipeline(runner="BundleBasedDirectRunner", options=options, blocking=True) as p:
        out = build_streaming_stages(p | stream, config, WINDOWS, output_dir=str(tmp_path / "out"))

        def summary(article, window=beam.DoFn.WindowParam):
            dupes = sorted((d["source_id"], d["reason"]) for d in article["duplicates"] or [])
            return window_first_date(window.start.micros / 1e6, WINDOWS), article["source_id"], dupes

        assert_that(
            out["articles"] | "Summary" >> beam.Map(summary),
            equal_to(
                [
                    ("2022-07-07", "d_seed0.txt", [("b_near_copy.txt", "near"), ("e_exact_copy.txt", "exact")]),
                    ("2022-07-07", "a_seed2.txt", []),
                    ("2022-07-09", "c_cocoa.txt", []),
                ]
            ),
            label="SurvivorsPerWindow",
        )
        assert_that(
            out["stories"] | "StorySizes" >> beam.Map(lambda s: (sorted(s["source_ids"]), s["size"])),
            equal_to([(["a_seed2.txt", "d_seed0.txt"], 2), (["c_cocoa.txt"], 1)]),
            label="Stories",
        )
        assert_that(
            out["dead_letters"]
            | "Reasons" >> beam.Map(lambda d: (Path(d["source"]["path"]).name, d["stage"], d["reason"])),
            equal_to([("f_too_late.txt", "window", TOO_LATE)]),
            label="TooLate",
        )

    # Each window wrote its own files as it fired, with the batch layout and the window's start in the name.
    written = {
        path.relative_to(tmp_path / "out").as_posix(): [orjson.loads(line) for line in path.read_bytes().splitlines()]
        for path in sorted((tmp_path / "out").rglob("*.jsonl"))
    }
    w1, w2 = "20220708T000000Z", "20220710T000000Z"
    assert {name: [r.get("source_id") or r["size"] for r in rows] for name, rows in written.items()} == {
        f"articles/date=2022-07-07/part-{w1}-00000.jsonl": ["d_seed0.txt"],
        f"articles/date=2022-07-08/part-{w1}-00000.jsonl": ["a_seed2.txt"],
        f"articles/date=2022-07-09/part-{w2}-00000.jsonl": ["c_cocoa.txt"],
        f"stories/date=2022-07-07/part-{w1}-00000.jsonl": [2],
        f"stories/date=2022-07-09/part-{w2}-00000.jsonl": [1],
        f"dead_letter/part-{w2}-00000.jsonl": ["f_too_late.txt"],
    }
    assert not list((tmp_path / "out").rglob("*.inprogress"))
