"""The demo stories: each plays one person's pathway through the ``StoryBuilder``.

People of ``app.demo.data.network`` carry the name of their story; ``STORIES`` finds it. Offsets
are chosen so that every date falls before ``today`` whatever the draw; ``StoryError`` says
otherwise. The family modules import the builder, the demo data, the models and the domain.
"""

from __future__ import annotations

from app.demo.builder import Story
from app.demo.stories import barriers, deadlines, exits, outcomes, redirects, setbacks

STORIES: dict[str, Story] = {
    story.__name__: story
    for story in (
        outcomes.barrier_then_training,
        outcomes.training_then_job,
        barriers.childcare_in_progress,
        setbacks.declined_then_other,
        setbacks.withdrawn_then_job,
        deadlines.expired_then_resent,
        redirects.redirect_two,
        redirects.redirect_three,
        deadlines.sent_recent,
        deadlines.sent_overdue,
        deadlines.accepted_waiting,
        setbacks.not_completed,
        barriers.barrier_not_addressed,
        exits.exit_lost,
        exits.exit_moved,
        barriers.no_consent,
        outcomes.graduate_barrier_job,
        outcomes.job_via_partner,
        redirects.oriented_further,
        barriers.barrier_persisting,
        outcomes.language_then_training,
    )
}
