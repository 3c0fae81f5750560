"""ClusterStories and BuildStories: assign story ids, then build one story record per story."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from core.stories import build_story, story_id_for
from transforms.common import NAMESPACE


def _with_singleton_story(article: dict) -> dict:
    out = dict(article)
    out["story_id"] = story_id_for(article["id"])
    return out


class ClusterStories(beam.PTransform):
    """Deduplicated article dicts in; the same dicts with ``story_id`` set out.

    Until same-event clustering lands every article is its own story; the story
    id is derived from the article id, as it will be from a story's earliest member.
    """

    def expand(self, articles):
        return articles | "AssignStoryIds" >> beam.Map(_with_singleton_story)


class BuildStoryFn(beam.DoFn):
    """``(story_id, [articles])`` in; one story dict out."""

    def __init__(self):
        self.stories = Metrics.counter(NAMESPACE, "stories_built")

    def process(self, keyed):
        story_id, members = keyed
        self.stories.inc()
        yield build_story(story_id, list(members))


class BuildStories(beam.PTransform):
    """Articles with ``story_id`` in; story dicts (``schemas.Story``) out."""

    def expand(self, articles):
        return (
            articles
            | "KeyByStory" >> beam.Map(lambda a: (a["story_id"], a))
            | "GroupStories" >> beam.GroupByKey()
            | "BuildStory" >> beam.ParDo(BuildStoryFn())
        )
